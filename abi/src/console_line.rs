//! The rule by which log lines and an actor's output share a console (`docs/ABI.md`, "Boot
//! manifest"): what the actor has printed since its last line break (the shell's prompt and what
//! is being typed after it) is kept, so that a log line arriving meanwhile is printed on a line
//! of its own and the unfinished line drawn again after it, instead of landing inside it. The
//! kernel applies it on the serial console, `ui_server` on the display.

/// Longest unfinished line kept for redrawing; past it the line is given up on.
const MAX: usize = 1024;

/// What erases the line the cursor is on: back to its start, then clear to its end.
const ERASE: &[u8] = b"\r\x1b[K";

/// What a terminal shows from its top-left corner after it: the screen is cleared.
const CLEAR_SCREEN: &[u8] = b"\x1b[2J";

/// Actor output since its last line break (or screen clear), as it was written.
#[derive(Debug)]
pub struct PartialLine {
    bytes: [u8; MAX],
    len: usize,
    /// The unfinished line outgrew [`MAX`]: it cannot be redrawn.
    lost: bool,
}

impl Default for PartialLine {
    fn default() -> PartialLine {
        PartialLine::new()
    }
}

impl PartialLine {
    /// No unfinished line.
    pub const fn new() -> PartialLine {
        PartialLine { bytes: [0; MAX], len: 0, lost: false }
    }

    /// Notes `out`, which an actor just wrote to the console.
    pub fn track(&mut self, out: &[u8]) {
        let after_newline = out.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        let after_clear =
            out.windows(CLEAR_SCREEN.len()).rposition(|w| w == CLEAR_SCREEN).map(|i| i + CLEAR_SCREEN.len());
        let rest = match after_newline.max(after_clear) {
            Some(start) => {
                self.len = 0;
                self.lost = false;
                &out[start..]
            }
            None => out,
        };
        if self.lost || self.len + rest.len() > MAX {
            self.lost = true;
            self.len = 0;
            return;
        }
        self.bytes[self.len..self.len + rest.len()].copy_from_slice(rest);
        self.len += rest.len();
    }

    /// What to write before a log line: an erase of the unfinished line, or, if it is too long
    /// to draw again, a line break; nothing when the cursor is at a line's start.
    pub fn before_log(&self) -> &'static [u8] {
        match (self.lost, self.len) {
            (true, _) => b"\r\n",
            (false, 0) => b"",
            (false, _) => ERASE,
        }
    }

    /// What to write after a log line: the unfinished line again, as it was written.
    pub fn after_log(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_erases_the_typed_line_and_draws_it_again_after() {
        let mut line = PartialLine::new();
        assert_eq!(line.before_log(), b"", "nothing unfinished: the log line is printed as it is");
        line.track(b"answer\r\nmsh> ");
        line.track(b"bench i");
        line.track(b"\x08\x1b[C");
        assert_eq!(line.before_log(), ERASE);
        assert_eq!(line.after_log(), b"msh> bench i\x08\x1b[C", "cursor moves included");
        line.track(b"pc\r\n");
        assert_eq!((line.before_log(), line.after_log()), (&b""[..], &b""[..]), "the line ended");
    }

    #[test]
    fn a_cleared_screen_starts_the_line_again() {
        let mut line = PartialLine::new();
        line.track(b"msh> ec");
        line.track(b"\x1b[H\x1b[2Jmsh> ec");
        assert_eq!(line.after_log(), b"msh> ec");
    }

    #[test]
    fn a_line_too_long_to_keep_gets_a_line_break_until_it_ends() {
        let mut line = PartialLine::new();
        line.track(&[b'x'; MAX]);
        assert_eq!(line.before_log(), ERASE);
        line.track(b"y");
        assert_eq!((line.before_log(), line.after_log()), (&b"\r\n"[..], &b""[..]));
        line.track(b"z\nmsh> ");
        assert_eq!((line.before_log(), line.after_log()), (ERASE, &b"msh> "[..]));
    }
}
