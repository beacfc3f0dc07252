//! The user's own benchmarks: the lines of `actors/bench.msh`, typed into the benchmark
//! image's shell after the shell's benchmarks, and the samples their actors report.
//!
//! The script starts services, then, on its last line, the actor that times them and reports
//! its samples (`sdk::bench::report`); the runner waits for that actor to end and keeps every
//! series logged meanwhile.

use std::path::Path;

use super::samples::{self, Series};
use super::{ANSWER_TIMEOUT, ask};
use crate::qemu::Machine;

/// The script, from the repository's root.
pub const SCRIPT: &str = "actors/bench.msh";

/// The lines of `script` to type: neither blank nor comments (`#`).
fn lines(script: &str) -> Vec<&str> {
    script.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect()
}

/// The pid in the shell's answer to a `run` line (`started NAME as pid N, ...`).
fn started_pid(answer: &str) -> Option<u64> {
    let after = &answer[answer.find("as pid ")? + "as pid ".len()..];
    after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Types the lines of the script at `path` and returns the series reported until the actor
/// its last line started has ended (each a single run); no series if the file has no lines.
pub fn run(machine: &mut Machine, path: &Path) -> Result<Vec<Series>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines = lines(&text);
    let Some((last, before)) = lines.split_last() else { return Ok(Vec::new()) };
    let start = machine.output().len();
    for line in before {
        eprintln!("bench: {line} ({})", path.display());
        ask(machine, line, ANSWER_TIMEOUT)?;
    }
    eprintln!("bench: {last} ({}), then waiting for it to end", path.display());
    let answer = ask(machine, last, ANSWER_TIMEOUT)?;
    let pid = started_pid(&answer)
        .ok_or_else(|| format!("{}: its last line started no actor: {}", path.display(), answer.trim()))?;
    let ended = machine
        .wait_for_line(&format!("[{pid}] exited"), ANSWER_TIMEOUT)
        .map_err(|e| format!("the actor started by `{last}` (pid {pid}) did not end: {e}"))?;
    if !ended.ends_with("exited with status 0") {
        return Err(format!("the actor started by `{last}` failed: {ended}"));
    }
    let output = machine.output();
    let reported = samples::parse(&output[start.min(output.len())..])?;
    Ok(reported.into_iter().map(|(name, ns)| Series { name, run: 1, ns }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_not_typed() {
        let script = "# a comment\n\nendpoint counter\n  run counter grant=counter:r  \n# end\n";
        assert_eq!(lines(script), ["endpoint counter", "run counter grant=counter:r"]);
    }

    #[test]
    fn the_pid_comes_from_runs_answer() {
        let answer =
            "run counter_bench grant=counter:w\r\nstarted counter_bench as pid 12, holding handles 0";
        assert_eq!(started_pid(answer), Some(12));
        assert_eq!(started_pid("run: no file `x.wasm` in the ramdisk"), None);
    }

    #[test]
    fn the_shipped_script_times_the_example_counter() {
        let script = std::fs::read_to_string(crate::artifacts::repo_root().join(SCRIPT)).unwrap();
        assert_eq!(lines(&script).last(), Some(&"run counter_bench grant=counter:w"));
    }
}
