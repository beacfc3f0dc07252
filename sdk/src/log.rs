//! Text to the kernel console, one line per call: [`log`], and [`println!`](crate::println)
//! which formats into a fixed buffer, so it works without an allocator and inside the panic
//! handler.

use core::fmt::{self, Write};

use crate::sys;

/// Longest line [`log_fmt`] formats; longer text is cut at this many bytes.
const LOG_LINE_MAX: usize = 256;

/// Writes `text` to the kernel console as one line attributed to this actor.
pub fn log(text: &str) {
    sys::sys_log(sys::ptr(text.as_bytes()), text.len() as i32);
}

/// Formats `args` into a fixed buffer and logs it as one line; needs no allocator.
pub fn log_fmt(args: fmt::Arguments<'_>) {
    let mut line = LineBuffer { bytes: [0; LOG_LINE_MAX], len: 0 };
    // LineBuffer never fails: it truncates instead.
    let _ = line.write_fmt(args);
    sys::sys_log(sys::ptr(&line.bytes[..line.len]), line.len as i32);
}

/// Logs a formatted line, like `println!` elsewhere.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => { $crate::log_fmt(format_args!($($arg)*)) };
}

struct LineBuffer {
    bytes: [u8; LOG_LINE_MAX],
    len: usize,
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
