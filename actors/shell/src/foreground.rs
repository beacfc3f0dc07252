//! `run` in the foreground, as `wasmtime run` runs a program: it starts with standard streams
//! whose other ends the shell holds. What it writes is shown as it arrives, exactly its bytes;
//! what is typed goes to its standard input a line at a time, edited as at the prompt; once it
//! has ended, the shell says how (`outcome`). Its output and its errors are two capabilities
//! on one endpoint, as both lead to one terminal under wasmtime: what it writes to either
//! shows in the order written.
//!
//! The kernel tells no one when a process ends, and an SDK actor never touches its streams, so
//! the shell reads the process table every [`CHECK_PERIOD`], and at once when the output
//! closes (which is how a WASI program's end usually shows first). What the program wrote
//! before it ended is still queued then, and shown before the line saying how it ended.
//!
//! Keys while it runs: Enter sends the line and `\n` in one message; Ctrl-D on an empty line
//! sends the end of input (an empty message), once; Ctrl-C kills the program.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::{Future, pending, poll_fn};
use core::pin::{Pin, pin};
use core::task::Poll;

use sdk::rt::Ticker;
use sdk::sys::STDIO_DATA;
use sdk::{Endpoint, Error, Pid, Rights, System, sys};

use crate::command::Run;
use crate::editor::{Entry, LineEditor};
use crate::execute::Shell;
use crate::outcome::{self, CHECK_PERIOD};
use crate::session::{CANCELLED, CLEAR_SCREEN, TYPED, terminal_text};
use crate::start::{Stdio, file_of};
use crate::terminal::Output;
use crate::utf8::Utf8Stream;

/// Messages the input's and the output's endpoints queue.
const STREAM_CAPACITY: u32 = 16;
/// Longest line typed for the program: with its `\n`, one message.
const INPUT_LINE: usize = sys::MAX_PAYLOAD - 1;
/// The bytes Ctrl-C and Ctrl-D send.
const INTERRUPT: u8 = 0x03;
const END_OF_INPUT: u8 = 0x04;

/// The terminal a foreground program reads from: typed bytes arrive on `input`, and `ahead`
/// holds those typed but not read yet (after the `run` line); after a Ctrl-C, it holds what
/// followed it, for the prompt.
#[derive(Debug)]
pub struct Console<'a> {
    /// Where typed bytes arrive.
    pub input: &'a Endpoint,
    /// Bytes typed and not read yet.
    pub ahead: &'a mut VecDeque<u8>,
}

/// Runs `run` (not `&`) until the program ends, showing its output on `out` as it comes, and
/// returns the line saying how it ended (or why it did not start, or `^C`). With a `console`,
/// `out` is a terminal: what is typed is echoed and sent to the program, and line breaks
/// become `\r\n`; without one, the program's input is at its end from the start. Fails only
/// if `out` does (the program is killed then).
pub async fn run(
    shell: &Shell,
    run: &Run<'_>,
    console: Option<Console<'_>>,
    out: &mut impl Output,
) -> Result<String, Error> {
    let (stdio, ends) = match streams() {
        Ok(streams) => streams,
        Err(error) => return Ok(format!("run: standard streams: {error}\n")),
    };
    let pid = match shell.start(run, Some(stdio)) {
        Ok(pid) => pid,
        Err(why) => return Ok(why),
    };
    let mut running = Running { system: shell.system(), pid: Some(pid) };
    let terminal = console.is_some();
    let mut view = Foreground {
        screen: Screen { out, terminal, at_line_start: true },
        editor: LineEditor::new(INPUT_LINE),
        unsent: VecDeque::new(),
        input_ended: false,
        ends,
        text: Utf8Stream::default(),
    };
    let (mut input, mut ahead) = match console {
        Some(Console { input, ahead }) => (Some(input), Some(ahead)),
        None => (None, None),
    };
    if input.is_none() {
        view.end_input();
    }
    // Typed after the `run` line, before the program started: its input too.
    if let Some(ahead) = ahead.as_deref_mut() {
        let typed: Vec<u8> = ahead.drain(..).collect();
        if let Some(after) = view.typed(&typed).await? {
            ahead.extend(after);
            running.kill();
            return Ok(CANCELLED.into());
        }
    }
    let mut ticker = Ticker::every(CHECK_PERIOD);
    let ended = loop {
        let look = match view.next_event(input, &mut ticker).await {
            Event::Typed(Some(bytes)) => {
                if let Some(after) = view.typed(&bytes).await? {
                    // As at the prompt: what was typed ahead of the Ctrl-C is dropped.
                    if let Some(ahead) = ahead.as_deref_mut() {
                        ahead.clear();
                        ahead.extend(after);
                    }
                    running.kill();
                    return Ok(CANCELLED.into());
                }
                false
            }
            Event::Typed(None) => {
                // The console went away: no more input will come.
                input = None;
                view.end_input();
                false
            }
            Event::Tick => true,
            Event::Output(Some(bytes)) => {
                view.show_output(&bytes).await?;
                false
            }
            Event::Output(None) => {
                view.ends.output = None;
                true
            }
            Event::Sent(true) => {
                view.unsent.pop_front();
                false
            }
            Event::Sent(false) => {
                // Its reader is gone: the program has ended, or will.
                view.unsent.clear();
                view.ends.input = None;
                true
            }
        };
        if look {
            match outcome::find(shell.system(), pid) {
                Ok(Some(process)) if !process.state.is_live() => break Some(process),
                Ok(Some(_)) => {}
                Ok(None) => break None,
                Err(error) => {
                    running.kill();
                    return Ok(format!("run: the process table: {error}; pid {pid} is killed\n"));
                }
            }
        }
    };
    running.pid = None;
    view.drain().await?;
    let end = match &ended {
        Some(process) => outcome::end_line(shell.system(), process).unwrap_or_default(),
        None => format!("{} ended\n", file_of(run.program).trim_end_matches(".wasm")),
    };
    // A last line the program did not end is still shown whole, on its own.
    Ok(if view.screen.at_line_start { end } else { format!("\n{end}") })
}

/// The shell's ends of a program's standard streams, `None` once closed.
struct Ends {
    /// To write its input to.
    input: Option<Endpoint>,
    /// To read its output and errors from.
    output: Option<Endpoint>,
}

/// Two endpoints, input and output (errors too), with the program's ends and the shell's.
/// Only the program holds its side of each, so either side going away shows on the other
/// (`Error::Closed`).
fn streams() -> Result<(Stdio, Ends), Error> {
    let (input, output) = (Endpoint::create(STREAM_CAPACITY)?, Endpoint::create(STREAM_CAPACITY)?);
    let theirs = |endpoint: &Endpoint, rights| endpoint.capability(rights | Rights::GRANT);
    let stdio = Stdio {
        stdin: theirs(&input, Rights::READ)?,
        stdout: theirs(&output, Rights::WRITE)?,
        stderr: theirs(&output, Rights::WRITE)?,
    };
    let ends = Ends { input: Some(input.derive(Rights::WRITE)?), output: Some(output.derive(Rights::READ)?) };
    Ok((stdio, ends))
}

/// What happened while the program runs.
enum Event {
    /// Bytes typed; `None` if the console is gone.
    Typed(Option<Vec<u8>>),
    /// Time to look at the process table.
    Tick,
    /// Bytes on standard output or error; `None` once both are closed.
    Output(Option<Vec<u8>>),
    /// The oldest unsent input message went out, or (`false`) can no longer.
    Sent(bool),
}

/// A program in the foreground: the screen it shows on, and its streams' state.
struct Foreground<'o, O> {
    screen: Screen<'o, O>,
    /// The line typed for the program.
    editor: LineEditor,
    /// Input messages not sent yet (the program has not read the ones before), oldest first.
    unsent: VecDeque<Vec<u8>>,
    /// The end of input is sent or in `unsent`: nothing more goes after it.
    input_ended: bool,
    ends: Ends,
    /// Output and errors as text.
    text: Utf8Stream,
}

impl<O: Output> Foreground<'_, O> {
    /// The next event. Output, which may come without end, comes last: a Ctrl-C, the look at
    /// the process table and lines typed for the program are never held up by it.
    async fn next_event(&self, input: Option<&Endpoint>, ticker: &mut Ticker) -> Event {
        let typed = async {
            let Some(input) = input else { return pending().await };
            match input.recv().await {
                Ok(message) if message.opcode == TYPED => Event::Typed(Some(message.payload)),
                Ok(_) => Event::Typed(Some(Vec::new())),
                Err(_) => Event::Typed(None),
            }
        };
        let tick = async {
            ticker.next().await;
            Event::Tick
        };
        let output = async {
            let Some(endpoint) = &self.ends.output else { return pending().await };
            match endpoint.recv().await {
                Ok(message) if message.opcode == STDIO_DATA => Event::Output(Some(message.payload)),
                Ok(_) => Event::Output(Some(Vec::new())),
                Err(_) => Event::Output(None),
            }
        };
        let send = async {
            let (Some(endpoint), Some(bytes)) = (&self.ends.input, self.unsent.front()) else {
                return pending().await;
            };
            Event::Sent(endpoint.send(STDIO_DATA, bytes, None).await.is_ok())
        };
        // Pinned here and polled in order by one closure: nested `select`s would each keep a
        // copy of the futures they were given, and the shell's 64 KiB stack holds them all.
        let mut events =
            [pin!(typed) as Pin<&mut dyn Future<Output = Event>>, pin!(tick), pin!(send), pin!(output)];
        poll_fn(|cx| {
            events
                .iter_mut()
                .find_map(|event| match event.as_mut().poll(cx) {
                    Poll::Ready(event) => Some(Poll::Ready(event)),
                    Poll::Pending => None,
                })
                .unwrap_or(Poll::Pending)
        })
        .await
    }

    /// Takes typed bytes: echoes them, and queues each line ended for the program. Returns what
    /// followed a Ctrl-C, if one came (the rest is not taken).
    async fn typed<'b>(&mut self, bytes: &'b [u8]) -> Result<Option<&'b [u8]>, Error> {
        let mut echo = String::new();
        let mut interrupted = None;
        for (at, &byte) in bytes.iter().enumerate() {
            match byte {
                INTERRUPT => {
                    interrupted = Some(&bytes[at + 1..]);
                    break;
                }
                END_OF_INPUT if self.editor.is_empty() => self.end_input(),
                _ => match self.editor.feed(byte, &mut echo) {
                    // Nothing goes after the end of input, nor to a program no longer reading.
                    Some(Entry::Line(line)) if !self.input_ended && self.ends.input.is_some() => {
                        self.unsent.push_back([line.as_bytes(), b"\n"].concat());
                    }
                    Some(Entry::TooLong(len)) => {
                        echo +=
                            &format!("line too long: {len} bytes, the limit is {INPUT_LINE}; not sent\r\n");
                    }
                    Some(Entry::ClearScreen) => {
                        echo.push_str(CLEAR_SCREEN);
                        echo.push_str(&self.editor.redraw());
                    }
                    _ => {}
                },
            }
        }
        self.screen.echo(&echo).await?;
        Ok(interrupted)
    }

    /// Queues the end of input (an empty message), unless it is queued already.
    fn end_input(&mut self) {
        if !self.input_ended {
            self.input_ended = true;
            self.unsent.push_back(Vec::new());
        }
    }

    /// Shows bytes the program wrote.
    async fn show_output(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let text = self.text.text(bytes);
        self.screen.show(&text).await
    }

    /// Shows what the program wrote and the shell has not read yet (it has ended: nothing
    /// more comes).
    async fn drain(&mut self) -> Result<(), Error> {
        while let Some(endpoint) = &self.ends.output {
            match endpoint.try_recv() {
                Ok(message) if message.opcode == STDIO_DATA => self.show_output(&message.payload).await?,
                Ok(_) => {}
                Err(_) => self.ends.output = None,
            }
        }
        let rest = self.text.finish();
        self.screen.show(&rest).await
    }
}

/// Where the program's output and the echo go, and whether the cursor is at a line's start.
struct Screen<'o, O> {
    out: &'o mut O,
    /// `out` is a terminal, which needs `\r\n` for a new line.
    terminal: bool,
    at_line_start: bool,
}

impl<O: Output> Screen<'_, O> {
    /// Shows `text` the program wrote.
    async fn show(&mut self, text: &str) -> Result<(), Error> {
        if text.is_empty() {
            return Ok(());
        }
        self.at_line_start = text.ends_with('\n');
        if self.terminal { self.out.show(&terminal_text(text)).await } else { self.out.show(text).await }
    }

    /// Shows the line editor's `echo`, which is terminal text already.
    async fn echo(&mut self, echo: &str) -> Result<(), Error> {
        if echo.is_empty() {
            return Ok(());
        }
        self.at_line_start = echo.ends_with('\n');
        self.out.show(echo).await
    }
}

/// The program in the foreground, killed if the run stops before it has ended (a Ctrl-C, a
/// terminal that fails, the command's future dropped).
struct Running<'a> {
    system: &'a System,
    /// `None` once it has ended.
    pid: Option<Pid>,
}

impl Running<'_> {
    fn kill(&mut self) {
        if let Some(pid) = self.pid.take() {
            // One that has just ended is not there to kill, which is as good.
            let _ = self.system.kill(pid);
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use sdk::rt::block_on;
    use sdk_host::{Kernel, SPINNER};

    use super::*;
    use crate::execute::own_pid;
    use crate::files::Files;
    use crate::session::Session;
    use crate::session::tests::shown;

    /// A WASI program: writes its arguments, its environment (each string ends with a NUL) and
    /// its preopened directories' names (each then `;`) to standard output, copies standard
    /// input there until its end, writes `bye` without a line break to standard error and
    /// exits with status 3.
    const SHOW: &str = r#"(module
        (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "environ_sizes_get" (func $env_sizes (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "environ_get" (func $env (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_prestat_get" (func $prestat (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $dir_name (param i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "bye")
        (func $write (param $fd i32) (param $at i32) (param $len i32)
            (i32.store (i32.const 0) (local.get $at))
            (i32.store (i32.const 4) (local.get $len))
            (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
        (func (export "_start") (local $fd i32) (local $len i32)
            (drop (call $args_sizes (i32.const 24) (i32.const 28)))
            (drop (call $args (i32.const 512) (i32.const 1024)))
            (call $write (i32.const 1) (i32.const 1024) (i32.load (i32.const 28)))
            (drop (call $env_sizes (i32.const 24) (i32.const 28)))
            (drop (call $env (i32.const 512) (i32.const 2048)))
            (call $write (i32.const 1) (i32.const 2048) (i32.load (i32.const 28)))
            (local.set $fd (i32.const 3))
            (block $done (loop $next
                (br_if $done (call $prestat (local.get $fd) (i32.const 32)))
                (local.set $len (i32.load (i32.const 36)))
                (drop (call $dir_name (local.get $fd) (i32.const 3072) (local.get $len)))
                (i32.store8 (i32.add (i32.const 3072) (local.get $len)) (i32.const 59))
                (call $write (i32.const 1) (i32.const 3072) (i32.add (local.get $len) (i32.const 1)))
                (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
                (br $next)))
            (block $end (loop $more
                (i32.store (i32.const 40) (i32.const 4096))
                (i32.store (i32.const 44) (i32.const 1024))
                (br_if $end (call $fd_read (i32.const 0) (i32.const 40) (i32.const 1) (i32.const 48)))
                (br_if $end (i32.eqz (i32.load (i32.const 48))))
                (call $write (i32.const 1) (i32.const 4096) (i32.load (i32.const 48)))
                (br $more)))
            (call $write (i32.const 2) (i32.const 16) (i32.const 3))
            (call $exit (i32.const 3))))"#;

    /// A module that traps at once.
    const TRAP: &str = r#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#;

    /// A kernel with `show.wasm`, `trap.wasm` and `spinner.wasm`, and a shell on it with a vfs
    /// endpoint no vfs serves (enough to hand directories out: starting asks nothing of it).
    fn shell() -> (Kernel, Shell) {
        let kernel = Kernel::start();
        kernel.add_module("show.wasm", SHOW);
        kernel.add_module("trap.wasm", TRAP);
        kernel.add_module("spinner.wasm", SPINNER);
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32);
        let vfs = Endpoint::create(4).unwrap().derive(Rights::WRITE | Rights::GRANT).unwrap();
        (kernel, Shell::new(system, Some(Files::new(vfs)), own_pid()))
    }

    #[test]
    fn the_output_is_shown_as_written_and_then_how_it_ended() {
        let (_kernel, shell) = shell();
        assert_eq!(
            block_on(shell.execute("run show a b")),
            "show\0a\0b\0/;/tmp;bye\nshow exited with status 3\n",
            "the default directories; no input; the unended last line ended for it"
        );
        assert_eq!(
            block_on(shell.execute("run --env A=1 --env B= --dir tmp --dir /x::/y show.wasm")),
            "show\0A=1\0B=\0/tmp;/y;bye\nshow exited with status 3\n"
        );
    }

    #[test]
    fn a_trap_is_told_with_its_reason() {
        let (_kernel, shell) = shell();
        let answer = block_on(shell.execute("run trap"));
        assert!(answer.starts_with("trap trapped: ") && answer.ends_with('\n'), "{answer}");
        assert!(answer.contains("unreachable"), "{answer}");
    }

    /// A session with `shell()`'s shell whose console is the endpoint returned with it.
    fn session() -> (Kernel, Session, Endpoint) {
        let (kernel, shell) = shell();
        let input = Endpoint::create(8).unwrap();
        (kernel, Session::with_input(shell, input.clone()), input)
    }

    #[test]
    fn typed_lines_are_echoed_and_sent_and_ctrl_d_ends_the_input() {
        let (_kernel, mut session, input) = session();
        // Backspace edits the line before it is sent; the second Ctrl-D sends nothing more.
        input.try_send(TYPED, b"onx\x7fe\r", None).unwrap();
        input.try_send(TYPED, b"two\r\x04\x04", None).unwrap();
        let text = shown(&mut session, b"run show\r");
        assert!(text.starts_with("run show\r\nonx\x08 \x08e\r\ntwo\r\n"), "{text:?}");
        assert!(
            text.ends_with("show\0/;/tmp;one\r\ntwo\r\nbye\r\nshow exited with status 3\r\nmsh> "),
            "{text:?}"
        );
    }

    #[test]
    fn ctrl_c_kills_the_program_and_what_follows_it_goes_to_the_prompt() {
        let (kernel, mut session, input) = session();
        input.try_send(TYPED, b"lost\x03echo x", None).unwrap();
        let text = shown(&mut session, b"run spinner\r");
        assert_eq!(text, "run spinner\r\nlost^C\r\nmsh> echo x");
        let spinner = kernel.pid() + 1;
        let state = outcome::find(session.shell_mut().system(), spinner).unwrap().map(|p| p.state);
        assert_eq!(state, Some(sdk::ProcState::Killed));
    }
}
