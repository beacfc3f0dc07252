//! What `make bench` measures only when the guest has several CPUs (`SMP=N`, N >= 2), after
//! the shell's other benchmarks: the Wasm round trip across two CPUs (`bench ipc N xcore`:
//! `bench_ping` on CPU 0, `bench_pong` on CPU 1, [`RUNS`](super::RUNS) runs, the one with the median p50
//! reported, as for `bench ipc`), and the aggregate round trips per second of 1, 2, … pairs at
//! once, each on a CPU of its own (`bench pairs P`, P up to the CPUs and at most
//! [`MOST_PAIRS`], the median of as many runs each). With one CPU neither runs, and
//! `results.json` has neither key: a figure that was not measured is left out.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::answers::{IpcFigures, PairsFigures, parse_ipc, parse_pairs};
use super::samples::Series;
use super::{TRIPS, median_by, repeat};
use crate::qemu::Machine;

/// Round trips each pair of `bench pairs` makes.
pub const PAIR_TRIPS: u32 = 20_000;
/// Most pairs measured at once: enough to see the scaling, without starting more QEMU threads
/// than a laptop's cores.
pub const MOST_PAIRS: u32 = 4;

/// The aggregate throughput of one number of pairs at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairsRuns {
    /// Pairs at once.
    pub pairs: u32,
    /// The median run's round trips per second.
    pub rt_per_s: u64,
    /// Every run's, in the order they ran.
    pub runs: Vec<u64>,
}

/// What the benchmarks across CPUs measured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmpFigures {
    /// `bench ipc TRIPS xcore`: the run with the median p50.
    pub xcore: Option<IpcFigures>,
    /// The p50 of every cross-CPU run.
    pub xcore_p50s: Vec<u64>,
    /// `bench pairs P` for P from 1, as far as was measured.
    pub pairs: Vec<PairsRuns>,
}

/// Runs the benchmarks across CPUs on a guest of `cpus` CPUs, adding the cross-CPU samples to
/// `series` (as `ipc-xcore`); `None` with one CPU.
pub fn measure(
    machine: &mut Machine,
    cpus: u32,
    series: &mut Vec<Series>,
) -> Result<Option<SmpFigures>, String> {
    if cpus < 2 {
        return Ok(None);
    }
    let mut figures = SmpFigures::default();
    let line = format!("bench ipc {TRIPS} xcore samples");
    if let Some(runs) = repeat(machine, &line, parse_ipc, Some(("ipc", "ipc-xcore")), series)? {
        figures.xcore_p50s = runs.iter().map(|ipc| ipc.rt_ns.p50).collect();
        figures.xcore = median_by(runs, |ipc| ipc.rt_ns.p50);
    }
    for pairs in 1..=cpus.min(MOST_PAIRS) {
        let line = format!("bench pairs {pairs} {PAIR_TRIPS}");
        let Some(runs) = repeat(machine, &line, parse_pairs, None, series)? else { continue };
        // An answer for other pairs or trips than asked is not this figure.
        let asked =
            |run: &PairsFigures| run.pairs == u64::from(pairs) && run.trips_each == u64::from(PAIR_TRIPS);
        if runs.iter().all(asked) {
            let rates: Vec<u64> = runs.iter().map(|run| run.rt_per_s).collect();
            let rt_per_s = median_by(rates.clone(), |&rate| rate).unwrap_or_default();
            figures.pairs.push(PairsRuns { pairs, rt_per_s, runs: rates });
        }
    }
    Ok(Some(figures))
}

impl SmpFigures {
    /// How many times the throughput of one pair `pairs` at once give, if both were measured.
    pub fn scaling(&self, pairs: u32) -> Option<f64> {
        let rate = |n: u32| self.pairs.iter().find(|p| p.pairs == n).map(|p| p.rt_per_s);
        let (many, one) = (rate(pairs)?, rate(1)?);
        (one > 0).then(|| many as f64 / one as f64)
    }

    /// Its top-level entries of `results.json`: only those measured.
    pub fn json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        if let Some(xcore) = &self.xcore {
            map.insert("ipc_wasm_xcore_rt_ns".into(), xcore.rt_ns.json());
            map.insert("ipc_wasm_xcore_p50_runs_ns".into(), json!(self.xcore_p50s));
        }
        if !self.pairs.is_empty() {
            let by_count = |value: fn(&PairsRuns) -> Value| -> Map<String, Value> {
                self.pairs.iter().map(|p| (p.pairs.to_string(), value(p))).collect()
            };
            map.insert("ipc_pairs_rt_per_s".into(), Value::Object(by_count(|p| json!(p.rt_per_s))));
            map.insert("ipc_pairs_rt_per_s_runs".into(), Value::Object(by_count(|p| json!(p.runs))));
            map.insert("ipc_pairs_trips_each".into(), json!(PAIR_TRIPS));
        }
        map
    }

    /// Its section of `results.md`; `same_cpu` is `bench ipc`'s figure, for comparison.
    pub fn markdown(&self, same_cpu: Option<&IpcFigures>) -> String {
        let mut md = String::from("\n## Several CPUs\n\n");
        if let Some(xcore) = &self.xcore {
            let _ = write!(
                md,
                "Wasm IPC across CPUs (bench_ping on CPU 0, bench_pong on CPU 1): p50 {} ns, p99 {} ns",
                xcore.rt_ns.p50, xcore.rt_ns.p99
            );
            if let Some(same) = same_cpu.filter(|same| same.rt_ns.p50 > 0) {
                let ratio = xcore.rt_ns.p50 as f64 / same.rt_ns.p50 as f64;
                let _ = write!(md, ", against {} ns with both on CPU 0 ({ratio:.2}×)", same.rt_ns.p50);
            }
            let _ =
                writeln!(md, "; the p50s of the {} runs: {:?}.\n", self.xcore_p50s.len(), self.xcore_p50s);
        }
        if !self.pairs.is_empty() {
            let _ = writeln!(
                md,
                "Pairs at once (bench pairs P {PAIR_TRIPS}), pair i on CPU i, each of {PAIR_TRIPS} round trips: every \
                 pair's round trips over the time from the first pair's first round trip to the last pair's \
                 last.\n\n| pairs | round trips/s (median run) | × 1 pair | runs |\n| ---: | ---: | ---: | --- |"
            );
            for p in &self.pairs {
                let scaling = self.scaling(p.pairs).map_or_else(|| "-".into(), |x| format!("{x:.2}"));
                let _ = writeln!(md, "| {} | {} | {scaling} | {:?} |", p.pairs, p.rt_per_s, p.runs);
            }
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::answers::Percentiles;

    fn figures() -> SmpFigures {
        SmpFigures {
            xcore: Some(IpcFigures {
                trips: 10_000,
                rt_ns: Percentiles { min: 9000, p50: 12_000, p90: 13_000, p99: 20_000, max: 90_000 },
                messages_per_s: 150_000,
                clock_ns: 400,
                tsc_mhz: 2495,
            }),
            xcore_p50s: vec![12_500, 12_000, 11_900, 12_100, 11_000],
            pairs: vec![
                PairsRuns { pairs: 1, rt_per_s: 200_000, runs: vec![200_000, 190_000, 210_000] },
                PairsRuns { pairs: 2, rt_per_s: 370_000, runs: vec![370_000, 360_000, 380_000] },
            ],
        }
    }

    #[test]
    fn the_json_has_the_cross_cpu_round_trip_and_the_pairs_by_count() {
        let json = Value::Object(figures().json());
        assert_eq!(
            json["ipc_wasm_xcore_rt_ns"],
            json!({"min": 9000, "p50": 12_000, "p90": 13_000, "p99": 20_000, "max": 90_000})
        );
        assert_eq!(json["ipc_wasm_xcore_p50_runs_ns"], json!([12_500, 12_000, 11_900, 12_100, 11_000]));
        assert_eq!(json["ipc_pairs_rt_per_s"], json!({"1": 200_000, "2": 370_000}));
        assert_eq!(json["ipc_pairs_rt_per_s_runs"]["2"], json!([370_000, 360_000, 380_000]));
        assert_eq!(json["ipc_pairs_trips_each"], json!(20_000));
        assert!(SmpFigures::default().json().is_empty(), "nothing measured, nothing written");
    }

    #[test]
    fn the_markdown_compares_with_one_cpu_and_one_pair() {
        let same = IpcFigures {
            rt_ns: Percentiles { p50: 4000, ..Percentiles::default() },
            ..figures().xcore.unwrap()
        };
        let md = figures().markdown(Some(&same));
        assert!(
            md.contains("p50 12000 ns, p99 20000 ns, against 4000 ns with both on CPU 0 (3.00×)"),
            "{md}"
        );
        assert!(md.contains("| 1 | 200000 | 1.00 | [200000, 190000, 210000] |\n"), "{md}");
        assert!(md.contains("| 2 | 370000 | 1.85 | [370000, 360000, 380000] |\n"), "{md}");
        assert_eq!(figures().scaling(3), None);
    }
}
