//! The `run` line: `run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--grant EP:RIGHTS]...
//! [--cpu N] PROG [ARGS]... [&]`, as `wasmtime run` takes it (`--cpu` keeps the program on CPU
//! N). Options come before the program, in any
//! order, as `--option VALUE` or `--option=VALUE`; `--` ends them. Every word after the program
//! is its argument, except a lone `&` at the end, which starts it in the background. Words are
//! separated by spaces; there is no quoting.

use alloc::vec::Vec;
use core::fmt;

use sdk::{Rights, sys};

/// What `help` and a `run` line without a program show.
pub const USAGE: &str =
    "run [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--grant EP:RIGHTS]... [--cpu N] PROG [ARGS]... [&]";

/// A directory given with `--dir`: the vfs path, and the name the program sees it under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dir<'a> {
    /// As typed: a relative path is taken from `/` when the program starts.
    pub host: &'a str,
    /// As typed, or `None` for the same name as the host path's.
    pub guest: Option<&'a str>,
}

/// A `run` line, every option checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run<'a> {
    /// The program, as typed (with or without `.wasm`).
    pub program: &'a str,
    /// Its arguments after its name.
    pub args: Vec<&'a str>,
    /// `--env`: name and value, in the line's order.
    pub env: Vec<(&'a str, &'a str)>,
    /// `--dir`, in the line's order; none means the defaults (`/` read-only, `/tmp`).
    pub dirs: Vec<Dir<'a>>,
    /// `--grant`: the endpoint's name (made by `endpoint`) and the rights.
    pub grants: Vec<(&'a str, Rights)>,
    /// `--cpu`: the CPU it stays on.
    pub cpu: Option<u32>,
    /// A trailing `&`: started without waiting for it, its output on the console.
    pub background: bool,
}

/// Why a `run` line is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunError<'a> {
    /// No program is named.
    NoProgram,
    /// The option is last, or followed by another option, instead of its value (described).
    Needs(&'static str, &'static str),
    /// A word before the program that starts with `-` and is no option.
    UnknownOption(&'a str),
    /// A `--dir` value with an empty host or guest path.
    NotADir(&'a str),
    /// A `--env` value that is not `NAME=VALUE` with a name.
    NotAnEnv(&'a str),
    /// A `--grant` value that is not `ENDPOINT:RIGHTS`, RIGHTS made of `r` and `w`.
    NotAGrant(&'a str),
    /// A `--cpu` value that is not a CPU number, or a second `--cpu`.
    NotACpu(&'a str),
    /// More of something than a program may be given: what, and the limit.
    TooMany(&'static str, usize),
}

/// The `run` line whose words after `run` are `rest`.
pub fn parse(rest: &str) -> Result<Run<'_>, RunError<'_>> {
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let background = words.last() == Some(&"&");
    if background {
        words.pop();
    }
    let mut run = Run {
        program: "",
        args: Vec::new(),
        env: Vec::new(),
        dirs: Vec::new(),
        grants: Vec::new(),
        cpu: None,
        background,
    };
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "--" {
            run.program = words.next().ok_or(RunError::NoProgram)?;
            break;
        }
        if !word.starts_with('-') {
            run.program = word;
            break;
        }
        let (option, inline) = match word.split_once('=') {
            Some((option, value)) => (option, Some(value)),
            None => (word, None),
        };
        // A value is the rest of the word after `=`, or the next word unless that is an option.
        let mut value = |option, what| {
            inline
                .or_else(|| words.next().filter(|next| !next.starts_with("--")))
                .filter(|value| !value.is_empty())
                .ok_or(RunError::Needs(option, what))
        };
        match option {
            "--dir" => run.dirs.push(dir(value("--dir", "a directory")?)?),
            "--env" => run.env.push(env(value("--env", "NAME=VALUE")?)?),
            "--grant" => run.grants.push(grant(value("--grant", "ENDPOINT:RIGHTS")?)?),
            "--cpu" => {
                let number = value("--cpu", "a CPU number")?;
                match (run.cpu, number.parse()) {
                    (None, Ok(cpu)) => run.cpu = Some(cpu),
                    _ => return Err(RunError::NotACpu(number)),
                }
            }
            _ => return Err(RunError::UnknownOption(word)),
        }
    }
    if run.program.is_empty() {
        return Err(RunError::NoProgram);
    }
    run.args = words.collect();
    if run.grants.len() > sys::MAX_SPAWN_GRANTS {
        return Err(RunError::TooMany("grants", sys::MAX_SPAWN_GRANTS));
    }
    if run.dirs.len() > sys::MAX_START_DIRS {
        return Err(RunError::TooMany("directories", sys::MAX_START_DIRS));
    }
    Ok(run)
}

/// `HOST[::GUEST]`, both paths not empty.
fn dir(value: &str) -> Result<Dir<'_>, RunError<'_>> {
    let (host, guest) = match value.split_once("::") {
        Some((host, guest)) => (host, Some(guest)),
        None => (value, None),
    };
    if host.is_empty() || guest == Some("") {
        return Err(RunError::NotADir(value));
    }
    Ok(Dir { host, guest })
}

/// `NAME=VALUE`, with a name (the value may be empty).
fn env(value: &str) -> Result<(&str, &str), RunError<'_>> {
    match value.split_once('=') {
        Some((name, text)) if !name.is_empty() => Ok((name, text)),
        _ => Err(RunError::NotAnEnv(value)),
    }
}

/// `ENDPOINT:RIGHTS`, with at least one of the rights `r` and `w`. A `g` adds nothing: every
/// grant the shell makes has GRANT, which a capability needs to move to the new program.
fn grant(value: &str) -> Result<(&str, Rights), RunError<'_>> {
    let refused = RunError::NotAGrant(value);
    let (endpoint, letters) = value.split_once(':').ok_or(refused)?;
    let rights = sys::rights_from_letters(letters).map_err(|_| refused)? & !sys::RIGHT_GRANT;
    if endpoint.is_empty() || rights == 0 {
        return Err(refused);
    }
    Ok((endpoint, Rights::from_bits(rights as u32)))
}

impl fmt::Display for RunError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::NoProgram => write!(f, "usage: {USAGE}"),
            RunError::Needs(option, what) => write!(f, "run: {option} needs {what}"),
            RunError::UnknownOption(word) => {
                write!(f, "run: unknown option {word} (the options are --dir, --env, --grant and --cpu)")
            }
            RunError::NotADir(value) => write!(f, "run: not a directory: {value} (--dir HOST[::GUEST])"),
            RunError::NotAnEnv(value) => write!(f, "run: not a variable: {value} (--env NAME=VALUE)"),
            RunError::NotAGrant(value) => {
                write!(f, "run: not a grant: {value} (--grant ENDPOINT:RIGHTS, RIGHTS made of r and w)")
            }
            RunError::NotACpu(value) => write!(f, "run: not a CPU: {value} (one --cpu N, N counting from 0)"),
            RunError::TooMany(what, most) => write!(f, "run: at most {most} {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::{format, vec};

    use super::*;

    /// The line `run PROG` with nothing else.
    fn plain(program: &str) -> Run<'_> {
        Run { program, args: vec![], env: vec![], dirs: vec![], grants: vec![], cpu: None, background: false }
    }

    #[test]
    fn a_program_alone_and_its_arguments() {
        assert_eq!(parse("hello"), Ok(plain("hello")));
        assert_eq!(parse("  test/spinner.wasm  "), Ok(plain("test/spinner.wasm")));
        let run = parse("wasi_hello a  b --dir x -v").unwrap();
        assert_eq!(run.program, "wasi_hello");
        assert_eq!(run.args, ["a", "b", "--dir", "x", "-v"], "after the program, every word is its own");
        assert!(run.env.is_empty() && run.dirs.is_empty() && run.grants.is_empty() && !run.background);
    }

    #[test]
    fn a_lone_trailing_ampersand_means_background() {
        assert_eq!(parse("counter &"), Ok(Run { background: true, ..plain("counter") }));
        let run = parse("wasi_hello a & b &").unwrap();
        assert!(run.background);
        assert_eq!(run.args, ["a", "&", "b"], "only the last word, alone, is the `&`");
        let run = parse("wasi_hello a&").unwrap();
        assert_eq!((run.args, run.background), (vec!["a&"], false));
        assert_eq!(parse("&"), Err(RunError::NoProgram));
    }

    #[test]
    fn every_option_in_both_spellings() {
        let run = parse(
            "--dir /tmp --dir=data::/d --env HOME=/tmp --env=EMPTY= --grant counter:rw --grant=log:w prog x",
        )
        .unwrap();
        assert_eq!(run.program, "prog");
        assert_eq!(run.args, ["x"]);
        assert_eq!(run.dirs, [Dir { host: "/tmp", guest: None }, Dir { host: "data", guest: Some("/d") }]);
        assert_eq!(run.env, [("HOME", "/tmp"), ("EMPTY", "")]);
        assert_eq!(run.grants, [("counter", Rights::READ | Rights::WRITE), ("log", Rights::WRITE)]);
        assert_eq!(parse("--grant c:rwg p").unwrap().grants, [("c", Rights::READ | Rights::WRITE)]);
        assert_eq!(parse("--env A=b=c p").unwrap().env, [("A", "b=c")], "the value keeps its `=`");
        assert_eq!(parse("-- -odd").unwrap().program, "-odd", "`--` ends the options");
        assert_eq!(parse("--cpu 1 p").unwrap().cpu, Some(1));
        assert_eq!(parse("--cpu=0 p").unwrap().cpu, Some(0));
        assert_eq!(parse("--cpu x p").unwrap_err(), RunError::NotACpu("x"));
        assert_eq!(parse("--cpu 1 --cpu 2 p").unwrap_err(), RunError::NotACpu("2"), "one CPU");
    }

    #[test]
    fn options_without_their_values_are_named() {
        for (line, error) in [
            ("--dir", "run: --dir needs a directory"),
            ("--dir &", "run: --dir needs a directory"),
            ("--dir= prog", "run: --dir needs a directory"),
            ("--dir --env A=1 prog", "run: --dir needs a directory"),
            ("--env", "run: --env needs NAME=VALUE"),
            ("--grant", "run: --grant needs ENDPOINT:RIGHTS"),
            ("--foo prog", "run: unknown option --foo (the options are --dir, --env, --grant and --cpu)"),
            ("-v prog", "run: unknown option -v (the options are --dir, --env, --grant and --cpu)"),
            ("--dir ::/x prog", "run: not a directory: ::/x (--dir HOST[::GUEST])"),
            ("--dir /x:: prog", "run: not a directory: /x:: (--dir HOST[::GUEST])"),
            ("--env NOVALUE prog", "run: not a variable: NOVALUE (--env NAME=VALUE)"),
            ("--env =x prog", "run: not a variable: =x (--env NAME=VALUE)"),
            ("--grant e:rx p", "run: not a grant: e:rx (--grant ENDPOINT:RIGHTS, RIGHTS made of r and w)"),
            ("", &format!("usage: {USAGE}")),
            ("--dir /tmp", &format!("usage: {USAGE}")),
            ("--", &format!("usage: {USAGE}")),
        ] {
            assert_eq!(parse(line).map_err(|e| e.to_string()), Err(error.to_string()), "{line}");
        }
        for bad in ["counter", ":rw", "counter:x", "counter:g", "c:"] {
            assert_eq!(parse(&format!("--grant {bad} p")), Err(RunError::NotAGrant(bad)), "{bad}");
        }
    }

    #[test]
    fn grants_and_directories_have_their_limits() {
        let sixteen = format!("{}p", "--grant e:r ".repeat(16));
        assert_eq!(parse(&sixteen).map(|run| run.grants.len()), Ok(16));
        let seventeen = format!("{}p", "--grant e:r ".repeat(17));
        assert_eq!(parse(&seventeen).unwrap_err().to_string(), "run: at most 16 grants");
        let dirs = format!("{}p", "--dir /tmp ".repeat(17));
        assert_eq!(parse(&dirs).unwrap_err().to_string(), "run: at most 16 directories");
    }
}
