//! What `run` gives a program ([`program`]): its module, arguments and environment, the vfs
//! and the directories of it the program may reach (WASI's preopens), its standard streams when
//! the shell shows them, and the endpoints it is granted, as one [`sdk::Program`].

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use sdk::{Capability, Program, sys};

use crate::command::Run;
use crate::files::{self, Files};

/// The directories a program gets when `run` names none, each under its own name: the whole
/// vfs to read, and `/tmp`, the part of it anyone may write.
const DEFAULT_DIRS: [(&str, bool); 2] = [("/", false), ("/tmp", true)];

/// The standard streams of a program run in the foreground: its ends of endpoints whose other
/// ends the shell holds.
#[derive(Debug)]
pub struct Stdio {
    /// To read its input from (READ and GRANT).
    pub stdin: Capability,
    /// To write its output to (WRITE and GRANT).
    pub stdout: Capability,
    /// To write its errors to (WRITE and GRANT).
    pub stderr: Capability,
}

/// The module file `run` starts for `program` as typed: `.wasm` is added unless it is there.
pub fn file_of(program: &str) -> String {
    if program.ends_with(".wasm") { program.into() } else { format!("{program}.wasm") }
}

/// `run` as a program to start: with the vfs `files` when the shell has it, `grants` (the
/// capabilities made for its `--grant`s, in order: its handles 0, 1, ...) and `stdio` when the
/// shell shows its streams; or the line saying why it cannot start.
pub fn program(
    run: &Run<'_>,
    files: Option<&Files>,
    grants: Vec<Capability>,
    stdio: Option<Stdio>,
) -> Result<Program, String> {
    let file = file_of(run.program);
    if file.len() > sys::MAX_SPAWN_NAME {
        return Err(format!("run: the file name is longer than {} bytes\n", sys::MAX_SPAWN_NAME));
    }
    let mut program = Program::new(&file);
    for arg in &run.args {
        program = program.arg(arg);
    }
    for (name, value) in &run.env {
        program = program.env(name, value);
    }
    program = with_dirs(program, run, files)?;
    for grant in grants {
        program = program.grant(grant);
    }
    if let Some(cpu) = run.cpu {
        program = program.cpu(cpu);
    }
    if let Some(Stdio { stdin, stdout, stderr }) = stdio {
        program = program.stdin(stdin).stdout(stdout).stderr(stderr);
    }
    Ok(program)
}

/// `program` with the vfs and the directories `run` names, or the default ones. Without the
/// vfs (or the right to pass it on) only named directories are an error: a program that needs
/// none, as an SDK actor, still runs.
fn with_dirs(program: Program, run: &Run<'_>, files: Option<&Files>) -> Result<Program, String> {
    let vfs = match files.map(Files::capability) {
        Some(Ok(vfs)) => vfs,
        None if run.dirs.is_empty() => return Ok(program),
        Some(Err(_)) if run.dirs.is_empty() => return Ok(program),
        None => return Err(String::from("run: --dir needs the vfs, which this shell is not granted\n")),
        Some(Err(error)) => {
            return Err(format!(
                "run: the vfs cannot be passed on ({error}): the shell's manifest line needs vfs.req:wg\n"
            ));
        }
    };
    let mut program = program.files(vfs);
    if run.dirs.is_empty() {
        for (dir, writable) in DEFAULT_DIRS {
            program = program.dir(dir, dir, writable);
        }
    }
    for dir in &run.dirs {
        let host = files::absolute(dir.host);
        let guest = dir.guest.map_or_else(|| host.clone(), String::from);
        // Read-write: the vfs refuses writes outside /tmp by itself.
        program = program.dir(&host, &guest, true);
    }
    Ok(program)
}
