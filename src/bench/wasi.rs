//! WASI programs in `make bench`: how long a Rust std hello world takes from `run` to its exit
//! beside the SDK's hello actor, the throughput of a Rust std program's console, `/tmp` writes
//! and ramdisk reads (`programs/wasi_bench`), and `sqlite_demo` in MinimalOS beside the same
//! module under wasmtime on the host (`tools/wasmtime-run.py`), for scale.
//!
//! Start to exit is read off the kernel's log, for both programs the same way: the spawn's
//! own time (`init: started NAME.wasm as pid P on request in U us`) plus the time from that
//! line to `NAME[P] exited` (the log's microsecond timestamps). The shell's `time`, which
//! learns of an SDK actor's end only by looking at the process table, would add its polling.

use std::fmt::Write as _;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{ANSWER_TIMEOUT, RUNS, ask};
use crate::artifacts;
use crate::qemu::Machine;

/// Bytes `wasi_bench` writes to the console, and to a file in `/tmp`.
const CONSOLE_BYTES: u64 = 64 * 1024;
const FILE_BYTES: u64 = 512 * 1024;
/// The ramdisk file `wasi_bench` reads: the largest module the image carries.
const READ_FILE: &str = "/sqlite_demo.wasm";
/// Longest wait for the kernel's line about a program's end after the shell's prompt.
const EXIT_LINE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the WASI benchmarks measured.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WasiFigures {
    /// Start to exit of `wasi_hello` and of the SDK's `hello`, µs, one per run.
    pub hello_std_us: Vec<u64>,
    pub hello_sdk_us: Vec<u64>,
    /// `wasi_bench`'s measurements: bytes and ns, each.
    pub console: Option<(u64, u64)>,
    pub write: Option<(u64, u64)>,
    pub read: Option<(u64, u64)>,
    /// `sqlite_demo`: the shell's `time` of its run, in ns, and the line it printed.
    pub sqlite_ns: Option<u64>,
    pub sqlite_line: Option<String>,
    /// The same module under wasmtime on the host: median run ns, compile ns, and its line.
    pub wasmtime: Option<(u64, u64, String)>,
}

/// The median of `values` (the upper one of an even count).
fn median(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

/// MB/s of `bytes` in `ns`.
fn mb_per_s((bytes, ns): (u64, u64)) -> f64 {
    if ns == 0 { 0.0 } else { bytes as f64 * 1000.0 / ns as f64 }
}

impl WasiFigures {
    /// How many times longer the Rust std hello world takes than the SDK's, at the medians.
    pub fn hello_ratio(&self) -> Option<f64> {
        let (std, sdk) = (median(&self.hello_std_us)?, median(&self.hello_sdk_us)?);
        (sdk > 0).then(|| std as f64 / sdk as f64)
    }

    /// Its entries of `results.json`.
    pub fn json(&self) -> Value {
        let throughput = |m: Option<(u64, u64)>| {
            m.map_or(
                Value::Null,
                |(bytes, ns)| json!({"bytes": bytes, "ns": ns, "mb_per_s": rounded(mb_per_s((bytes, ns)))}),
            )
        };
        json!({
            "hello_start_to_exit_us": {
                "wasi_hello": {"runs": self.hello_std_us, "p50": median(&self.hello_std_us)},
                "sdk_hello": {"runs": self.hello_sdk_us, "p50": median(&self.hello_sdk_us)},
                "ratio": self.hello_ratio().map(rounded),
            },
            "console_write": throughput(self.console),
            "tmp_write": throughput(self.write),
            "ramdisk_read": throughput(self.read),
            "sqlite_demo": {
                "minimalos_ns": self.sqlite_ns,
                "output": self.sqlite_line,
                "wasmtime_host_run_ns": self.wasmtime.as_ref().map(|w| w.0),
                "wasmtime_host_compile_ns": self.wasmtime.as_ref().map(|w| w.1),
                "wasmtime_output": self.wasmtime.as_ref().map(|w| w.2.clone()),
            },
        })
    }

    /// Its section of `results.md`.
    pub fn markdown(&self) -> String {
        let mut md = String::from("\n## WASI programs\n\n");
        if let (Some(std), Some(sdk)) = (median(&self.hello_std_us), median(&self.hello_sdk_us)) {
            let _ = writeln!(
                md,
                "Start to exit (spawn, run, exit; median of {} runs): Rust std `wasi_hello` {std} µs, SDK `hello` \
                 {sdk} µs ({:.2}×).",
                self.hello_std_us.len(),
                self.hello_ratio().unwrap_or_default()
            );
            if let (Some(std), Some(sdk)) = (self.hello_std_us.first(), self.hello_sdk_us.first()) {
                let _ = writeln!(
                    md,
                    "\nThe first run of each parses its module, the others find it kept: first runs {std} µs and \
                     {sdk} µs."
                );
            }
        }
        for (what, m) in [
            ("console (standard output through the shell)", self.console),
            ("a file in /tmp", self.write),
            ("reading the ramdisk", self.read),
        ] {
            if let Some((bytes, ns)) = m {
                let _ = writeln!(
                    md,
                    "\n`wasi_bench`, {what}: {bytes} bytes in {} µs, {:.2} MB/s.",
                    ns / 1000,
                    mb_per_s((bytes, ns))
                );
            }
        }
        if let Some(ns) = self.sqlite_ns {
            let _ = write!(
                md,
                "\n`sqlite_demo /tmp` (10,000 rows in one transaction, queried back): {} ms",
                ns / 1_000_000
            );
            if let Some((run, compile, _)) = &self.wasmtime {
                let _ = write!(
                    md,
                    "; the same module under wasmtime on the host: {} ms a run (median of {RUNS}), {} ms to compile it",
                    run / 1_000_000,
                    compile / 1_000_000
                );
            }
            md.push_str(".\n");
        }
        md
    }
}

fn rounded(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The number after `label` in `text`, up to the first character that is not a digit.
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The microsecond timestamp of a kernel log line, `[    1.234567] ...` (a prompt drawn again,
/// and its escape sequences, may come before it).
fn timestamp_us(line: &str) -> Option<u64> {
    line.match_indices('[').find_map(|(at, _)| {
        let inside = line[at + 1..].split(']').next()?.trim();
        let (seconds, micros) = inside.split_once('.')?;
        Some(seconds.parse::<u64>().ok()? * 1_000_000 + micros.parse::<u64>().ok()?)
    })
}

/// Start to exit of the program `file` started from the shell, from the kernel's log in
/// `console`: its spawn's time plus the time from the spawn's line to its exit's.
pub fn start_to_exit_us(console: &str, file: &str) -> Option<u64> {
    let started = console.lines().find(|l| l.contains(&format!("init: started {file} as pid ")))?;
    let pid = number_after(started, " as pid ")?;
    let spawn = number_after(started, " on request in ")?;
    let name = file.trim_end_matches(".wasm");
    let exited = console.lines().find(|l| l.contains(&format!("{name}[{pid}] exited with status 0")))?;
    // The start line is written once the spawn is done, and with several CPUs the program may
    // have run and ended by then: count from the request, `spawn` before that line.
    (timestamp_us(exited)? + spawn).checked_sub(timestamp_us(started)?)
}

/// `wasi_bench NAME: BYTES bytes in NS ns` in `answer`.
pub fn parse_throughput(answer: &str, name: &str) -> Option<(u64, u64)> {
    // A log line from another CPU may cut the program's line short, which is then drawn again
    // whole (`klog`): the first whole one counts.
    let prefix = format!("wasi_bench {name}: ");
    answer
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .find_map(|line| Some((number_after(line, ": ")?, number_after(line, " bytes in ")?)))
}

/// The shell's `time: ...` line in `answer`, in ns (µs, ms or s as `format::duration` writes).
pub fn parse_time(answer: &str) -> Option<u64> {
    let line = answer.lines().find_map(|l| l.strip_prefix("time: "))?;
    let (number, unit) = line.trim().split_once(' ')?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    let thousandths: u64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
    let whole: u64 = whole.parse().ok()?;
    match unit {
        "us" => Some(whole * 1_000),
        "ms" => Some(whole * 1_000_000 + thousandths * 1_000),
        "s" => Some(whole * 1_000_000_000 + thousandths * 1_000_000),
        _ => None,
    }
}

/// Types the WASI benchmarks into the shell of `machine`.
pub fn measure(machine: &mut Machine) -> Result<WasiFigures, String> {
    let mut figures = WasiFigures::default();
    for (file, runs) in
        [("wasi_hello.wasm", &mut figures.hello_std_us), ("hello.wasm", &mut figures.hello_sdk_us)]
    {
        for run in 1..=RUNS {
            // On CPU 0, as `bench ipc`'s pair: the same CPU whatever `SMP` is.
            let line = format!("run --cpu 0 {}", file.trim_end_matches(".wasm"));
            eprintln!("bench: {line} (run {run} of {RUNS})");
            let start = machine.output().len();
            ask(machine, &line, ANSWER_TIMEOUT)?;
            // The exit's log line may come after the prompt.
            let deadline = Instant::now() + EXIT_LINE_TIMEOUT;
            let us = loop {
                if let Some(us) = machine.output().get(start..).and_then(|new| start_to_exit_us(new, file)) {
                    break us;
                }
                if Instant::now() >= deadline {
                    return Err(format!("no start and exit of {file} in the kernel log after `{line}`"));
                }
                thread::sleep(Duration::from_millis(20));
            };
            runs.push(us);
        }
    }
    let mut bench = |line: String, name: &str| -> Result<Option<(u64, u64)>, String> {
        eprintln!("bench: {line}");
        Ok(parse_throughput(&ask(machine, &line, ANSWER_TIMEOUT)?, name))
    };
    figures.console = bench(format!("run wasi_bench console {CONSOLE_BYTES}"), "console")?;
    figures.write = bench(format!("run wasi_bench write /tmp/wasi_bench.dat {FILE_BYTES}"), "write")?;
    figures.read = bench(format!("run wasi_bench read {READ_FILE}"), "read")?;
    eprintln!("bench: time run sqlite_demo /tmp");
    let answer = ask(machine, "time run sqlite_demo /tmp", ANSWER_TIMEOUT)?;
    figures.sqlite_ns = parse_time(&answer);
    figures.sqlite_line = answer.lines().find(|l| l.starts_with("sqlite_demo: ")).map(str::to_owned);
    Ok(figures)
}

/// `sqlite_demo` under wasmtime on the host, [`RUNS`] runs: median run ns, compile ns, its
/// line; `None` (saying why) where Python's `wasmtime` package is missing and cannot be
/// installed.
pub fn sqlite_under_wasmtime() -> Option<(u64, u64, String)> {
    let script = artifacts::repo_root().join("tools/wasmtime-run.py");
    let has_wasmtime =
        || Command::new("python3").args(["-c", "import wasmtime"]).output().is_ok_and(|o| o.status.success());
    if !has_wasmtime() {
        eprintln!("bench: installing the Python package wasmtime from PyPI for the host comparison");
        let installed =
            Command::new("python3").args(["-m", "pip", "install", "--quiet", "wasmtime"]).status();
        if !installed.is_ok_and(|s| s.success()) || !has_wasmtime() {
            eprintln!("bench: no wasmtime on the host (pip install wasmtime); sqlite_demo is not compared");
            return None;
        }
    }
    let tmp = std::env::temp_dir().join("minimalos-bench-sqlite");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).ok()?;
    let output = Command::new("python3")
        .arg(&script)
        .args(["--tmp"])
        .arg(&tmp)
        .args(["--runs", &RUNS.to_string()])
        .arg(artifacts::program("sqlite_demo"))
        .arg("/tmp")
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().find(|l| l.starts_with("sqlite_demo: "))?.to_owned();
    let summary = stderr.lines().rev().find(|l| l.starts_with("wasmtime-run: "))?;
    Some((number_after(summary, ", median ")?, number_after(summary, "compiled in ")?, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_to_exit_is_the_spawn_plus_the_time_to_the_exit() {
        let console = "[    1.000000] [INFO ] init: started wasi_hello.wasm as pid 7 on request in 1500 us\n\
                       Hello\n[    1.020000] [INFO ] wasi_hello[7] exited with status 0\n";
        assert_eq!(start_to_exit_us(console, "wasi_hello.wasm"), Some(21_500));
        assert_eq!(start_to_exit_us(console, "hello.wasm"), None);
        // Ended on another CPU before its start was logged: 5 ms after a request 6.5 ms earlier.
        let early = "[    1.000000] [INFO ] wasi_hello[7] exited with status 0\n\
                     [    1.001500] [INFO ] init: started wasi_hello.wasm as pid 7 on request in 6500 us\n";
        assert_eq!(start_to_exit_us(early, "wasi_hello.wasm"), Some(5_000));
        assert_eq!(timestamp_us("msh> [   12.000345] [INFO ] x"), Some(12_000_345));
        assert_eq!(timestamp_us("msh> \x1b[K[    0.247353] [INFO ] x"), Some(247_353));
    }

    #[test]
    fn throughput_and_time_lines_parse() {
        let answer = "wasi_bench console: 65536 bytes in 123456 ns\r\nwasi_bench exited with status 0\r\n";
        assert_eq!(parse_throughput(answer, "console"), Some((65536, 123_456)));
        assert_eq!(parse_throughput(answer, "read"), None);
        let cut = "wasi_bench read: 8172\x1b[K[   18.994801] [INFO ] wasi_bench[16] exited with status 0\n\
                   wasi_bench read: 8172 bytes in 3852694 ns\r\n";
        assert_eq!(parse_throughput(cut, "read"), Some((8172, 3_852_694)), "the line drawn again");
        assert_eq!(parse_time("x\r\ntime: 11.703 s\r\n"), Some(11_703_000_000));
        assert_eq!(parse_time("time: 8.5 ms"), Some(8_500_000));
        assert_eq!(parse_time("time: 429 us"), Some(429_000));
        assert_eq!(parse_time("no time"), None);
    }

    #[test]
    fn figures_say_the_ratio_and_only_what_was_measured() {
        let figures = WasiFigures {
            hello_std_us: vec![30, 10, 20],
            hello_sdk_us: vec![10, 10, 10],
            read: Some((1_000_000, 1_000_000)),
            ..WasiFigures::default()
        };
        assert_eq!(figures.hello_ratio(), Some(2.0));
        let json = figures.json();
        assert_eq!(json["hello_start_to_exit_us"]["wasi_hello"]["p50"], 20);
        assert_eq!(json["ramdisk_read"]["mb_per_s"], 1000.0);
        assert!(json["console_write"].is_null());
        assert!(figures.markdown().contains("(2.00×)"));
    }
}
