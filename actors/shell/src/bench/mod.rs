//! The `bench` command: starts the benchmark actors with the endpoints they need, waits for
//! their figures and shows them.
//!
//! - [`ipc`]: `bench ipc` times round trips between `bench_ping` and `bench_pong`, both on CPU
//!   0 or (`xcore`) across CPUs 0 and 1; `bench preempt` does the same beside a CPU hog (a loop,
//!   bulk memory, a log flood) on their CPU.
//! - [`pairs`]: `bench pairs` runs several such pairs at once, one CPU each in turn.
//! - [`console`]: `bench console` writes lines to the display and times `ui_server` drawing
//!   them.
//! - here: `bench ipc-native` (the kernel's own ping-pong), `bench spawn` (starts and kills
//!   copies of `bench_idle`), `bench wasm` and `bench path` (actors that time themselves and
//!   send their figures).

mod console;
mod ipc;
mod pairs;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use sdk::rt::Instant;
use sdk::{Endpoint, MemoryInfo, Pid, Program, Rights, System};

pub use console::console;
pub use ipc::{IpcSummary, Placement, ipc, preempt};
pub use pairs::{MAX_PAIR_TRIPS, MAX_PAIRS, pairs};

/// Round trips `bench ipc` makes when none are given.
pub const DEFAULT_TRIPS: u32 = 10_000;
/// Round trips of `bench ipc-native` when none is given.
pub const DEFAULT_NATIVE_TRIPS: u32 = 100_000;
/// Round trips each pair of `bench pairs` makes when none are given.
pub const DEFAULT_PAIR_TRIPS: u32 = 20_000;
/// Payload bytes `bench ipc` sends when no size is given, and `bench pairs` always.
pub const DEFAULT_SIZE: u32 = 8;
/// Actors `bench spawn` starts when no count is given.
pub const DEFAULT_SPAWNS: u32 = 10;
/// Most actors `bench spawn` starts (the kernel refuses those its memory cannot hold).
pub const MAX_SPAWNS: u32 = 10_000;
/// Most round trips one run takes (`bench_ping` keeps every sample).
pub const MAX_TRIPS: u32 = 1_000_000;
/// Lines `bench console` writes when no count is given.
pub const DEFAULT_CONSOLE_LINES: u32 = 1000;
/// Most lines one `bench console` run writes.
pub const MAX_CONSOLE_LINES: u32 = 100_000;

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

/// Runs `bench spawn`: starts `count` idle actors, timing each start and reading the kernel's
/// memory figures before the first and after the last; past [`FEW_ALIVE`] of them, times a Wasm
/// round trip with that few alive and again with all `count`; then kills them all.
pub async fn spawn(system: &System, count: u32) -> String {
    if !(1..=MAX_SPAWNS).contains(&count) {
        return format!("bench spawn: N must be 1 to {MAX_SPAWNS}\n");
    }
    // Read before any start: the pair timed with few alive ends on its own CPUs, so figures
    // read just after it could still hold some of it.
    let Ok(before) = system.memory() else { return "bench spawn: no memory figures\n".into() };
    let mut run = SpawnRun { system, pids: Vec::new(), times: Vec::new(), failure: None };
    let few = if count > FEW_ALIVE { FEW_ALIVE } else { 0 };
    run.start(few);
    let rt_few = if few > 0 && run.failure.is_none() {
        // The first run after boot also translates the pair's code under an emulator: not timed.
        let _ = round_trip(system).await;
        Some(round_trip(system).await)
    } else {
        None
    };
    run.start(count - few);
    let after = system.memory();
    let rt_all = match rt_few {
        Some(_) if run.failure.is_none() => Some(round_trip(system).await),
        _ => None,
    };
    let unkilled = run.pids.iter().filter(|&&pid| system.kill(pid).is_err()).count();
    let mut text = run.failure.take().unwrap_or_default();
    if let (Ok(after), false) = (after, run.pids.is_empty()) {
        text += &spawn_summary(&mut run.times, &before, &after);
    }
    if let (Some(few_ns), Some(all_ns)) = (rt_few, rt_all) {
        let show =
            |rt: Result<u64, String>| rt.map_or_else(|why| format!("none ({why})"), |ns| format!("{ns} ns"));
        let _ = writeln!(
            text,
            "  ipc round trip p50: {} with {FEW_ALIVE} idle actors alive, {} with {} alive",
            show(few_ns),
            show(all_ns),
            run.pids.len()
        );
    }
    if unkilled > 0 {
        let _ = writeln!(text, "  {unkilled} of them could not be killed");
    }
    text
}

/// Idle actors alive when `bench spawn` first times a round trip.
pub const FEW_ALIVE: u32 = 10;
/// Round trips of each timing `bench spawn` makes.
const SPAWN_TRIPS: u32 = 2_000;

/// The actors one `bench spawn` started, their start times, and why it stopped early if it did.
struct SpawnRun<'s> {
    system: &'s System,
    pids: Vec<Pid>,
    times: Vec<u64>,
    failure: Option<String>,
}

impl SpawnRun<'_> {
    /// Starts `count` more copies of `bench_idle`, unless one has failed.
    fn start(&mut self, count: u32) {
        for _ in 0..count {
            if self.failure.is_some() {
                return;
            }
            let start = Instant::now();
            match self.system.spawn("bench_idle.wasm") {
                Ok(pid) => {
                    self.times.push((Instant::now().as_nanos() - start.as_nanos()).max(0) as u64);
                    self.pids.push(pid);
                }
                Err(error) => {
                    self.failure =
                        Some(format!("bench spawn: stopped after {} actors: {error}\n", self.pids.len()))
                }
            }
        }
    }
}

/// The p50 of a short `bench ipc` (both actors on CPU 0), in ns.
async fn round_trip(system: &System) -> Result<u64, String> {
    let summary = ipc::one_pair(system, Placement::same(0), SPAWN_TRIPS, DEFAULT_SIZE, false).await?;
    Ok(summary.percentiles[1])
}

/// The `bench spawn` figures: start times in µs; memory per actor, between `before` and
/// `after`.
fn spawn_summary(times: &mut [u64], before: &MemoryInfo, after: &MemoryInfo) -> String {
    times.sort_unstable();
    let n = times.len();
    let us = |ns: u64| ns / 1000;
    let per_actor = |bytes: u64| bytes / n as u64;
    let mean = times.iter().sum::<u64>() / n as u64;
    let physical = per_actor(before.physical_free.saturating_sub(after.physical_free));
    format!(
        "spawn: {n} x bench_idle.wasm\n  start us: min {}  p50 {}  p99 {}  mean {}  max {}\n  per actor: kernel \
         heap {} KiB, physical memory {} KiB = {physical} bytes, charged {} KiB\n",
        us(times[0]),
        us(times[n / 2]),
        us(times[(n * 99 / 100).min(n - 1)]),
        us(mean),
        us(times[n - 1]),
        per_actor(after.heap_used.saturating_sub(before.heap_used)) / 1024,
        physical / 1024,
        per_actor(after.charged.saturating_sub(before.charged)) / 1024,
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
    started.spawn(file, vec![theirs], None)?;
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

    /// Starts `file` with `grants`, kept on CPU `cpu` if one is given, to be killed if the
    /// benchmark is cancelled.
    fn spawn(&mut self, file: &str, grants: Vec<sdk::Capability>, cpu: Option<u32>) -> Result<Pid, String> {
        let program = grants.into_iter().fold(Program::new(file), Program::grant);
        let program = match cpu {
            Some(cpu) => program.cpu(cpu),
            None => program,
        };
        let pid = self.system.start(program).map_err(|e| format!("{file}: {e}"))?;
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
    use sdk::rt::block_on;
    use sdk::sys;

    use super::*;

    #[test]
    fn spawn_counts_out_of_range_are_refused_before_anything_starts() {
        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32);
        assert_eq!(block_on(spawn(&system, 0)), "bench spawn: N must be 1 to 10000\n");
        let all = system.processes().unwrap();
        assert_eq!(all.iter().map(|p| p.pid).collect::<Vec<_>>(), [kernel.pid()], "nothing was started");
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
            "spawn: 4 x bench_idle.wasm\n  start us: min 1  p50 3  p99 4  mean 2  max 4\n  per actor: kernel heap 8 \
             KiB, physical memory 96 KiB = 98304 bytes, charged 0 KiB\n"
        );
    }
}
