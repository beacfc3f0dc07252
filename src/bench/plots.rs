//! `make bench`'s plots, as SVG drawn with `plotters`: the latency distribution of every
//! benchmark with raw samples, and the history of the p50s across earlier results.

use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

use super::samples::{BUCKETS, Bucket, histogram, percentiles};

/// Size of every plot, in pixels.
const SIZE: (u32, u32) = (900, 520);

/// The colours of the history's lines, in turn.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Why a plot could not be drawn.
fn failed(path: &Path) -> impl Fn(String) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

/// The distribution of `samples` (the benchmark `name`) at `path`: bars from the minimum to
/// p99, with what lies above p99 named in the caption rather than drawn to scale.
pub fn distribution(path: &Path, name: &str, samples: &[u64]) -> Result<(), String> {
    let (Some(p), buckets) = (percentiles(samples), histogram(samples)) else {
        return Err(format!("{name}: no samples to plot"));
    };
    let (bars, tail): (&[Bucket], Bucket) = (&buckets[..BUCKETS], buckets[BUCKETS]);
    let top = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let caption = format!(
        "{name}: {} samples; p50 {} ns, p99 {} ns; {} above p99, up to {} ns",
        samples.len(),
        p.p50,
        p.p99,
        tail.count,
        p.max
    );
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(p.min..p.p99 + 1, 0..top + top / 10 + 1)?;
        chart.configure_mesh().x_desc("round trip, ns").y_desc("samples").disable_x_mesh().draw()?;
        let bar = |b: &Bucket| [(b.low, 0), (b.high + 1, b.count)];
        chart.draw_series(bars.iter().map(|b| Rectangle::new(bar(b), PALETTE[0].filled())))?;
        // White edges keep neighbouring bars apart.
        chart.draw_series(bars.iter().map(|b| Rectangle::new(bar(b), WHITE.stroke_width(1))))?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| e.to_string()).map_err(failed(path))
}

/// One line of the history: a figure's p50 in each results file that has it.
struct Line {
    label: String,
    points: Vec<(usize, u64)>,
}

/// The p50s `results` (a `results.json`) holds: the IPC round trips and every raw series.
fn p50s(results: &Value) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for (key, label) in [
        ("ipc_wasm_rt_ns", "Wasm IPC"),
        ("ipc_wasm_xcore_rt_ns", "Wasm IPC across CPUs"),
        ("ipc_native_rt_ns", "native IPC"),
    ] {
        if let Some(p50) = results[key]["p50"].as_u64() {
            found.push((label.to_owned(), p50));
        }
    }
    if let Some(series) = results["series"].as_object() {
        for (name, figures) in series {
            if let Some(p50) = figures["ns"]["p50"].as_u64() {
                found.push((name.clone(), p50));
            }
        }
    }
    found
}

/// The p50s of every `(label, results.json)` in `runs`, oldest first, at `path`: one line per
/// figure, one point per run that measured it.
pub fn history(path: &Path, runs: &[(String, Value)]) -> Result<(), String> {
    let mut lines: Vec<Line> = Vec::new();
    for (x, (_, results)) in runs.iter().enumerate() {
        for (label, p50) in p50s(results) {
            match lines.iter_mut().find(|line| line.label == label) {
                Some(line) => line.points.push((x, p50)),
                None => lines.push(Line { label, points: vec![(x, p50)] }),
            }
        }
    }
    let top = lines.iter().flat_map(|l| l.points.iter().map(|&(_, y)| y)).max().unwrap_or(1);
    let labels: Vec<&str> = runs.iter().map(|(label, _)| label.as_str()).collect();
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("p50 round trip across runs, ns", ("sans-serif", 18))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..runs.len() as f64 - 0.5, 0..top + top / 5 + 1)?;
        chart
            .configure_mesh()
            .x_labels(runs.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                let near = (x - i).abs() < 0.01 && i >= 0.0;
                near.then(|| labels.get(i as usize).copied()).flatten().unwrap_or("").to_owned()
            })
            .y_desc("ns")
            .disable_x_mesh()
            .draw()?;
        for (line, colour) in lines.iter().zip(PALETTE.iter().cycle()) {
            let points: Vec<(f64, u64)> = line.points.iter().map(|&(x, y)| (x as f64, y)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(line.label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| e.to_string()).map_err(failed(path))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("minimalos-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_distribution_plot_has_its_bars_and_caption() {
        let path = scratch("ipc.svg");
        let samples: Vec<u64> = (0..1000).map(|i| 3000 + (i * 37) % 500).chain([90_000]).collect();
        distribution(&path, "ipc", &samples).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("ipc: 1001 samples; p50 "), "caption");
        assert!(svg.contains("9 above p99, up to 90000 ns"), "the tail is named");
        assert!(svg.matches("<rect").count() > BUCKETS, "a bar per bucket, besides the background");
        assert!(distribution(&path, "none", &[]).is_err());
    }

    #[test]
    fn the_history_draws_a_line_per_figure_across_runs() {
        let path = scratch("history.svg");
        let old = json!({"ipc_wasm_rt_ns": {"p50": 4000}, "series": {"counter.call": {"ns": {"p50": 9000}}}});
        let new = json!({"ipc_wasm_rt_ns": {"p50": 3800}, "ipc_native_rt_ns": {"p50": 2000}});
        history(&path, &[("abc1234".into(), old), ("def5678".into(), new)]).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["Wasm IPC", "native IPC", "counter.call", "abc1234", "def5678"] {
            assert!(svg.contains(text), "no {text} in the plot");
        }
    }
}
