//! The line editor: turns the bytes typed on the serial line into whole lines, and says what to
//! echo so the person typing sees the line as it stands.
//!
//! It keeps printable ASCII and understands Enter (`\r`, `\n` or `\r\n`), backspace and DEL
//! (erase the last character), and Ctrl-C (drop the line). Terminal escape sequences (the arrow
//! keys send `ESC [ A`) and every other byte are dropped, so noise on the line cannot put
//! anything but printable text into a command. A line has a fixed limit; what is typed past it
//! is counted but not kept, and Enter then reports the line as too long instead of running
//! part of it.

use alloc::string::String;

/// Backspace, as terminals send it and as it is echoed.
const BACKSPACE: u8 = 0x08;
/// DEL, what most terminals send for the backspace key.
const DELETE: u8 = 0x7f;
/// Ctrl-C.
const INTERRUPT: u8 = 0x03;
/// Starts a terminal escape sequence.
const ESCAPE: u8 = 0x1b;
/// The terminal bell, echoed once when a line reaches its limit.
const BELL: char = '\x07';

/// What Enter or Ctrl-C hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A line within the limit.
    Line(String),
    /// A line of this many bytes, more than the limit; nothing of it is kept.
    TooLong(usize),
    /// Ctrl-C dropped the line.
    Cancelled,
}

/// Where the editor is in a terminal escape sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Escape {
    /// Not in one.
    None,
    /// After `ESC`.
    Start,
    /// After `ESC [`: parameters until a final byte.
    Csi,
    /// After `ESC O`: one more byte.
    Ss3,
}

/// The line being typed.
#[derive(Debug)]
pub struct LineEditor {
    line: String,
    limit: usize,
    /// Printable bytes typed past the limit and not kept (backspace takes these back first).
    dropped: usize,
    /// The last byte was `\r`, so a `\n` right after it ends nothing more.
    after_cr: bool,
    escape: Escape,
}

impl LineEditor {
    /// An empty line that may grow to `limit` bytes.
    pub const fn new(limit: usize) -> LineEditor {
        LineEditor { line: String::new(), limit, dropped: 0, after_cr: false, escape: Escape::None }
    }

    /// Takes one typed byte; appends what to echo to `echo`, and returns the line when the
    /// byte ends it.
    pub fn feed(&mut self, byte: u8, echo: &mut String) -> Option<Entry> {
        if self.in_escape(byte) {
            return None;
        }
        let after_cr = core::mem::replace(&mut self.after_cr, byte == b'\r');
        match byte {
            b'\n' if after_cr => None,
            b'\r' | b'\n' => {
                echo.push_str("\r\n");
                let (line, dropped) = (core::mem::take(&mut self.line), core::mem::take(&mut self.dropped));
                Some(if dropped > 0 { Entry::TooLong(line.len() + dropped) } else { Entry::Line(line) })
            }
            BACKSPACE | DELETE => {
                if self.dropped > 0 {
                    // Never echoed, so there is nothing on the screen to erase.
                    self.dropped -= 1;
                } else if self.line.pop().is_some() {
                    echo.push_str("\x08 \x08");
                }
                None
            }
            INTERRUPT => {
                echo.push_str("^C\r\n");
                self.line.clear();
                self.dropped = 0;
                Some(Entry::Cancelled)
            }
            ESCAPE => {
                self.escape = Escape::Start;
                None
            }
            b' '..=b'~' if self.line.len() < self.limit => {
                self.line.push(char::from(byte));
                echo.push(char::from(byte));
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

    /// Whether `byte` belongs to an escape sequence (and is dropped with it). A control byte
    /// ends a sequence and is handled as typed, so Enter still works after a stray `ESC`.
    fn in_escape(&mut self, byte: u8) -> bool {
        let printable = (b' '..=b'~').contains(&byte);
        let (inside, next) = match self.escape {
            Escape::None => return false,
            Escape::Start if byte == b'[' => (true, Escape::Csi),
            Escape::Start if byte == b'O' => (true, Escape::Ss3),
            // Parameter and intermediate bytes; a byte from `@` to `~` is the final one.
            Escape::Csi if (b' '..=b'?').contains(&byte) => (true, Escape::Csi),
            Escape::Start | Escape::Csi | Escape::Ss3 => (printable, Escape::None),
        };
        self.escape = next;
        inside
    }
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
        let typed = b"\x1b[A\x1b[1;5Dp\x00\x01\xff\xfe\x80\x1bOs\x1bxs\t\x1b[\r";
        let (entries, echo) = type_in(&mut editor, typed);
        assert_eq!(entries, [line("ps")], "a control byte ends an unfinished sequence");
        assert_eq!(echo, "ps\r\n");
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
