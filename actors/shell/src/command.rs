//! Command lines: what a line asks for ([`Command`]), or why it asks for nothing the shell
//! knows ([`ParseError`]). Words are separated by spaces; `echo` and `write` keep the rest of
//! the line as it was typed. The `run` line, with its options, is [`run`]'s.

mod bench;
mod run;

use alloc::vec::Vec;
use core::fmt;

use sdk::Pid;

pub use bench::{Bench, Cores, Hog, Ipc};
pub use run::{Dir, Run, RunError, USAGE as RUN_USAGE};

use crate::endpoints::DEFAULT_CAPACITY;

/// Every command, with a one-line description, as `help` lists them.
pub const HELP: &[(&str, &str)] = &[
    ("help", "this list"),
    ("echo TEXT", "print TEXT"),
    (
        "ps [-l|-w]",
        "processes: state, CPU and CPU time, memory, capabilities; -l: limits and more; -w: every second",
    ),
    ("cpus", "each CPU: its tasks, busy and idle time, polls and steals"),
    ("mem", "physical memory and the kernel heap"),
    ("uptime", "time since boot"),
    ("net", "the network interface: address, frames and connections (needs the network stack)"),
    ("kill PID", "end a process"),
    ("run [OPTIONS] PROG [ARGS]...", "run PROG.wasm until it ends"),
    ("run [OPTIONS] PROG [ARGS]... &", "start it in the background"),
    ("  --dir HOST[::GUEST]", "a vfs directory (default / and /tmp)"),
    ("  --env NAME=VALUE", "an environment variable"),
    ("  --grant EP:RIGHTS", "an endpoint of `endpoint` (r, w)"),
    ("wait PID", "wait for a process to end"),
    ("time LINE", "run LINE, then say how long it took"),
    ("endpoint NAME [capacity=N]", "make an endpoint this shell holds and run can grant (64 messages)"),
    ("eps", "the shell's endpoints and whom they were granted to"),
    ("dmesg [LINES]", "the kernel log, or its last LINES lines"),
    ("ls [PATH]", "list a directory, / if none is given (needs the vfs)"),
    ("cat FILE", "print a file (needs the vfs)"),
    ("write FILE TEXT", "write TEXT to FILE (needs the vfs)"),
    ("mkdir PATH", "make a directory under /tmp"),
    ("rm [-r] PATH", "remove a file (-r: a directory and all it holds) under /tmp"),
    ("mv FROM TO", "move or rename under /tmp (into TO if it is a directory)"),
    ("cp [-r] FROM TO", "copy a file (-r: a directory tree) into /tmp, from the ramdisk or /tmp"),
    (
        "bench ipc [N] [SIZE] [xcore] [samples]",
        "time N Wasm IPC round trips of SIZE bytes (10000, 8) on CPU 0; xcore: the echo on CPU 1; samples logs each",
    ),
    ("bench ipc-native [N]", "N round trips between two kernel tasks, no Wasm (100000)"),
    (
        "bench pairs P [N]",
        "P pairs (at most 16) of N round trips each (20000) at once, pair i on CPU i % CPUs",
    ),
    ("bench spawn [N]", "start N idle actors (10): start time, memory per actor, round trip with them alive"),
    (
        "bench preempt [N] [spin|bulk|log] [samples]",
        "bench ipc N beside a CPU hog: a loop, bulk memory, a log flood",
    ),
    ("bench wasm", "interpreter workloads: calls, integer, f64, memory, host calls"),
    ("bench path", "what a host call, a send + receive and a yield cost on their own"),
    ("bench console [N]", "N log lines on the display (1000): wall time, ui_server's CPU"),
];

/// How `ps` shows the process table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsView {
    /// 80 columns.
    Table,
    /// `-l`: with limits, messages, children and restarts.
    Long,
    /// `-w`: the table, drawn again every second until Ctrl-C (see `session`).
    Watch,
}

/// What a line asks the shell to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// A blank line: nothing.
    Nothing,
    /// `help`.
    Help,
    /// `echo TEXT`: the text, without the spaces around it.
    Echo(&'a str),
    /// `ps [-l|-w]`.
    Ps(PsView),
    /// `cpus`.
    Cpus,
    /// `mem`.
    Mem,
    /// `uptime`.
    Uptime,
    /// `net`.
    Net,
    /// `kill PID`.
    Kill(Pid),
    /// `run [OPTIONS] PROG [ARGS]... [&]`.
    Run(Run<'a>),
    /// `wait PID`.
    Wait(Pid),
    /// `time LINE`: the line to run and time (not itself a `time`).
    Time(&'a str),
    /// `endpoint NAME [capacity=N]`.
    Endpoint(&'a str, u32),
    /// `eps`.
    Eps,
    /// `dmesg [LINES]`: the whole log, or its last lines.
    Dmesg(Option<usize>),
    /// `ls [PATH]`.
    Ls(Option<&'a str>),
    /// `cat FILE`.
    Cat(&'a str),
    /// `write FILE TEXT`.
    Write(&'a str, &'a str),
    /// `mkdir PATH`.
    Mkdir(&'a str),
    /// `rm [-r] PATH`: the path, whether recursive.
    Rm(&'a str, bool),
    /// `mv FROM TO`.
    Mv(&'a str, &'a str),
    /// `cp [-r] FROM TO`: whether recursive.
    Cp(&'a str, &'a str, bool),
    /// `bench ...`.
    Bench(Bench),
}

/// Why a line is not a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// The first word names no command.
    Unknown(&'a str),
    /// The command's arguments do not fit its usage (given as in [`HELP`]).
    Usage(&'static str),
    /// An argument that must be a number is not one.
    NotANumber(&'static str, &'a str),
    /// A `run` line the shell cannot carry out as typed.
    Run(RunError<'a>),
}

/// The command `line` asks for.
pub fn parse(line: &str) -> Result<Command<'_>, ParseError<'_>> {
    let (name, rest) = split_word(line);
    let words = || rest.split_whitespace();
    let no_args = |command: Command<'static>, usage| if rest.is_empty() { Ok(command) } else { Err(usage) };
    match name {
        "" => Ok(Command::Nothing),
        "help" => no_args(Command::Help, ParseError::Usage("help")),
        "echo" => Ok(Command::Echo(rest)),
        "ps" => match rest {
            "" => Ok(Command::Ps(PsView::Table)),
            "-l" => Ok(Command::Ps(PsView::Long)),
            "-w" => Ok(Command::Ps(PsView::Watch)),
            _ => Err(ParseError::Usage("ps [-l|-w]")),
        },
        "cpus" => no_args(Command::Cpus, ParseError::Usage("cpus")),
        "mem" => no_args(Command::Mem, ParseError::Usage("mem")),
        "uptime" => no_args(Command::Uptime, ParseError::Usage("uptime")),
        "net" => no_args(Command::Net, ParseError::Usage("net")),
        "kill" => match (words().next(), words().nth(1)) {
            (Some(pid), None) => {
                pid.parse().map(Command::Kill).map_err(|_| ParseError::NotANumber("pid", pid))
            }
            _ => Err(ParseError::Usage("kill PID")),
        },
        "wait" => match (words().next(), words().nth(1)) {
            (Some(pid), None) => {
                pid.parse().map(Command::Wait).map_err(|_| ParseError::NotANumber("pid", pid))
            }
            _ => Err(ParseError::Usage("wait PID")),
        },
        "run" => run::parse(rest).map(Command::Run).map_err(ParseError::Run),
        // One level: a nested `time` would only time the timing.
        "time" => match split_word(rest).0 {
            "" | "time" => Err(ParseError::Usage("time LINE")),
            _ => Ok(Command::Time(rest)),
        },
        "endpoint" => match (words().next(), words().nth(1), words().nth(2)) {
            (Some(name), None, None) => Ok(Command::Endpoint(name, DEFAULT_CAPACITY)),
            (Some(name), Some(capacity), None) => match capacity.strip_prefix("capacity=") {
                Some(n) => n
                    .parse()
                    .map(|n| Command::Endpoint(name, n))
                    .map_err(|_| ParseError::NotANumber("capacity", n)),
                None => Err(ParseError::Usage("endpoint NAME [capacity=N]")),
            },
            _ => Err(ParseError::Usage("endpoint NAME [capacity=N]")),
        },
        "eps" => no_args(Command::Eps, ParseError::Usage("eps")),
        "dmesg" => match (words().next(), words().nth(1)) {
            (None, _) => Ok(Command::Dmesg(None)),
            (Some(lines), None) => lines
                .parse()
                .map(|n| Command::Dmesg(Some(n)))
                .map_err(|_| ParseError::NotANumber("line count", lines)),
            _ => Err(ParseError::Usage("dmesg [LINES]")),
        },
        "ls" => match (words().next(), words().nth(1)) {
            (path, None) => Ok(Command::Ls(path)),
            _ => Err(ParseError::Usage("ls [PATH]")),
        },
        "cat" => match (words().next(), words().nth(1)) {
            (Some(file), None) => Ok(Command::Cat(file)),
            _ => Err(ParseError::Usage("cat FILE")),
        },
        "mkdir" => match (words().next(), words().nth(1)) {
            (Some(path), None) => Ok(Command::Mkdir(path)),
            _ => Err(ParseError::Usage("mkdir PATH")),
        },
        "rm" => match words().collect::<Vec<_>>().as_slice() {
            ["-r", path] => Ok(Command::Rm(path, true)),
            [path] if *path != "-r" => Ok(Command::Rm(path, false)),
            _ => Err(ParseError::Usage("rm [-r] PATH")),
        },
        "mv" => match words().collect::<Vec<_>>().as_slice() {
            [from, to] => Ok(Command::Mv(from, to)),
            _ => Err(ParseError::Usage("mv FROM TO")),
        },
        "cp" => match words().collect::<Vec<_>>().as_slice() {
            ["-r", from, to] => Ok(Command::Cp(from, to, true)),
            [from, to] if *from != "-r" => Ok(Command::Cp(from, to, false)),
            _ => Err(ParseError::Usage("cp [-r] FROM TO")),
        },
        "write" => match split_word(rest) {
            (file, text) if !file.is_empty() && !text.is_empty() => Ok(Command::Write(file, text)),
            _ => Err(ParseError::Usage("write FILE TEXT")),
        },
        "bench" => bench::parse(words()),
        other => Err(ParseError::Unknown(other)),
    }
}

/// The first word of `text` and what follows it, both without the spaces around them.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_matches(' ');
    match text.split_once(' ') {
        Some((word, rest)) => (word, rest.trim_matches(' ')),
        None => (text, ""),
    }
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unknown(name) => write!(f, "unknown command: {name} (try help)"),
            ParseError::Usage(usage) => write!(f, "usage: {usage}"),
            ParseError::NotANumber(what, text) => write!(f, "not a {what}: {text}"),
            ParseError::Run(error) => error.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use sdk::Rights;

    use super::*;

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(parse(""), Ok(Command::Nothing));
        assert_eq!(parse("   "), Ok(Command::Nothing));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(parse("  ps  "), Ok(Command::Ps(PsView::Table)));
        assert_eq!(parse("ps -l"), Ok(Command::Ps(PsView::Long)));
        assert_eq!(parse("ps -w"), Ok(Command::Ps(PsView::Watch)));
        assert_eq!(parse("cpus"), Ok(Command::Cpus));
        assert_eq!(parse("mem"), Ok(Command::Mem));
        assert_eq!(parse("uptime"), Ok(Command::Uptime));
        assert_eq!(parse("net"), Ok(Command::Net));
        assert_eq!(parse("kill 12"), Ok(Command::Kill(12)));
        assert_eq!(parse("wait 12"), Ok(Command::Wait(12)));
        assert_eq!(parse("time run wasi_hello a"), Ok(Command::Time("run wasi_hello a")));
        assert_eq!(parse("time"), Err(ParseError::Usage("time LINE")));
        assert_eq!(parse("time time ps"), Err(ParseError::Usage("time LINE")));
        assert_eq!(parse("dmesg"), Ok(Command::Dmesg(None)));
        assert_eq!(parse("dmesg 20"), Ok(Command::Dmesg(Some(20))));
        assert_eq!(parse("ls"), Ok(Command::Ls(None)));
        assert_eq!(parse("ls /etc"), Ok(Command::Ls(Some("/etc"))));
        assert_eq!(parse("cat notes"), Ok(Command::Cat("notes")));
        assert_eq!(parse("mkdir /tmp/d"), Ok(Command::Mkdir("/tmp/d")));
        assert_eq!(parse("rm /tmp/f"), Ok(Command::Rm("/tmp/f", false)));
        assert_eq!(parse("rm -r /tmp/d"), Ok(Command::Rm("/tmp/d", true)));
        assert_eq!(parse("mv a b"), Ok(Command::Mv("a", "b")));
        assert_eq!(parse("cp a b"), Ok(Command::Cp("a", "b", false)));
        assert_eq!(parse("cp -r test /tmp/t"), Ok(Command::Cp("test", "/tmp/t", true)));
    }

    #[test]
    fn echo_and_write_keep_the_text_as_typed() {
        assert_eq!(parse("echo hi there"), Ok(Command::Echo("hi there")));
        assert_eq!(parse("echo   two  spaces  "), Ok(Command::Echo("two  spaces")));
        assert_eq!(parse("echo"), Ok(Command::Echo("")));
        assert_eq!(parse("write notes a  b c"), Ok(Command::Write("notes", "a  b c")));
    }

    #[test]
    fn wrong_arguments_give_the_usage() {
        for (line, usage) in [
            ("help me", "help"),
            ("ps aux", "ps [-l|-w]"),
            ("cpus 0", "cpus"),
            ("mem x", "mem"),
            ("uptime now", "uptime"),
            ("kill", "kill PID"),
            ("kill 1 2", "kill PID"),
            ("wait", "wait PID"),
            ("wait 1 2", "wait PID"),
            ("endpoint", "endpoint NAME [capacity=N]"),
            ("endpoint a 5", "endpoint NAME [capacity=N]"),
            ("endpoint a capacity=5 x", "endpoint NAME [capacity=N]"),
            ("eps all", "eps"),
            ("dmesg 1 2", "dmesg [LINES]"),
            ("ls a b", "ls [PATH]"),
            ("mkdir", "mkdir PATH"),
            ("rm -r", "rm [-r] PATH"),
            ("mv a", "mv FROM TO"),
            ("cp -r a", "cp [-r] FROM TO"),
            ("cat", "cat FILE"),
            ("write", "write FILE TEXT"),
            ("write notes", "write FILE TEXT"),
        ] {
            assert_eq!(parse(line), Err(ParseError::Usage(usage)), "{line}");
        }
        assert_eq!(parse("kill 1 2").unwrap_err().to_string(), "usage: kill PID");
    }

    #[test]
    fn run_takes_options_then_the_program_its_arguments_and_an_ampersand() {
        let run = |line| match parse(line) {
            Ok(Command::Run(run)) => run,
            other => panic!("{line}: {other:?}"),
        };
        let plain = run("run hello");
        assert_eq!((plain.program, plain.args.len(), plain.background), ("hello", 0, false));
        assert_eq!(run("run test/spinner.wasm &").program, "test/spinner.wasm");
        assert!(run("run test/spinner.wasm &").background);
        let full = run("run --dir /tmp::/t --env HOME=/t --grant counter:rw --grant=log:w prog a b &");
        assert_eq!(full.dirs, [Dir { host: "/tmp", guest: Some("/t") }]);
        assert_eq!(full.env, [("HOME", "/t")]);
        assert_eq!(full.grants, [("counter", Rights::READ | Rights::WRITE), ("log", Rights::WRITE)]);
        assert_eq!((full.program, full.args.as_slice(), full.background), ("prog", &["a", "b"][..], true));
        for (line, error) in [
            ("run", alloc::format!("usage: {RUN_USAGE}")),
            ("run &", alloc::format!("usage: {RUN_USAGE}")),
            ("run --dir", "run: --dir needs a directory".into()),
            (
                "run --foo hello",
                "run: unknown option --foo (the options are --dir, --env, --grant and --cpu)".into(),
            ),
            ("run --env X hello", "run: not a variable: X (--env NAME=VALUE)".into()),
            (
                "run --grant e:rx hello",
                "run: not a grant: e:rx (--grant ENDPOINT:RIGHTS, RIGHTS made of r and w)".into(),
            ),
            ("run hello grant=e:r", "".into()),
        ] {
            assert_eq!(parse(line).err().map(|e| e.to_string()).unwrap_or_default(), error, "{line}");
        }
        assert_eq!(run("run hello grant=e:r").args, ["grant=e:r"], "the old syntax is an argument now");
        let seventeen = alloc::format!("run{} a", " --grant e:r".repeat(17));
        assert_eq!(parse(&seventeen), Err(ParseError::Run(RunError::TooMany("grants", 16))));
        assert_eq!(parse("endpoint counter"), Ok(Command::Endpoint("counter", DEFAULT_CAPACITY)));
        assert_eq!(parse("endpoint counter capacity=8"), Ok(Command::Endpoint("counter", 8)));
        assert_eq!(parse("endpoint c capacity=x"), Err(ParseError::NotANumber("capacity", "x")));
        assert_eq!(parse("eps"), Ok(Command::Eps));
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(parse("kill x7"), Err(ParseError::NotANumber("pid", "x7")));
        assert_eq!(parse("kill -1").unwrap_err().to_string(), "not a pid: -1");
        assert_eq!(
            parse("kill 99999999999999999999999").unwrap_err().to_string(),
            "not a pid: 99999999999999999999999"
        );
        assert_eq!(parse("dmesg many"), Err(ParseError::NotANumber("line count", "many")));
    }

    #[test]
    fn unknown_commands_are_named() {
        assert_eq!(
            parse("frobnicate now").unwrap_err().to_string(),
            "unknown command: frobnicate (try help)"
        );
        assert_eq!(parse("PS"), Err(ParseError::Unknown("PS")), "names are lower case");
    }

    #[test]
    fn every_command_in_help_parses() {
        let example = |usage: &str| {
            usage
                .replace("pairs P", "pairs 2")
                .replace("[LINES]", "3")
                .replace("[N]", "5")
                .replace("[SIZE]", "8")
                .replace("[spin|bulk|log]", "bulk")
                .replace("[xcore]", "xcore")
                .replace("[samples]", "samples")
                .replace("[PATH]", "/")
                .replace("PATH", "/tmp/x")
                .replace("[-r]", "-r")
                .replace("FROM", "a")
                .replace(" TO", " b")
                .replace("[OPTIONS]", "--dir /tmp --env A=1 --grant e:rw")
                .replace("EP:RIGHTS", "e:rw")
                .replace("PROG", "p")
                .replace("[ARGS]...", "x y")
                .replace("[capacity=N]", "capacity=8")
                .replace("[-l|-w]", "-l")
                .replace("PID", "1")
                .replace("NAME", "a")
        };
        for (usage, _) in HELP {
            let line = example(usage).replace("FILE", "f").replace("TEXT", "t");
            // An option of the command above it.
            let line = if line.starts_with("  --") { alloc::format!("run {} p", line.trim()) } else { line };
            assert!(parse(&line).is_ok(), "{line}");
        }
    }
}
