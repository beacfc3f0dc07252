//! The user's own benchmarks: the lines of `actors/bench.msh`, typed into the benchmark
//! image's shell after the shell's benchmarks, and the samples their actors report.
//!
//! The script starts services, then, on its last line, the actor that times them and reports
//! its samples (`sdk::bench::report`); the runner waits for that actor to end and keeps every
//! series logged meanwhile. Run in the foreground (`run PROG`), the shell itself waits and says
//! how it ended; started in the background (`run PROG &`), the runner waits for the kernel's
//! line about its end.

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

/// The shell's own lines in `answer`: it ends them with `\r\n`, the kernel its with `\n`.
fn shell_lines(answer: &str) -> impl Iterator<Item = &str> {
    answer.split_inclusive('\n').filter_map(|line| line.strip_suffix("\r\n"))
}

/// The pid in the shell's answer to a `run ... &` line (`started NAME as pid N, ...`).
fn started_pid(answer: &str) -> Option<u64> {
    let line = shell_lines(answer).find(|line| line.starts_with("started "))?;
    let after = &line[line.find(" as pid ")? + " as pid ".len()..];
    after.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// How the program of a foreground `run` line ended: the shell's last line before the prompt,
/// `NAME exited with status N`, `NAME was killed` or `NAME trapped...`; `None` for another
/// answer.
fn foreground_end(answer: &str) -> Option<&str> {
    let last = shell_lines(answer).last()?;
    let ended =
        last.contains(" exited with status ") || last.ends_with(" was killed") || last.contains(" trapped");
    // The kernel's lines about an end name the pid in brackets; the shell's name the program.
    (ended && !last.contains('[')).then_some(last)
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
    let ended = match foreground_end(&answer) {
        Some(end) => end.to_owned(),
        None => {
            let pid = started_pid(&answer).ok_or_else(|| {
                format!("{}: its last line started no actor: {}", path.display(), answer.trim())
            })?;
            machine
                .wait_for_line(&format!("[{pid}] exited"), ANSWER_TIMEOUT)
                .map_err(|e| format!("the actor started by `{last}` (pid {pid}) did not end: {e}"))?
        }
    };
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
        let script = "# a comment\n\nendpoint counter\n  run --grant counter:r counter &  \n# end\n";
        assert_eq!(lines(script), ["endpoint counter", "run --grant counter:r counter &"]);
    }

    #[test]
    fn the_pid_comes_from_the_answer_to_a_background_run() {
        let answer = "run --grant counter:w counter_bench &\r\n[    2.000000] [INFO ] init: started \
                      counter_bench.wasm as pid 12 on request\nstarted counter_bench as pid 12, holding \
                      handles 0 = counter (w)\r\n";
        assert_eq!(started_pid(answer), Some(12));
        assert_eq!(foreground_end(answer), None);
        assert_eq!(started_pid("run x &\r\nrun: no file `x.wasm` in the ramdisk\r\n"), None);
    }

    #[test]
    fn a_foreground_run_ends_with_the_shells_line_about_its_end() {
        let answer = "run --grant counter:w counter_bench\r\n[    2.000000] [INFO ] init: started \
                      counter_bench.wasm as pid 12 on request\ncounter_bench[12]: samples counter.call: 3 in \
                      all\n[    3.000000] [INFO ] counter_bench[12] exited with status 0\ncounter_bench exited \
                      with status 0\r\n";
        assert_eq!(foreground_end(answer), Some("counter_bench exited with status 0"));
        assert_eq!(
            foreground_end("run x\r\nx trapped: executed unreachable\r\n"),
            Some("x trapped: executed unreachable")
        );
        assert_eq!(foreground_end("run x\r\nrun: no file `x.wasm` in the ramdisk\r\n"), None);
    }

    #[test]
    fn the_shipped_script_times_the_example_counter() {
        let script = std::fs::read_to_string(crate::artifacts::repo_root().join(SCRIPT)).unwrap();
        assert_eq!(lines(&script).last(), Some(&"run --grant counter:w counter_bench"));
    }
}
