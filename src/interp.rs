//! `make bench`'s interpreter comparison: the workloads of `test/bench_interp.wasm`
//! (`tests/wasm/bench_interp.wat`) in the kernel, as the shell's `bench wasm` reports them, and
//! natively on this host by `tools/interp-host`, which drives the same engine crates with the
//! same features and release profile. Under `ACCEL=icount` the guest clock advances one ns per
//! instruction, so the kernel's ns are its instructions; callgrind counts the host's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::host;
use crate::{artifacts, provenance};

/// One workload's figures in the kernel, as `bench wasm` printed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelRun {
    pub name: String,
    /// Calls or loop iterations it ran.
    pub units: u64,
    pub ns: u64,
}

/// One workload's figures on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRun {
    pub name: String,
    pub units: u64,
    pub ns: u64,
    /// Instructions callgrind counted in the call.
    pub instructions: u64,
}

/// The in-kernel figures of a `bench wasm` answer: its `  NAME UNITS (what) NS ns ...` lines.
pub fn parse_kernel(answer: &str) -> Option<Vec<KernelRun>> {
    let mut lines = answer.lines().skip_while(|l| !l.contains("wasm: the workloads of "));
    lines.next()?;
    let runs: Vec<KernelRun> = lines
        .map_while(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let ns_at = words.iter().position(|&w| w == "ns")?;
            Some(KernelRun {
                name: words.first()?.to_string(),
                units: words.get(1)?.parse().ok()?,
                ns: words.get(ns_at.checked_sub(1)?)?.parse().ok()?,
            })
        })
        .collect();
    (!runs.is_empty()).then_some(runs)
}

/// Builds `tools/interp-host` and runs every workload of the module at `wasm` on `engine`:
/// once natively for its time, then each alone under callgrind for its instructions.
pub fn run_on_host(engine: &str, wasm: &Path) -> Result<Vec<HostRun>, String> {
    host::ensure(&[host::VALGRIND]).map_err(|e| e.to_string())?;
    let runner = build_runner()?;
    eprintln!("bench: {engine} natively on this host: {}", wasm.display());
    let mut runs = Vec::new();
    for (name, units, ns) in parse_host(&output(Command::new(&runner).args(["--engine", engine]).arg(wasm))?)?
    {
        eprintln!("bench: {name} under callgrind");
        let counted = callgrind(&runner, engine, &name, wasm)?;
        runs.push(HostRun { name, units, ns, instructions: counted });
    }
    Ok(runs)
}

/// Builds `tools/interp-host` (release, the workspace's profile); returns its path.
pub fn build_runner() -> Result<PathBuf, String> {
    eprintln!("bench: building tools/interp-host (release, the kernel's engine crates)");
    let status = Command::new(env!("CARGO"))
        .current_dir(artifacts::repo_root())
        .args(["build", "-q", "--release", "--locked", "-p", "interp-host"])
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building interp-host failed ({status})"));
    }
    Ok(artifacts::repo_root().join("target/release/interp-host"))
}

/// `interp-host`'s lines: `NAME UNITS NS`; other lines are errors.
pub fn parse_host(stdout: &str) -> Result<Vec<(String, u64, u64)>, String> {
    stdout
        .lines()
        .map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            [name, units, ns] => match (units.parse(), ns.parse()) {
                (Ok(units), Ok(ns)) => Ok((name.to_owned(), units, ns)),
                _ => Err(format!("interp-host printed {line:?}")),
            },
            _ => Err(format!("interp-host printed {line:?}")),
        })
        .collect()
}

/// Instructions callgrind counts inside `interp_host::measured` for the workload `name`.
fn callgrind(runner: &Path, engine: &str, name: &str, wasm: &Path) -> Result<u64, String> {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=interp_host::measured",
        ])
        .arg(runner)
        .args(["--engine", engine, "--only", name])
        .arg(wasm)
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("interp-host under callgrind failed ({}): {stderr}", out.status));
    }
    stderr
        .lines()
        .find_map(|l| l.split_once("Collected : ").and_then(|(_, n)| n.trim().parse().ok()))
        .ok_or_else(|| format!("no instruction count in callgrind's output: {stderr}"))
}

/// What `cmd` printed; an error if it failed.
fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The kernel's and the host's figures for one engine.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub engine: &'static str,
    pub kernel: Vec<KernelRun>,
    pub host: Vec<HostRun>,
    /// Whether the kernel's ns are instructions (`ACCEL=icount`).
    pub icount: bool,
}

/// One workload's figures side by side.
struct Row<'a> {
    name: &'a str,
    units: u64,
    kernel_ns: u64,
    host: Option<&'a HostRun>,
    /// Kernel instructions, under icount.
    kernel_instructions: Option<u64>,
}

impl Row<'_> {
    /// Kernel instructions over host instructions, when both are known.
    fn ratio(&self) -> Option<f64> {
        let (kernel, host) = (self.kernel_instructions?, self.host?.instructions);
        (host > 0).then(|| kernel as f64 / host as f64)
    }
}

impl Comparison {
    fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.kernel.iter().map(|run| Row {
            name: &run.name,
            units: run.units,
            kernel_ns: run.ns,
            // Figures for the same amount of work only.
            host: self.host.iter().find(|h| h.name == run.name && h.units == run.units),
            kernel_instructions: self.icount.then_some(run.ns),
        })
    }

    /// `{"ENGINE": {"WORKLOAD": {...}, ...}}`, the value of `results.json`'s `interp`.
    pub fn json(&self) -> Value {
        let mut workloads = serde_json::Map::new();
        for row in self.rows() {
            let mut figures = json!({"units": row.units, "kernel_ns": row.kernel_ns});
            if let Some(instructions) = row.kernel_instructions {
                figures["kernel_instructions"] = json!(instructions);
            }
            if let Some(host) = row.host {
                figures["host_ns"] = json!(host.ns);
                figures["host_instructions"] = json!(host.instructions);
            }
            if let Some(ratio) = row.ratio() {
                figures["instructions_ratio"] = provenance::rounded(ratio, 3);
            }
            workloads.insert(row.name.to_owned(), figures);
        }
        json!({ self.engine: workloads })
    }

    /// A table of the figures per unit of work.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "\nInterpreter workloads ({}, tests/wasm/bench_interp.wat), per unit of work: in the kernel, \
             and natively on the host (tools/interp-host, callgrind):\n\n\
             | workload | units | kernel ns | host ns | kernel instructions | host instructions | ratio |\n\
             | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            self.engine
        );
        let each = |total: u64, units: u64| format!("{:.1}", total as f64 / units.max(1) as f64);
        for row in self.rows() {
            let host_ns = row.host.map_or("-".into(), |h| each(h.ns, row.units));
            let host_instructions = row.host.map_or("-".into(), |h| each(h.instructions, row.units));
            let kernel_instructions = row.kernel_instructions.map_or("-".into(), |i| each(i, row.units));
            let ratio = row.ratio().map_or("-".into(), |r| format!("{r:.2}"));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {host_ns} | {kernel_instructions} | {host_instructions} | {ratio} |",
                row.name,
                row.units,
                each(row.kernel_ns, row.units)
            );
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "bench wasm\r\nwasm: the workloads of test/bench_interp.wasm in this kernel's \
        interpreter\r\n  calls         242785 recursive calls                           41000000 ns  168.8 ns each\r\n  \
        integer      2000000 loops of 11 integer instructions             854000000 ns  427.0 ns each\r\n";

    #[test]
    fn kernel_figures_parse_from_the_answer() {
        let runs = parse_kernel(ANSWER).unwrap();
        assert_eq!(runs[0], KernelRun { name: "calls".into(), units: 242_785, ns: 41_000_000 });
        assert_eq!(runs[1], KernelRun { name: "integer".into(), units: 2_000_000, ns: 854_000_000 });
        assert_eq!(parse_kernel("bench wasm: test/bench_interp.wasm ended without figures\r\n"), None);
    }

    #[test]
    fn host_lines_parse_and_bad_ones_are_errors() {
        assert_eq!(
            parse_host("integer 2000000 33766552\n").unwrap(),
            vec![("integer".into(), 2_000_000, 33_766_552)]
        );
        assert!(parse_host("integer 2000000\n").is_err());
    }

    #[test]
    fn ratios_need_icount_and_the_same_work() {
        let host =
            |units| HostRun { name: "integer".into(), units, ns: 30_000_000, instructions: 490_000_000 };
        let mut comparison = Comparison {
            engine: "tinywasm",
            kernel: parse_kernel(ANSWER).unwrap(),
            host: vec![host(2_000_000)],
            icount: true,
        };
        let json = comparison.json();
        assert_eq!(
            json["tinywasm"]["integer"],
            json!({"units": 2000000, "kernel_ns": 854000000u64, "kernel_instructions": 854000000u64,
                   "host_ns": 30000000, "host_instructions": 490000000, "instructions_ratio": 1.743}),
            "{json}"
        );
        assert_eq!(
            json["tinywasm"]["calls"],
            json!({"units": 242785, "kernel_ns": 41000000, "kernel_instructions": 41000000}),
            "{json}"
        );
        assert!(
            comparison.markdown().contains("| integer | 2000000 | 427.0 | 15.0 | 427.0 | 245.0 | 1.74 |")
        );
        comparison.icount = false;
        assert!(!comparison.json().to_string().contains("ratio"));
        comparison.icount = true;
        comparison.host = vec![host(1)];
        assert!(!comparison.json().to_string().contains("host_ns"));
    }
}
