//! Raw samples for `make bench`: an actor that times something reports every sample with
//! [`report`], and the runner turns each reported series into CSV rows, a histogram and a plot
//! (`docs/BENCHMARKS.md`, "Your own benchmarks").
//!
//! The format, on the console as log lines of the reporting actor:
//!
//! ```text
//! samples NAME ns: 3012 2987 3104 ...      (as many lines as it takes, in order)
//! samples NAME: 1000 in all
//! ```

use alloc::string::String;
use core::fmt::Write;

use crate::log;

/// Samples per console line: well inside the kernel's 1024-byte log line.
const PER_LINE: usize = 64;

/// Logs `samples_ns`, in the order taken, as the series `name` (letters, digits, `.`, `_`,
/// `-`; any other character is logged as `_`).
pub fn report(name: &str, samples_ns: &[u64]) {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    let mut line = String::new();
    for chunk in samples_ns.chunks(PER_LINE) {
        line.clear();
        let _ = write!(line, "samples {name} ns:");
        for sample in chunk {
            let _ = write!(line, " {sample}");
        }
        log(&line);
    }
    line.clear();
    let _ = write!(line, "samples {name}: {} in all", samples_ns.len());
    log(&line);
}

#[cfg(test)]
mod tests {
    use std::format;
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn samples_go_out_in_lines_and_end_with_their_count() {
        let kernel = sdk_host::Kernel::start();
        let samples: Vec<u64> = (1..=70).collect();
        report("my rpc", &samples);
        let logs = kernel.logs();
        assert_eq!(logs.len(), 3, "{logs:?}");
        assert!(
            logs[0].starts_with(&format!(
                "samples my_rpc ns: {}",
                (1..=64).map(|n| n.to_string()).collect::<Vec<_>>().join(" ")
            )),
            "{}",
            logs[0]
        );
        assert_eq!(logs[1], "samples my_rpc ns: 65 66 67 68 69 70");
        assert_eq!(logs[2], "samples my_rpc: 70 in all");
    }
}
