//! `make yardstick`: the interpreter in MinimalOS against the same interpreter hosted by Linux,
//! in the same QEMU. Boots alternate, `YARDSTICK_ROUNDS` times (3 by default): the default
//! MinimalOS image, whose shell's `bench wasm` runs the workloads of
//! `tests/wasm/bench_interp.wat`; then a Debian kernel (`linux-image-amd64`) whose busybox
//! initramfs (`busybox-static`) runs `tools/interp-host` on the same `.wasm`, built from the
//! same engine crates, as its init. Both packages are downloaded from Debian and unpacked
//! under `build/yardstick/`, not installed. Under TCG (the default) the figures are wall time,
//! which moves by a lot from one boot of the Linux guest to the next, hence the alternation and
//! the medians; under `ACCEL=icount` both clocks count guest instructions.
//!
//! Writes `build/yardstick/results.{json,md}`: per workload, ns per unit of every boot and the
//! ratio of the medians, MinimalOS over Linux.

mod initramfs;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use self::initramfs::{Archive, Entry};
use crate::artifacts;
use crate::bench::{self, ANSWER_TIMEOUT, PROMPT};
use crate::host;
use crate::interp::{self, KernelRun};
use crate::provenance;
use crate::qemu::{Accel, GdbServer};

/// Alternations of the two boots when `YARDSTICK_ROUNDS` does not say.
const DEFAULT_ROUNDS: usize = 3;
/// CPUs each guest gets: the workloads are single-threaded, and the Linux side runs on one.
const GUEST_CPUS: u32 = 1;
/// Generous for either boot and the workloads under TCG on a loaded host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
/// How long MinimalOS is left to settle after its prompt: the services' start-up lines are
/// still being drawn on the console then, which would share the CPU with the workloads.
const SETTLE: Duration = Duration::from_secs(3);
/// What the guest's init prints around `interp-host`'s lines.
const BEGIN: &str = "yardstick: interp-host begin";
const END: &str = "yardstick: interp-host end";

/// One workload's figures in every round.
#[derive(Debug, Clone, Default)]
struct Workload {
    name: String,
    units: u64,
    /// ns of each MinimalOS boot, in round order.
    minimalos_ns: Vec<u64>,
    /// ns of each Linux boot.
    linux_ns: Vec<u64>,
}

/// Runs the comparison; returns the JSON report's path.
pub fn run() -> Result<PathBuf, String> {
    let accel = Accel::from_env().map_err(|e| e.to_string())?;
    let engine = env!("MINIMALOS_ENGINE");
    let rounds = match std::env::var("YARDSTICK_ROUNDS") {
        Ok(n) => n.parse().ok().filter(|&n| n > 0).ok_or(format!("YARDSTICK_ROUNDS={n} is not a count"))?,
        Err(_) => DEFAULT_ROUNDS,
    };
    let dir = artifacts::repo_root().join("build/yardstick");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel = linux_kernel(&dir)?;
    let initrd = dir.join("initramfs.cpio");
    let wasm = artifacts::test_module("bench_interp");
    std::fs::write(&initrd, initramfs(&dir, engine, &wasm)?)
        .map_err(|e| format!("{}: {e}", initrd.display()))?;

    let mut workloads: Vec<Workload> = Vec::new();
    for round in 1..=rounds {
        eprintln!("yardstick: round {round} of {rounds}: MinimalOS ({engine}, {})", accel.name());
        for run in minimalos(accel)? {
            workload(&mut workloads, &run.name, run.units)?.minimalos_ns.push(run.ns);
        }
        eprintln!("yardstick: round {round} of {rounds}: Linux ({engine} in interp-host)");
        for (name, units, ns) in
            linux(accel, &kernel, &initrd, &dir.join(format!("linux-{round}.serial.log")))?
        {
            workload(&mut workloads, &name, units)?.linux_ns.push(ns);
        }
    }
    let json = dir.join("results.json");
    std::fs::write(&json, provenance::pretty(&report_json(accel, engine, rounds, &workloads)))
        .map_err(|e| format!("{}: {e}", json.display()))?;
    let md = report_markdown(accel, engine, rounds, &workloads);
    print!("{md}");
    std::fs::write(dir.join("results.md"), md).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(json)
}

/// The entry for `name`, added if new; an error if it ran a different amount of work before.
fn workload<'w>(
    workloads: &'w mut Vec<Workload>,
    name: &str,
    units: u64,
) -> Result<&'w mut Workload, String> {
    let at = match workloads.iter().position(|w| w.name == name) {
        Some(at) => at,
        None => {
            workloads.push(Workload { name: name.to_owned(), units, ..Workload::default() });
            workloads.len() - 1
        }
    };
    let workload = &mut workloads[at];
    if workload.units != units {
        return Err(format!("{name} ran {units} units where it ran {} before", workload.units));
    }
    Ok(workload)
}

/// One boot of the default image: the shell's `bench wasm`.
fn minimalos(accel: Accel) -> Result<Vec<KernelRun>, String> {
    let mut machine = bench::boot("yardstick", None, accel, GUEST_CPUS, GdbServer::Off)?;
    let answer = machine.wait_for(PROMPT, BOOT_TIMEOUT).map_err(|e| e.to_string()).and_then(|()| {
        std::thread::sleep(SETTLE);
        bench::ask(&mut machine, "bench wasm", ANSWER_TIMEOUT)
    });
    machine.kill();
    let answer = answer?;
    eprint!("{answer}");
    interp::parse_kernel(&answer).ok_or_else(|| format!("no figures in the answer to bench wasm: {answer}"))
}

/// One boot of the Linux guest: `interp-host`'s lines.
fn linux(accel: Accel, kernel: &Path, initrd: &Path, log: &Path) -> Result<Vec<(String, u64, u64)>, String> {
    host::ensure(&[host::QEMU]).map_err(|e| e.to_string())?;
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35", "-cpu", "max", "-smp", &GUEST_CPUS.to_string(), "-m", "512M", "-no-reboot"])
        .args(accel.qemu_args())
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 quiet panic=-1", "-display", "none", "-serial", "stdio"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start QEMU: {e}"))?;
    let stdout = child.stdout.take().ok_or("QEMU has no stdout")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
    let deadline = std::time::Instant::now() + BOOT_TIMEOUT;
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the Linux guest did not power off within {} s", BOOT_TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = reader.join().map_err(|_| "the console reader failed")?.map_err(|e| e.to_string())?;
    let _ = std::fs::write(log, &output);
    let output = output.replace('\r', "");
    let lines = output
        .split_once(BEGIN)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(lines, _)| lines.trim())
        .ok_or_else(|| format!("the Linux guest ran no workloads; its console is in {}", log.display()))?;
    eprintln!("{lines}");
    interp::parse_host(lines)
}

/// The Debian kernel, unpacked from the package `linux-image-amd64` depends on.
fn linux_kernel(dir: &Path) -> Result<PathBuf, String> {
    let depends = Command::new("apt-cache")
        .args(["depends", "linux-image-amd64"])
        .output()
        .map_err(|e| format!("cannot run apt-cache: {e}"))?;
    let depends = String::from_utf8_lossy(&depends.stdout);
    let package = depends
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").filter(|p| p.starts_with("linux-image-")))
        .ok_or("apt-cache names no kernel package for linux-image-amd64 (run apt-get update?)")?;
    let root = host::unpack_deb(package, dir)?;
    let boot = root.join("boot");
    std::fs::read_dir(&boot)
        .map_err(|e| format!("{}: {e}", boot.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("vmlinuz-")))
        .ok_or_else(|| format!("no vmlinuz in {}", boot.display()))
}

/// The guest's root: busybox for a shell, `interp-host` with the libraries it links, the
/// module, and an init that runs it once and powers off.
fn initramfs(dir: &Path, engine: &str, wasm: &Path) -> Result<Vec<u8>, String> {
    let busybox = host::unpack_deb("busybox-static", dir)?.join("bin/busybox");
    let runner = interp::build_runner()?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let init = format!(
        "#!/bin/sh\necho {BEGIN}\n/interp-host --engine {engine} /bench_interp.wasm\necho {END} $?\n\
         /bin/busybox reboot -f\n"
    );
    let mut archive = Archive::default();
    for d in ["bin", "dev", "proc", "lib", "lib64", "lib/x86_64-linux-gnu"] {
        archive.add(d, &Entry::Dir);
    }
    archive.add("dev/console", &Entry::CharDevice { major: 5, minor: 1 });
    archive.add("bin/busybox", &Entry::File { bytes: read(&busybox)?, executable: true });
    archive.add("bin/sh", &Entry::Symlink("busybox".into()));
    archive.add("init", &Entry::File { bytes: init.into_bytes(), executable: true });
    archive.add("interp-host", &Entry::File { bytes: read(&runner)?, executable: true });
    archive.add("bench_interp.wasm", &Entry::File { bytes: read(wasm)?, executable: false });
    for library in shared_libraries(&runner)? {
        let inside = library.strip_prefix("/").unwrap_or(&library).to_string_lossy().into_owned();
        archive.add(&inside, &Entry::File { bytes: read(&library)?, executable: true });
    }
    Ok(archive.finish())
}

/// The shared libraries `binary` loads, by `ldd`: absolute paths, the loader among them.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd").arg(binary).output().map_err(|e| format!("cannot run ldd: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let libraries: Vec<PathBuf> = text
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')).map(PathBuf::from))
        .collect();
    if !out.status.success() || libraries.is_empty() {
        return Err(format!("ldd found no libraries for {}: {text}", binary.display()));
    }
    Ok(libraries)
}

/// The median of `values` (the upper one of an even count).
fn median(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

impl Workload {
    /// The median MinimalOS ns over the median Linux ns.
    fn ratio(&self) -> Option<f64> {
        let (minimalos, linux) = (median(&self.minimalos_ns)?, median(&self.linux_ns)?);
        (linux > 0).then(|| minimalos as f64 / linux as f64)
    }
}

fn report_json(accel: Accel, engine: &str, rounds: usize, workloads: &[Workload]) -> serde_json::Value {
    let mut rows = serde_json::Map::new();
    for w in workloads {
        let mut row = serde_json::json!({
            "units": w.units, "minimalos_ns": w.minimalos_ns, "linux_ns": w.linux_ns,
        });
        if let Some(ratio) = w.ratio() {
            row["ratio_of_medians"] = provenance::rounded(ratio, 3);
        }
        rows.insert(w.name.clone(), row);
    }
    serde_json::json!({
        "run": provenance::describe(accel, GUEST_CPUS),
        "engine": engine,
        "rounds": rounds,
        "workloads": rows,
    })
}

fn report_markdown(accel: Accel, engine: &str, rounds: usize, workloads: &[Workload]) -> String {
    let mut md = format!(
        "# The interpreter in MinimalOS and hosted by Linux\n\n{engine}, QEMU {}, {rounds} alternated boots \
         of each; ns per unit of work, every boot, then the ratio of the medians (MinimalOS / Linux).\n\n\
         | workload | units | MinimalOS | Linux | ratio |\n| --- | ---: | --- | --- | ---: |\n",
        accel.name()
    );
    let each = |ns: &[u64], units: u64| {
        ns.iter().map(|&n| format!("{:.1}", n as f64 / units.max(1) as f64)).collect::<Vec<_>>().join(", ")
    };
    for w in workloads {
        let ratio = w.ratio().map_or("-".into(), |r| format!("{r:.2}"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {ratio} |",
            w.name,
            w.units,
            each(&w.minimalos_ns, w.units),
            each(&w.linux_ns, w.units)
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_collect_per_workload_and_the_medians_make_the_ratio() {
        let mut workloads = Vec::new();
        for (minimalos, linux) in [(300, 100), (200, 400), (250, 150)] {
            workload(&mut workloads, "integer", 10).unwrap().minimalos_ns.push(minimalos);
            workload(&mut workloads, "integer", 10).unwrap().linux_ns.push(linux);
        }
        assert!(workload(&mut workloads, "integer", 11).is_err(), "a different amount of work");
        assert_eq!(workloads[0].ratio(), Some(250.0 / 150.0));
        let json = report_json(Accel::Tcg, "tinywasm", 3, &workloads);
        let integer = &json["workloads"]["integer"];
        assert_eq!(integer["minimalos_ns"], serde_json::json!([300, 200, 250]), "{json}");
        assert_eq!(integer["linux_ns"], serde_json::json!([100, 400, 150]), "{json}");
        assert_eq!(integer["ratio_of_medians"], serde_json::json!(1.667), "{json}");
        assert_eq!(json["run"]["accel"], "tcg");
        assert!(
            report_markdown(Accel::Tcg, "tinywasm", 3, &workloads)
                .contains("| integer | 10 | 30.0, 20.0, 25.0 | 10.0, 40.0, 15.0 | 1.67 |")
        );
    }
}
