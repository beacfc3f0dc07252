//! Boot options from the kernel command line (`cmdline:` in `limine.conf`).
//!
//! Options are space-separated `key=value` words:
//! - `log=error|warn|info|debug|trace` — console log level (default `info`).
//! - `on_fatal=halt|exit` — after a panic or fatal exception, halt (default) or end the QEMU run
//!   through `isa-debug-exit` with a failure status (what the test runner uses).
//! - `manifest=PATH` — the boot manifest in the ramdisk (default `boot.manifest`); read with
//!   [`value`] once the kernel owns a copy of the command line.
//! - `slice_us=N` — time slice in microseconds (default 2000, from 100 to 1000000).
//! - `ktest=fault|sched` — after boot, run a built-in kernel check (`fault`: touch an unmapped
//!   page, to prove exceptions are reported instead of rebooting the machine; `sched`: see
//!   `ktest`).
//!
//! Unknown words are reported once and otherwise ignored, so a typo never stops a boot.

use log::LevelFilter;
use spin::Once;

/// What to do once the kernel cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFatal {
    /// Stop the CPU and leave the report on the console.
    Halt,
    /// End the QEMU run with a failure status.
    Exit,
}

/// A built-in check selected with `ktest=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelTest {
    /// Read an unmapped address: the page-fault report must appear and the run must stop cleanly.
    Fault,
    /// Scheduling checks: a timed sleep, two CPU-bound tasks sharing the CPU, serial input.
    Sched,
    /// A fiber recursing past the end of its stack: it must be abandoned, the kernel go on.
    Overflow,
}

/// Default time slice.
pub const DEFAULT_SLICE_US: u64 = 2000;
/// Accepted time slices: from 100 µs (interrupt overhead dominates below) to 1 s.
pub const SLICE_US_RANGE: core::ops::RangeInclusive<u64> = 100..=1_000_000;

/// The parsed command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootOptions {
    /// Console log level.
    pub log_level: LevelFilter,
    /// Behaviour after a fatal error.
    pub on_fatal: OnFatal,
    /// Built-in check to run after boot, if any.
    pub ktest: Option<KernelTest>,
    /// Time slice in microseconds.
    pub slice_us: u64,
}

impl Default for BootOptions {
    fn default() -> Self {
        Self {
            log_level: LevelFilter::Info,
            on_fatal: OnFatal::Halt,
            ktest: None,
            slice_us: DEFAULT_SLICE_US,
        }
    }
}

/// A word of the command line the kernel could not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOption<'a>(pub &'a str);

impl core::fmt::Display for UnknownOption<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ignoring unknown boot option `{}`", self.0)
    }
}

/// Parses `cmdline`, calling `unknown` for each word it cannot use.
pub fn parse<'a>(cmdline: &'a str, mut unknown: impl FnMut(UnknownOption<'a>)) -> BootOptions {
    let mut options = BootOptions::default();
    for word in cmdline.split_ascii_whitespace() {
        let parsed = match word.split_once('=') {
            Some(("log", level)) => level.parse().map(|l| options.log_level = l).is_ok(),
            Some(("on_fatal", "halt")) => {
                options.on_fatal = OnFatal::Halt;
                true
            }
            Some(("on_fatal", "exit")) => {
                options.on_fatal = OnFatal::Exit;
                true
            }
            Some(("ktest", "fault")) => {
                options.ktest = Some(KernelTest::Fault);
                true
            }
            Some(("ktest", "sched")) => {
                options.ktest = Some(KernelTest::Sched);
                true
            }
            Some(("ktest", "overflow")) => {
                options.ktest = Some(KernelTest::Overflow);
                true
            }
            Some(("manifest", path)) => !path.is_empty(),
            Some(("slice_us", us)) => match us.parse() {
                Ok(us) if SLICE_US_RANGE.contains(&us) => {
                    options.slice_us = us;
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !parsed {
            unknown(UnknownOption(word));
        }
    }
    options
}

/// The value of the last `key=value` word of `cmdline`.
pub fn value<'a>(cmdline: &'a str, key: &str) -> Option<&'a str> {
    cmdline
        .split_ascii_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter(|&(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v)
        .next_back()
}

static OPTIONS: Once<BootOptions> = Once::new();

/// Records the options for the rest of the kernel; later calls keep the first value.
pub fn set(options: BootOptions) -> BootOptions {
    *OPTIONS.call_once(|| options)
}

/// The boot options, or the defaults before the command line has been read.
pub fn get() -> BootOptions {
    OPTIONS.get().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(cmdline: &str) -> (BootOptions, Vec<&str>) {
        let mut unknown = Vec::new();
        let options = parse(cmdline, |UnknownOption(w)| unknown.push(w));
        (options, unknown)
    }

    #[test]
    fn empty_line_gives_defaults() {
        assert_eq!(parse_all("   "), (BootOptions::default(), vec![]));
    }

    #[test]
    fn known_options_are_applied() {
        let (o, unknown) = parse_all("log=debug on_fatal=exit ktest=fault slice_us=500");
        assert_eq!(o.log_level, LevelFilter::Debug);
        assert_eq!(o.on_fatal, OnFatal::Exit);
        assert_eq!(o.ktest, Some(KernelTest::Fault));
        assert_eq!(o.slice_us, 500);
        assert!(unknown.is_empty());
    }

    #[test]
    fn values_are_looked_up_by_key_last_one_wins() {
        let line = "manifest=a.manifest log=debug manifest=test/b.manifest manifest=";
        assert_eq!(value(line, "manifest"), Some("test/b.manifest"));
        assert_eq!(value(line, "missing"), None);
        assert!(parse_all(line).1 == vec!["manifest="]);
    }

    #[test]
    fn bad_words_are_reported_and_do_not_change_anything() {
        let (o, unknown) = parse_all("log=loud on_fatal=reboot quiet ktest= slice_us=5 slice_us=x");
        assert_eq!(o, BootOptions::default());
        assert_eq!(
            unknown,
            vec!["log=loud", "on_fatal=reboot", "quiet", "ktest=", "slice_us=5", "slice_us=x"]
        );
    }
}
