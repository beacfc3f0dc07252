//! `minimalos bench` (`make bench`): boots the default image headless, types the shell's
//! `bench` commands, reads the figures they print, and writes them to `build/bench/` as
//! `results.json` and `results.md`. Only figures read off the console are written.
//!
//! The parsers are public so that the QEMU test reads the shell's answer the same way.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::artifacts;
use crate::interp::{self, Comparison};
use crate::iso::{self, IsoOptions};
use crate::provenance;
use crate::qemu::{Accel, GdbServer, Machine, QemuOptions};

/// What the shell shows when it waits for a line.
pub const PROMPT: &str = "msh> ";
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
/// Actors `bench spawn` starts.
const SPAWNS: u32 = 50;
/// Lines `bench console` draws.
const CONSOLE_LINES: u32 = 1000;
/// Generous for a UEFI boot under TCG on a loaded host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(180);
/// Longest wait for one benchmark's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// Round-trip latency percentiles, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Percentiles {
    /// Whether they rise from min to max, as sorted samples must.
    pub fn ordered(&self) -> bool {
        self.min <= self.p50 && self.p50 <= self.p90 && self.p90 <= self.p99 && self.p99 <= self.max
    }

    fn json(&self) -> Value {
        json!({"min": self.min, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max})
    }

    /// The `ns:` line of a bench answer: `min A  p50 B  p90 C  p99 D  max E`.
    fn parse(answer: &str) -> Option<Percentiles> {
        let ns = answer.lines().find(|l| l.trim_start().starts_with("ns:"))?;
        Some(Percentiles {
            min: number_after(ns, "min ")?,
            p50: number_after(ns, "p50 ")?,
            p90: number_after(ns, "p90 ")?,
            p99: number_after(ns, "p99 ")?,
            max: number_after(ns, "max ")?,
        })
    }
}

/// What the shell's `bench ipc` printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpcFigures {
    pub trips: u64,
    pub rt_ns: Percentiles,
    pub messages_per_s: u64,
    /// One `sys_clock_ns` call, included in every sample.
    pub clock_ns: u64,
    pub tsc_mhz: u64,
}

impl IpcFigures {
    /// The p50 less one clock call: about the round trip alone, as every sample holds the part
    /// of one `sys_clock_ns` call after its clock read and the part of the next before its read.
    fn p50_less_clock(&self) -> u64 {
        self.rt_ns.p50.saturating_sub(self.clock_ns)
    }
}

/// The number right after `label` in `text`.
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// What the shell's `bench path` printed: ns per host call, per send + try_recv pair, per
/// lone yield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathFigures {
    pub host_call_ns: u64,
    pub send_try_recv_ns: u64,
    pub yield_ns: u64,
}

/// The figures of a `bench path` answer, if it has them all.
pub fn parse_path(answer: &str) -> Option<PathFigures> {
    let after_colon = |label: &str| {
        let line = answer.lines().find(|l| l.trim_start().starts_with(label))?;
        number_after(line, ": ")
    };
    Some(PathFigures {
        host_call_ns: after_colon("host call")?,
        send_try_recv_ns: after_colon("sys_cap_send + sys_cap_try_recv")?,
        yield_ns: after_colon("sys_yield alone")?,
    })
}

/// The figures of a `bench ipc` answer, if it has them all.
pub fn parse_ipc(answer: &str) -> Option<IpcFigures> {
    // Kernel log lines may land anywhere in the answer, even inside the echoed command.
    let header = answer.lines().find(|l| l.contains("ipc round trip: "))?;
    Some(IpcFigures {
        trips: number_after(header, "round trip: ")?,
        rt_ns: Percentiles::parse(answer)?,
        messages_per_s: number_after(answer, "throughput: ")?,
        clock_ns: number_after(answer, "clock: ")?,
        tsc_mhz: number_after(answer, "tsc: ")?,
    })
}

/// What the shell's `bench spawn` printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnFigures {
    pub actors: u64,
    /// Start time of one actor, µs: min, p50, mean, max.
    pub start_us: [u64; 4],
    /// Per actor, KiB: kernel heap, physical memory.
    pub heap_kib: u64,
    pub physical_kib: u64,
}

/// The figures of a `bench spawn` answer, if it has them all.
pub fn parse_spawn(answer: &str) -> Option<SpawnFigures> {
    let start = answer.lines().find(|l| l.contains("start us:"))?;
    let memory = answer.lines().find(|l| l.contains("per actor:"))?;
    Some(SpawnFigures {
        actors: number_after(answer, "spawn: ")?,
        start_us: [
            number_after(start, "min ")?,
            number_after(start, "p50 ")?,
            number_after(start, "mean ")?,
            number_after(start, "max ")?,
        ],
        heap_kib: number_after(memory, "kernel heap ")?,
        physical_kib: number_after(memory, "physical memory ")?,
    })
}

/// The percentiles of a `bench ipc-native` answer, if it has them.
pub fn parse_native(answer: &str) -> Option<Percentiles> {
    answer.lines().find(|l| l.contains("ipc-native round trip: "))?;
    Percentiles::parse(answer)
}

/// What the shell's `bench console` printed: lines drawn, their wall time and `ui_server`'s
/// CPU time, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleFigures {
    pub lines: u64,
    pub wall_ms: u64,
    pub ui_server_cpu_ms: u64,
}

/// The figures of a `bench console` answer, if it has them all.
pub fn parse_console(answer: &str) -> Option<ConsoleFigures> {
    let line = |label: &str| answer.lines().find(|l| l.trim_start().starts_with(label));
    Some(ConsoleFigures {
        lines: number_after(line("console: ")?, "console: ")?,
        wall_ms: number_after(line("wall: ")?, "wall: ")?,
        ui_server_cpu_ms: number_after(line("ui_server CPU: ")?, "CPU: ")?,
    })
}

/// Types `line` into the shell and returns what it printed before its next prompt.
pub fn ask(machine: &mut Machine, line: &str, timeout: Duration) -> Result<String, String> {
    let before = machine.output();
    let prompts = before.matches(PROMPT).count();
    machine.send(&format!("{line}\r")).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        let now = machine.output();
        if now.matches(PROMPT).count() > prompts {
            let answer = &now[before.len()..];
            let end = answer.rfind(PROMPT).unwrap_or(answer.len());
            return Ok(answer[..end].to_owned());
        }
        if Instant::now() >= deadline {
            return Err(format!("no answer to `{line}` within {} s", timeout.as_secs()));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Everything `make bench` measured.
#[derive(Debug, Default)]
struct Results {
    accel: Accel,
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
}

impl Results {
    /// How many times slower the Wasm round trip is than the native one, at p50.
    fn wasm_native_ratio(&self) -> Option<f64> {
        let (wasm, native) = (self.ipc?.rt_ns.p50, self.native?.p50);
        (native > 0).then(|| wasm as f64 / native as f64)
    }

    fn json(&self) -> Value {
        let mut json = json!({ "run": provenance::describe(self.accel), "engine": self.engine });
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
        if let Some(spawn) = &self.spawn {
            let [min, p50, mean, max] = spawn.start_us;
            put("spawn_actors", json!(spawn.actors));
            put("spawn_us", json!({"min": min, "p50": p50, "mean": mean, "max": max}));
            put("spawn_kib", json!({"kernel_heap": spawn.heap_kib, "physical": spawn.physical_kib}));
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
        if let Some(console) = &self.console {
            put(
                &format!("console_{}_lines", console.lines),
                json!({"wall_ms": console.wall_ms, "ui_server_cpu_ms": console.ui_server_cpu_ms}),
            );
        }
        json
    }

    fn markdown(&self) -> String {
        let mut md = format!(
            "# MinimalOS benchmarks\n\nAccelerator: {}. Wasm engine: {}.\n\n",
            self.accel.name(),
            self.engine
        );
        md += "| figure | min | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n";
        let row = |name: &str, p: &Percentiles| {
            format!("| {name} | {} | {} | {} | {} | {} |\n", p.min, p.p50, p.p90, p.p99, p.max)
        };
        if let Some(ipc) = &self.ipc {
            md += &row(&format!("Wasm IPC round trip, ns ({} trips)", ipc.trips), &ipc.rt_ns);
        }
        if let Some(native) = &self.native {
            md += &row("native IPC round trip, ns (kernel tasks, bench ipc-native)", native);
        }
        for ((_, _, hog), preempt) in HOGS.iter().zip(&self.preempt) {
            if let Some(preempt) = preempt {
                md += &row(
                    &format!("Wasm IPC round trip beside {hog}, ns ({} trips)", preempt.trips),
                    &preempt.rt_ns,
                );
            }
        }
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
            let [min, p50, mean, max] = spawn.start_us;
            let _ = write!(
                md,
                "\nSpawn ({} idle actors): start min {min} µs, p50 {p50} µs, mean {mean} µs, max {max} µs; \
                 per actor {} KiB of kernel heap, {} KiB of physical memory.\n",
                spawn.actors, spawn.heap_kib, spawn.physical_kib
            );
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
        md
    }
}

/// Boots an image built with `cmdline` under `accel`, with `gdb`'s server.
pub(crate) fn boot(
    name: &str,
    cmdline: Option<&str>,
    accel: Accel,
    gdb: GdbServer,
) -> Result<Machine, String> {
    let dir = artifacts::repo_root().join("build/bench");
    let options = IsoOptions {
        out: dir.join(format!("{name}.iso")),
        cmdline: cmdline.map(Into::into),
        ..IsoOptions::default()
    };
    let iso = iso::build(&options).map_err(|e| format!("building the image failed: {e}"))?;
    Machine::boot(&QemuOptions { accel, gdb, ..QemuOptions::new(iso) })
        .map_err(|e| format!("cannot start QEMU: {e}"))
}

/// Runs every benchmark, printing progress, and writes `build/bench/results.{json,md}`.
pub fn run() -> Result<PathBuf, String> {
    let accel = Accel::from_env().map_err(|e| e.to_string())?;
    let dir = artifacts::repo_root().join("build/bench");
    let mut results = Results { accel, engine: env!("MINIMALOS_ENGINE"), ..Results::default() };

    eprintln!("bench: booting the default image under {}", accel.name());
    let mut machine = boot("bench", None, accel, GdbServer::Off)?;
    let measured = shell_benchmarks(&mut machine, &mut results);
    let _ = machine.save_log(&dir.join("bench.serial.log"));
    machine.kill();
    measured?;
    // After QEMU has stopped, so that it does not share the CPU with the host's runs.
    if let Some(interp) = &mut results.interp {
        interp.host = interp::run_on_host(interp.engine, &artifacts::test_module("bench_interp"))?;
    }

    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = dir.join("results.json");
    std::fs::write(&json, provenance::pretty(&results.json()))
        .map_err(|e| format!("{}: {e}", json.display()))?;
    let md = dir.join("results.md");
    std::fs::write(&md, results.markdown()).map_err(|e| format!("{}: {e}", md.display()))?;
    Ok(json)
}

/// The figures of [`RUNS`] runs of `line`, or `None` if an answer had none.
fn repeat<T>(
    machine: &mut Machine,
    line: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, String> {
    let mut runs = Vec::with_capacity(RUNS);
    for run in 1..=RUNS {
        eprintln!("bench: {line} (run {run} of {RUNS})");
        let answer = ask(machine, line, ANSWER_TIMEOUT)?;
        eprint!("{answer}");
        runs.push(parse(&answer));
    }
    Ok(runs.into_iter().collect())
}

/// The run whose `key` is the median (the upper one of an even count).
fn median_by<T>(mut runs: Vec<T>, key: impl Fn(&T) -> u64) -> Option<T> {
    runs.sort_by_key(|run| key(run));
    let middle = runs.len() / 2;
    runs.into_iter().nth(middle)
}

/// The benchmarks typed into the shell of `machine`.
fn shell_benchmarks(machine: &mut Machine, results: &mut Results) -> Result<(), String> {
    machine.wait_for(PROMPT, BOOT_TIMEOUT).map_err(|e| e.to_string())?;
    eprintln!("bench: warm-up, bench ipc {WARM_UP}");
    ask(machine, &format!("bench ipc {WARM_UP}"), ANSWER_TIMEOUT)?;
    let line = format!("bench ipc {TRIPS}");
    let runs =
        repeat(machine, &line, parse_ipc)?.ok_or_else(|| format!("no figures in an answer to {line}"))?;
    results.ipc_p50s = runs.iter().map(|ipc| ipc.rt_ns.p50).collect();
    results.ipc = median_by(runs, |ipc| ipc.rt_ns.p50);

    let native = repeat(machine, &format!("bench ipc-native {NATIVE_TRIPS}"), parse_native)?;
    if let Some(runs) = native {
        results.native_p50s = runs.iter().map(|native| native.p50).collect();
        results.native = median_by(runs, |native| native.p50);
    }

    // Before the hogs: the log flood leaves `ui_server` seconds of drawing, which would share
    // the CPU with the workloads and count in their wall time.
    eprintln!("bench: bench wasm");
    let answer = ask(machine, "bench wasm", ANSWER_TIMEOUT)?;
    eprint!("{answer}");
    results.interp = interp::parse_kernel(&answer).map(|kernel| Comparison {
        engine: results.engine,
        kernel,
        icount: results.accel == Accel::Icount,
        ..Comparison::default()
    });

    eprintln!("bench: bench spawn {SPAWNS}");
    let answer = ask(machine, &format!("bench spawn {SPAWNS}"), ANSWER_TIMEOUT)?;
    eprint!("{answer}");
    results.spawn = parse_spawn(&answer);

    for (hog, _, _) in HOGS {
        eprintln!("bench: bench preempt {PREEMPT_TRIPS} {hog}");
        let answer = ask(machine, &format!("bench preempt {PREEMPT_TRIPS} {hog}"), ANSWER_TIMEOUT)?;
        // The log flood's own lines are the hog's, not the answer's.
        let answer: String =
            answer.lines().filter(|l| !l.contains("attack_log[")).map(|l| format!("{l}\n")).collect();
        eprint!("{answer}");
        results.preempt.push(parse_ipc(&answer));
    }

    eprintln!("bench: bench path");
    let answer = ask(machine, "bench path", ANSWER_TIMEOUT)?;
    eprint!("{answer}");
    results.path = parse_path(&answer);

    eprintln!("bench: bench console {CONSOLE_LINES}");
    let answer = ask(machine, &format!("bench console {CONSOLE_LINES}"), ANSWER_TIMEOUT)?;
    eprint!("{answer}");
    results.console = parse_console(&answer);
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn path_figures_parse_from_their_lines() {
        let answer = "bench path\r\npath: fastest of 20 batches of 500, less the loop's own 78 ns\r\n  host call \
                      (sys_tsc_hz): 265 ns\r\n  sys_cap_send + sys_cap_try_recv, 8 bytes, no wait: 2661 ns\r\n  \
                      sys_yield alone (fiber to executor and back): 563 ns\r\n";
        let path = parse_path(answer).unwrap();
        assert_eq!((path.host_call_ns, path.send_try_recv_ns, path.yield_ns), (265, 2661, 563));
        assert_eq!(parse_path("bench path: test/bench_path.wasm ended without figures\r\n"), None);
    }

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
        let answer = "spawn: 4 x bench_idle.wasm\r\n  start us: min 1  p50 3  mean 2  max 4\r\n  per actor: \
            kernel heap 8 KiB, physical memory 96 KiB\r\n";
        let spawn = parse_spawn(answer).expect("figures");
        assert_eq!(spawn, SpawnFigures { actors: 4, start_us: [1, 3, 2, 4], heap_kib: 8, physical_kib: 96 });
        let results = Results { spawn: Some(spawn), ..Results::default() };
        assert_eq!(results.json()["spawn_kib"], json!({"kernel_heap": 8, "physical": 96}));
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
    fn the_native_answer_gives_its_percentiles() {
        let answer = "bench ipc-native 1000\r\nipc-native round trip: 1000 x 8 bytes, ipc-ping <-> ipc-pong \
                      (kernel tasks, no Wasm)\r\n  ns:     min 600  p50 700  p90 800  p99 900  max 5000\r\n";
        let native = parse_native(answer).expect("figures");
        assert_eq!(native, Percentiles { min: 600, p50: 700, p90: 800, p99: 900, max: 5000 });
        assert_eq!(native.json(), json!({"min": 600, "p50": 700, "p90": 800, "p99": 900, "max": 5000}));
        assert_eq!(parse_native("bench ipc-native: no rights\r\n"), None);
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
        assert!(
            results.markdown().contains("| Wasm IPC round trip, ns (200 trips) | 9000 | 11000 | 12000 |")
        );
    }
}
