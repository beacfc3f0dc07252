//! [`Session`]: the conversation on the terminal. Bytes typed go in; what the terminal should
//! show comes out: the echo, each command's answer and a fresh prompt. While a command runs,
//! the session reads the console itself: Ctrl-C cancels the command, anything else typed is
//! kept for after it; but a program run in the foreground reads what is typed (`foreground`).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;

use core::time::Duration;

use sdk::rt::{Either, Instant, Ticker, select};
use sdk::{Endpoint, Error};

use crate::command::{self, Command, PsView};
use crate::editor::{Entry, LineEditor};
use crate::execute::Shell;
use crate::foreground::{self, Console};
use crate::terminal::Output;
use crate::{MAX_LINE, format};

/// What the shell shows when it waits for a line.
pub const PROMPT: &str = "msh> ";
/// To the top left, then clear the screen (ANSI; `ui_server` draws it too).
pub(crate) const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

/// Opcode of the console service's messages of typed bytes.
pub const TYPED: u32 = sdk::sys::CONSOLE_INPUT;

/// The byte Ctrl-C sends.
const INTERRUPT: u8 = 0x03;

/// How often `ps -w` draws the table.
const WATCH_PERIOD: Duration = Duration::from_secs(1);

/// What a cancelled command shows.
pub(crate) const CANCELLED: &str = "^C\n";

/// The line editor and the shell behind it.
#[derive(Debug)]
pub struct Session {
    editor: LineEditor,
    shell: Shell,
    /// Where typed bytes arrive, read while a command runs; without it commands run to the end.
    input: Option<Endpoint>,
}

impl Session {
    /// A session whose lines `shell` carries out, each to its end.
    pub const fn new(shell: Shell) -> Session {
        Session { editor: LineEditor::new(MAX_LINE), shell, input: None }
    }

    /// A session whose commands a Ctrl-C typed on `input` cancels (a clone of the endpoint the
    /// caller reads lines from).
    pub fn with_input(shell: Shell, input: Endpoint) -> Session {
        Session { input: Some(input), ..Session::new(shell) }
    }

    /// What the terminal shows first: a greeting and the prompt.
    pub fn greeting() -> String {
        terminal_text(&format!("MinimalOS shell: `help` lists the commands\n{PROMPT}"))
    }

    /// The shell this session drives.
    pub fn shell_mut(&mut self) -> &mut Shell {
        &mut self.shell
    }

    /// Takes bytes typed on the terminal and shows on `out` what the terminal should show:
    /// the echo of a line (and its line break) before the line runs, then its answer and the
    /// prompt. Fails only if `out` does.
    pub async fn type_in(&mut self, typed: &[u8], out: &mut impl Output) -> Result<(), Error> {
        let mut shown = String::new();
        let mut queue: VecDeque<u8> = typed.iter().copied().collect();
        while let Some(byte) = queue.pop_front() {
            let answer = match self.editor.feed(byte, &mut shown) {
                None => continue,
                Some(Entry::Line(line)) => {
                    // Shown before the command runs, so the terminal says at once that it does.
                    out.show(&core::mem::take(&mut shown)).await?;
                    self.run(&line, &mut queue, out).await?
                }
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
        out.show(&shown).await
    }
}

impl Session {
    /// Carries out `line`, unless a Ctrl-C arrives first; what else is typed meanwhile goes on
    /// `ahead`, to be read after the answer (see [`interrupt`]). `ps -w` shows its tables on
    /// `out` as it goes, and a program run in the foreground its output, while it takes what
    /// is typed; every other command's answer is returned.
    async fn run(
        &self,
        line: &str,
        ahead: &mut VecDeque<u8>,
        out: &mut impl Output,
    ) -> Result<String, Error> {
        let Some(input) = &self.input else { return Ok(self.shell.execute(line).await) };
        if let Ok(Command::Time(timed)) = command::parse(line) {
            let start = Instant::now();
            let answer = Box::pin(self.run(timed, ahead, out)).await?;
            return Ok(answer + &format::took(start.elapsed()));
        }
        match command::parse(line) {
            Ok(Command::Ps(PsView::Watch)) => {
                return match select(self.watch_processes(out), interrupt(input, ahead)).await {
                    Either::Left(failed) => Err(failed),
                    Either::Right(()) => Ok(CANCELLED.into()),
                };
            }
            Ok(Command::Run(run)) if !run.background => {
                return foreground::run(&self.shell, &run, Some(Console { input, ahead }), out).await;
            }
            _ => {}
        }
        Ok(match select(self.shell.execute(line), interrupt(input, ahead)).await {
            Either::Left(answer) => answer,
            Either::Right(()) => CANCELLED.into(),
        })
    }

    /// `ps -w`: the process table from the top of a cleared screen, again every second, for as
    /// long as `out` takes it; returns why it stopped taking it.
    async fn watch_processes(&self, out: &mut impl Output) -> Error {
        let mut ticker = Ticker::every(WATCH_PERIOD);
        loop {
            let table = self.shell.execute("ps").await;
            let screen =
                format!("{CLEAR_SCREEN}{}ps -w: every second, Ctrl-C ends it\r\n", terminal_text(&table));
            if let Err(failed) = out.show(&screen).await {
                return failed;
            }
            ticker.next().await;
        }
    }
}

/// Reads what is typed on `input` onto `ahead` until a Ctrl-C comes: then everything typed
/// ahead before it is dropped, as a terminal flushes its input on an interrupt, and only what
/// follows it is kept. Never finishes if the console goes away.
async fn interrupt(input: &Endpoint, ahead: &mut VecDeque<u8>) {
    while let Ok(message) = input.recv().await {
        if message.opcode != TYPED {
            continue;
        }
        match message.payload.iter().position(|&b| b == INTERRUPT) {
            Some(at) => {
                ahead.clear();
                ahead.extend(&message.payload[at + 1..]);
                return;
            }
            None => ahead.extend(&message.payload),
        }
    }
    core::future::pending().await
}

/// `text` for a serial terminal, which needs `\r\n` to start a new line at its left edge.
pub fn terminal_text(text: &str) -> String {
    text.replace('\n', "\r\n")
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// A session as [`session`] makes, whose commands a Ctrl-C sent on the endpoint returned
    /// with it cancels.
    fn session_with_input() -> (Kernel, Session, sdk::Endpoint) {
        let kernel = Kernel::start();
        let handle = kernel.grant_system(sys::RIGHT_READ) as u32;
        let input = sdk::Endpoint::create(4).unwrap();
        let shell = Shell::new(System::from_grant(handle), None, Some(kernel.pid()));
        (kernel, Session::with_input(shell, input.clone()), input)
    }

    /// What the terminal shows after `typed` (the foreground tests type through it too).
    pub(crate) fn shown(session: &mut Session, typed: &[u8]) -> String {
        let mut out = String::new();
        block_on(session.type_in(typed, &mut out)).unwrap();
        out
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
    fn ctrl_c_while_a_command_runs_ends_the_wait_and_keeps_what_follows_it() {
        let _kernel = Kernel::start();
        let input = sdk::Endpoint::create(4).unwrap();
        input.try_send(TYPED, b"typed ahead", None).unwrap();
        input.try_send(99, b"\x03 not typed", None).unwrap();
        input.try_send(TYPED, b"dropped\x03kept", None).unwrap();
        let mut ahead = VecDeque::new();
        block_on(interrupt(&input, &mut ahead));
        assert_eq!(ahead.iter().copied().collect::<alloc::vec::Vec<u8>>(), b"kept");
    }

    #[test]
    fn ps_w_draws_the_table_on_a_cleared_screen_until_ctrl_c() {
        let (_kernel, mut session, input) = session_with_input();
        // Typed while the first table is drawn: ends the watch at its first wait.
        input.try_send(TYPED, b"\x03", None).unwrap();
        let text = shown(&mut session, b"ps -w\r");
        assert!(text.starts_with("ps -w\r\n\x1b[H\x1b[2J  PID  NAME"), "{text}");
        assert!(text.ends_with("ps -w: every second, Ctrl-C ends it\r\n^C\r\nmsh> "), "{text}");
        assert_eq!(text.matches("\x1b[2J").count(), 1, "one table before the Ctrl-C");
    }

    #[test]
    fn ps_w_goes_on_until_a_ctrl_c_typed_later() {
        let (_kernel, mut session, input) = session_with_input();
        let mut out = String::new();
        block_on(async {
            let typist = sdk::rt::spawn(async move {
                sdk::rt::sleep(Duration::from_millis(1500)).await;
                input.try_send(TYPED, b"\x03", None).unwrap();
            });
            session.type_in(b"ps -w\r", &mut out).await.unwrap();
            typist.await;
        });
        assert_eq!(out.matches("\x1b[2J").count(), 2, "{out}");
        assert!(out.ends_with("^C\r\nmsh> "), "{out}");
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
