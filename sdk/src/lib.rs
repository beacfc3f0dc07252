//! The MinimalOS actor SDK: what an actor links against to talk to the kernel.
//!
//! - [`sys`]: the raw host imports, exactly as `docs/ABI.md` specifies them.
//! - [`log`]: text to the kernel console.
//! - [`exit`]: ends the actor with a status code.
//!
//! With the `panic-handler` feature (on by default) the SDK also supplies the actor's panic
//! handler: it logs the message and location, then exits with status 101.
#![no_std]

pub mod sys;

use core::fmt::{self, Write};

/// Exit status of an actor that panicked (the same number Rust programs use elsewhere).
pub const PANIC_EXIT_CODE: i32 = 101;

/// Longest line [`log_fmt`] formats; longer text is cut at this many bytes.
const LOG_LINE_MAX: usize = 256;

/// Writes `text` to the kernel console as one line attributed to this actor.
pub fn log(text: &str) {
    // A str is at most isize::MAX bytes, and Wasm32 pointers and lengths are 32-bit.
    sys::log(text.as_ptr() as i32, text.len() as i32);
}

/// Formats `args` into a fixed buffer and logs it as one line; needs no allocator.
pub fn log_fmt(args: fmt::Arguments<'_>) {
    let mut line = LineBuffer { bytes: [0; LOG_LINE_MAX], len: 0 };
    // LineBuffer never fails: it truncates instead.
    let _ = line.write_fmt(args);
    sys::log(line.bytes.as_ptr() as i32, line.len as i32);
}

/// Ends this actor with `code`; never returns.
pub fn exit(code: i32) -> ! {
    sys::exit(code);
    // The kernel never resumes an actor after sys_exit; trap if it somehow does.
    core::arch::wasm32::unreachable()
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

#[cfg(all(feature = "panic-handler", target_arch = "wasm32"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => log_fmt(format_args!("panic at {}:{}: {}", at.file(), at.line(), info.message())),
        None => log_fmt(format_args!("panic: {}", info.message())),
    }
    exit(PANIC_EXIT_CODE)
}
