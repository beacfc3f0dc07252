//! [`Grid`]: the console's text, one `char` per cell, and its cursor. Pure text: what the
//! control characters do, wrapping and scrolling are decided here, without pixels. The grid
//! also keeps what a display needs to catch up with it cheaply: how many rows it scrolled, and
//! which rows were written, since the display last asked.

use alloc::vec;
use alloc::vec::Vec;

/// Columns between tab stops.
const TAB: usize = 8;

/// Characters in rows of cells, and where the next one goes.
#[derive(Debug)]
pub struct Grid {
    columns: usize,
    rows: usize,
    /// Row after row; an empty cell holds a space.
    cells: Vec<char>,
    /// Cursor column; equal to `columns` after the last cell of a line was written, so a line
    /// that exactly fills the width and then ends does not leave an empty line behind it.
    column: usize,
    row: usize,
    /// Rows scrolled up since [`Self::take_scrolled`] last looked.
    scrolled: usize,
    /// Per row, whether a cell of it was written since [`Self::take_changed`] last looked at
    /// it. A mark moves up with its row when the grid scrolls.
    changed: Vec<bool>,
    /// Where the grid is in an escape sequence, which may span writes.
    escape: Escape,
}

/// An escape sequence being read: the grid acts on `ESC [ 2 J` (clear) and `ESC [ H` (home)
/// and drops the others whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    None,
    /// After `ESC`.
    Start,
    /// After `ESC [`, with the first parameter so far.
    Csi(u16),
}

impl Grid {
    /// An empty grid of `columns` × `rows` cells (each at least 1), cursor at the top left.
    pub fn new(columns: usize, rows: usize) -> Grid {
        let (columns, rows) = (columns.max(1), rows.max(1));
        let cells = vec![' '; columns * rows];
        let changed = vec![false; rows];
        Grid { columns, rows, cells, column: 0, row: 0, scrolled: 0, changed, escape: Escape::None }
    }

    /// Cells across.
    pub const fn columns(&self) -> usize {
        self.columns
    }

    /// Cells down.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// The cells of row `row` (which must be below [`Self::rows`]).
    pub fn row(&self, row: usize) -> &[char] {
        &self.cells[row * self.columns..(row + 1) * self.columns]
    }

    /// Writes `text` at the cursor; see `protocol::ui` for what each character does.
    pub fn write(&mut self, text: &str) {
        for c in text.chars() {
            if self.in_escape(c) {
                continue;
            }
            match c {
                '\x1b' => self.escape = Escape::Start,
                '\n' => self.new_line(),
                '\r' => self.column = 0,
                '\t' => self.column = ((self.column / TAB + 1) * TAB).min(self.columns),
                '\x08' => self.back_space(),
                c if c.is_control() => {}
                c => self.put(c),
            }
        }
    }

    /// Whether `c` belongs to an escape sequence, acting on the sequence it ends. A control
    /// character, or anything but `[` after `ESC`, ends a sequence and is handled as written.
    fn in_escape(&mut self, c: char) -> bool {
        let (inside, next) = match (self.escape, c) {
            (Escape::None, _) => return false,
            (Escape::Start, '[') => (true, Escape::Csi(0)),
            (Escape::Csi(n), '0'..='9') => {
                (true, Escape::Csi(n.saturating_mul(10).saturating_add(c as u16 - '0' as u16)))
            }
            (Escape::Csi(n), ';' | '?' | ' '..='/') => (true, Escape::Csi(n)),
            (Escape::Csi(n), '@'..='~') => {
                match (c, n) {
                    ('J', 2) => self.clear(),
                    ('H', _) => (self.column, self.row) = (0, 0),
                    ('K', 0) => self.erase_to_end_of_line(),
                    _ => {}
                }
                (true, Escape::None)
            }
            _ => (false, Escape::None),
        };
        self.escape = next;
        inside
    }

    /// Blanks every cell and puts the cursor at the top left.
    pub fn clear(&mut self) {
        self.cells.fill(' ');
        self.changed.fill(true);
        (self.column, self.row) = (0, 0);
    }

    /// How many rows the text moved up since the last call: a display that moves its rows up
    /// as many, blanking those that come in at the bottom, then differs only in the rows
    /// [`Self::take_changed`] reports.
    pub fn take_scrolled(&mut self) -> usize {
        core::mem::take(&mut self.scrolled)
    }

    /// Whether a cell of row `row` was written since the last call for it (or, for a row that
    /// came up from below, for the row it was then).
    pub fn take_changed(&mut self, row: usize) -> bool {
        core::mem::take(&mut self.changed[row])
    }

    /// Puts `c` at the cursor, wrapping first if the line is full.
    fn put(&mut self, c: char) {
        if self.column == self.columns {
            self.new_line();
        }
        self.cells[self.row * self.columns + self.column] = c;
        self.changed[self.row] = true;
        self.column += 1;
    }

    /// Blanks the cursor's row from the cursor on (`ESC [K`).
    fn erase_to_end_of_line(&mut self) {
        let start = self.row * self.columns;
        self.cells[start + self.column.min(self.columns)..start + self.columns].fill(' ');
        self.changed[self.row] = true;
    }

    /// Moves to the start of the next line, scrolling everything up one row from the last.
    fn new_line(&mut self) {
        self.column = 0;
        if self.row + 1 < self.rows {
            self.row += 1;
        } else {
            self.cells.copy_within(self.columns.., 0);
            let last = (self.rows - 1) * self.columns;
            self.cells[last..].fill(' ');
            self.changed.copy_within(1.., 0);
            self.changed[self.rows - 1] = false;
            self.scrolled += 1;
        }
    }

    /// Moves one cell back, to the end of the line above from the first column. It erases
    /// nothing, as on a terminal: a shell erases with back, space, back, and moves the cursor
    /// left with a back alone when it edits inside a line.
    fn back_space(&mut self) {
        if self.column > 0 {
            self.column -= 1;
        } else if self.row > 0 {
            (self.column, self.row) = (self.columns - 1, self.row - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::*;

    /// Each row's text with trailing blanks cut.
    fn text(grid: &Grid) -> Vec<String> {
        (0..grid.rows()).map(|r| grid.row(r).iter().collect::<String>().trim_end().into()).collect()
    }

    fn cursor(grid: &Grid) -> (usize, usize) {
        (grid.column, grid.row)
    }

    #[test]
    fn writes_lines_and_returns() {
        let mut grid = Grid::new(10, 3);
        grid.write("ab\ncd\rX");
        assert_eq!(text(&grid), ["ab", "Xd", ""]);
        assert_eq!(cursor(&grid), (1, 1));
    }

    #[test]
    fn wraps_at_the_right_edge_without_an_empty_line_for_an_exact_fit() {
        let mut grid = Grid::new(4, 4);
        grid.write("abcdefg");
        assert_eq!(text(&grid), ["abcd", "efg", "", ""]);
        grid.write("h\nij");
        assert_eq!(text(&grid), ["abcd", "efgh", "ij", ""], "a full line ended by \\n takes one row");
    }

    #[test]
    fn scrolls_up_below_the_last_row() {
        let mut grid = Grid::new(5, 3);
        grid.write("1\n2\n3\n4");
        assert_eq!(text(&grid), ["2", "3", "4"]);
        grid.write("\n");
        assert_eq!(text(&grid), ["3", "4", ""]);
        assert_eq!(cursor(&grid), (0, 2));
        grid.write("abcdefghijkl");
        assert_eq!(text(&grid), ["abcde", "fghij", "kl"], "wrapping scrolls too");
    }

    #[test]
    fn back_space_moves_back_across_wrapped_lines_and_erases_nothing() {
        let mut grid = Grid::new(3, 3);
        grid.write("abcd\x08\x08");
        assert_eq!(text(&grid), ["abc", "d", ""]);
        assert_eq!(cursor(&grid), (2, 0), "back over the wrap to the last column above");
        grid.write("\x08\x08\x08\x08");
        assert_eq!(cursor(&grid), (0, 0), "stops at the top left");
        grid.write("xy\x08 \x08");
        assert_eq!(text(&grid), ["x c", "d", ""], "back, space, back erases");
        grid.write("\rabc\x08Z");
        assert_eq!(text(&grid), ["abZ", "d", ""], "from the end of a full line, back to its last cell");
    }

    #[test]
    fn tabs_stop_every_eight_columns_and_other_controls_are_ignored() {
        let mut grid = Grid::new(20, 2);
        grid.write("a\tb\x1b\x07\x7fc\t\td");
        assert_eq!(text(&grid), ["a       bc", "d"]);
    }

    /// The rows marked changed, each mark taken.
    fn changed(grid: &mut Grid) -> Vec<usize> {
        (0..grid.rows()).filter(|&row| grid.take_changed(row)).collect()
    }

    #[test]
    fn written_rows_are_marked_once() {
        let mut grid = Grid::new(4, 4);
        assert_eq!(changed(&mut grid), [0; 0], "a new grid is blank, as a cleared display");
        grid.write("ab\n\ncdefg");
        assert_eq!(changed(&mut grid), [0, 2, 3]);
        assert_eq!(changed(&mut grid), [0; 0], "taken");
        grid.write("\r\t\x1b");
        assert_eq!(changed(&mut grid), [0; 0], "moving the cursor writes nothing");
        grid.write("\x08");
        assert_eq!(changed(&mut grid), [0; 0], "nor does moving back");
        assert_eq!(grid.take_scrolled(), 0);
    }

    #[test]
    fn scrolling_is_counted_and_the_marks_move_up_with_their_rows() {
        let mut grid = Grid::new(5, 3);
        grid.write("1\n2\n3");
        changed(&mut grid);
        grid.write("x\n4\n");
        // Both were written on the bottom row: "3x" is two rows up now, "4" one.
        assert_eq!(text(&grid), ["3x", "4", ""]);
        assert_eq!(grid.take_scrolled(), 2);
        assert_eq!(changed(&mut grid), [0, 1], "the blank row that came in last is not written");
        assert_eq!(grid.take_scrolled(), 0, "taken");
        grid.write("5");
        grid.clear();
        assert_eq!(changed(&mut grid), [0, 1, 2]);
    }

    #[test]
    fn clear_blanks_everything_and_homes_the_cursor() {
        let mut grid = Grid::new(3, 2);
        grid.write("abcdef");
        grid.clear();
        assert_eq!(text(&grid), ["", ""]);
        assert_eq!(cursor(&grid), (0, 0));
    }

    #[test]
    fn clear_and_home_sequences_act_and_other_sequences_are_dropped_whole() {
        let mut grid = Grid::new(6, 2);
        grid.write("abc\ndef\x1b[2");
        grid.write("J\x1b[Hx\x1b[1;5Dy\x1b[31mz");
        assert_eq!(text(&grid), ["xyz", ""], "cleared, home, the colour and cursor sequences gone");
        grid.write("\x1b[H\x1bqQ");
        assert_eq!(text(&grid), ["qQz", ""], "an ESC without [ drops only itself");
    }

    #[test]
    fn erase_to_end_of_line_blanks_from_the_cursor_on() {
        let mut grid = Grid::new(6, 2);
        grid.write("abcdef\x08\x08\x08\x1b[K");
        assert_eq!(text(&grid), ["abc", ""]);
        grid.write("\r\x1b[Kxy");
        assert_eq!(text(&grid), ["xy", ""]);
        assert_eq!(cursor(&grid), (2, 0));
    }

    #[test]
    fn a_degenerate_size_still_has_one_cell() {
        let mut grid = Grid::new(0, 0);
        grid.write("ab\x08\ncd");
        assert_eq!(text(&grid), ["d"]);
    }
}
