//! `bench pairs P [N]`: P pairs of `bench_ping` and `bench_pong` at once, pair i on CPU
//! i % CPUs (both actors of a pair on that CPU, for good), each making N round trips of
//! [`DEFAULT_SIZE`] bytes: how the message path scales with CPUs when the pairs share nothing
//! but the kernel.
//!
//! The aggregate is every pair's round trips over the time from the first pair's first round
//! trip to the last pair's last, on the kernel clock each ping reads around its loop
//! ([`IpcSummary::started_ns`], [`IpcSummary::elapsed_ns`]). The pairs are given their
//! parameters only once all are started ([`run_pairs`]), so they begin together; what a ping
//! does before and after its loop (its setup, sorting its samples) is not counted.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use sdk::System;

use super::DEFAULT_SIZE;
use super::ipc::{IpcSummary, Placement, cpu_count, run_pairs};

/// Most pairs one run starts (two actors each, every sample kept by its ping).
pub const MAX_PAIRS: u32 = 16;
/// Most round trips each pair makes: a ping keeps 8 bytes a sample, so 16 pairs of the most
/// hold 12.5 MiB.
pub const MAX_PAIR_TRIPS: u32 = 100_000;

/// Runs `bench pairs`: `count` pairs of `trips` round trips each; returns what to print.
pub async fn pairs(system: &System, count: u32, trips: u32) -> String {
    match run(system, count, trips).await {
        Ok(text) => text,
        Err(why) => format!("bench pairs: {why}\n"),
    }
}

async fn run(system: &System, count: u32, trips: u32) -> Result<String, String> {
    if !(1..=MAX_PAIRS).contains(&count) || !(1..=MAX_PAIR_TRIPS).contains(&trips) {
        return Err(format!("P must be 1 to {MAX_PAIRS} and N 1 to {MAX_PAIR_TRIPS}"));
    }
    let cpus = cpu_count(system)?;
    // On one CPU more pairs only take turns: the figure would say nothing about scaling.
    if count > 1 && cpus < 2 {
        return Err(format!(
            "{count} pairs need two CPUs; this machine has {cpus} (bench pairs 1 runs on one)"
        ));
    }
    let placements: Vec<Placement> = (0..count).map(|i| Placement::same(i % cpus.max(1))).collect();
    let summaries = run_pairs(system, &placements, trips, DEFAULT_SIZE, false).await?;
    Ok(show(&placements, &summaries, cpus))
}

/// Every pair's round trips, and the ns from the first pair's start to the last pair's end.
fn aggregate(summaries: &[IpcSummary]) -> (u64, u64) {
    let total = summaries.iter().map(|s| s.trips).sum();
    let first = summaries.iter().map(|s| s.started_ns).min().unwrap_or(0);
    let last = summaries.iter().map(|s| s.started_ns.saturating_add(s.elapsed_ns)).max().unwrap_or(0);
    let longest = summaries.iter().map(|s| s.elapsed_ns).max().unwrap_or(0);
    // Every run lies inside the span; were the CPUs' clocks to disagree, the span could come out
    // shorter than a run, and the longest run is then the honest lower bound.
    (total, last.saturating_sub(first).max(longest))
}

/// The figures of `summaries`, the pairs placed at `placements`, on a machine of `cpus` CPUs.
fn show(placements: &[Placement], summaries: &[IpcSummary], cpus: u32) -> String {
    let first = summaries.iter().map(|s| s.started_ns).min().unwrap_or(0);
    let each = summaries.first().map_or(0, |s| s.trips);
    let mut text = format!(
        "pairs: {} x bench_ping <-> bench_pong at once, {each} round trips of {DEFAULT_SIZE} bytes each, pair i \
         on CPU i % {cpus}\n",
        summaries.len()
    );
    for (i, (placement, summary)) in placements.iter().zip(summaries).enumerate() {
        let _ = writeln!(
            text,
            "  pair {i} on CPU {}: p50 {} ns, {} round trips/s over its own {} ns, begun {} ns after the first",
            placement.ping,
            summary.percentiles[1],
            summary.per_second(summary.trips),
            summary.elapsed_ns,
            summary.started_ns.saturating_sub(first),
        );
    }
    let (total, span) = aggregate(summaries);
    let _ = writeln!(
        text,
        "  aggregate: {} round trips/s: {total} round trips in {span} ns, from the first pair's first round trip \
         to the last pair's last",
        (u128::from(total) * 1_000_000_000 / u128::from(span.max(1))) as u64,
    );
    text
}

#[cfg(test)]
mod tests {
    use sdk::rt::block_on;
    use sdk::sys;

    use super::*;

    /// A pair's summary: `trips` round trips begun at `started_ns`, lasting `elapsed_ns`.
    fn run_of(trips: u64, started_ns: u64, elapsed_ns: u64) -> IpcSummary {
        IpcSummary {
            trips,
            size: 8,
            percentiles: [900, 1000, 1100, 1500, 9000],
            elapsed_ns,
            clock_ns: 40,
            histogram: [0; 9],
            started_ns,
        }
    }

    #[test]
    fn the_aggregate_spans_the_first_start_to_the_last_end() {
        let staggered = [run_of(1000, 5_000, 2_000_000), run_of(1000, 105_000, 1_950_000)];
        assert_eq!(aggregate(&staggered), (2000, 2_050_000));
        // A clock that disagrees cannot make the span shorter than a run.
        let skewed = [run_of(1000, 5_000_000, 2_000_000), run_of(1000, 0, 1_000_000)];
        assert_eq!(aggregate(&skewed), (2000, 7_000_000));
        let inverted = [run_of(1000, 0, 2_000_000), run_of(1000, 500_000, 1_000_000)];
        assert_eq!(aggregate(&inverted), (2000, 2_000_000));
        assert_eq!(aggregate(&[]), (0, 0));
    }

    #[test]
    fn each_pair_and_the_aggregate_are_shown() {
        let placements = [Placement::same(0), Placement::same(1)];
        let text = show(&placements, &[run_of(1000, 5_000, 2_000_000), run_of(1000, 105_000, 1_950_000)], 2);
        assert_eq!(
            text,
            "pairs: 2 x bench_ping <-> bench_pong at once, 1000 round trips of 8 bytes each, pair i on CPU i % 2\n  \
             pair 0 on CPU 0: p50 1000 ns, 500000 round trips/s over its own 2000000 ns, begun 0 ns after the first\n  \
             pair 1 on CPU 1: p50 1000 ns, 512820 round trips/s over its own 1950000 ns, begun 100000 ns after the \
             first\n  aggregate: 975609 round trips/s: 2000 round trips in 2050000 ns, from the first pair's first \
             round trip to the last pair's last\n"
        );
    }

    #[test]
    fn counts_out_of_range_and_missing_cpus_are_refused_before_anything_starts() {
        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32);
        let refused = "bench pairs: P must be 1 to 16 and N 1 to 100000\n";
        assert_eq!(block_on(pairs(&system, 0, 10)), refused);
        assert_eq!(block_on(pairs(&system, 17, 10)), refused);
        assert_eq!(block_on(pairs(&system, 2, 100_001)), refused);
        assert_eq!(
            block_on(pairs(&system, 2, 10)),
            "bench pairs: 2 pairs need two CPUs; this machine has 1 (bench pairs 1 runs on one)\n"
        );
        let all = system.processes().unwrap();
        assert_eq!(all.iter().map(|p| p.pid).collect::<Vec<_>>(), [kernel.pid()], "nothing was started");
    }
}
