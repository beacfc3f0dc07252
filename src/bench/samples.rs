//! Raw samples: the series benchmark actors log on the console (`sdk::bench::report`), their
//! percentiles and histograms, and the CSV files they are written to.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::answers::Percentiles;

/// What starts the text of every sample line an actor logs.
const MARK: &str = "]: samples ";

/// Equal-width histogram buckets from the minimum to p99; one more holds what lies above p99.
pub const BUCKETS: usize = 40;

/// Every sample of one run of one benchmark, in the order taken, in ns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// The benchmark (`ipc`, `preempt-spin`, or the name an actor reported).
    pub name: String,
    /// Which run of that benchmark, from 1.
    pub run: usize,
    pub ns: Vec<u64>,
}

/// The series logged in `console`, by the name they were reported under, in the order they
/// ended. A series counts once its closing line (`samples NAME: N in all`) came and `N` is the
/// number of samples read: a line lost on the way is an error, not a thinner series.
pub fn parse(console: &str) -> Result<Vec<(String, Vec<u64>)>, String> {
    let mut open: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut done = Vec::new();
    for line in console.lines() {
        let Some(at) = line.find(MARK) else { continue };
        let text = line[at + MARK.len()..].trim_end();
        if let Some((name, values)) = text.split_once(" ns:") {
            let samples = open.entry(name).or_default();
            for value in values.split_whitespace() {
                samples.push(value.parse().map_err(|_| format!("series {name}: `{value}` is not a sample"))?);
            }
        } else if let Some((name, count)) = text.split_once(": ") {
            let count: usize = count
                .strip_suffix(" in all")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("series {name}: unreadable closing line `{text}`"))?;
            let samples = open.remove(name).unwrap_or_default();
            if samples.len() != count {
                return Err(format!("series {name}: {count} samples reported, {} read", samples.len()));
            }
            done.push((name.to_owned(), samples));
        }
    }
    match open.keys().next() {
        Some(name) => Err(format!("series {name}: no closing line")),
        None => Ok(done),
    }
}

/// The percentiles of `samples` (nearest rank, as `bench_ping` computes them); `None` if empty.
pub fn percentiles(samples: &[u64]) -> Option<Percentiles> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let at = |q: usize| sorted[(sorted.len() - 1) * q / 100];
    (!sorted.is_empty()).then(|| Percentiles {
        min: sorted[0],
        p50: at(50),
        p90: at(90),
        p99: at(99),
        max: sorted[sorted.len() - 1],
    })
}

/// One histogram bucket: samples from `low` to `high` ns, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub low: u64,
    pub high: u64,
    pub count: u64,
}

/// [`BUCKETS`] equal-width buckets from the minimum to p99, then one from p99 to the maximum
/// (the tail, which would squash the rest if drawn to scale).
pub fn histogram(samples: &[u64]) -> Vec<Bucket> {
    let Some(p) = percentiles(samples) else { return Vec::new() };
    let width = (p.p99 - p.min) / BUCKETS as u64 + 1;
    let mut buckets: Vec<Bucket> = (0..BUCKETS as u64)
        .map(|i| Bucket { low: p.min + i * width, high: p.min + (i + 1) * width - 1, count: 0 })
        .collect();
    buckets.push(Bucket { low: p.p99 + 1, high: p.max.max(p.p99 + 1), count: 0 });
    for &sample in samples {
        let index = if sample > p.p99 { BUCKETS } else { ((sample - p.min) / width) as usize };
        buckets[index.min(BUCKETS)].count += 1;
    }
    buckets
}

/// Every run's samples pooled by benchmark, in the order the benchmarks first ran.
pub fn pooled(series: &[Series]) -> Vec<(&str, Vec<u64>)> {
    let mut pools: Vec<(&str, Vec<u64>)> = Vec::new();
    for s in series {
        match pools.iter_mut().find(|(name, _)| *name == s.name) {
            Some((_, all)) => all.extend(&s.ns),
            None => pools.push((&s.name, s.ns.clone())),
        }
    }
    pools
}

/// `samples.csv`: one row per sample, `series,run,index,ns`.
pub fn samples_csv(series: &[Series]) -> String {
    let mut csv = String::from("series,run,index,ns\n");
    for s in series {
        for (index, ns) in s.ns.iter().enumerate() {
            let _ = writeln!(csv, "{},{},{index},{ns}", s.name, s.run);
        }
    }
    csv
}

/// `histograms.csv`: one row per bucket of each benchmark's pooled samples,
/// `series,low_ns,high_ns,count`.
pub fn histograms_csv(series: &[Series]) -> String {
    let mut csv = String::from("series,low_ns,high_ns,count\n");
    for (name, samples) in pooled(series) {
        for b in histogram(&samples) {
            let _ = writeln!(csv, "{name},{},{},{}", b.low, b.high, b.count);
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE: &str = "bench_ping[9]: samples ipc ns: 5 3 4\n\
        bench ipc 3 sampbench_ping[9]: samples ipc ns: 9\n\
        les\r\n[    1.000200] [INFO ] init: started x\nbench_ping[9]: samples ipc: 4 in all\n\
        counter_bench[12]: samples counter.call ns: 70 80\n\
        counter_bench[12]: samples counter.call: 2 in all\n";

    #[test]
    fn series_are_read_wherever_their_lines_land() {
        let series = parse(CONSOLE).unwrap();
        assert_eq!(series, [("ipc".into(), vec![5, 3, 4, 9]), ("counter.call".into(), vec![70, 80])]);
    }

    #[test]
    fn a_lost_line_or_a_missing_end_is_an_error() {
        let lost = CONSOLE.replace("samples ipc ns: 9", "something else");
        assert_eq!(parse(&lost), Err("series ipc: 4 samples reported, 3 read".into()));
        let unfinished = "a[1]: samples rpc ns: 1 2\n";
        assert_eq!(parse(unfinished), Err("series rpc: no closing line".into()));
        assert!(parse("a[1]: samples rpc ns: 1 x\n").unwrap_err().contains("`x` is not a sample"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<u64> = (1..=100).rev().collect();
        let p = percentiles(&samples).unwrap();
        assert_eq!((p.min, p.p50, p.p90, p.p99, p.max), (1, 50, 90, 99, 100));
        assert_eq!(percentiles(&[]), None);
    }

    #[test]
    fn the_histogram_spans_min_to_p99_and_keeps_the_tail_apart() {
        let mut samples: Vec<u64> = (0..990).map(|i| 1000 + i % 400).collect();
        samples.extend([50_000; 10]);
        let buckets = histogram(&samples);
        assert_eq!(buckets.len(), BUCKETS + 1);
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1000, "every sample in one bucket");
        assert_eq!(buckets[0].low, 1000);
        assert!(buckets.windows(2).all(|w| w[0].high < w[1].low), "{buckets:?}");
        let tail = buckets[BUCKETS];
        assert_eq!((tail.high, tail.count), (50_000, 10), "the ten above p99");
    }

    #[test]
    fn csv_files_have_a_header_and_a_row_per_sample_or_bucket() {
        let series = [
            Series { name: "ipc".into(), run: 1, ns: vec![5, 6] },
            Series { name: "ipc".into(), run: 2, ns: vec![7] },
        ];
        assert_eq!(samples_csv(&series), "series,run,index,ns\nipc,1,0,5\nipc,1,1,6\nipc,2,0,7\n");
        let histograms = histograms_csv(&series);
        assert!(histograms.starts_with("series,low_ns,high_ns,count\nipc,5,5,1\n"), "{histograms}");
        assert_eq!(histograms.lines().count(), 1 + BUCKETS + 1);
        assert_eq!(pooled(&series), [("ipc", vec![5, 6, 7])]);
    }
}
