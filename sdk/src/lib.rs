//! The MinimalOS actor SDK: what an actor links against to talk to the kernel.
//!
//! Principles: the raw ABI (`docs/ABI.md`) lives in one module and everything else is safe code
//! over it; handles are owned values that close themselves; an actor is single-threaded, so the
//! runtime shares state through plain cells instead of atomics; and the same code runs on the
//! host against the kernel's own logic (`sdk-host`), so it is tested there.
//!
//! - [`sys`]: the raw host imports and the ABI's constants.
//! - [`Error`]: every documented error code as a variant.
//! - [`Capability`], [`Rights`]; [`Endpoint`] and [`Message`]; [`SharedMem`]; [`Framebuffer`].
//! - [`rt`]: the async runtime: tasks, `recv().await`, `send().await`, `sleep().await`,
//!   `select`, `with_timeout`, `Ticker`.
//! - [`msg`]: typed payloads (`serde` + `postcard`) and request/reply: [`Client`] and
//!   [`Mailbox`].
//! - [`println!`] (the actor's output), [`error!`] to [`trace!`] (its log lines): the kernel
//!   console. [`exit`]: ends the actor.
//! - [`net`]: TCP through the network stack: `TcpListener`, `TcpStream`.
//! - [`dev`]: drivers: a device's registers, DMA buffers and interrupts.
//! - [`bench`]: raw samples for `make bench`'s tables and plots.
//! - [`System`]: processes, the kernel log and memory figures (the `system` object).
//!
//! With the `panic-handler` feature (on by default) the SDK supplies the actor's panic handler:
//! it logs the message and location as an error, then exits with status 101. With `allocator` (on by
//! default) it supplies a global allocator that frees.
//!
//! A service that adds the two numbers it is sent, until no client can reach it any more
//! (`actors/examples/` has complete ones):
//!
//! ```ignore
//! use sdk::{Error, Mailbox};
//!
//! #[sdk::main]
//! async fn main() -> Result<(), Error> {
//!     let requests: Mailbox<(u32, u32), u32> = Mailbox::from_grant(0);
//!     while let Some(request) = requests.next().await? {
//!         let (a, b) = request.body;
//!         request.reply(&(a + b));
//!     }
//!     Ok(())
//! }
//! ```
#![no_std]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

#[cfg(all(feature = "allocator", target_arch = "wasm32"))]
mod allocator;
pub mod bench;
pub mod dev;
mod endpoint;
mod error;
mod fb;
mod handle;
mod log;
pub mod msg;
pub mod net;
mod program;
pub mod rt;
mod shm;
pub mod sys;
mod system;

pub use endpoint::{Endpoint, Message, SendError};
pub use error::Error;
pub use fb::{Channel, FbFormat, Framebuffer};
pub use handle::{Capability, Rights};
pub use log::{Level, log, log_at, log_fmt};
pub use msg::{Client, Delivery, Mailbox, Request};
pub use program::Program;
/// Marks `async fn main` as the actor's entry point: exports `_start`, which runs it on
/// [`rt::block_on`] and exits with its [`rt::Termination`] status (0 for `()`).
pub use sdk_macros::main;
pub use shm::SharedMem;
pub use system::{CpuInfo, MemoryInfo, Pid, ProcState, ProcessInfo, SpawnError, System};

/// Exit status of an actor that panicked (the same number Rust programs use elsewhere).
pub const PANIC_EXIT_CODE: i32 = 101;

/// Ends this actor with `code`; never returns.
pub fn exit(code: i32) -> ! {
    sys::sys_exit(code);
    // The kernel never resumes an actor after sys_exit; trap if it somehow does. (On the host,
    // `sdk-host` unwinds out of the call instead of returning.)
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("sys_exit returned")
}

#[cfg(all(feature = "panic-handler", target_arch = "wasm32"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(at) => error!("panic at {}:{}: {}", at.file(), at.line(), info.message()),
        None => error!("panic: {}", info.message()),
    }
    exit(PANIC_EXIT_CODE)
}
