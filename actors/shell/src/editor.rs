//! The line editor: turns the bytes typed on the serial line into whole lines, and says what to
//! echo so the person typing sees the line as it stands.
//!
//! It keeps printable ASCII and understands Enter (`\r`, `\n` or `\r\n`), backspace and DEL
//! (erase before the cursor), Ctrl-C (drop the line), the arrow keys (left and right move the
//! cursor, up and down walk the history of earlier lines), Home and End (also Ctrl-A and
//! Ctrl-E), the Delete key (erase under the cursor) and Ctrl-L (clear the screen). Other escape sequences and every other
//! byte are dropped, so noise on the line cannot put anything but printable text into a
//! command. The echo uses only printable text, `\r\n` and backspaces, which the serial
//! terminal and the framebuffer console both understand. A line has a fixed limit; what is
//! typed past it is counted but not kept, and Enter then reports the line as too long instead
//! of running part of it.

use alloc::collections::VecDeque;
use alloc::string::String;

/// Backspace, as terminals send it and as it moves the cursor left when echoed.
const BACKSPACE: u8 = 0x08;
/// DEL, what most terminals send for the backspace key.
const DELETE: u8 = 0x7f;
/// Ctrl-C.
const INTERRUPT: u8 = 0x03;
/// Ctrl-L: clear the screen.
const CLEAR: u8 = 0x0c;
/// Ctrl-A and Ctrl-E: to the start and the end of the line.
const LINE_START: u8 = 0x01;
const LINE_END: u8 = 0x05;
/// Starts a terminal escape sequence.
const ESCAPE: u8 = 0x1b;
/// The terminal bell, echoed once when a line reaches its limit.
const BELL: char = '\x07';
/// Earlier lines kept for the up arrow.
pub const HISTORY: usize = 32;

/// What Enter or Ctrl-C hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A line within the limit.
    Line(String),
    /// A line of this many bytes, more than the limit; nothing of it is kept.
    TooLong(usize),
    /// Ctrl-C dropped the line.
    Cancelled,
    /// Ctrl-L: clear the screen and show the line again ([`LineEditor::redraw`]); it goes on.
    ClearScreen,
}

/// A key that arrives as an escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    Delete,
}

/// Where the editor is in a terminal escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    None,
    /// After `ESC`.
    Start,
    /// After `ESC [`, with the first numeric parameter so far (`ESC [ 3 ~` is Delete).
    Csi(u16),
    /// After `ESC [` and a byte that ends the first parameter: the rest is skipped.
    CsiRest(u16),
    /// After `ESC O`: one more byte.
    Ss3,
}

/// What a byte did to an escape sequence.
enum Step {
    /// It is not part of one.
    Outside,
    /// It was taken into one, or ended one the editor does not know.
    Taken,
    /// It ended one that means `Key`.
    Key(Key),
}

/// The line being typed, and the ones before it.
#[derive(Debug)]
pub struct LineEditor {
    line: String,
    /// Where the next byte typed goes, `0..=line.len()` (the line is ASCII: bytes are columns).
    cursor: usize,
    limit: usize,
    /// Printable bytes typed past the limit and not kept (backspace takes these back first).
    dropped: usize,
    /// The last byte was `\r`, so a `\n` right after it ends nothing more.
    after_cr: bool,
    escape: Escape,
    /// Earlier lines, oldest first.
    history: VecDeque<String>,
    /// Which of them the line shows while the arrows walk it, and the line typed before.
    browsing: Option<(usize, String)>,
}

impl LineEditor {
    /// An empty line that may grow to `limit` bytes, with no history.
    pub const fn new(limit: usize) -> LineEditor {
        LineEditor {
            line: String::new(),
            cursor: 0,
            limit,
            dropped: 0,
            after_cr: false,
            escape: Escape::None,
            history: VecDeque::new(),
            browsing: None,
        }
    }

    /// Takes one typed byte; appends what to echo to `echo`, and returns the line when the
    /// byte ends it.
    pub fn feed(&mut self, byte: u8, echo: &mut String) -> Option<Entry> {
        match self.escape_step(byte) {
            Step::Outside => {}
            Step::Taken => return None,
            Step::Key(key) => {
                self.key(key, echo);
                return None;
            }
        }
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                echo.push_str("\r\n");
                Some(self.finish())
            }
            BACKSPACE | DELETE => {
                if self.dropped > 0 {
                    // Never echoed, so there is nothing on the screen to erase.
                    self.dropped -= 1;
                } else if self.cursor > 0 {
                    self.cursor -= 1;
                    echo.push(char::from(BACKSPACE));
                    self.erase_at_cursor(echo);
                }
                None
            }
            INTERRUPT => {
                echo.push_str("^C\r\n");
                self.finish();
                Some(Entry::Cancelled)
            }
            CLEAR => Some(Entry::ClearScreen),
            LINE_START => {
                self.key(Key::Home, echo);
                None
            }
            LINE_END => {
                self.key(Key::End, echo);
                None
            }
            ESCAPE => {
                self.escape = Escape::Start;
                None
            }
            b' '..=b'~' if self.line.len() < self.limit && self.dropped == 0 => {
                self.line.insert(self.cursor, char::from(byte));
                self.cursor += 1;
                // The typed byte and the rest of the line after it, then back to the cursor.
                echo.push_str(&self.line[self.cursor - 1..]);
                back(echo, self.line.len() - self.cursor);
                None
            }
            b' '..=b'~' => {
                if self.dropped == 0 {
                    echo.push(BELL);
                }
                self.dropped = self.dropped.saturating_add(1);
                None
            }
            _ => None,
        }
    }

    /// Whether nothing is typed on the line (Ctrl-D means the end of input only then).
    pub fn is_empty(&self) -> bool {
        self.line.is_empty() && self.dropped == 0
    }

    /// The line as it stands, with the terminal's cursor brought back to the editor's: what to
    /// print after a fresh prompt.
    pub fn redraw(&self) -> String {
        let mut text = self.line.clone();
        back(&mut text, self.line.len() - self.cursor);
        text
    }

    /// Ends the line: what it was, the line itself kept in the history, the editor empty.
    fn finish(&mut self) -> Entry {
        let (line, dropped) = (core::mem::take(&mut self.line), core::mem::take(&mut self.dropped));
        self.cursor = 0;
        self.browsing = None;
        if dropped > 0 {
            return Entry::TooLong(line.len() + dropped);
        }
        if !line.trim().is_empty() && self.history.back() != Some(&line) {
            if self.history.len() == HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        Entry::Line(line)
    }

    /// Acts on an arrow, Home, End or Delete.
    fn key(&mut self, key: Key, echo: &mut String) {
        match key {
            Key::Left | Key::Home if self.cursor > 0 => {
                let to = if key == Key::Left { self.cursor - 1 } else { 0 };
                back(echo, self.cursor - to);
                self.cursor = to;
            }
            Key::Right | Key::End if self.cursor < self.line.len() => {
                let to = if key == Key::Right { self.cursor + 1 } else { self.line.len() };
                echo.push_str(&self.line[self.cursor..to]);
                self.cursor = to;
            }
            Key::Delete if self.cursor < self.line.len() => self.erase_at_cursor(echo),
            Key::Up => {
                let at = match &self.browsing {
                    Some((at, _)) => at.checked_sub(1),
                    None => self.history.len().checked_sub(1),
                };
                if let Some(at) = at {
                    let draft = self.browsing.take().map_or_else(|| self.line.clone(), |(_, draft)| draft);
                    self.browsing = Some((at, draft));
                    self.show(self.history[at].clone(), echo);
                }
            }
            Key::Down => {
                if let Some((at, draft)) = self.browsing.take() {
                    if at + 1 < self.history.len() {
                        self.browsing = Some((at + 1, draft));
                        self.show(self.history[at + 1].clone(), echo);
                    } else {
                        self.show(draft, echo);
                    }
                }
            }
            _ => {}
        }
    }

    /// Removes the byte under the cursor, redrawing the rest of the line one column left.
    fn erase_at_cursor(&mut self, echo: &mut String) {
        self.line.remove(self.cursor);
        echo.push_str(&self.line[self.cursor..]);
        echo.push(' ');
        back(echo, self.line.len() - self.cursor + 1);
    }

    /// Replaces the line on the screen and in the editor by `text`, the cursor at its end.
    fn show(&mut self, text: String, echo: &mut String) {
        back(echo, self.cursor);
        echo.push_str(&text);
        // Blank what is left of a longer line, and come back.
        let left_over = self.line.len().saturating_sub(text.len());
        echo.extend(core::iter::repeat_n(' ', left_over));
        back(echo, left_over);
        self.cursor = text.len();
        self.line = text;
        self.dropped = 0;
    }

    /// Follows `byte` through an escape sequence. A control byte ends a sequence and is
    /// handled as typed, so Enter still works after a stray `ESC`.
    fn escape_step(&mut self, byte: u8) -> Step {
        let printable = (b' '..=b'~').contains(&byte);
        let (step, next) = match (self.escape, byte) {
            (Escape::None, _) => return Step::Outside,
            (_, _) if !printable => (Step::Outside, Escape::None),
            (Escape::Start, b'[') => (Step::Taken, Escape::Csi(0)),
            (Escape::Start, b'O') => (Step::Taken, Escape::Ss3),
            (Escape::Csi(n), b'0'..=b'9') => {
                (Step::Taken, Escape::Csi(n.saturating_mul(10).saturating_add(u16::from(byte - b'0'))))
            }
            // Parameter and intermediate bytes; a byte from `@` to `~` is the final one.
            (Escape::Csi(n) | Escape::CsiRest(n), b' '..=b'?') => (Step::Taken, Escape::CsiRest(n)),
            (Escape::Csi(n) | Escape::CsiRest(n), b'~') => (
                match n {
                    1 | 7 => Step::Key(Key::Home),
                    3 => Step::Key(Key::Delete),
                    4 | 8 => Step::Key(Key::End),
                    _ => Step::Taken,
                },
                Escape::None,
            ),
            (Escape::Csi(_) | Escape::CsiRest(_) | Escape::Ss3, _) => (
                match byte {
                    b'A' => Step::Key(Key::Up),
                    b'B' => Step::Key(Key::Down),
                    b'C' => Step::Key(Key::Right),
                    b'D' => Step::Key(Key::Left),
                    b'H' => Step::Key(Key::Home),
                    b'F' => Step::Key(Key::End),
                    _ => Step::Taken,
                },
                Escape::None,
            ),
            (Escape::Start, _) => (Step::Taken, Escape::None),
        };
        self.escape = next;
        step
    }
}

/// Moves the terminal's cursor `columns` to the left.
fn back(echo: &mut String, columns: usize) {
    echo.extend(core::iter::repeat_n(char::from(BACKSPACE), columns));
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    /// Feeds `typed`; returns the entries it produced and the echo.
    fn type_in(editor: &mut LineEditor, typed: &[u8]) -> (Vec<Entry>, String) {
        let mut echo = String::new();
        let entries = typed.iter().filter_map(|&byte| editor.feed(byte, &mut echo)).collect();
        (entries, echo)
    }

    fn line(text: &str) -> Entry {
        Entry::Line(text.into())
    }

    #[test]
    fn enter_ends_a_line_and_echoes_a_new_line() {
        let mut editor = LineEditor::new(256);
        let (entries, echo) = type_in(&mut editor, b"echo hi\r");
        assert_eq!(entries, [line("echo hi")]);
        assert_eq!(echo, "echo hi\r\n");
        assert_eq!(
            type_in(&mut editor, b"ps\nmem\r\nuptime\n\n").0,
            [line("ps"), line("mem"), line("uptime"), line("")]
        );
    }

    #[test]
    fn crlf_is_one_enter_even_across_messages() {
        let mut editor = LineEditor::new(256);
        assert_eq!(type_in(&mut editor, b"ps\r").0, [line("ps")]);
        assert_eq!(type_in(&mut editor, b"\n").0, []);
        assert_eq!(type_in(&mut editor, b"\r\r").0, [line(""), line("")], "two Enters are two lines");
    }

    #[test]
    fn backspace_and_delete_erase_the_last_character() {
        let mut editor = LineEditor::new(256);
        let (entries, echo) = type_in(&mut editor, b"ecxo\x7f\x08ho\r");
        assert_eq!(entries, [line("echo")]);
        assert_eq!(echo, "ecxo\x08 \x08\x08 \x08ho\r\n");
        let (entries, echo) = type_in(&mut editor, b"\x7f\x7fa\r");
        assert_eq!((entries, echo), (vec![line("a")], "a\r\n".into()), "nothing to erase");
    }

    #[test]
    fn a_line_past_the_limit_is_refused_whole() {
        let mut editor = LineEditor::new(4);
        let (entries, echo) = type_in(&mut editor, b"abcdefg\r");
        assert_eq!(entries, [Entry::TooLong(7)]);
        assert_eq!(echo, "abcd\x07\r\n", "kept bytes echoed, one bell for the rest");
        assert_eq!(type_in(&mut editor, b"ok\r").0, [line("ok")], "the next line starts afresh");
    }

    #[test]
    fn backspace_takes_back_what_went_past_the_limit_first() {
        let mut editor = LineEditor::new(4);
        let (entries, echo) = type_in(&mut editor, b"abcdef\x7f\x7f\r");
        assert_eq!(entries, [line("abcd")]);
        assert_eq!(echo, "abcd\x07\r\n");
        assert_eq!(type_in(&mut editor, b"abcdef\x7f\x7f\x7fx\r").0, [line("abcx")]);
    }

    #[test]
    fn ctrl_c_drops_the_line() {
        let mut editor = LineEditor::new(256);
        let (entries, echo) = type_in(&mut editor, b"kill 1\x03ps\r");
        assert_eq!(entries, [Entry::Cancelled, line("ps")]);
        assert_eq!(echo, "kill 1^C\r\nps\r\n");
    }

    #[test]
    fn escape_sequences_and_garbage_bytes_are_dropped() {
        let mut editor = LineEditor::new(256);
        let typed = b"\x1b[5~\x1b[2Jp\x00\x02\xff\xfe\x80\x1bOs\x1bxs\t\x1b[\r";
        let (entries, echo) = type_in(&mut editor, typed);
        assert_eq!(entries, [line("ps")], "a control byte ends an unfinished sequence");
        assert_eq!(echo, "ps\r\n");
    }

    #[test]
    fn left_and_right_move_the_cursor_and_typing_inserts_there() {
        let mut editor = LineEditor::new(256);
        let typed = b"eco\x1b[Dh\x1bOC\x1b[C!\x1b[D\x7fo\x05\x7f\r";
        let (entries, echo) = type_in(&mut editor, typed);
        assert_eq!(entries, [line("echo")]);
        // Left; h goes in before the o (echoed with it, then one back); right over the o,
        // nothing more at the end; ! typed and left again; backspace erases the o before the
        // cursor (the ! moves left over it, a blank after it); o typed back in; to the end;
        // the ! erased.
        assert_eq!(echo, "eco\x08ho\x08o!\x08\x08! \x08\x08o!\x08!\x08 \x08\r\n");
    }

    #[test]
    fn home_end_and_delete_edit_anywhere_in_the_line() {
        let mut editor = LineEditor::new(256);
        let (entries, echo) = type_in(&mut editor, b"xps\x01\x1b[3~\x05 -l\x1b[H\x1b[F\r");
        assert_eq!(entries, [line("ps -l")]);
        assert_eq!(echo, "xps\x08\x08\x08ps \x08\x08\x08ps -l\x08\x08\x08\x08\x08ps -l\r\n");
        let (entries, _) = type_in(&mut editor, b"ab\x1b[1~c\x1b[4~d\x1b[7~\x1b[3~\r");
        assert_eq!(entries, [line("abd")], "Home and End by their numbers too; Delete at the start");
    }

    #[test]
    fn up_and_down_walk_the_history_and_come_back_to_the_draft() {
        let mut editor = LineEditor::new(256);
        type_in(&mut editor, b"echo one\rps\r\rps\r   \r");
        // Empty lines, blank ones and repeats are not kept: the history is "echo one", "ps".
        let (_, echo) = type_in(&mut editor, b"dr\x1b[A");
        assert_eq!(echo, "dr\x08\x08ps", "the draft is replaced by the last line");
        let (_, echo) = type_in(&mut editor, b"\x1b[A\x1b[A");
        assert_eq!(echo, "\x08\x08echo one", "then the one before; no further");
        let (_, echo) = type_in(&mut editor, b"\x1b[B");
        assert_eq!(echo, "\x08\x08\x08\x08\x08\x08\x08\x08ps      \x08\x08\x08\x08\x08\x08");
        let (_, echo) = type_in(&mut editor, b"\x1bOB");
        assert_eq!(echo, "\x08\x08dr", "past the newest line, the draft comes back");
        assert_eq!(type_in(&mut editor, b"\x1b[B!\r").0, [line("dr!")]);
        assert_eq!(type_in(&mut editor, b"\x1b[A\x1b[A\r").0, [line("ps")], "the line run is newest");
    }

    #[test]
    fn ctrl_l_asks_for_a_clear_screen_and_keeps_the_line_and_its_cursor() {
        let mut editor = LineEditor::new(256);
        let (entries, _) = type_in(&mut editor, b"echo x\x1b[D\x0c");
        assert_eq!(entries, [Entry::ClearScreen]);
        assert_eq!(editor.redraw(), "echo x\x08");
        assert_eq!(type_in(&mut editor, b"y\r").0, [line("echo yx")]);
    }

    #[test]
    fn the_history_keeps_the_newest_lines() {
        let mut editor = LineEditor::new(256);
        for n in 0..HISTORY + 5 {
            type_in(&mut editor, alloc::format!("echo {n}\r").as_bytes());
        }
        let mut up = Vec::new();
        up.resize(HISTORY + 5, b"\x1b[A".as_slice());
        let (entries, _) = type_in(&mut editor, &[up.concat(), b"\r".to_vec()].concat());
        assert_eq!(entries, [line("echo 5")], "the oldest kept is the sixth typed");
    }

    #[test]
    fn every_byte_value_in_any_order_is_taken_without_panicking() {
        let mut editor = LineEditor::new(8);
        let mut echo = String::new();
        for round in 0..4u32 {
            for byte in 0..=255u8 {
                let byte = byte.wrapping_mul(31).wrapping_add(round as u8);
                if let Some(Entry::Line(text)) = editor.feed(byte, &mut echo) {
                    assert!(text.len() <= 8 && text.bytes().all(|b| (b' '..=b'~').contains(&b)), "{text:?}");
                }
            }
        }
    }
}
