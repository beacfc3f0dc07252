//! What `make bench` writes to `build/bench/`:
//!
//! - `results.json`, `results.md`: every figure, with the run's provenance;
//! - `samples.csv`: every raw sample, `series,run,index,ns`;
//! - `histograms.csv`: each series' histogram (all runs pooled), `series,low_ns,high_ns,count`;
//! - `plots/SERIES.svg`: each series' latency distribution;
//! - `plots/history.svg`: the p50s of the earlier `results.json` files given
//!   (`make bench HISTORY="a.json b.json"`), then this run's.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Results;
use super::{plots, samples};
use crate::provenance;

/// The earlier results to plot the history with, each labelled with its commit (or its file
/// name when it has none), oldest first as given.
pub fn read_history(paths: &[PathBuf]) -> Result<Vec<(String, Value)>, String> {
    paths
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("HISTORY: {}: {e}", path.display()))?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| format!("HISTORY: {}: not JSON: {e}", path.display()))?;
            Ok((label(&json).unwrap_or_else(|| path.display().to_string()), json))
        })
        .collect()
}

/// A run's label on the history's axis: its commit, shortened.
fn label(results: &Value) -> Option<String> {
    let commit = results["run"]["commit"].as_str()?;
    let dirty = commit.ends_with("-dirty");
    let short: String = commit.chars().take(10).collect();
    Some(if dirty { format!("{short}-dirty") } else { short })
}

/// A file of `dir` written, or why not.
fn put(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A series name as a file name: what the SDK lets through, and nothing else.
fn file_name(series: &str) -> String {
    series
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect()
}

/// Writes every file of the module documentation into `dir`; `json` is `results` as JSON,
/// `earlier` the history read beforehand.
pub fn write(dir: &Path, results: &Results, json: &Value, earlier: &[(String, Value)]) -> Result<(), String> {
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| format!("{}: {e}", plots_dir.display()))?;
    put(dir, "results.json", &provenance::pretty(json))?;
    put(dir, "results.md", &results.markdown())?;
    put(dir, "samples.csv", &samples::samples_csv(&results.series))?;
    put(dir, "histograms.csv", &samples::histograms_csv(&results.series))?;
    for (name, pooled) in samples::pooled(&results.series) {
        plots::distribution(&plots_dir.join(format!("{}.svg", file_name(name))), name, &pooled)?;
    }
    if !earlier.is_empty() {
        let mut runs = earlier.to_vec();
        runs.push((label(json).unwrap_or_else(|| "this run".into()), json.clone()));
        plots::history(&plots_dir.join("history.svg"), &runs)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bench::samples::Series;

    #[test]
    fn every_file_is_written_with_what_it_says() {
        let dir = std::env::temp_dir().join(format!("minimalos-bench-files-{}", std::process::id()));
        let results = Results {
            series: vec![
                Series { name: "ipc".into(), run: 1, ns: (0..500).map(|i| 3000 + i).collect() },
                Series { name: "counter.call".into(), run: 1, ns: vec![9000, 9100, 9050] },
            ],
            ..Results::default()
        };
        let json = results.json();
        assert_eq!(
            json["series"]["counter.call"],
            json!({"runs": 1, "samples": 3, "ns": {"min": 9000, "p50": 9050, "p90": 9050, "p99": 9050, "max": 9100}})
        );
        let earlier = [("abc".to_owned(), json!({"series": {"ipc": {"ns": {"p50": 3300}}}}))];
        write(&dir, &results, &json, &earlier).unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(read("samples.csv").lines().count(), 1 + 500 + 3);
        assert!(read("histograms.csv").contains("\ncounter.call,9000,"));
        assert!(
            read("results.md").contains("| samples `counter.call` (3 in 1 runs, pooled) | 9000 | 9050 |")
        );
        assert_eq!(serde_json::from_str::<Value>(&read("results.json")).unwrap(), json);
        for plot in ["plots/ipc.svg", "plots/counter.call.svg", "plots/history.svg"] {
            assert!(read(plot).starts_with("<svg"), "{plot}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn history_files_are_labelled_by_commit_and_must_exist() {
        assert_eq!(
            label(&json!({"run": {"commit": "0123456789abcdef-dirty"}})),
            Some("0123456789-dirty".into())
        );
        assert_eq!(label(&json!({"n": 1})), None);
        let missing = read_history(&[PathBuf::from("/nonexistent/results.json")]).unwrap_err();
        assert!(missing.starts_with("HISTORY: /nonexistent/results.json: "), "{missing}");
    }
}
