//! `abi_check.wasm`: the ABI's behaviour cases, one suite run two ways.
//!
//! - On the host, each case is a test (`cargo test -p abi_check`) run by a fresh kernel built for
//!   the host (`sdk-host`): the kernel's own handlers, capability tables and endpoints.
//! - In QEMU, the actor runs every case in order in one process (`tests/boot.rs`, the ABI test
//!   boot), logging `CASE ok` after each and `all N cases ok` at the end. A case that fails
//!   panics, and the SDK logs where and why before the actor exits with its panic status.
//!
//! Both ways the actor holds the same grants: [`SYSTEM`] (the `system` object, read and write)
//! and [`SHM`] (4096 bytes of shared memory, read and write). Each case leaves the actor as it
//! found it: every handle it makes is closed, every message it queues received.
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod cases;

pub use cases::CASES;

/// Handle of the `system` grant.
pub const SYSTEM: u32 = 0;
/// Handle of the shared-memory grant.
pub const SHM: u32 = 1;
/// Bytes of the shared-memory grant.
pub const SHM_BYTES: usize = 4096;
/// How many grants the actor starts with.
pub const GRANTS: u32 = 2;

/// Runs every case, logging each that passes.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    for (name, case) in CASES {
        case();
        sdk::println!("{name} ok");
    }
    sdk::println!("all {} cases ok", CASES.len());
    sdk::exit(0);
}

/// A kernel for one case, with the actor holding the grants the QEMU manifest gives it.
#[cfg(test)]
fn host_kernel() -> sdk_host::Kernel {
    use sdk::sys::{RIGHT_READ, RIGHT_WRITE};
    let kernel = sdk_host::Kernel::start();
    assert_eq!(kernel.grant_system(RIGHT_READ | RIGHT_WRITE), i64::from(SYSTEM));
    assert_eq!(kernel.grant_shm(SHM_BYTES, RIGHT_READ | RIGHT_WRITE), i64::from(SHM));
    kernel
}
