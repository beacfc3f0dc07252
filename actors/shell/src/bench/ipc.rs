//! `bench ipc` and `bench preempt`: round trips between `bench_ping` and `bench_pong` (raw
//! system calls on both sides, so the path is the kernel's and the interpreter's), each actor
//! kept on a CPU of its own choosing; and [`run_pairs`], which starts any number of such pairs
//! and lets them all begin at once, for these and for `bench pairs`. The summary's layout is
//! `actors/bench_ping`'s.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use sdk::{Endpoint, Rights, System, sys};

use super::{DEFAULT_SIZE, MAX_TRIPS, Started, failed, percentile_row};
use crate::command::{Cores, Hog, Ipc};

/// Opcode of the parameters message and of the summary (`actors/bench_ping`).
const PARAMS: u32 = 1;
const RESULTS: u32 = 3;
/// Parameter flag: `bench_ping` logs every sample.
const REPORT_SAMPLES: u32 = 1;
/// Histogram buckets between min and p99 (`actors/bench_ping`), then one above p99.
const BUCKETS: usize = 8;
/// The summary's `u64`s: 9 figures, the histogram, then the clock when the round trips began.
const SUMMARY_WORDS: usize = 9 + BUCKETS + 1 + 1;
/// Widest histogram bar, in characters.
const BAR: u64 = 40;

/// The CPUs the two actors of a pair run on, each for good (`sdk::Program::cpu`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `bench_ping`'s CPU.
    pub ping: u32,
    /// `bench_pong`'s CPU.
    pub pong: u32,
}

impl Placement {
    /// Both actors on `cpu`.
    pub const fn same(cpu: u32) -> Placement {
        Placement { ping: cpu, pong: cpu }
    }

    /// Where `bench ipc` puts its pair: both on CPU 0, or across CPUs 0 and 1.
    pub const fn of(cores: Cores) -> Placement {
        match cores {
            Cores::Same => Placement::same(0),
            Cores::Cross => Placement { ping: 0, pong: 1 },
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bench_ping on CPU {} <-> bench_pong on CPU {}", self.ping, self.pong)
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
    /// The kernel clock when the first round trip began: puts runs side by side on one time
    /// line.
    pub started_ns: u64,
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
        histogram.copy_from_slice(&words[9..9 + BUCKETS + 1]);
        Some(IpcSummary {
            trips: words[0],
            size: words[1],
            percentiles,
            elapsed_ns: words[7],
            clock_ns: words[8],
            histogram,
            started_ns: words[SUMMARY_WORDS - 1],
        })
    }

    /// `count` per second of this run's whole time.
    pub fn per_second(&self, count: u64) -> u64 {
        (u128::from(count) * 1_000_000_000 / u128::from(self.elapsed_ns.max(1))) as u64
    }

    /// The summary as the shell shows it, for a pair placed at `placement`; cycles from the
    /// TSC frequency `tsc_hz`.
    pub fn show(&self, placement: Placement, tsc_hz: u64) -> String {
        let [min, _, _, p99, _] = self.percentiles;
        let mut text = format!("ipc round trip: {} x {} bytes, {placement}\n", self.trips, self.size);
        text += &percentile_row("ns:", self.percentiles, &|ns| ns);
        text += &percentile_row("cycles:", self.percentiles, &|ns| {
            (u128::from(ns) * u128::from(tsc_hz) / 1_000_000_000) as u64
        });
        // The throughput is the whole run's: its mean round trip holds the slow tail and the loop's
        // own time, which the percentiles of the single trips do not; say so beside it.
        let mean = self.elapsed_ns / self.trips.max(1);
        let _ = writeln!(
            text,
            "  throughput: {} messages/s ({} round trips/s): the whole run, a mean round trip of {mean} ns \
             with the slow tail and the loop, where the p50 is the middle trip's\n  clock: {} ns per \
             sys_clock_ns, inside every sample (not subtracted)\n  tsc: {} MHz",
            // Two messages per round trip.
            self.per_second(2 * self.trips),
            self.per_second(self.trips),
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

/// How many CPUs the kernel runs on.
pub(super) fn cpu_count(system: &System) -> Result<u32, String> {
    Ok(system.cpus().map_err(failed("the CPU list"))?.len() as u32)
}

/// Runs `bench ipc`; returns what to print.
pub async fn ipc(system: &System, Ipc { trips, size, cores, samples }: Ipc) -> String {
    let placement = Placement::of(cores);
    let measured = async {
        if cores == Cores::Cross {
            let cpus = cpu_count(system)?;
            if cpus < 2 {
                return Err(format!("xcore needs two CPUs ({placement}); this machine has {cpus}"));
            }
        }
        one_pair(system, placement, trips, size, samples).await
    };
    match measured.await {
        Ok(summary) => summary.show(placement, sys::sys_tsc_hz().max(0) as u64),
        Err(why) => format!("bench ipc: {why}\n"),
    }
}

/// Runs `bench preempt`: `bench ipc` with `hog` running on the same CPU (0, the pair's), which
/// is killed after.
pub async fn preempt(system: &System, trips: u32, hog: Hog, samples: bool) -> String {
    let placement = Placement::of(Cores::Same);
    let file = hog.file();
    let mut started = Started::new(system);
    // On the pair's CPU, for good: on another the hog would contend with nothing.
    let spinner = match started.spawn(file, Vec::new(), Some(placement.ping)) {
        Ok(pid) => pid,
        Err(why) => return format!("bench preempt: {why}\n"),
    };
    let measured = one_pair(system, placement, trips, DEFAULT_SIZE, samples).await;
    started.done();
    let killed = match system.kill(spinner) {
        Ok(()) => {
            format!("  {file} (pid {spinner}) ran throughout on CPU {} and is killed\n", placement.ping)
        }
        Err(error) => format!("  could not kill {file} (pid {spinner}): {error}\n"),
    };
    match measured {
        Ok(summary) => {
            format!("preempt: {}{killed}", summary.show(placement, sys::sys_tsc_hz().max(0) as u64))
        }
        Err(why) => format!("bench preempt: {why}\n{killed}"),
    }
}

/// [`run_pairs`] for one pair: its summary.
pub(super) async fn one_pair(
    system: &System,
    placement: Placement,
    trips: u32,
    size: u32,
    samples: bool,
) -> Result<IpcSummary, String> {
    let mut summaries = run_pairs(system, &[placement], trips, size, samples).await?;
    summaries.pop().ok_or_else(|| String::from("no summary"))
}

/// A pair started and waiting for its parameters: the shell's ends of its endpoints.
struct Waiting {
    /// Where the parameters go (WRITE): the first message `bench_ping` reads.
    back: Endpoint,
    /// Where the summary comes back (READ).
    results: Endpoint,
}

/// Starts a pair of `bench_ping` and `bench_pong` for each of `placements`, each pair making
/// `trips` round trips of `size` bytes (`bench_ping` logs every sample first if `samples`),
/// and returns each pair's summary in the same order; or why there is none. Every pair is
/// started before any is given its parameters, which the pings wait for, so that they all
/// begin together rather than each as it is started.
pub(super) async fn run_pairs(
    system: &System,
    placements: &[Placement],
    trips: u32,
    size: u32,
    samples: bool,
) -> Result<Vec<IpcSummary>, String> {
    if !(1..=MAX_TRIPS).contains(&trips) || size as usize > sys::MAX_PAYLOAD {
        return Err(format!("N must be 1 to {MAX_TRIPS} and SIZE at most {}", sys::MAX_PAYLOAD));
    }
    let mut started = Started::new(system);
    let mut waiting = Vec::with_capacity(placements.len());
    for &placement in placements {
        waiting.push(start_pair(&mut started, placement)?);
    }
    let params: Vec<u8> = [trips, size, if samples { REPORT_SAMPLES } else { 0 }]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    for pair in &waiting {
        pair.back.try_send(PARAMS, &params, None).map_err(|e| format!("parameters: {}", e.error))?;
    }
    let mut summaries = Vec::with_capacity(waiting.len());
    // Only the actors may hold the writing ends, so that each sees the other go.
    let results: Vec<Endpoint> = waiting.into_iter().map(|pair| pair.results).collect();
    for results in results {
        let message = results
            .recv()
            .await
            .map_err(|_| String::from("bench_ping ended without a summary (see dmesg)"))?;
        summaries.push(match message.opcode {
            RESULTS => {
                IpcSummary::parse(&message.payload).ok_or_else(|| String::from("a malformed summary"))?
            }
            other => return Err(format!("unexpected message {other} from bench_ping")),
        });
    }
    started.done();
    Ok(summaries)
}

/// Starts one pair at `placement` with the endpoints between its actors; `bench_ping` waits
/// for the parameters the returned ends send.
fn start_pair(started: &mut Started<'_>, placement: Placement) -> Result<Waiting, String> {
    let out = Endpoint::create(1).map_err(failed("endpoint"))?;
    // Room for the parameters and an echo.
    let back = Endpoint::create(2).map_err(failed("endpoint"))?;
    let results = Endpoint::create(1).map_err(failed("endpoint"))?;
    let grant = Rights::GRANT;
    let pong = [out.capability(Rights::READ | grant), back.capability(Rights::WRITE | grant)];
    let ping = [
        out.capability(Rights::WRITE | grant),
        back.capability(Rights::READ | grant),
        results.capability(Rights::WRITE | grant),
    ];
    let mine = Waiting {
        back: back.derive(Rights::WRITE).map_err(failed("endpoint"))?,
        results: results.derive(Rights::READ).map_err(failed("endpoint"))?,
    };
    drop((out, back, results));
    let caps = |eps: &mut dyn Iterator<Item = Result<sdk::Capability, sdk::Error>>| {
        eps.collect::<Result<Vec<_>, _>>().map_err(failed("endpoint"))
    };
    let (pong, ping) = (caps(&mut pong.into_iter())?, caps(&mut ping.into_iter())?);
    started.spawn("bench_pong.wasm", pong, Some(placement.pong))?;
    started.spawn("bench_ping.wasm", ping, Some(placement.ping))?;
    Ok(mine)
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    fn summary() -> IpcSummary {
        IpcSummary {
            trips: 100,
            size: 8,
            percentiles: [1000, 1100, 1200, 1800, 5000],
            elapsed_ns: 120_000,
            clock_ns: 40,
            histogram: [50, 30, 5, 5, 3, 2, 2, 2, 1],
            started_ns: 7_000_000,
        }
    }

    #[test]
    fn bad_counts_and_missing_cpus_are_refused_before_anything_starts() {
        use sdk::rt::block_on;

        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32);
        let ipc = |trips, size, cores| block_on(ipc(&system, Ipc { trips, size, cores, samples: false }));
        let refused = "bench ipc: N must be 1 to 1000000 and SIZE at most 4096\n";
        assert_eq!(ipc(0, 8, Cores::Same), refused);
        assert_eq!(ipc(10, 4097, Cores::Same), refused);
        assert_eq!(cpu_count(&system), Ok(1), "the host kernel runs on one CPU");
        assert_eq!(
            ipc(10, 8, Cores::Cross),
            "bench ipc: xcore needs two CPUs (bench_ping on CPU 0 <-> bench_pong on CPU 1); this machine has 1\n"
        );
        let all = system.processes().unwrap();
        assert_eq!(all.iter().map(|p| p.pid).collect::<Vec<_>>(), [kernel.pid()], "nothing was started");
    }

    #[test]
    fn the_pairs_are_placed_as_asked() {
        assert_eq!(Placement::of(Cores::Same), Placement { ping: 0, pong: 0 });
        assert_eq!(Placement::of(Cores::Cross), Placement { ping: 0, pong: 1 });
        assert_eq!(Placement::same(3).to_string(), "bench_ping on CPU 3 <-> bench_pong on CPU 3");
    }

    #[test]
    fn a_summary_out_of_order_shows_without_panicking() {
        let upside_down = IpcSummary {
            percentiles: [u64::MAX, 5, 4, 3, 0],
            histogram: [u64::MAX; BUCKETS + 1],
            ..summary()
        };
        assert!(upside_down.show(Placement::same(0), 1).contains("p99 3"));
    }

    #[test]
    fn the_summary_parses_from_its_words() {
        let s = summary();
        let mut words = Vec::from([s.trips, s.size]);
        words.extend(s.percentiles);
        words.extend([s.elapsed_ns, s.clock_ns]);
        words.extend(s.histogram);
        words.push(s.started_ns);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(IpcSummary::parse(&bytes), Some(s));
        assert_eq!(IpcSummary::parse(&bytes[1..]), None);
        assert_eq!(IpcSummary::parse(&bytes[..bytes.len() - 8]), None, "the layout before the start time");
    }

    #[test]
    fn the_summary_shows_where_it_ran_ns_cycles_and_a_histogram() {
        let text = summary().show(Placement::of(Cores::Cross), 2_000_000_000);
        assert!(
            text.starts_with(
                "ipc round trip: 100 x 8 bytes, bench_ping on CPU 0 <-> bench_pong on CPU 1\n  ns:     min 1000  \
                 p50 1100  p90 1200  p99 1800  max 5000\n"
            ),
            "{text}"
        );
        assert!(text.contains("  cycles: min 2000  p50 2200  p90 2400  p99 3600  max 10000\n"), "{text}");
        assert!(text.contains("throughput: 1666666 messages/s (833333 round trips/s): the whole run, a mean round trip of 1200 ns"), "{text}");
        assert!(
            text.contains(&format!("  {:>15} ns {:>7} {}\n", "1000..1101", 50, "#".repeat(40))),
            "{text}"
        );
        assert!(text.contains(">1800 ns       1 #\n"), "{text}");
    }
}
