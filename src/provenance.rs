//! What a set of figures was measured on, recorded beside them: the commit, the date, the
//! host's CPU, the QEMU version, the accelerator and the guest's CPUs. A fact that cannot be
//! found is written as `null`, never guessed.

use std::process::Command;

use serde_json::{Value, json};

use crate::artifacts;
use crate::qemu::Accel;

/// The run's description, as the `run` object of a results file: `accel` with `cpus` guest
/// CPUs.
pub fn describe(accel: Accel, cpus: u32) -> Value {
    json!({
        "commit": commit(),
        "date": first_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        "host_cpu": host_cpu(),
        "qemu": first_line("qemu-system-x86_64", &["--version"]),
        "accel": accel.name(),
        "guest_cpus": cpus,
    })
}

/// `value` as the files hold it: indented, ending with a line break.
pub fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("\"{e}\""));
    text.push('\n');
    text
}

/// `x` as a JSON number with `places` decimals (a ratio, not its binary expansion).
pub fn rounded(x: f64, places: i32) -> Value {
    let scale = 10f64.powi(places);
    json!((x * scale).round() / scale)
}

/// The checked-out commit, with `-dirty` when the tree has changes not committed.
fn commit() -> Option<String> {
    let root = artifacts::repo_root();
    let hash = Command::new("git").arg("-C").arg(&root).args(["rev-parse", "HEAD"]).output().ok()?;
    let hash = String::from_utf8(hash.stdout).ok().filter(|h| !h.trim().is_empty())?;
    let status = Command::new("git").arg("-C").arg(&root).args(["status", "--porcelain"]).output().ok()?;
    let dirty = if status.stdout.is_empty() { "" } else { "-dirty" };
    Some(format!("{}{dirty}", hash.trim()))
}

/// The host's CPU model, from `/proc/cpuinfo`.
fn host_cpu() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines().find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim().to_owned()))
}

/// The first line `program` prints with `args`, if it runs.
fn first_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok().filter(|o| o.status.success())?;
    String::from_utf8(out.stdout).ok()?.lines().next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_every_fact_and_knows_the_accelerator() {
        let run = describe(Accel::Icount, 4);
        for key in ["commit", "date", "host_cpu", "qemu", "accel", "guest_cpus"] {
            assert!(run.get(key).is_some(), "{key} missing from {run}");
        }
        assert_eq!(run["accel"], "icount");
        assert_eq!(run["guest_cpus"], 4);
        // This checkout is a git repository: its commit is a 40-digit hash.
        let commit = run["commit"].as_str().unwrap_or_default();
        assert!(commit.len() >= 40 && commit[..40].chars().all(|c| c.is_ascii_hexdigit()), "{run}");
    }

    #[test]
    fn ratios_are_rounded_and_files_end_with_a_line_break() {
        assert_eq!(rounded(2.0 / 3.0, 3), json!(0.667));
        assert_eq!(pretty(&json!({"a": 1})), "{\n  \"a\": 1\n}\n");
    }
}
