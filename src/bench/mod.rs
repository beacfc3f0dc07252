//! `minimalos bench` (`make bench`): boots an image of its own headless (the default ramdisk
//! with `actors/bench.manifest`: the system actors and nothing else), types the shell's `bench`
//! commands, then the lines of `actors/bench.msh` (the user's own benchmarks), and reads what
//! they print. It writes to `build/bench/`: `results.json` and `results.md`, the raw samples
//! (`samples.csv`), their histograms (`histograms.csv`) and plots (`plots/`, see [`files`]);
//! the console goes to `bench.serial.log`, and a short table to the terminal. Only figures
//! read off the console are written. With several CPUs (`SMP=N`) it also measures across them
//! ([`smp`]).
//!
//! The parsers are public so that the QEMU test reads the shell's answer the same way.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

mod answers;
mod files;
mod net;
mod plots;
mod prompt;
mod samples;
mod scripted;
mod smp;
mod wasi;

pub use prompt::{ask, booted_cpus, wait_for_boot};
pub use wasi::{parse_throughput, parse_time, start_to_exit_us};

pub use answers::{
    ConsoleFigures, IpcFigures, PairsFigures, PathFigures, Percentiles, RoundTripAlive, SpawnFigures,
    parse_console, parse_ipc, parse_native, parse_pairs, parse_path, parse_spawn,
};

use self::samples::Series;
use crate::artifacts;
use crate::interp::{self, Comparison};
use crate::iso::{self, IsoOptions};
use crate::provenance;
use crate::qemu::{self, Accel, GdbServer, Machine, QemuOptions};

/// What the shell shows when it waits for a line.
pub const PROMPT: &str = "msh> ";
/// The start of the kernel's last boot line, `boot complete; N tasks on M CPU(s)`, written once
/// init has started every actor of the manifest.
pub const BOOT_COMPLETE: &str = "boot complete; ";
/// What ends every answer: its last line break, then the prompt. (A prompt drawn again after a
/// kernel log line follows the log line's own `\n` alone.)
const ANSWER_END: &str = "\r\nmsh> ";
/// Round trips of the warm-up run, whose figures are dropped.
const WARM_UP: u32 = 1000;
/// Round trips of a measured run.
pub const TRIPS: u32 = 10_000;
/// Measured runs of `bench ipc` and `bench ipc-native`; the run with the median p50 is reported
/// (under TCG a run's figures move by several percent with the host's load).
const RUNS: usize = 5;
/// Round trips of `bench preempt`: fewer, as each may wait for the hog's time slices.
const PREEMPT_TRIPS: u32 = 1000;
/// The hogs `bench preempt` runs beside the round trips (the shell's words), with the JSON key
/// and the table row of each.
const HOGS: [(&str, &str, &str); 3] = [
    ("spin", "preempt_rt_ns", "a spinning loop"),
    ("bulk", "preempt_bulk_rt_ns", "a loop of 16 MiB memory.fill and memory.copy"),
    ("log", "preempt_log_rt_ns", "a flood of 1 KiB sys_log lines"),
];
/// Round trips of the kernel-native ping-pong.
const NATIVE_TRIPS: u32 = 100_000;
/// Actors `bench spawn` starts, all alive at once.
const SPAWNS: u32 = 10_000;
/// Guest memory of the benchmark machine, MiB: room for [`SPAWNS`] idle actors.
const MEMORY_MIB: u32 = 2048;
/// Lines `bench console` draws.
const CONSOLE_LINES: u32 = 1000;
/// Generous for a UEFI boot under TCG on a loaded host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest wait for one benchmark's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// Everything `make bench` measured.
#[derive(Debug, Default)]
struct Results {
    accel: Accel,
    /// Guest CPUs.
    cpus: u32,
    /// The Wasm engine the kernel was built with (`ENGINE`).
    engine: &'static str,
    ipc: Option<IpcFigures>,
    /// The p50 of every `bench ipc` run, in the order they ran.
    ipc_p50s: Vec<u64>,
    native: Option<Percentiles>,
    /// The p50 of every `bench ipc-native` run.
    native_p50s: Vec<u64>,
    spawn: Option<SpawnFigures>,
    /// `bench preempt` beside each of [`HOGS`], in that order.
    preempt: Vec<Option<IpcFigures>>,
    /// `bench wasm` and the same workloads on the host.
    interp: Option<Comparison>,
    path: Option<PathFigures>,
    console: Option<ConsoleFigures>,
    /// Every sample of the runs that logged them, the shell's and `actors/bench.msh`'s.
    series: Vec<Series>,
    /// WASI programs: start to exit, throughput, SQLite.
    wasi: Option<wasi::WasiFigures>,
    /// Across CPUs, with several.
    smp: Option<smp::SmpFigures>,
    /// The network, from the host's side.
    net: Option<net::NetFigures>,
}

impl Results {
    /// How many times slower the Wasm round trip is than the native one, at p50.
    fn wasm_native_ratio(&self) -> Option<f64> {
        let (wasm, native) = (self.ipc?.rt_ns.p50, self.native?.p50);
        (native > 0).then(|| wasm as f64 / native as f64)
    }

    fn json(&self) -> Value {
        let mut json = json!({ "run": provenance::describe(self.accel, self.cpus), "engine": self.engine, "smp": self.cpus });
        let mut put = |key: &str, value: Value| json[key] = value;
        if let Some(ipc) = &self.ipc {
            put("tsc_mhz", json!(ipc.tsc_mhz));
            put("n", json!(ipc.trips));
            put("ipc_wasm_rt_ns", ipc.rt_ns.json());
            put("ipc_wasm_p50_runs_ns", json!(self.ipc_p50s));
            put("ipc_wasm_messages_per_s", json!(ipc.messages_per_s));
            put("clock_call_ns", json!(ipc.clock_ns));
            put("ipc_wasm_p50_less_clock_ns", json!(ipc.p50_less_clock()));
        }
        if let Some(native) = &self.native {
            put("ipc_native_rt_ns", native.json());
            put("ipc_native_p50_runs_ns", json!(self.native_p50s));
        }
        if let Some(ratio) = self.wasm_native_ratio() {
            put("ipc_wasm_native_p50_ratio", provenance::rounded(ratio, 2));
        }
        for (key, value) in self.smp.iter().flat_map(smp::SmpFigures::json) {
            put(&key, value);
        }
        if let Some(spawn) = &self.spawn {
            let [min, p50, p99, mean, max] = spawn.start_us;
            put("spawn_actors", json!(spawn.actors));
            put("spawn_us", json!({"min": min, "p50": p50, "p99": p99, "mean": mean, "max": max}));
            put("idle_actor_bytes", json!(spawn.physical_bytes));
            put("idle_actor_kib", json!({"kernel_heap": spawn.heap_kib, "charged": spawn.charged_kib}));
            if let Some(rt) = spawn.rt_alive {
                put(
                    "ipc_wasm_rt_ns_10k_alive",
                    json!({"alive": {rt.few.to_string(): rt.few_ns, spawn.actors.to_string(): rt.all_ns}}),
                );
            }
        }
        for ((_, key, _), preempt) in HOGS.iter().zip(&self.preempt) {
            if let Some(preempt) = preempt {
                put(key, preempt.rt_ns.json());
            }
        }
        if let Some(interp) = &self.interp {
            put("interp", interp.json());
        }
        if let Some(path) = &self.path {
            put(
                "path_ns",
                json!({"host_call": path.host_call_ns, "send_try_recv": path.send_try_recv_ns, "yield": path.yield_ns}),
            );
        }
        if !self.series.is_empty() {
            let mut series = serde_json::Map::new();
            for (name, samples) in samples::pooled(&self.series) {
                let runs = self.series.iter().filter(|s| s.name == name).count();
                let ns = samples::percentiles(&samples).map_or(Value::Null, |p| p.json());
                series.insert(name.into(), json!({"runs": runs, "samples": samples.len(), "ns": ns}));
            }
            put("series", Value::Object(series));
        }
        if let Some(wasi) = &self.wasi {
            put("wasi", wasi.json());
        }
        for (key, value) in self.net.iter().flat_map(net::NetFigures::json) {
            put(key, value);
        }
        if let Some(console) = &self.console {
            put(
                &format!("console_{}_lines", console.lines),
                json!({"wall_ms": console.wall_ms, "ui_server_cpu_ms": console.ui_server_cpu_ms}),
            );
        }
        json
    }

    /// The round trips' percentiles as a Markdown table: the shell's benchmarks, then every
    /// series of raw samples (all runs pooled). `make bench` prints it when done.
    fn latency_table(&self) -> String {
        let mut md = String::from(
            "| round trip, ns | min | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
        );
        let row = |name: &str, p: &Percentiles| {
            format!("| {name} | {} | {} | {} | {} | {} |\n", p.min, p.p50, p.p90, p.p99, p.max)
        };
        if let Some(ipc) = &self.ipc {
            md += &row(&format!("Wasm IPC ({} trips, median run)", ipc.trips), &ipc.rt_ns);
        }
        if let Some(xcore) = self.smp.as_ref().and_then(|smp| smp.xcore.as_ref()) {
            md += &row(
                &format!("Wasm IPC across CPUs 0 and 1 ({} trips, median run)", xcore.trips),
                &xcore.rt_ns,
            );
        }
        if let Some(native) = &self.native {
            md += &row("native IPC (kernel tasks, bench ipc-native)", native);
        }
        for ((_, _, hog), preempt) in HOGS.iter().zip(&self.preempt) {
            if let Some(preempt) = preempt {
                md += &row(&format!("Wasm IPC beside {hog} ({} trips)", preempt.trips), &preempt.rt_ns);
            }
        }
        for (name, samples) in samples::pooled(&self.series) {
            if let Some(p) = samples::percentiles(&samples) {
                let runs = self.series.iter().filter(|s| s.name == name).count();
                md += &row(&format!("samples `{name}` ({} in {runs} runs, pooled)", samples.len()), &p);
            }
        }
        md
    }

    fn markdown(&self) -> String {
        let mut md = format!(
            "# MinimalOS benchmarks\n\nAccelerator: {}. Wasm engine: {}.\n\n",
            self.accel.name(),
            self.engine
        );
        md += &self.latency_table();
        if let Some(ipc) = &self.ipc {
            let _ = write!(
                md,
                "\nWasm IPC: {} messages/s; one sys_clock_ns call costs {} ns and is inside every sample \
                 (the p50 less one call: {} ns); TSC {} MHz.\n",
                ipc.messages_per_s,
                ipc.clock_ns,
                ipc.p50_less_clock(),
                ipc.tsc_mhz
            );
        }
        if !self.ipc_p50s.is_empty() {
            let _ = write!(
                md,
                "\nEach IPC row is the run with the median p50 of {} runs; the p50s of the runs: Wasm {:?}, \
                 native {:?}.\n",
                self.ipc_p50s.len(),
                self.ipc_p50s,
                self.native_p50s
            );
        }
        if let Some(ratio) = self.wasm_native_ratio() {
            let _ = writeln!(md, "\nWasm / native round trip at p50: {ratio:.2}.");
        }
        if let Some(spawn) = &self.spawn {
            let [min, p50, p99, mean, max] = spawn.start_us;
            let _ = write!(
                md,
                "\nSpawn ({} idle actors, all alive at once): start min {min} µs, p50 {p50} µs, p99 {p99} µs, \
                 mean {mean} µs, max {max} µs; per idle actor {} bytes of physical memory all in ({} KiB of \
                 kernel heap), {} KiB of kernel memory charged.\n",
                spawn.actors, spawn.physical_bytes, spawn.heap_kib, spawn.charged_kib
            );
            if let Some(rt) = spawn.rt_alive {
                let _ = writeln!(
                    md,
                    "Wasm round trip p50 with {} idle actors alive: {} ns; with {}: {} ns.",
                    rt.few, rt.few_ns, spawn.actors, rt.all_ns
                );
            }
        }
        if let Some(interp) = &self.interp {
            md += &interp.markdown();
        }
        if let Some(path) = &self.path {
            let _ = write!(
                md,
                "\nPieces of the path (bench path): a host call {} ns, sys_cap_send + sys_cap_try_recv of 8 \
                 bytes {} ns, a lone sys_yield {} ns.\n",
                path.host_call_ns, path.send_try_recv_ns, path.yield_ns
            );
        }
        if let Some(console) = &self.console {
            let _ = write!(
                md,
                "\nConsole (bench console): {} lines drawn by ui_server in {} ms, {} ms of its CPU.\n",
                console.lines, console.wall_ms, console.ui_server_cpu_ms
            );
        }
        if let Some(smp) = &self.smp {
            md += &smp.markdown(self.ipc.as_ref());
        }
        if let Some(wasi) = &self.wasi {
            md += &wasi.markdown();
        }
        md + &self.net.as_ref().map_or_else(String::new, net::NetFigures::markdown)
    }
}

/// Boots an image built with `cmdline` under `accel` with `cpus` CPUs, with `gdb`'s server.
pub(crate) fn boot(
    name: &str,
    cmdline: Option<&str>,
    accel: Accel,
    cpus: u32,
    gdb: GdbServer,
) -> Result<Machine, String> {
    boot_forwarding(name, cmdline, accel, cpus, gdb, Vec::new())
}

/// As [`boot`], with a network card when `forwards` (from the host's 127.0.0.1 to the guest's
/// TCP ports) names any.
fn boot_forwarding(
    name: &str,
    cmdline: Option<&str>,
    accel: Accel,
    cpus: u32,
    gdb: GdbServer,
    forwards: Vec<(u16, u16)>,
) -> Result<Machine, String> {
    let dir = artifacts::repo_root().join("build/bench");
    let options = IsoOptions {
        out: dir.join(format!("{name}.iso")),
        cmdline: cmdline.map(Into::into),
        limine_dir: iso::limine_dir_from_env(),
        ..IsoOptions::default()
    };
    let iso = iso::build(&options).map_err(|e| format!("building the image failed: {e}"))?;
    Machine::boot(&QemuOptions {
        accel,
        gdb,
        cpus: Some(cpus),
        memory_mib: MEMORY_MIB,
        network: !forwards.is_empty(),
        forwards,
        ..QemuOptions::new(iso)
    })
    .map_err(|e| format!("cannot start QEMU: {e}"))
}

/// The kernel command line of the benchmark image: the system actors alone.
const BENCH_CMDLINE: &str = "manifest=bench.manifest";

/// Runs every benchmark, printing progress, writes `build/bench/` and prints a summary; returns
/// the directory. `history` names earlier `results.json` files to plot beside this run's.
pub fn run(history: &[PathBuf]) -> Result<PathBuf, String> {
    let accel = Accel::from_env().map_err(|e| e.to_string())?;
    let cpus = qemu::cpus_from_env(1).map_err(|e| e.to_string())?;
    let dir = artifacts::repo_root().join("build/bench");
    let mut results = Results { accel, cpus, engine: env!("MINIMALOS_ENGINE"), ..Results::default() };
    // Read before the long run, so that a wrong path is said at once.
    let earlier = files::read_history(history)?;

    eprintln!("bench: booting the benchmark image ({BENCH_CMDLINE}) under {}", accel.name());
    let mut machine = boot("bench", Some(BENCH_CMDLINE), accel, cpus, GdbServer::Off)?;
    let measured = shell_benchmarks(&mut machine, &mut results)
        .and_then(|()| {
            results.wasi = Some(wasi::measure(&mut machine)?);
            Ok(())
        })
        .and_then(|()| scripted::run(&mut machine, &artifacts::repo_root().join(scripted::SCRIPT)));
    let log = dir.join("bench.serial.log");
    let _ = machine.save_log(&log);
    machine.kill();
    results.series.extend(measured?);
    // After QEMU has stopped, so that it does not share the CPU with the host's runs.
    if let Some(interp) = &mut results.interp {
        interp.host = interp::run_on_host(interp.engine, &artifacts::test_module("bench_interp"))?;
    }
    if let Some(wasi) = &mut results.wasi {
        wasi.wasmtime = wasi::sqlite_under_wasmtime();
    }
    results.net = Some(net::measure(accel, cpus)?);

    let json = results.json();
    files::write(&dir, &results, &json, &earlier)?;
    eprintln!("\n{}", results.latency_table());
    eprintln!("bench: the console is in {}", log.display());
    Ok(dir)
}

/// Types `line` [`RUNS`] times and returns the figures of each answer (`None` if one had none),
/// and the samples each run logged as `reported`, named `name` with the run's number.
fn repeat<T>(
    machine: &mut Machine,
    line: &str,
    parse: fn(&str) -> Option<T>,
    samples: Option<(&str, &str)>,
    series: &mut Vec<Series>,
) -> Result<Option<Vec<T>>, String> {
    let mut runs = Vec::with_capacity(RUNS);
    for run in 1..=RUNS {
        eprintln!("bench: {line} (run {run} of {RUNS})");
        let answer = ask(machine, line, ANSWER_TIMEOUT)?;
        if let Some((reported, name)) = samples {
            series.push(one_series(&answer, reported, name, run)?);
        }
        runs.push(parse(&answer));
    }
    Ok(runs.into_iter().collect())
}

/// The one series `reported` that `answer` holds, as run `run` of `name`.
fn one_series(answer: &str, reported: &str, name: &str, run: usize) -> Result<Series, String> {
    match samples::parse(answer)?.as_slice() {
        [(got, ns)] if got == reported => Ok(Series { name: name.into(), run, ns: ns.clone() }),
        other => Err(format!("{name}: expected the samples of {reported}, got {} series", other.len())),
    }
}

/// The run whose `key` is the median (the upper one of an even count).
fn median_by<T>(mut runs: Vec<T>, key: impl Fn(&T) -> u64) -> Option<T> {
    runs.sort_by_key(|run| key(run));
    let middle = runs.len() / 2;
    runs.into_iter().nth(middle)
}

/// Types `line` once, saying so, and returns the answer.
fn once(machine: &mut Machine, line: &str) -> Result<String, String> {
    eprintln!("bench: {line}");
    ask(machine, line, ANSWER_TIMEOUT)
}

/// The benchmarks typed into the shell of `machine`.
fn shell_benchmarks(machine: &mut Machine, results: &mut Results) -> Result<(), String> {
    let booted = wait_for_boot(machine, BOOT_TIMEOUT)?;
    if booted != results.cpus {
        // Figures taken on fewer CPUs than `smp` says would be recorded as the wrong machine's.
        return Err(format!(
            "SMP={} but the guest booted on {booted} CPU(s): the loader did not start the others (LIMINE_DIR=... \
             boots through Limine)",
            results.cpus
        ));
    }
    once(machine, &format!("bench ipc {WARM_UP}"))?;
    let line = format!("bench ipc {TRIPS} samples");
    let runs = repeat(machine, &line, parse_ipc, Some(("ipc", "ipc")), &mut results.series)?
        .ok_or_else(|| format!("no figures in an answer to {line}"))?;
    results.ipc_p50s = runs.iter().map(|ipc| ipc.rt_ns.p50).collect();
    results.ipc = median_by(runs, |ipc| ipc.rt_ns.p50);

    let line = format!("bench ipc-native {NATIVE_TRIPS}");
    if let Some(runs) = repeat(machine, &line, parse_native, None, &mut results.series)? {
        results.native_p50s = runs.iter().map(|native| native.p50).collect();
        results.native = median_by(runs, |native| native.p50);
    }

    // Before the hogs: the log flood leaves `ui_server` seconds of drawing, which would share
    // the CPU with the workloads and count in their wall time.
    let answer = once(machine, "bench wasm")?;
    results.interp = interp::parse_kernel(&answer).map(|kernel| Comparison {
        engine: results.engine,
        kernel,
        icount: results.accel == Accel::Icount,
        ..Comparison::default()
    });

    results.spawn = parse_spawn(&once(machine, &format!("bench spawn {SPAWNS}"))?);

    for (hog, _, _) in HOGS {
        let answer = once(machine, &format!("bench preempt {PREEMPT_TRIPS} {hog} samples"))?;
        // The log flood's own lines are the hog's, not the answer's.
        let answer: String =
            answer.lines().filter(|l| !l.contains("attack_log[")).map(|l| format!("{l}\n")).collect();
        results.series.push(one_series(&answer, "ipc", &format!("preempt-{hog}"), 1)?);
        results.preempt.push(parse_ipc(&answer));
    }

    results.path = parse_path(&once(machine, "bench path")?);
    results.console = parse_console(&once(machine, &format!("bench console {CONSOLE_LINES}"))?);
    results.smp = smp::measure(machine, results.cpus, &mut results.series)?;
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn console_figures_parse_from_their_lines() {
        let answer = "bench console 1000\r\nconsole: 1000 lines of 76 characters drawn by ui_server, one \
                      message each\r\n  wall: 5120 ms, 5120 us per line\r\n  ui_server CPU: 4800 ms, 4800 us \
                      per line\r\n";
        let console = parse_console(answer).unwrap();
        assert_eq!(console, ConsoleFigures { lines: 1000, wall_ms: 5120, ui_server_cpu_ms: 4800 });
        let json = Results { console: Some(console), ..Results::default() }.json();
        assert_eq!(json["console_1000_lines"], json!({"wall_ms": 5120, "ui_server_cpu_ms": 4800}));
        assert_eq!(parse_console("bench console: no ui_server is running\r\n"), None);
    }

    use super::*;

    const ANSWER: &str = "bench ipc 200\r\nipc round trip: 200 x 8 bytes, bench_ping <-> bench_pong\r\n  ns:     min 9000  \
        p50 11000  p90 12000  p99 15000  max 40000\r\n  cycles: min 1  p50 2  p90 3  p99 4  max 5\r\n  throughput: \
        170000 messages/s (85000 round trips/s)\r\n  clock: 300 ns per sys_clock_ns\r\n  tsc: 2495 MHz\r\n";

    #[test]
    fn the_shell_answer_gives_every_figure() {
        let ipc = parse_ipc(ANSWER).expect("figures");
        assert_eq!(ipc.trips, 200);
        assert_eq!(ipc.rt_ns, Percentiles { min: 9000, p50: 11000, p90: 12000, p99: 15000, max: 40000 });
        assert!(ipc.rt_ns.ordered());
        assert_eq!((ipc.messages_per_s, ipc.clock_ns, ipc.tsc_mhz), (170_000, 300, 2495));
        assert_eq!(ipc.p50_less_clock(), 10_700);
        assert_eq!(parse_ipc("bench ipc: N must be 1 to 1000000\r\n"), None);
        let preempt = format!("bench preempt [INFO ] init: started x\r\n1000\r\npreempt: {}", &ANSWER[15..]);
        assert_eq!(parse_ipc(&preempt).map(|p| p.rt_ns), Some(ipc.rt_ns));
    }

    #[test]
    fn the_spawn_answer_gives_time_and_memory() {
        let answer = "spawn: 40 x bench_idle.wasm\r\n  start us: min 1  p50 3  p99 5  mean 2  max 6\r\n  per actor: \
            kernel heap 8 KiB, physical memory 96 KiB = 98400 bytes, charged 130 KiB\r\n  ipc round \
            trip p50: 3000 ns with 10 idle actors alive, 3100 ns with 40 alive\r\n";
        let spawn = parse_spawn(answer).expect("figures");
        assert_eq!((spawn.actors, spawn.start_us, spawn.heap_kib), (40, [1, 3, 5, 2, 6], 8));
        assert_eq!((spawn.physical_bytes, spawn.charged_kib), (98400, 130));
        assert_eq!(spawn.rt_alive, Some(RoundTripAlive { few: 10, few_ns: 3000, all_ns: 3100 }));
        let results = Results { spawn: Some(spawn), ..Results::default() };
        assert_eq!(results.json()["idle_actor_bytes"], json!(98400));
        assert_eq!(results.json()["ipc_wasm_rt_ns_10k_alive"], json!({"alive": {"10": 3000, "40": 3100}}));
        let without_rt = parse_spawn(&answer[..answer.find("  ipc").unwrap()]).expect("figures");
        assert_eq!(without_rt.rt_alive, None);
    }

    #[test]
    fn the_median_run_is_reported_and_every_run_listed() {
        let p50 = |p: &Percentiles| p.p50;
        let runs = [7, 3, 9, 5, 4].map(|p50| Percentiles { p50, ..Percentiles::default() }).to_vec();
        assert_eq!(median_by(runs, p50).map(|p| p.p50), Some(5));
        assert_eq!(median_by(Vec::new(), p50), None);
        let results = Results {
            ipc_p50s: vec![7, 3],
            native: Some(Percentiles::default()),
            native_p50s: vec![1, 2],
            ..Results::default()
        };
        assert_eq!(results.json()["ipc_native_p50_runs_ns"], json!([1, 2]));
        assert!(results.markdown().contains("Wasm [7, 3], native [1, 2]"));
    }

    #[test]
    fn the_boot_line_gives_the_cpus() {
        let line = "[    1.234567 INFO ] boot complete; 14 tasks on 2 CPUs";
        assert_eq!(booted_cpus(line), Some(2));
        assert_eq!(booted_cpus("boot complete; 9 tasks on 1 CPU"), Some(1));
        assert_eq!(booted_cpus("boot complete; 9 tasks"), None);
    }

    #[test]
    fn figures_across_cpus_are_written_only_when_measured() {
        let one_cpu = Results { ipc: parse_ipc(ANSWER), cpus: 1, ..Results::default() };
        let json = one_cpu.json().to_string();
        assert!(!json.contains("xcore") && !json.contains("pairs"), "{json}");
        assert!(!one_cpu.markdown().contains("Several CPUs"));
        let xcore = parse_ipc(ANSWER)
            .map(|ipc| IpcFigures { rt_ns: Percentiles { p50: 22_000, ..ipc.rt_ns }, ..ipc });
        let pairs = vec![smp::PairsRuns { pairs: 1, rt_per_s: 90_000, runs: vec![90_000] }];
        let smp = smp::SmpFigures { xcore, xcore_p50s: vec![22_000], pairs };
        let two_cpus = Results { smp: Some(smp), cpus: 2, ..one_cpu };
        let json = two_cpus.json();
        assert_eq!((&json["smp"], &json["ipc_wasm_xcore_rt_ns"]["p50"]), (&json!(2), &json!(22_000)));
        assert_eq!(json["ipc_pairs_rt_per_s"], json!({"1": 90_000}));
        let md = two_cpus.markdown();
        assert!(
            md.contains("| Wasm IPC across CPUs 0 and 1 (200 trips, median run) | 9000 | 22000 |"),
            "{md}"
        );
        assert!(md.contains("against 11000 ns with both on CPU 0 (2.00×)"), "{md}");
    }

    #[test]
    fn results_name_only_what_was_measured() {
        let results = Results { ipc: parse_ipc(ANSWER), ..Results::default() };
        let json = results.json();
        assert_eq!(
            json["ipc_wasm_rt_ns"],
            json!({"min": 9000, "p50": 11000, "p90": 12000, "p99": 15000, "max": 40000})
        );
        assert_eq!((&json["tsc_mhz"], &json["n"]), (&json!(2495), &json!(200)), "{json}");
        assert!(!json.to_string().contains("native"), "{json}");
        assert_eq!(json["run"]["accel"], "tcg", "the run's provenance comes first");
        assert_eq!(json.as_object().and_then(|o| o.keys().next()).map(String::as_str), Some("run"));
        assert!(results.markdown().contains("| Wasm IPC (200 trips, median run) | 9000 | 11000 | 12000 |"));
    }
}
