//! Throughput of plain Rust std I/O, as `make bench` measures it on MinimalOS and the host:
//!
//! ```text
//! wasi_bench console BYTES     writes BYTES to standard output in 4 KiB writes
//! wasi_bench write FILE BYTES  writes BYTES to FILE in 4 KiB writes, then removes it
//! wasi_bench read FILE         reads FILE to its end in 64 KiB reads
//! ```
//!
//! Each prints one line to standard error, `wasi_bench NAME: BYTES bytes in NS ns`, timed with
//! `Instant` around the I/O alone.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Bytes per write: a typical buffered writer's flush.
const WRITE_CHUNK: usize = 4096;
/// Bytes per read: a typical buffered reader's fill.
const READ_CHUNK: usize = 64 * 1024;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let measured = match args.as_slice() {
        ["console", bytes] => bytes.parse().map_err(|e| format!("{e}")).and_then(|n| to_console(n)),
        ["write", file, bytes] => bytes.parse().map_err(|e| format!("{e}")).and_then(|n| to_file(file, n)),
        ["read", file] => from_file(file),
        _ => Err("usage: wasi_bench console BYTES | write FILE BYTES | read FILE".into()),
    };
    match measured {
        Ok((name, bytes, took)) => {
            eprintln!("wasi_bench {name}: {bytes} bytes in {} ns", took.as_nanos());
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("wasi_bench: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The measurement: its name, the bytes moved, and the time they took.
type Measured = Result<(&'static str, usize, Duration), String>;

/// `total` bytes of text lines, so a console shows them as lines.
fn lines(total: usize) -> Vec<u8> {
    (0..total).map(|i| if i % 64 == 63 { b'\n' } else { b'a' + (i % 26) as u8 }).collect()
}

fn to_console(total: usize) -> Measured {
    let data = lines(total);
    let mut out = io::stdout().lock();
    let start = Instant::now();
    for chunk in data.chunks(WRITE_CHUNK) {
        out.write_all(chunk).map_err(|e| format!("stdout: {e}"))?;
    }
    out.flush().map_err(|e| format!("stdout: {e}"))?;
    Ok(("console", total, start.elapsed()))
}

fn to_file(path: &str, total: usize) -> Measured {
    let data = lines(total);
    let start = Instant::now();
    let mut file = File::create(path).map_err(|e| format!("{path}: {e}"))?;
    for chunk in data.chunks(WRITE_CHUNK) {
        file.write_all(chunk).map_err(|e| format!("{path}: {e}"))?;
    }
    drop(file);
    let took = start.elapsed();
    fs::remove_file(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(("write", total, took))
}

fn from_file(path: &str) -> Measured {
    let mut buf = vec![0u8; READ_CHUNK];
    let start = Instant::now();
    let mut file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut total = 0;
    loop {
        match file.read(&mut buf).map_err(|e| format!("{path}: {e}"))? {
            0 => break,
            n => total += n,
        }
    }
    Ok(("read", total, start.elapsed()))
}
