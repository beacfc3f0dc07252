//! The MinimalOS actor SDK: what an actor links against to talk to the kernel.
//!
//! - [`sys`]: the raw host imports and the ABI's constants (on the host: a fake kernel).
//! - [`log`], [`println!`]: the kernel console. [`exit`]: ends the actor.
//!
//! With the `panic-handler` feature (on by default) the SDK supplies the actor's panic handler:
//! it logs the message and location, then exits with status 101.
#![no_std]

#[cfg(not(target_arch = "wasm32"))]
extern crate std;

mod log;
pub mod sys;

pub use log::{log, log_fmt};

/// Exit status of an actor that panicked (the same number Rust programs use elsewhere).
pub const PANIC_EXIT_CODE: i32 = 101;

/// Ends this actor with `code`; never returns.
pub fn exit(code: i32) -> ! {
    sys::sys_exit(code);
    // The kernel never resumes an actor after sys_exit; trap if it somehow does. (The host's
    // fake kernel panics instead of returning.)
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("sys_exit returned")
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
