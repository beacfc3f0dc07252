//! [`Session`]: the conversation on the terminal. Bytes typed go in; what the terminal should
//! show comes out: the echo, each command's answer and a fresh prompt.

use alloc::format;
use alloc::string::String;

use crate::MAX_LINE;
use crate::editor::{Entry, LineEditor};
use crate::execute::Shell;

/// What the shell shows when it waits for a line.
pub const PROMPT: &str = "msh> ";
/// To the top left, then clear the screen (ANSI; `ui_server` draws it too).
const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// The line editor and the shell behind it.
#[derive(Debug)]
pub struct Session {
    editor: LineEditor,
    shell: Shell,
}

impl Session {
    /// A session whose lines `shell` carries out.
    pub const fn new(shell: Shell) -> Session {
        Session { editor: LineEditor::new(MAX_LINE), shell }
    }

    /// What the terminal shows first: a greeting and the prompt.
    pub fn greeting() -> String {
        terminal_text(&format!("MinimalOS shell: `help` lists the commands\n{PROMPT}"))
    }

    /// The shell this session drives.
    pub fn shell_mut(&mut self) -> &mut Shell {
        &mut self.shell
    }

    /// Takes bytes typed on the terminal; returns what the terminal should show now.
    pub async fn type_in(&mut self, typed: &[u8]) -> String {
        let mut shown = String::new();
        for &byte in typed {
            let answer = match self.editor.feed(byte, &mut shown) {
                None => continue,
                Some(Entry::Line(line)) => self.shell.execute(&line).await,
                Some(Entry::TooLong(len)) => {
                    format!("line too long: {len} bytes, the limit is {MAX_LINE}; nothing was run\n")
                }
                Some(Entry::Cancelled) => String::new(),
                Some(Entry::ClearScreen) => {
                    shown.push_str(CLEAR_SCREEN);
                    shown.push_str(PROMPT);
                    shown.push_str(&self.editor.redraw());
                    continue;
                }
            };
            shown.push_str(&terminal_text(&answer));
            shown.push_str(PROMPT);
        }
        shown
    }
}

/// `text` for a serial terminal, which needs `\r\n` to start a new line at its left edge.
pub fn terminal_text(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use sdk::System;
    use sdk::rt::block_on;
    use sdk::sys;
    use sdk_host::Kernel;

    use super::*;

    /// A session on a fresh kernel, whose shell acts through `system` with every right.
    fn session() -> (Kernel, Session) {
        let kernel = Kernel::start();
        let handle = kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32;
        let session = Session::new(Shell::new(System::from_grant(handle), None, Some(kernel.pid())));
        (kernel, session)
    }

    fn shown(session: &mut Session, typed: &[u8]) -> String {
        block_on(session.type_in(typed))
    }

    #[test]
    fn a_command_is_echoed_answered_and_prompted_for() {
        let (_kernel, mut session) = session();
        assert_eq!(shown(&mut session, b"echo hi there\r"), "echo hi there\r\nhi there\r\nmsh> ");
        assert_eq!(shown(&mut session, b"\r"), "\r\nmsh> ");
        assert_eq!(shown(&mut session, b"ec"), "ec");
        assert_eq!(
            shown(&mut session, b"ho a\rwhat\r"),
            "ho a\r\na\r\nmsh> what\r\nunknown command: what (try help)\r\nmsh> "
        );
    }

    #[test]
    fn a_long_line_is_refused_and_the_next_one_runs() {
        let (_kernel, mut session) = session();
        let mut typed = alloc::vec![b'a'; 300];
        typed.extend_from_slice(b"\recho still here\r");
        let text = shown(&mut session, &typed);
        assert!(
            text.contains("\r\nline too long: 300 bytes, the limit is 256; nothing was run\r\nmsh> "),
            "{text}"
        );
        assert!(text.ends_with("echo still here\r\nstill here\r\nmsh> "), "{text}");
    }

    #[test]
    fn ctrl_l_clears_the_screen_and_shows_the_prompt_and_the_line_again() {
        let (_kernel, mut session) = session();
        assert_eq!(shown(&mut session, b"ec\x0c"), "ec\x1b[H\x1b[2Jmsh> ec");
        assert_eq!(shown(&mut session, b"ho hi\r"), "ho hi\r\nhi\r\nmsh> ");
    }

    #[test]
    fn ctrl_c_gives_a_new_prompt() {
        let (_kernel, mut session) = session();
        assert_eq!(shown(&mut session, b"ps\x03"), "ps^C\r\nmsh> ");
    }

    #[test]
    fn the_greeting_ends_with_the_prompt() {
        assert!(Session::greeting().ends_with("commands\r\nmsh> "), "{}", Session::greeting());
    }

    #[test]
    fn new_lines_become_carriage_return_line_feed() {
        assert_eq!(terminal_text("a\nb\n"), "a\r\nb\r\n");
        assert_eq!(terminal_text(""), "");
    }
}
