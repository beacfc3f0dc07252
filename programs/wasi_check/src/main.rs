//! `wasi_check.wasm`: exercises what Rust's `std` asks of a WASI preview-1 host (arguments,
//! environment, stdio, files, clocks, stdin), one line per check: `ok NAME` or
//! `FAIL NAME: reason`, then `wasi_check: N ok, M failed`. It exits with 0 when nothing failed
//! and 1 otherwise, or with N when given `--exit N`.
//!
//! Usage: `wasi_check [DIR [FILE]] [--stdin] [--exit N]`. DIR is a writable directory for the
//! file checks (`/tmp` by default); FILE is a read-only file to read, such as a ramdisk
//! module (that check is skipped without it); `--stdin` echoes standard input's lines until
//! end of file.
//!
//! A failed check never panics: the program must get to its summary line whatever the host
//! gets wrong, or one missing feature would hide every other result.

mod fs_checks;

use std::ffi::OsString;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a check returns: why it failed, if it did.
type Outcome = Result<(), String>;

/// Turns an I/O error into a check failure that says which step failed.
trait Step<T> {
    fn at(self, step: &str) -> Result<T, String>;
}

impl<T> Step<T> for io::Result<T> {
    fn at(self, step: &str) -> Result<T, String> {
        self.map_err(|e| format!("{step}: {e} ({:?})", e.kind()))
    }
}

/// The command line, parsed without panicking on anything a test may pass.
struct Options {
    dir: PathBuf,
    file: Option<PathBuf>,
    stdin: bool,
    exit: Option<i32>,
}

impl Default for Options {
    fn default() -> Options {
        Options { dir: PathBuf::from("/tmp"), file: None, stdin: false, exit: None }
    }
}

impl Options {
    fn parse(args: impl Iterator<Item = OsString>) -> Result<Options, String> {
        let mut positional = Vec::new();
        let mut stdin = false;
        let mut exit = None;
        let mut args = args.skip(1);
        while let Some(arg) = args.next() {
            match arg.to_str() {
                Some("--stdin") => stdin = true,
                Some("--exit") => {
                    let code = args.next().ok_or("--exit needs a number")?;
                    let code = code.to_str().and_then(|c| c.parse().ok());
                    exit = Some(code.ok_or("--exit needs a number")?);
                }
                _ => positional.push(PathBuf::from(arg)),
            }
        }
        let mut positional = positional.into_iter();
        let dir = positional.next().unwrap_or_else(|| Options::default().dir);
        // Relative to the ramdisk's root, so `hello.wasm` names the same file as `/hello.wasm`.
        let file = positional.next().map(|f| if f.is_absolute() { f } else { PathBuf::from("/").join(f) });
        Ok(Options { dir, file, stdin, exit })
    }
}

/// The tally, printed as it goes so a host that hangs still shows how far it got.
#[derive(Default)]
struct Report {
    ok: u32,
    failed: u32,
}

impl Report {
    fn check(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                println!("ok {name}");
            }
            Err(reason) => {
                self.failed += 1;
                println!("FAIL {name}: {reason}");
            }
        }
    }

    fn skip(&self, name: &str, why: &str) {
        println!("skip {name}: {why}");
    }
}

fn main() {
    let mut report = Report::default();
    let options = match Options::parse(std::env::args_os()) {
        Ok(options) => options,
        Err(reason) => {
            report.check("options", Err(reason));
            Options::default()
        }
    };
    report.check("args", args());
    report.check("env", env());
    report.check("vars", vars());
    report.check("stdout", stdout());
    report.check("stderr", stderr());
    fs_checks::run(&mut report, &options);
    report.check("time_monotonic", time_monotonic());
    report.check("time_system", time_system());
    if options.stdin {
        report.check("stdin", stdin());
    } else {
        report.skip("stdin", "no --stdin");
    }
    println!("wasi_check: {} ok, {} failed", report.ok, report.failed);
    // The summary must reach the host before exit, which skips the buffers' destructors.
    let _ = io::stdout().flush();
    process::exit(options.exit.unwrap_or(if report.failed == 0 { 0 } else { 1 }));
}

fn args() -> Outcome {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let shown: String = args.iter().skip(1).map(|a| format!(" {a}")).collect();
    println!("args:{shown}");
    // The program's name comes first, even from hosts that leave it empty.
    match args.len() {
        0 => Err("no argv[0]".into()),
        _ => Ok(()),
    }
}

fn env() -> Outcome {
    match std::env::var("WASI_CHECK") {
        Ok(value) => {
            println!("env WASI_CHECK={value}");
            Ok(())
        }
        Err(std::env::VarError::NotPresent) => Ok(()),
        Err(e) => Err(format!("WASI_CHECK: {e}")),
    }
}

fn vars() -> Outcome {
    // `vars_os`: `vars` would panic on a value that is not UTF-8 instead of reporting it.
    for (name, _) in std::env::vars_os() {
        if name.is_empty() {
            return Err("a variable with an empty name".into());
        }
    }
    Ok(())
}

fn stdout() -> Outcome {
    let mut out = io::stdout().lock();
    writeln!(out, "stdout works").at("write")?;
    out.flush().at("flush")
}

fn stderr() -> Outcome {
    writeln!(io::stderr().lock(), "stderr works").at("write")
}

fn time_monotonic() -> Outcome {
    let start = Instant::now();
    thread::sleep(Duration::from_millis(20));
    let slept = start.elapsed();
    if slept < Duration::from_millis(20) {
        return Err(format!("slept 20 ms but the clock moved {slept:?}"));
    }
    let later = Instant::now();
    if later < start + slept {
        return Err("the monotonic clock went back".into());
    }
    Ok(())
}

fn time_system() -> Outcome {
    // 2020-01-01T00:00:00Z: a clock before it was never set.
    let floor = UNIX_EPOCH + Duration::from_secs(1_577_836_800);
    let now = SystemTime::now();
    match now.duration_since(UNIX_EPOCH) {
        _ if now > floor => Ok(()),
        Ok(since) => Err(format!("{} s after the epoch, before 2020", since.as_secs())),
        Err(e) => Err(format!("before the epoch by {:?}", e.duration())),
    }
}

fn stdin() -> Outcome {
    let mut lines = 0;
    for line in io::stdin().lock().lines() {
        let line = line.at("read")?;
        println!("stdin line: {line}");
        lines += 1;
    }
    println!("stdin: {lines} lines");
    Ok(())
}
