//! [`Screen`]: the framebuffer as a grid of character cells. Every cell row's pixels are kept
//! in a frame in the actor's own memory, laid out with the framebuffer's pitch: a cell is drawn
//! by copying its glyph there, and [`Screen::present`] copies what changed since the last one
//! to the framebuffer in one host call (two when the change spans the ring's seam, below). The
//! frame is a ring of cell rows: a scroll only turns it and blanks the rows that come in at the
//! bottom, and the next present writes every row where it now belongs on the display. No call
//! is made per cell or per row, and moving the text up renders no glyph again and moves no
//! pixel inside the actor.

use alloc::vec;
use alloc::vec::Vec;
use core::ops::Range;

use sdk::{Error, FbFormat, Framebuffer};

use crate::glyphs::{CELL_HEIGHT, CELL_WIDTH, Glyphs};
use crate::pixel::{Layout, Rgb, Unsupported};

/// Colour of empty screen.
pub const BACKGROUND: Rgb = Rgb(0x10, 0x18, 0x28);
/// Colour of text.
pub const FOREGROUND: Rgb = Rgb(0xe8, 0xe8, 0xe8);

/// Where rendered pixels go: the framebuffer, or a byte buffer in tests.
pub trait Surface {
    /// Copies `bytes` to byte `offset` of the display memory.
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error>;
}

impl Surface for Framebuffer {
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        Framebuffer::write(self, offset, bytes)
    }
}

/// The display as character cells.
pub struct Screen<S> {
    surface: S,
    layout: Layout,
    glyphs: Glyphs,
    /// The pixel lines of every cell row, `pitch` bytes apart, the display's rows from the
    /// frame's row [`Self::top`] on, wrapping around. Padding after a line stays zero.
    frame: Vec<u8>,
    /// The frame's cell row shown at the top of the display.
    top: usize,
    /// The bytes of the display memory that differ from the frame, if any.
    dirty: Option<Range<usize>>,
    /// One pixel line of background, to blank lines of the frame with.
    blank_line: Vec<u8>,
}

impl<S: Surface> Screen<S> {
    /// A screen drawing on `surface`, whose memory has the layout `format` describes.
    pub fn new(surface: S, format: FbFormat) -> Result<Screen<S>, Unsupported> {
        let layout = Layout::new(format)?;
        if (format.width as usize) < CELL_WIDTH || (format.height as usize) < CELL_HEIGHT {
            return Err(Unsupported::Size);
        }
        let pixel = layout.pack(BACKGROUND);
        let blank_line = pixel[..layout.bytes_per_pixel()].repeat(format.width as usize);
        let glyphs = Glyphs::new(&layout, FOREGROUND, BACKGROUND);
        let lines = format.height as usize / CELL_HEIGHT * CELL_HEIGHT;
        let frame = vec![0; format.pitch as usize * lines];
        Ok(Screen { surface, layout, glyphs, frame, top: 0, dirty: None, blank_line })
    }

    /// Character cells across.
    pub fn columns(&self) -> usize {
        self.layout.format().width as usize / CELL_WIDTH
    }

    /// Character cells down.
    pub fn rows(&self) -> usize {
        self.layout.format().height as usize / CELL_HEIGHT
    }

    /// Paints the whole display background, including the strips right of and below the
    /// cells, which nothing draws on later.
    pub fn clear(&mut self) -> Result<(), Error> {
        self.top = 0;
        for row in 0..self.rows() {
            self.blank_row(row);
        }
        self.mark(self.span(self.frame_lines()));
        self.present()?;
        // The strip below the cells is shorter than a cell row: the frame's first lines,
        // blank now, cover it. It starts where the frame's last line ends.
        let below = self.layout.format().height as usize - self.frame_lines();
        if below > 0 {
            let span = self.span(below);
            self.surface.write(self.frame.len() as u32, &self.frame[span])?;
        }
        Ok(())
    }

    /// Draws `c` in cell `(column, row)` (shown at the next [`Self::present`]); a cell outside
    /// the display draws nothing.
    pub fn draw_cell(&mut self, column: usize, row: usize, c: char) {
        if column >= self.columns() || row >= self.rows() {
            return;
        }
        let (pitch, line) = (self.pitch(), self.glyphs.line_bytes());
        let len = (CELL_HEIGHT - 1) * pitch + line;
        let at = self.frame_row(row) * self.band() + column * line;
        self.glyphs.draw(c, &mut self.frame[at..at + len], pitch);
        let shown = row * self.band() + column * line;
        self.mark(shown..shown + len);
    }

    /// Moves the cell rows up by `rows`, blanking as many at the bottom (shown at the next
    /// [`Self::present`]).
    pub fn scroll(&mut self, rows: usize) {
        let rows = rows.min(self.rows());
        if rows == 0 {
            return;
        }
        self.top = (self.top + rows) % self.rows();
        for row in self.rows() - rows..self.rows() {
            self.blank_row(self.frame_row(row));
        }
        self.mark(self.span(self.frame_lines()));
    }

    /// Copies what changed since the last call to the display: one host call for the rows
    /// from the frame's [`Self::top`] row to its last, one for those from its first row on.
    /// What fails to reach the display stays marked, so the next call tries again.
    pub fn present(&mut self) -> Result<(), Error> {
        let Some(dirty) = self.dirty.clone() else { return Ok(()) };
        let wrap = (self.rows() - self.top) * self.band();
        for (shown, from) in [(0..wrap, self.top * self.band()), (wrap..self.frame.len(), 0)] {
            let part = dirty.start.max(shown.start)..dirty.end.min(shown.end);
            if !part.is_empty() {
                let at = from + part.start - shown.start;
                // `Layout` checked that every offset inside the display fits in 32 bits.
                self.surface.write(part.start as u32, &self.frame[at..at + part.len()])?;
            }
        }
        self.dirty = None;
        Ok(())
    }

    /// Fills the pixel lines of the frame's cell row `row` with background.
    fn blank_row(&mut self, row: usize) {
        let (pitch, band) = (self.pitch(), self.band());
        for line in self.frame[row * band..(row + 1) * band].chunks_exact_mut(pitch) {
            line[..self.blank_line.len()].copy_from_slice(&self.blank_line);
        }
    }

    /// Adds `bytes` of the display memory to what the next [`Self::present`] copies.
    fn mark(&mut self, bytes: Range<usize>) {
        self.dirty = Some(match self.dirty.take() {
            Some(dirty) => dirty.start.min(bytes.start)..dirty.end.max(bytes.end),
            None => bytes,
        });
    }

    /// The bytes of the first `lines` pixel lines. The last line stops at its last pixel: the
    /// padding after it may be the end of the display memory.
    fn span(&self, lines: usize) -> Range<usize> {
        0..(lines - 1) * self.pitch() + self.blank_line.len()
    }

    /// The frame's cell row shown as the display's row `row`.
    fn frame_row(&self, row: usize) -> usize {
        (self.top + row) % self.rows()
    }

    fn pitch(&self) -> usize {
        self.layout.format().pitch as usize
    }

    /// Bytes of one cell row, padding included.
    fn band(&self) -> usize {
        CELL_HEIGHT * self.pitch()
    }

    /// Pixel lines of the frame: the cell rows'.
    fn frame_lines(&self) -> usize {
        self.frame.len() / self.pitch()
    }
}
