//! The `log` backend: every kernel log line goes to the serial console as `[level] message`.

use log::{LevelFilter, Log, Metadata, Record};

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            crate::arch::serial::write_fmt(format_args!(
                "[{:<5}] {}\n",
                record.level(),
                record.args()
            ));
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
