//! The `log` backend: every kernel log line goes to the serial console as `[seconds.micros]
//! [level] message`, the time since boot first (as Linux's `dmesg` shows it), and into a ring of the most recent lines that `dmesg` reads ([`tail`]). Text that comes from
//! an actor goes through [`escape`] first, so it can never end a line or steer the terminal.
//! Actor output to the console goes through [`actor_output`], so that a log line never lands
//! inside an unfinished line of it (`minimalos_abi::PartialLine`). Lines the kernel writes on
//! an actor's behalf are rationed ([`budget`]).

pub mod budget;

use alloc::string::String;
use core::fmt::Write;
use log::{LevelFilter, Log, Metadata, Record};
use minimalos_abi::PartialLine;
use spin::Mutex;

/// Bytes of recent log text kept for `dmesg`.
pub const RING_BYTES: usize = minimalos_abi::KERNEL_LOG_MAX;

/// The most recent log text; the oldest bytes are overwritten first.
struct Ring {
    bytes: [u8; RING_BYTES],
    /// Bytes ever written; the newest byte is at `(written - 1) % RING_BYTES`.
    written: usize,
}

impl Write for Ring {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        for &byte in text.as_bytes() {
            self.bytes[self.written % RING_BYTES] = byte;
            self.written += 1;
        }
        Ok(())
    }
}

static RING: Mutex<Ring> = Mutex::new(Ring { bytes: [0; RING_BYTES], written: 0 });

/// Actor output since its last line break; taken before the serial port's lock.
static LINE: Mutex<PartialLine> = Mutex::new(PartialLine::new());

/// Copies the newest log text, up to `out.len()` bytes and starting at a line boundary when
/// older text was cut, into `out`; returns how many bytes it copied.
pub fn tail(out: &mut [u8]) -> usize {
    crate::arch::cpu::without_interrupts(|| {
        let ring = RING.lock();
        let kept = ring.written.min(RING_BYTES);
        let take = kept.min(out.len());
        let start = ring.written - take;
        for (i, slot) in out[..take].iter_mut().enumerate() {
            *slot = ring.bytes[(start + i) % RING_BYTES];
        }
        // Cut at the first line break unless the copy starts at the very first byte logged.
        let skip =
            if start == 0 { 0 } else { out[..take].iter().position(|&b| b == b'\n').map_or(0, |i| i + 1) };
        out.copy_within(skip..take, 0);
        take - skip
    })
}

/// Crates whose log lines are never shown: tar-no-std reports the zero blocks that end every
/// archive as an error, a dump that would alarm anyone reading the log and tells nothing.
const NOISY_TARGETS: &[&str] = &["tar_no_std"];

struct SerialLogger;

static LOGGER: SerialLogger = SerialLogger;

impl Log for SerialLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let noisy = NOISY_TARGETS.iter().any(|t| metadata.target().starts_with(t));
        metadata.level() <= log::max_level() && !noisy
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let micros = crate::time::clock::now().as_nanos() / 1000;
            let (seconds, micros) = (micros / 1_000_000, micros % 1_000_000);
            print(format_args!("[{seconds:>5}.{micros:06}] [{:<5}] {}\n", record.level(), record.args()));
        }
    }

    fn flush(&self) {}
}

/// Writes `text` to the console and to the `dmesg` ring.
pub fn print(text: core::fmt::Arguments<'_>) {
    // Host builds (tests, fuzzing, the SDK's host kernel) have no COM1: the ring is their console.
    #[cfg(not(any(test, feature = "host")))]
    crate::arch::cpu::without_interrupts(|| {
        let line = LINE.lock();
        crate::arch::serial::write_bytes(line.before_log());
        crate::arch::serial::write_fmt(text);
        crate::arch::serial::write_bytes(line.after_log());
    });
    // Interrupts off: the lock is never held when an interrupt handler might log.
    crate::arch::cpu::without_interrupts(|| {
        let _ = RING.lock().write_fmt(text);
    });
}

/// Writes `bytes`, which an actor sent to the console, and notes where its line stands.
pub fn actor_output(bytes: &[u8]) {
    crate::arch::cpu::without_interrupts(|| {
        let mut line = LINE.lock();
        crate::arch::serial::write_bytes(bytes);
        line.track(bytes);
    });
}

/// Copies log text from absolute byte `position` (bytes ever logged) into `out`; returns how
/// many bytes it copied and the position after them. Text already overwritten is skipped.
pub fn read_from(position: usize, out: &mut [u8]) -> (usize, usize) {
    crate::arch::cpu::without_interrupts(|| {
        let ring = RING.lock();
        let start = position.max(ring.written.saturating_sub(RING_BYTES)).min(ring.written);
        let take = (ring.written - start).min(out.len());
        for (i, slot) in out[..take].iter_mut().enumerate() {
            *slot = ring.bytes[(start + i) % RING_BYTES];
        }
        (take, start + take)
    })
}

/// Appends `text` to `out` with every control character shown as its Rust escape (`\n`, `\r`,
/// `\t`, `\u{1b}`) and backslashes doubled, so text an actor logs stays on its one line and
/// cannot pass for kernel output or steer the terminal; stops before `out` would pass `max`
/// bytes. Returns whether all of `text` went in.
pub fn escape(text: &str, out: &mut String, max: usize) -> bool {
    for c in text.chars() {
        let before = out.len();
        if c.is_control() || c == '\\' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        if out.len() > max {
            out.truncate(before);
            return false;
        }
    }
    true
}

/// Installs the serial logger at `level`.
pub fn init(level: LevelFilter) {
    // `set_logger` fails only if called twice; the first logger stays, which is what we want.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

/// Prints a line on the console (and into the `dmesg` ring) without a level tag: the banner.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::klog::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str, max: usize) -> (String, bool) {
        let mut out = String::new();
        let whole = escape(text, &mut out, max);
        (out, whole)
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        let forged = "ok\n[ERROR] supervisor: shell[6] not restarting it again\r\x1b[2J\u{9b}\\";
        let (out, whole) = escaped(forged, 1024);
        assert!(whole);
        assert_eq!(out, r"ok\n[ERROR] supervisor: shell[6] not restarting it again\r\u{1b}[2J\u{9b}\\");
        assert!(!out.chars().any(char::is_control));
        assert_eq!(escaped("tab\there é ✓", 1024), (String::from("tab\\there é ✓"), true));
    }

    #[test]
    fn the_escaped_text_stops_whole_at_the_limit() {
        assert_eq!(escaped("abc\x07", 7), (String::from("abc"), false), "no half escape");
        assert_eq!(escaped("abcé", 4), (String::from("abc"), false), "no half character");
        assert_eq!(escaped("abcd", 4), (String::from("abcd"), true));
    }
}
