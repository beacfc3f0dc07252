//! The `bench` command: starts the benchmark actors with the endpoints they need, waits for
//! their summary and shows it. `bench ipc` times round trips between `bench_ping` and
//! `bench_pong` (raw system calls on both sides, so the path is the kernel's and the
//! interpreter's); the summary's layout is `actors/bench_ping`'s. `bench preempt` does the same
//! beside a CPU hog (a loop, bulk memory, a log flood), and `bench spawn` starts and kills copies
//! of `bench_idle`. `bench console` writes lines to the display and times `ui_server` drawing
//! them.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;
use core::mem::ManuallyDrop;

use protocol::ui;
use sdk::rt::Instant;
use sdk::{Endpoint, MemoryInfo, Pid, Rights, System, sys};

use crate::command::Hog;

/// Round trips `bench ipc` makes when none are given.
pub const DEFAULT_TRIPS: u32 = 10_000;
/// Round trips of `bench ipc-native` when none is given.
pub const DEFAULT_NATIVE_TRIPS: u32 = 100_000;
/// Payload bytes `bench ipc` sends when no size is given.
pub const DEFAULT_SIZE: u32 = 8;
/// Actors `bench spawn` starts when no count is given.
pub const DEFAULT_SPAWNS: u32 = 10;
/// Most actors `bench spawn` starts (each takes a capability table and linear memory).
pub const MAX_SPAWNS: u32 = 200;
/// Most round trips one run takes (`bench_ping` keeps every sample).
pub const MAX_TRIPS: u32 = 1_000_000;
/// Lines `bench console` writes when no count is given.
pub const DEFAULT_CONSOLE_LINES: u32 = 1000;
/// Most lines one `bench console` run writes.
pub const MAX_CONSOLE_LINES: u32 = 100_000;

/// Opcode of the parameters message and of the summary (`actors/bench_ping`).
const PARAMS: u32 = 1;
const RESULTS: u32 = 3;
/// Parameter flag: `bench_ping` logs every sample.
const REPORT_SAMPLES: u32 = 1;
/// Histogram buckets between min and p99 (`actors/bench_ping`), then one above p99.
const BUCKETS: usize = 8;
/// The summary's `u64`s: 9 figures, then the histogram.
const SUMMARY_WORDS: usize = 9 + BUCKETS + 1;
/// Widest histogram bar, in characters.
const BAR: u64 = 40;

/// One line of five percentiles, `min p50 p90 p99 max`, each through `f`.
fn percentile_row(unit: &str, [min, p50, p90, p99, max]: [u64; 5], f: &dyn Fn(u64) -> u64) -> String {
    format!("  {unit:<7} min {}  p50 {}  p90 {}  p99 {}  max {}\n", f(min), f(p50), f(p90), f(p99), f(max))
}

/// Runs `bench ipc-native`: the kernel's own ping-pong of `trips` round trips between two
/// kernel tasks, without Wasm (the floor of `bench ipc`); returns what to print.
pub fn native(system: &System, trips: u32) -> String {
    match system.bench_ipc_native(trips) {
        Ok(sdk::sys::IpcFigures { min, p50, p90, p99, max }) => format!(
            "ipc-native round trip: {trips} x 8 bytes, ipc-ping <-> ipc-pong (kernel tasks, no Wasm)\n{}",
            percentile_row("ns:", [min, p50, p90, p99, max], &|ns| ns)
        ),
        Err(error) => format!("bench ipc-native: {error}\n"),
    }
}

/// What `bench_ping` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpcSummary {
    pub trips: u64,
    pub size: u64,
    /// min, p50, p90, p99, max, in ns.
    pub percentiles: [u64; 5],
    /// The whole run, in ns.
    pub elapsed_ns: u64,
    /// One `sys_clock_ns` call, in ns (inside every sample, not subtracted).
    pub clock_ns: u64,
    /// Counts over `[min, p99]` in equal widths, then the count above p99.
    pub histogram: [u64; BUCKETS + 1],
}

impl IpcSummary {
    /// The summary in `payload`, if it has the expected size.
    pub fn parse(payload: &[u8]) -> Option<IpcSummary> {
        if payload.len() != SUMMARY_WORDS * 8 {
            return None;
        }
        let words: Vec<u64> = payload.as_chunks::<8>().0.iter().map(|&w| u64::from_le_bytes(w)).collect();
        let mut percentiles = [0; 5];
        percentiles.copy_from_slice(&words[2..7]);
        let mut histogram = [0; BUCKETS + 1];
        histogram.copy_from_slice(&words[9..]);
        Some(IpcSummary {
            trips: words[0],
            size: words[1],
            percentiles,
            elapsed_ns: words[7],
            clock_ns: words[8],
            histogram,
        })
    }

    /// The summary as the shell shows it; cycles from the TSC frequency `tsc_hz`.
    pub fn show(&self, tsc_hz: u64) -> String {
        let [min, _, _, p99, _] = self.percentiles;
        let mut text =
            format!("ipc round trip: {} x {} bytes, bench_ping <-> bench_pong\n", self.trips, self.size);
        text += &percentile_row("ns:", self.percentiles, &|ns| ns);
        text += &percentile_row("cycles:", self.percentiles, &|ns| {
            (u128::from(ns) * u128::from(tsc_hz) / 1_000_000_000) as u64
        });
        // Two messages per round trip.
        let per_second =
            |count: u64| (u128::from(count) * 1_000_000_000 / u128::from(self.elapsed_ns.max(1))) as u64;
        // The throughput is the whole run's: its mean round trip holds the slow tail and the loop's
        // own time, which the percentiles of the single trips do not; say so beside it.
        let mean = self.elapsed_ns / self.trips.max(1);
        let _ = writeln!(
            text,
            "  throughput: {} messages/s ({} round trips/s): the whole run, a mean round trip of {mean} ns \
             with the slow tail and the loop, where the p50 is the middle trip's\n  clock: {} ns per \
             sys_clock_ns, inside every sample (not subtracted)\n  tsc: {} MHz",
            per_second(2 * self.trips),
            per_second(self.trips),
            self.clock_ns,
            tsc_hz / 1_000_000
        );
        // Saturating: the figures come in a message and are not trusted to be sorted.
        let width = p99.saturating_sub(min) / BUCKETS as u64 + 1;
        let tallest = self.histogram.iter().copied().max().unwrap_or(0).max(1);
        for (i, &count) in self.histogram.iter().enumerate() {
            let range = if i < BUCKETS {
                let edge = |k: u64| min.saturating_add(width.saturating_mul(k));
                format!("{}..{}", edge(i as u64), edge(i as u64 + 1))
            } else {
                format!(">{p99}")
            };
            let bar = "#".repeat(count.saturating_mul(BAR).div_ceil(tallest) as usize);
            let _ = writeln!(text, "  {range:>15} ns {count:>7} {bar}");
        }
        text
    }
}

/// Runs `bench ipc` for `trips` round trips of `size` bytes; returns what to print.
pub async fn ipc(system: &System, trips: u32, size: u32, samples: bool) -> String {
    match run_ipc(system, trips, size, samples).await {
        Ok(summary) => summary.show(sys::sys_tsc_hz().max(0) as u64),
        Err(why) => format!("bench ipc: {why}\n"),
    }
}

/// Runs `bench preempt`: `bench ipc` with `hog` running, which is killed after.
pub async fn preempt(system: &System, trips: u32, hog: Hog, samples: bool) -> String {
    let file = hog.file();
    let mut started = Started::new(system);
    let spinner = match started.spawn(file, Vec::new()) {
        Ok(pid) => pid,
        Err(why) => return format!("bench preempt: {why}\n"),
    };
    let measured = run_ipc(system, trips, DEFAULT_SIZE, samples).await;
    started.done();
    let killed = match system.kill(spinner) {
        Ok(()) => format!("  {file} (pid {spinner}) ran throughout and is killed\n"),
        Err(error) => format!("  could not kill {file} (pid {spinner}): {error}\n"),
    };
    match measured {
        Ok(summary) => format!("preempt: {}{killed}", summary.show(sys::sys_tsc_hz().max(0) as u64)),
        Err(why) => format!("bench preempt: {why}\n{killed}"),
    }
}

/// Runs `bench spawn`: starts `count` idle actors, timing each start and reading the kernel's
/// memory figures before and after, then kills them.
pub fn spawn(system: &System, count: u32) -> String {
    if !(1..=MAX_SPAWNS).contains(&count) {
        return format!("bench spawn: N must be 1 to {MAX_SPAWNS}\n");
    }
    let Ok(before) = system.memory() else { return "bench spawn: no memory figures\n".into() };
    let mut pids = Vec::new();
    let mut times = Vec::new();
    let mut failure = None;
    for _ in 0..count {
        let start = Instant::now();
        match system.spawn("bench_idle.wasm") {
            Ok(pid) => pids.push(pid),
            Err(error) => {
                failure = Some(format!("bench spawn: stopped after {} actors: {error}\n", pids.len()));
                break;
            }
        }
        times.push((Instant::now().as_nanos() - start.as_nanos()).max(0) as u64);
    }
    let after = system.memory();
    let unkilled = pids.iter().filter(|&&pid| system.kill(pid).is_err()).count();
    let mut text = failure.unwrap_or_default();
    if let (Ok(after), false) = (after, pids.is_empty()) {
        text += &spawn_summary(&mut times, &before, &after);
    }
    if unkilled > 0 {
        let _ = writeln!(text, "  {unkilled} of them could not be killed");
    }
    text
}

/// The `bench spawn` figures: start times in µs, memory per actor in KiB.
fn spawn_summary(times: &mut [u64], before: &MemoryInfo, after: &MemoryInfo) -> String {
    times.sort_unstable();
    let n = times.len() as u64;
    let us = |ns: u64| ns / 1000;
    let per_actor_kib = |bytes: u64| bytes / n / 1024;
    let mean = times.iter().sum::<u64>() / n;
    format!(
        "spawn: {n} x bench_idle.wasm\n  start us: min {}  p50 {}  mean {}  max {}\n  per actor: kernel heap {} KiB, physical memory {} KiB\n",
        us(times[0]),
        us(times[times.len() / 2]),
        us(mean),
        us(times[times.len() - 1]),
        per_actor_kib(after.heap_used.saturating_sub(before.heap_used)),
        per_actor_kib(before.physical_free.saturating_sub(after.physical_free)),
    )
}

/// The interpreter's workloads (`tests/wasm/bench_interp.wat`, in every ramdisk under `test/`).
const INTERP_KERNEL: &str = "test/bench_interp.wasm";
/// Its workloads in the order it reports them, each with what one unit of it is.
pub const WORKLOADS: [(&str, &str); 5] = [
    ("calls", "recursive calls"),
    ("integer", "loops of 11 integer instructions"),
    ("float", "loops of 11, with f64.mul and f64.add"),
    ("memory_loop", "loops of 17, with i32.load and i32.store"),
    ("host_calls", "loops of 9, with a call of sys_tsc_hz"),
];
/// Opcode of the figures the measuring actors send.
const FIGURES: u32 = 2;

/// Runs `bench wasm`: each workload of [`INTERP_KERNEL`] once; returns what to print.
pub async fn wasm(system: &System) -> String {
    match figures::<{ 2 * WORKLOADS.len() }>(system, INTERP_KERNEL).await {
        Ok(words) => {
            let mut text = format!("wasm: the workloads of {INTERP_KERNEL} in this kernel's interpreter\n");
            for ((name, unit), figures) in WORKLOADS.iter().zip(words.as_chunks::<2>().0) {
                let [units, ns] = *figures;
                let tenths = (ns * 10).checked_div(units).unwrap_or(0);
                let _ = writeln!(
                    text,
                    "  {name:<12}{units:>8} {unit:<40}{ns:>11} ns  {}.{} ns each",
                    tenths / 10,
                    tenths % 10
                );
            }
            text
        }
        Err(why) => format!("bench wasm: {why}\n"),
    }
}

/// Starts `file` with a grant to send its figures back, and returns them: `N` little-endian
/// `u64`s in one message with opcode [`FIGURES`].
async fn figures<const N: usize>(system: &System, file: &str) -> Result<[u64; N], String> {
    let results = Endpoint::create(1).map_err(failed("endpoint"))?;
    let theirs = results.capability(Rights::WRITE | Rights::GRANT).map_err(failed("endpoint"))?;
    let mine = results.derive(Rights::READ).map_err(failed("endpoint"))?;
    drop(results);
    let mut started = Started::new(system);
    started.spawn(file, vec![theirs])?;
    let message = mine.recv().await.map_err(|_| format!("{file} ended without figures"))?;
    started.done();
    let words: Vec<u64> = message.payload.as_chunks::<8>().0.iter().map(|&w| u64::from_le_bytes(w)).collect();
    match <[u64; N]>::try_from(words) {
        Ok(words) if message.opcode == FIGURES => Ok(words),
        _ => Err(format!("unexpected message {} from {file}", message.opcode)),
    }
}

/// The path-breakdown actor (`tests/wasm/bench_path.wat`).
const PATH_KERNEL: &str = "test/bench_path.wasm";

/// Runs `bench path`: the cost of a host call, of a send and a receive without blocking, and
/// of a yield, each less the loop's own cost; returns what to print.
pub async fn path(system: &System) -> String {
    match figures(system, PATH_KERNEL).await {
        Ok([n, empty, call, ipc, yields]) if n > 0 => {
            let each = |ns: u64| ns.saturating_sub(empty) / n;
            format!(
                "path: fastest of 20 batches of {n}, less the loop's own {} ns\n  host call (sys_tsc_hz): {} ns\n  sys_cap_send + sys_cap_try_recv, 8 bytes, no wait: {} ns\n  sys_yield alone (fiber to executor and back): {} ns\n",
                empty / n,
                each(call),
                each(ipc),
                each(yields),
            )
        }
        Ok(_) => format!("bench path: {PATH_KERNEL} ran no iterations\n"),
        Err(why) => format!("bench path: {why}\n"),
    }
}

/// The display server whose drawing `bench console` times, by its name in the process table.
const DISPLAY_SERVER: &str = "ui_server";

/// Runs `bench console`: writes `lines` lines like the kernel log's to the display, each in a
/// one-way text message of its own as the shell sends its output, then a request, which
/// `ui_server` answers only once everything sent before it is drawn; reports the wall time from
/// the first line to the answer and the CPU time `ui_server` used meanwhile.
pub async fn console(system: &System, lines: u32) -> String {
    match run_console(system, lines).await {
        Ok(text) => text,
        Err(why) => format!("bench console: {why}\n"),
    }
}

async fn run_console(system: &System, lines: u32) -> Result<String, String> {
    if !(1..=MAX_CONSOLE_LINES).contains(&lines) {
        return Err(format!("N must be 1 to {MAX_CONSOLE_LINES}"));
    }
    let display = display().ok_or("no display: the manifest grants this shell no ui.req")?;
    // What was sent to the display before this command is drawn first, and not counted.
    all_drawn(&display).await?;
    let (pid, cpu_before) = server_cpu(system, None)?;
    let start = Instant::now();
    for line in 1..=lines {
        let text = console_line(line, lines);
        let sent = display.send(ui::TEXT, text.as_bytes(), None).await;
        sent.map_err(|error| format!("sending a line: {error}"))?;
    }
    all_drawn(&display).await?;
    let wall_ns = (Instant::now().as_nanos() - start.as_nanos()).max(0) as u64;
    let (_, cpu_after) = server_cpu(system, Some(pid))?;
    let cpu_ns = cpu_after.saturating_sub(cpu_before);
    let per_line_us = |ns: u64| ns / u64::from(lines) / 1000;
    let width = console_line(lines, lines).len() - 1;
    Ok(format!(
        "console: {lines} lines of {width} characters drawn by {DISPLAY_SERVER}, one message each\n  \
         wall: {} ms, {} us per line\n  {DISPLAY_SERVER} CPU: {} ms, {} us per line\n",
        wall_ns / 1_000_000,
        per_line_us(wall_ns),
        cpu_ns / 1_000_000,
        per_line_us(cpu_ns),
    ))
}

/// Waits until `ui_server` has drawn everything sent to `display` so far: it answers a request
/// only once what came before it is on the screen.
async fn all_drawn(display: &Endpoint) -> Result<(), String> {
    let reply: ui::Reply = display.call(&ui::Request::Write("")).await.map_err(failed("the request"))?;
    reply.map_err(|error| format!("{DISPLAY_SERVER} answered {error:?}"))
}

/// Line `n` of `count`, as long as a typical kernel log line, ending in a new line.
fn console_line(n: u32, count: u32) -> String {
    format!("[INFO ] console: line {n:>6} of {count}, the quick brown fox jumps over the dog\n")
}

/// A handle of the shell's own on the display's endpoint, or `None` without one. The grant
/// itself belongs to the terminal, which mirrors the shell's output through it: it is only
/// borrowed here, never closed. Without the grant, its number names no handle, or one this
/// actor closed (it keeps none of its own between commands, and handles are never reused), so
/// the copy fails.
fn display() -> Option<Endpoint> {
    let grant = ManuallyDrop::new(Endpoint::from_grant(crate::UI));
    grant.derive(Rights::WRITE).ok()
}

/// The pid of the live display server and the CPU time it has used, in ns; if `pid` is given,
/// it must still be that process (a restarted server's time starts again from zero).
fn server_cpu(system: &System, pid: Option<Pid>) -> Result<(Pid, u64), String> {
    let processes = system.processes().map_err(failed("the process table"))?;
    let server = processes
        .iter()
        .find(|p| p.name == DISPLAY_SERVER && p.state.is_live())
        .ok_or_else(|| format!("no {DISPLAY_SERVER} is running"))?;
    match pid {
        Some(pid) if pid != server.pid => Err(format!("{DISPLAY_SERVER} was restarted during the run")),
        _ => Ok((server.pid, server.cpu_ns)),
    }
}

/// Starts the pair and waits for the summary (`bench_ping` logs every sample first if
/// `samples`); or why there is none.
async fn run_ipc(system: &System, trips: u32, size: u32, samples: bool) -> Result<IpcSummary, String> {
    if !(1..=MAX_TRIPS).contains(&trips) || size as usize > sys::MAX_PAYLOAD {
        return Err(format!("N must be 1 to {MAX_TRIPS} and SIZE at most {}", sys::MAX_PAYLOAD));
    }
    let out = Endpoint::create(1).map_err(failed("endpoint"))?;
    let back = Endpoint::create(2).map_err(failed("endpoint"))?;
    let results = Endpoint::create(1).map_err(failed("endpoint"))?;
    // Queued first, so that it is the first thing the pinger reads on `back`.
    let params: Vec<u8> = [trips, size, if samples { REPORT_SAMPLES } else { 0 }]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    back.try_send(PARAMS, &params, None).map_err(|e| format!("parameters: {}", e.error))?;
    let grant = Rights::GRANT;
    let pong = [out.capability(Rights::READ | grant), back.capability(Rights::WRITE | grant)];
    let ping = [
        out.capability(Rights::WRITE | grant),
        back.capability(Rights::READ | grant),
        results.capability(Rights::WRITE | grant),
    ];
    let mine = results.derive(Rights::READ).map_err(failed("endpoint"))?;
    // Only the actors may hold the writing ends, so that each sees the other go.
    drop((out, back, results));
    let caps = |eps: &mut dyn Iterator<Item = Result<sdk::Capability, sdk::Error>>| {
        eps.collect::<Result<Vec<_>, _>>().map_err(failed("endpoint"))
    };
    let (pong, ping) = (caps(&mut pong.into_iter())?, caps(&mut ping.into_iter())?);
    let mut started = Started::new(system);
    started.spawn("bench_pong.wasm", pong)?;
    started.spawn("bench_ping.wasm", ping)?;
    let message =
        mine.recv().await.map_err(|_| String::from("bench_ping ended without a summary (see dmesg)"))?;
    started.done();
    match message.opcode {
        RESULTS => IpcSummary::parse(&message.payload).ok_or_else(|| String::from("a malformed summary")),
        other => Err(format!("unexpected message {other} from bench_ping")),
    }
}

/// The actors a benchmark started, killed if it is cancelled (Ctrl-C drops its future) before
/// it has its figures; once it has them ([`Started::done`]) they end by themselves.
struct Started<'a> {
    system: &'a System,
    pids: Vec<Pid>,
}

impl<'a> Started<'a> {
    fn new(system: &'a System) -> Started<'a> {
        Started { system, pids: Vec::new() }
    }

    /// Starts `file` with `grants`, to be killed if the benchmark is cancelled.
    fn spawn(&mut self, file: &str, grants: Vec<sdk::Capability>) -> Result<Pid, String> {
        let pid = self.system.spawn_with(file, grants).map_err(|e| format!("{file}: {e}"))?;
        self.pids.push(pid);
        Ok(pid)
    }

    /// The benchmark has its figures: nothing is left to kill.
    fn done(mut self) {
        self.pids.clear();
    }
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        for &pid in &self.pids {
            // One that already ended is not there to kill, which is as good.
            let _ = self.system.kill(pid);
        }
    }
}

/// The message for `what` failing with a kernel error.
fn failed(what: &'static str) -> impl Fn(sdk::Error) -> String {
    move |error| format!("{what}: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> IpcSummary {
        IpcSummary {
            trips: 100,
            size: 8,
            percentiles: [1000, 1100, 1200, 1800, 5000],
            elapsed_ns: 120_000,
            clock_ns: 40,
            histogram: [50, 30, 5, 5, 3, 2, 2, 2, 1],
        }
    }

    #[test]
    fn bad_counts_are_refused_before_anything_starts() {
        use sdk::rt::block_on;

        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32);
        let refused = "bench ipc: N must be 1 to 1000000 and SIZE at most 4096\n";
        assert_eq!(block_on(ipc(&system, 0, 8, false)), refused);
        assert_eq!(block_on(ipc(&system, 10, 4097, false)), refused);
        assert_eq!(spawn(&system, 0), "bench spawn: N must be 1 to 200\n");
        assert_eq!(block_on(console(&system, 0)), "bench console: N must be 1 to 100000\n");
        let all = system.processes().unwrap();
        assert_eq!(all.iter().map(|p| p.pid).collect::<Vec<_>>(), [kernel.pid()], "nothing was started");
    }

    #[test]
    fn the_console_bench_needs_a_display_and_writes_log_sized_lines() {
        use sdk::rt::block_on;

        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ) as u32);
        assert_eq!(
            block_on(console(&system, 10)),
            "bench console: no display: the manifest grants this shell no ui.req\n"
        );
        for (n, count) in [(1, 1000), (1000, 1000), (99_999, 100_000)] {
            let line = console_line(n, count);
            assert!((60..=80).contains(&line.trim_end().len()) && line.ends_with('\n'), "{line}");
        }
    }

    #[test]
    fn a_summary_out_of_order_shows_without_panicking() {
        let upside_down = IpcSummary {
            percentiles: [u64::MAX, 5, 4, 3, 0],
            histogram: [u64::MAX; BUCKETS + 1],
            ..summary()
        };
        assert!(upside_down.show(1).contains("p99 3"));
    }

    #[test]
    fn spawn_figures_are_per_actor() {
        let before = MemoryInfo {
            physical_total: 1 << 30,
            physical_free: 1 << 29,
            heap_size: 1 << 24,
            heap_used: 1 << 20,
            charged: 0,
            charge_capacity: 1 << 28,
        };
        let after = MemoryInfo {
            physical_free: before.physical_free - 4 * 96 * 1024,
            heap_used: before.heap_used + 4 * 8192,
            ..before
        };
        let text = spawn_summary(&mut [4000, 1000, 3000, 2000], &before, &after);
        assert_eq!(
            text,
            "spawn: 4 x bench_idle.wasm\n  start us: min 1  p50 3  mean 2  max 4\n  per actor: kernel heap 8 KiB, physical memory 96 KiB\n"
        );
    }

    #[test]
    fn the_summary_parses_from_its_words() {
        let s = summary();
        let mut words = Vec::from([s.trips, s.size]);
        words.extend(s.percentiles);
        words.extend([s.elapsed_ns, s.clock_ns]);
        words.extend(s.histogram);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(IpcSummary::parse(&bytes), Some(s));
        assert_eq!(IpcSummary::parse(&bytes[1..]), None);
    }

    #[test]
    fn the_summary_shows_ns_cycles_and_a_histogram() {
        let text = summary().show(2_000_000_000);
        assert!(text.contains("  ns:     min 1000  p50 1100  p90 1200  p99 1800  max 5000\n"), "{text}");
        assert!(text.contains("  cycles: min 2000  p50 2200  p90 2400  p99 3600  max 10000\n"), "{text}");
        assert!(text.contains("throughput: 1666666 messages/s (833333 round trips/s): the whole run, a mean round trip of 1200 ns"), "{text}");
        assert!(
            text.contains(&format!("  {:>15} ns {:>7} {}\n", "1000..1101", 50, "#".repeat(40))),
            "{text}"
        );
        assert!(text.contains(">1800 ns       1 #\n"), "{text}");
    }
}
