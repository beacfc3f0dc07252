//! The `log` backend: every kernel log line goes to the serial console as `[level] message`.

use log::{LevelFilter, Log, Metadata, Record};

/// Crates whose log lines are shown only at `debug` and above: tar-no-std reports the zero
/// blocks that end every archive as an error, which would alarm anyone reading the boot log.
const NOISY_TARGETS: &[&str] = &["tar_no_std"];

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let noisy = NOISY_TARGETS.iter().any(|t| metadata.target().starts_with(t));
        metadata.level() <= log::max_level() && (!noisy || log::max_level() >= LevelFilter::Debug)
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            crate::arch::serial::write_fmt(format_args!("[{:<5}] {}\n", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

/// Installs the serial logger at `level`.
pub fn init(level: LevelFilter) {
    // `set_logger` fails only if called twice; the first logger stays, which is what we want.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// Prints a line on the console without a level tag (the banner, the shell later).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::arch::serial::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
