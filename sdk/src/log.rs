//! Text to the kernel console, one line per call. An actor's output: [`log`], and
//! [`println!`](crate::println), shown as `NAME[PID]: text`. Its log lines, shown with the time
//! and a [`Level`] like the kernel's own and only when the kernel logs that level:
//! [`log_at`] and the macros [`error!`](crate::error), [`warn!`](crate::warn),
//! [`info!`](crate::info), [`debug!`](crate::debug), [`trace!`](crate::trace). Both format into
//! a fixed buffer, so they work without an allocator and inside the panic handler.

use core::fmt::{self, Write};

use crate::sys;

/// Longest line [`log_fmt`] formats; longer text is cut at this many bytes.
const LOG_LINE_MAX: usize = 256;

/// How much a log line matters; the kernel shows those at and above its `log=` level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something looks wrong.
    Warn = 2,
    /// What happened.
    Info = 3,
    /// Detail for whoever looks into it.
    Debug = 4,
    /// Every step.
    Trace = 5,
}

/// Writes `text` to the kernel console as one line of this actor's output.
pub fn log(text: &str) {
    sys::sys_log(sys::ptr(text.as_bytes()), text.len() as i32);
}

/// Formats `args` into a fixed buffer and prints it as one line of output; needs no allocator.
pub fn log_fmt(args: fmt::Arguments<'_>) {
    let line = LineBuffer::of(args);
    sys::sys_log(sys::ptr(line.text()), line.len as i32);
}

/// Formats `args` and logs it as a kernel log line at `level`; needs no allocator.
pub fn log_at(level: Level, args: fmt::Arguments<'_>) {
    let line = LineBuffer::of(args);
    // The one failure left, a level the kernel does not know, cannot happen with a `Level`.
    sys::sys_log_level(level as i32, sys::ptr(line.text()), line.len as i32);
}

/// Prints a formatted line of this actor's output, like `println!` elsewhere.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::log_fmt(format_args!($($arg)*)) };
}

/// Logs a formatted line at [`Level::Error`](crate::Level::Error).
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log_at($crate::Level::Error, format_args!($($arg)*)) };
}

/// Logs a formatted line at [`Level::Warn`](crate::Level::Warn).
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log_at($crate::Level::Warn, format_args!($($arg)*)) };
}

/// Logs a formatted line at [`Level::Info`](crate::Level::Info).
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log_at($crate::Level::Info, format_args!($($arg)*)) };
}

/// Logs a formatted line at [`Level::Debug`](crate::Level::Debug).
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log_at($crate::Level::Debug, format_args!($($arg)*)) };
}

/// Logs a formatted line at [`Level::Trace`](crate::Level::Trace).
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => { $crate::log_at($crate::Level::Trace, format_args!($($arg)*)) };
}

struct LineBuffer {
    bytes: [u8; LOG_LINE_MAX],
    len: usize,
}

impl LineBuffer {
    /// `args` formatted, cut at [`LOG_LINE_MAX`] bytes.
    fn of(args: fmt::Arguments<'_>) -> LineBuffer {
        let mut line = LineBuffer { bytes: [0; LOG_LINE_MAX], len: 0 };
        // LineBuffer never fails: it truncates instead.
        let _ = line.write_fmt(args);
        line
    }

    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Write for LineBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LOG_LINE_MAX - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}
