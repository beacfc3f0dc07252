//! [`Console`]: the text [`Grid`] kept on a [`Screen`]. Text changes only the grid; [`flush`]
//! then brings the screen up to date: it moves the screen's rows up as far as the text
//! scrolled, draws the cells that differ from what the screen shows in the rows that were
//! written, and presents the result. A burst of text costs one flush, a scroll renders only
//! the cells that came in, and a typed character one cell.
//!
//! [`flush`]: Console::flush

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use sdk::Error;
use sdk::sys::PartialLine;

use crate::grid::Grid;
use crate::screen::{Screen, Surface};

/// Kernel log text kept back while its line is unfinished, at most: past it, it is written as
/// it is.
const LOG_PENDING_MAX: usize = 4096;

/// A text console on a display.
pub struct Console<S> {
    screen: Screen<S>,
    grid: Grid,
    /// What the screen's frame shows, cell for cell.
    shown: Vec<char>,
    /// The clients' text since its last line break, drawn again after each log line.
    line: PartialLine,
    /// Log text after its last line break, written once its line is whole.
    log_pending: String,
}

impl<S: Surface> Console<S> {
    /// An empty console filling `screen`, which it clears.
    pub fn new(mut screen: Screen<S>) -> Result<Console<S>, Error> {
        screen.clear()?;
        let grid = Grid::new(screen.columns(), screen.rows());
        let shown = vec![' '; grid.columns() * grid.rows()];
        Ok(Console { screen, grid, shown, line: PartialLine::new(), log_pending: String::new() })
    }

    /// Cells across and down.
    pub const fn size(&self) -> (usize, usize) {
        (self.grid.columns(), self.grid.rows())
    }

    /// Writes `text` at the cursor (shown at the next [`Self::flush`]).
    pub fn write(&mut self, text: &str) {
        self.grid.write(text);
        self.line.track(text.as_bytes());
    }

    /// Writes kernel log text as whole lines of their own: the clients' unfinished line (a
    /// prompt and what is typed after it) is erased first and drawn again after them, as the
    /// serial console does (`sdk::sys::PartialLine`). Shown at the next [`Self::flush`].
    pub fn write_log(&mut self, text: &str) {
        self.log_pending.push_str(text);
        let end = match self.log_pending.rfind('\n') {
            Some(at) => at + 1,
            None if self.log_pending.len() > LOG_PENDING_MAX => self.log_pending.len(),
            None => return,
        };
        let lines: String = self.log_pending.drain(..end).collect();
        self.grid.write(&String::from_utf8_lossy(self.line.before_log()));
        self.grid.write(&lines);
        self.grid.write(&String::from_utf8_lossy(self.line.after_log()));
    }

    /// Blanks the console (shown at the next [`Self::flush`]).
    pub fn clear(&mut self) {
        self.grid.clear();
    }

    /// Shows the grid on the display. The frame is brought up to date whatever happens; what
    /// fails to reach the display is presented again by the next flush.
    pub fn flush(&mut self) -> Result<(), Error> {
        let (columns, rows) = self.size();
        let scrolled = self.grid.take_scrolled().min(rows);
        if scrolled > 0 {
            self.screen.scroll(scrolled);
            self.shown.copy_within(scrolled * columns.., 0);
            let kept = (rows - scrolled) * columns;
            self.shown[kept..].fill(' ');
        }
        for row in 0..rows {
            if !self.grid.take_changed(row) {
                continue;
            }
            let shown = &mut self.shown[row * columns..][..columns];
            for (column, (&c, shown)) in self.grid.row(row).iter().zip(shown).enumerate() {
                if c != *shown {
                    self.screen.draw_cell(column, row, c);
                    *shown = c;
                }
            }
        }
        self.screen.present()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use alloc::string::String;
    use alloc::vec::Vec;
    use core::cell::{Cell, RefCell};
    use core::ops::Range;

    use sdk::{Channel, FbFormat};

    use super::*;
    use crate::glyphs::{CELL_HEIGHT, CELL_WIDTH};
    use crate::pixel::{Layout, Rgb};
    use crate::screen::{BACKGROUND, FOREGROUND};

    /// Display memory in a byte vector; lists the writes and can be made to fail them. Shared
    /// (`&FakeDisplay` is the surface), so a test can look inside while a console draws on it.
    pub(crate) struct FakeDisplay {
        pub(crate) memory: RefCell<Vec<u8>>,
        /// The bytes each write covered, in order.
        pub(crate) writes: RefCell<Vec<Range<usize>>>,
        pub(crate) broken: Cell<bool>,
    }

    impl Surface for &FakeDisplay {
        fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
            let start = offset as usize;
            let mut memory = self.memory.borrow_mut();
            let target = memory.get_mut(start..start + bytes.len()).ok_or(Error::OutOfBounds)?;
            if self.broken.get() {
                return Err(Error::NoMemory);
            }
            target.copy_from_slice(bytes);
            self.writes.borrow_mut().push(start..start + bytes.len());
            Ok(())
        }
    }

    /// Filler for memory nothing has drawn on, unlike any colour the console uses.
    pub(crate) const UNTOUCHED: u8 = 0x5a;

    /// A display of `columns` × `rows` cells plus a strip of 3 pixels right and 5 below, with
    /// 12 bytes of padding after each line, and its memory.
    pub(crate) fn display(
        bpp: u32,
        channels: [(u8, u8); 3],
        columns: u32,
        rows: u32,
    ) -> (FbFormat, FakeDisplay) {
        let (width, height) = (columns * CELL_WIDTH as u32 + 3, rows * CELL_HEIGHT as u32 + 5);
        let pitch = width * bpp / 8 + 12;
        let [red, green, blue] = channels.map(|(size, shift)| Channel { size, shift });
        let format = FbFormat { width, height, pitch, bpp, red, green, blue };
        let memory = RefCell::new(vec![UNTOUCHED; (pitch * height) as usize]);
        (format, FakeDisplay { memory, writes: RefCell::default(), broken: Cell::new(false) })
    }

    /// Channel layouts as `(size, shift)` of red, green, blue: `0x00RRGGBB` (also the usual
    /// 24-bit layout), `0xBBGGRR00`, and 5-6-5 bits.
    pub(crate) const XRGB: [(u8, u8); 3] = [(8, 16), (8, 8), (8, 0)];
    const BGRX: [(u8, u8); 3] = [(8, 8), (8, 16), (8, 24)];
    const RGB565: [(u8, u8); 3] = [(5, 11), (6, 5), (5, 0)];

    /// The colour at pixel `(x, y)` of `memory`, unpacked with `format`'s channels (scaled
    /// back to 8 bits, low bits zero).
    pub(crate) fn pixel_at(format: &FbFormat, memory: &[u8], x: u32, y: u32) -> Rgb {
        let bytes = (format.bpp / 8) as usize;
        let at = format.offset(x, y) as usize;
        let mut raw = [0u8; 4];
        raw[..bytes].copy_from_slice(&memory[at..at + bytes]);
        let value = u32::from_le_bytes(raw);
        let channel = |c: Channel| (((value >> c.shift) & ((1 << c.size) - 1)) << (8 - c.size)) as u8;
        Rgb(channel(format.red), channel(format.green), channel(format.blue))
    }

    /// `colour` as the format stores it, read back.
    pub(crate) fn stored(format: &FbFormat, colour: Rgb) -> Rgb {
        let layout = Layout::new(*format).unwrap();
        let packed = layout.pack(colour);
        let mut memory = vec![0; format.pitch as usize];
        memory[..layout.bytes_per_pixel()].copy_from_slice(&packed[..layout.bytes_per_pixel()]);
        pixel_at(format, &memory, 0, 0)
    }

    /// How many pixels of cell `(column, row)` are colours that `pick` picks.
    fn count_in_cell(
        format: &FbFormat,
        memory: &[u8],
        (column, row): (u32, u32),
        pick: impl Fn(Rgb) -> bool,
    ) -> usize {
        let (x0, y0) = (column * CELL_WIDTH as u32, row * CELL_HEIGHT as u32);
        (y0..y0 + CELL_HEIGHT as u32)
            .flat_map(|y| (x0..x0 + CELL_WIDTH as u32).map(move |x| (x, y)))
            .filter(|&(x, y)| pick(pixel_at(format, memory, x, y)))
            .count()
    }

    /// Whether `colour` is nearer the text colour than the background: glyphs are smoothed,
    /// and many have no pixel of full coverage.
    pub(crate) fn is_ink(colour: Rgb) -> bool {
        let middle = |fg: u8, bg: u8| (u16::from(fg) + u16::from(bg)) / 2;
        u16::from(colour.1) > middle(FOREGROUND.1, BACKGROUND.1)
    }

    /// Checks that the cells `text` names show a glyph (some pixels nearer the text colour,
    /// most background), that every other visible pixel is background, and that no pixel went
    /// into the padding after a line.
    fn assert_only_text_in(format: &FbFormat, memory: &[u8], text: &[(u32, u32)]) {
        let (columns, rows) = (format.width / CELL_WIDTH as u32, format.height / CELL_HEIGHT as u32);
        let cell_pixels = CELL_WIDTH * CELL_HEIGHT;
        for cell in (0..rows).flat_map(|row| (0..columns).map(move |column| (column, row))) {
            let blank = stored(format, BACKGROUND);
            let background = count_in_cell(format, memory, cell, |c| c == blank);
            if text.contains(&cell) {
                assert!(count_in_cell(format, memory, cell, is_ink) > 3, "no text in {cell:?}");
                assert!(background > cell_pixels / 2, "a glyph leaves most of {cell:?} empty");
            } else {
                assert_eq!(background, cell_pixels, "cell {cell:?} should be blank");
            }
        }
        let background = stored(format, BACKGROUND);
        for y in 0..format.height {
            for x in columns * CELL_WIDTH as u32..format.width {
                assert_eq!(pixel_at(format, memory, x, y), background, "right strip at ({x}, {y})");
            }
            if y >= rows * CELL_HEIGHT as u32 {
                for x in 0..format.width {
                    assert_eq!(pixel_at(format, memory, x, y), background, "bottom strip at ({x}, {y})");
                }
            }
        }
        let line = (format.width * format.bpp / 8) as usize;
        for y in 0..format.height as usize {
            let padding = &memory[y * format.pitch as usize..][line..format.pitch as usize];
            assert!(padding.iter().all(|&b| b == UNTOUCHED || b == 0), "padding of line {y}");
        }
    }

    /// A 6 × 3 console on a fake display, written `text` and flushed; returns the memory.
    fn run(bpp: u32, channels: [(u8, u8); 3], text: &str) -> (FbFormat, Vec<u8>) {
        let (format, fake) = display(bpp, channels, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        assert_eq!(console.size(), (6, 3));
        console.write(text);
        console.flush().unwrap();
        (format, fake.memory.take())
    }

    #[test]
    fn draws_text_in_every_pixel_format_with_a_wide_pitch() {
        for (bpp, channels) in [(32, XRGB), (32, BGRX), (24, XRGB), (16, RGB565)] {
            let (format, memory) = run(bpp, channels, "Hi\n l");
            assert_only_text_in(&format, &memory, &[(0, 0), (1, 0), (1, 1)]);
        }
    }

    #[test]
    fn wraps_and_scrolls_on_screen() {
        let (format, memory) = run(32, XRGB, "abcdefgh\n1\n2\n3");
        // "abcdef" / "gh" / "1" / "2" / "3": two rows scrolled away.
        assert_only_text_in(&format, &memory, &[(0, 0), (0, 1), (0, 2)]);
    }

    #[test]
    fn back_space_space_back_space_erases_on_screen() {
        let (format, memory) = run(16, RGB565, "ab\x08 \x08\x08c");
        assert_only_text_in(&format, &memory, &[(0, 0)]);
    }

    /// The bytes of `format`'s memory from the first pixel of cell `(column, row)` to the last
    /// of cell `(last_column, last_row)`.
    fn cells(
        format: &FbFormat,
        (column, row): (u32, u32),
        (last_column, last_row): (u32, u32),
    ) -> Range<usize> {
        let (width, height) = (CELL_WIDTH as u32, CELL_HEIGHT as u32);
        let start = format.offset(column * width, row * height);
        let end = format.offset((last_column + 1) * width, (last_row + 1) * height - 1);
        start as usize..end as usize
    }

    /// The bytes of pixel lines `lines` of `format`, the last one up to its last pixel.
    fn lines(format: &FbFormat, lines: Range<u32>) -> Range<usize> {
        format.offset(0, lines.start) as usize..format.offset(format.width, lines.end - 1) as usize
    }

    /// The writes made since the last call.
    fn writes(fake: &FakeDisplay) -> Vec<Range<usize>> {
        fake.writes.take()
    }

    #[test]
    fn a_flush_writes_what_changed_in_one_write() {
        let (format, fake) = display(32, XRGB, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        let cell_lines = 3 * CELL_HEIGHT as u32;
        let clearing = [lines(&format, 0..cell_lines), lines(&format, cell_lines..format.height)];
        assert_eq!(writes(&fake), clearing, "the cell rows, then the strip below them");
        console.flush().unwrap();
        assert_eq!(writes(&fake), [], "nothing changed");
        console.write("a");
        console.write("b\nc");
        console.flush().unwrap();
        // From the first pixel of cell (0, 0) to the last of cell (0, 1), past cell (1, 0)'s.
        assert_eq!(writes(&fake), [cells(&format, (0, 0), (0, 1))]);
        assert_only_text_in(&format, &fake.memory.borrow(), &[(0, 0), (1, 0), (0, 1)]);
    }

    #[test]
    fn only_cells_that_changed_are_drawn() {
        let (format, fake) = display(32, XRGB, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        console.write("abc\nxyz");
        console.flush().unwrap();
        writes(&fake);
        console.write("\rxyZ");
        console.flush().unwrap();
        assert_eq!(writes(&fake), [cells(&format, (2, 1), (2, 1))], "the one cell whose character changed");
        console.write("\rxyZ\x08Z");
        console.flush().unwrap();
        assert_eq!(writes(&fake), [], "the row was written, but every cell shows what it did");
    }

    #[test]
    fn a_scroll_moves_the_rows_pixels_up_without_drawing_them() {
        let (format, fake) = display(32, XRGB, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        console.write("a\nbc\ndef");
        console.flush().unwrap();
        writes(&fake);
        let height = CELL_HEIGHT as u32;
        let rows = |memory: &[u8], rows: Range<u32>| {
            memory[lines(&format, rows.start * height..rows.end * height)].to_vec()
        };
        let below_the_first = rows(&fake.memory.borrow(), 1..3);
        console.write("\n");
        console.flush().unwrap();
        // The rows that moved up, then the one that came in below them.
        let (band, end) = ((format.pitch * height) as usize, lines(&format, 0..3 * height).end);
        assert_eq!(writes(&fake), [0..2 * band, 2 * band..end]);
        assert_eq!(rows(&fake.memory.borrow(), 0..2), below_the_first);
        assert_only_text_in(&format, &fake.memory.borrow(), &[(0, 0), (1, 0), (0, 1), (1, 1), (2, 1)]);
        console.write("\n\n\n\n\ng");
        console.flush().unwrap();
        assert_only_text_in(&format, &fake.memory.borrow(), &[(0, 2)]);
        writes(&fake);
        console.write("h");
        console.flush().unwrap();
        assert_eq!(writes(&fake), [cells(&format, (1, 2), (1, 2))], "a cell after a scroll is a cell");
        assert_only_text_in(&format, &fake.memory.borrow(), &[(0, 2), (1, 2)]);
    }

    #[test]
    fn a_display_kept_up_to_date_is_the_display_drawn_at_once() {
        let pieces =
            ["ab\ncd", "\n\n\nxyz", "\x08\x08q", "\n1\n2\n3", "\rZ", "abcdefghij\n", "\t!", "\n\n\n\n\nlast"];
        for (bpp, channels) in [(32, XRGB), (24, XRGB), (16, RGB565)] {
            let (format, fake) = display(bpp, channels, 6, 3);
            let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
            for (n, piece) in pieces.iter().enumerate() {
                console.write(piece);
                // Some flushes catch up with two pieces.
                if n % 3 == 1 {
                    continue;
                }
                console.flush().unwrap();
                let (_, again) = display(bpp, channels, 6, 3);
                let mut at_once = Console::new(Screen::new(&again, format).unwrap()).unwrap();
                let rows: Vec<String> = (0..3).map(|r| console.grid.row(r).iter().collect()).collect();
                at_once.write(&rows.iter().map(|row| row.trim_end()).collect::<Vec<_>>().join("\n"));
                at_once.flush().unwrap();
                assert!(*fake.memory.borrow() == *again.memory.borrow(), "{bpp} bits, after {piece:?}");
            }
        }
    }

    #[test]
    fn the_log_opcode_is_the_one_the_kernel_sends() {
        assert_eq!(protocol::ui::LOG, sdk::sys::LOG_TEXT);
        assert_ne!(protocol::ui::LOG, protocol::ui::TEXT);
    }

    #[test]
    fn log_lines_take_lines_of_their_own_and_the_typed_line_is_drawn_again() {
        let (format, fake) = display(32, XRGB, 12, 4);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        let rows = |console: &Console<_>| -> Vec<String> {
            (0..4).map(|r| console.grid.row(r).iter().collect::<String>().trim_end().into()).collect()
        };
        console.write("ok\r\nmsh> ec");
        console.write_log("[1] one\n[2] tw");
        assert_eq!(rows(&console), ["ok", "[1] one", "msh> ec", ""], "the half log line waits");
        console.write_log("o\n");
        assert_eq!(rows(&console), ["ok", "[1] one", "[2] two", "msh> ec"]);
        console.write("ho\r\n");
        console.write_log("[3] three\n");
        assert_eq!(
            rows(&console),
            ["[2] two", "msh> echo", "[3] three", ""],
            "nothing unfinished to draw again"
        );
    }

    #[test]
    fn what_failed_to_reach_the_display_is_written_by_the_next_flush() {
        let (format, fake) = display(32, XRGB, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        console.write("T");
        fake.broken.set(true);
        assert_eq!(console.flush(), Err(Error::NoMemory));
        fake.broken.set(false);
        console.flush().unwrap();
        assert_only_text_in(&format, &fake.memory.borrow(), &[(0, 0)]);
    }

    #[test]
    fn clear_blanks_the_screen() {
        let (format, fake) = display(24, XRGB, 6, 3);
        let mut console = Console::new(Screen::new(&fake, format).unwrap()).unwrap();
        console.write("hello\nworld");
        console.flush().unwrap();
        console.clear();
        console.flush().unwrap();
        assert_only_text_in(&format, &fake.memory.borrow(), &[]);
    }
}
