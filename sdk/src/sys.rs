//! Raw host imports (module `"env"`), one-to-one with `docs/ABI.md`, and the ABI's constants.
//!
//! On `wasm32` these are the kernel's imports. On other targets the same functions are served
//! by `fake`, an in-process kernel, so the runtime can be tested on the host. Pointers are
//! made with [`ptr`] / [`ptr_mut`], which work on both. Prefer the safe types of the crate root.
//!
//! Calls that only read the actor's memory (or none) are safe: the kernel checks every range,
//! so a bad one is an error code. Calls that write into it are `unsafe`: the range must be
//! memory the caller owns, or the kernel would overwrite live Rust objects.

pub use minimalos_abi::*;

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// Logs `len` bytes of UTF-8 at `ptr` as one console line.
    pub safe fn sys_log(ptr: i32, len: i32);
    /// Ends the actor with status `code`.
    pub safe fn sys_exit(code: i32);
    /// Gives the CPU away: woken tasks run first, then those that gave way before.
    pub safe fn sys_yield();
    /// Nanoseconds since boot on the monotonic clock.
    pub safe fn sys_clock_ns() -> i64;
    /// The TSC frequency the kernel measured at boot, in Hz.
    pub safe fn sys_tsc_hz() -> i64;
    /// Blocks the actor for at least `ns` nanoseconds.
    pub safe fn sys_sleep_ns(ns: i64) -> i32;
    /// Queues a message on endpoint `handle`, moving `cap` (or `-1`) with it; never blocks.
    pub safe fn sys_cap_send(handle: i64, opcode: i32, payload_ptr: i32, payload_len: i32, cap: i64) -> i32;
    /// Takes the oldest message into the buffer (header, then payload), blocking until one is queued.
    pub fn sys_cap_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64;
    /// As [`sys_cap_recv`], but `E_EMPTY` instead of blocking.
    pub fn sys_cap_try_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64;
    /// Sends the request the buffer holds after its [`CallRoute`] (header, then payload: the
    /// layout [`sys_cap_recv`] writes) on the route's `handle`, then waits on its `reply` and
    /// writes the answer over the request, in one call; everything that could refuse the
    /// receive is checked first, so an argument error sends nothing.
    pub fn sys_cap_call(buf_ptr: i32, buf_len: i32) -> i64;
    /// Blocks until one of `count` wait entries is ready or the clock reaches `deadline_ns`.
    pub fn sys_cap_wait(entries_ptr: i32, count: i32, deadline_ns: i64) -> i32;
    /// Creates an endpoint of `capacity` messages; returns a handle with every right.
    pub safe fn sys_endpoint_create(capacity: i32) -> i64;
    /// Returns a new handle to the same object with `rights`, a subset of the handle's own.
    pub safe fn sys_cap_derive(handle: i64, rights: i32) -> i64;
    /// Closes the handle.
    pub safe fn sys_cap_close(handle: i64) -> i32;
    /// Copies `len` bytes at `offset` of a memory object into the actor's memory.
    pub fn sys_cap_mem_read(handle: i64, offset: i32, buf_ptr: i32, len: i32) -> i32;
    /// Copies `len` bytes of the actor's memory to `offset` of a memory object.
    pub safe fn sys_cap_mem_write(handle: i64, offset: i32, data_ptr: i32, len: i32) -> i32;
    /// Size in bytes of a memory object.
    pub safe fn sys_cap_mem_size(handle: i64) -> i64;
    /// The boot framebuffer's size as `(width << 32) | height`.
    pub safe fn sys_fb_info() -> i64;
    /// Writes the boot framebuffer's 24-byte format into the buffer.
    pub fn sys_fb_format(buf_ptr: i32, buf_len: i32) -> i32;
    /// Writes a 96-byte record per process that fits into the buffer; returns how many there are.
    pub fn sys_proc_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32;
    /// Ends the live process `pid`.
    pub safe fn sys_proc_kill(handle: i64, pid: i64) -> i32;
    /// Starts the named ramdisk module as a new actor; returns its pid, or writes why not to `err`.
    pub fn sys_proc_spawn(
        handle: i64,
        name_ptr: i32,
        name_len: i32,
        grants_ptr: i32,
        grants_count: i32,
        err_ptr: i32,
        err_len: i32,
    ) -> i64;
    /// Copies the newest kernel log text, from a line boundary; returns how many bytes.
    pub fn sys_kernel_log(handle: i64, buf_ptr: i32, buf_len: i32) -> i32;
    /// Writes the kernel's 32 bytes of memory figures into the buffer.
    pub fn sys_mem_info(handle: i64, buf_ptr: i32, buf_len: i32) -> i32;
    /// Runs the kernel-native IPC benchmark; writes min, p50, p90, p99, max round trip in ns.
    pub fn sys_bench_ipc_native(handle: i64, round_trips: i32, buf_ptr: i32, buf_len: i32) -> i32;
}

/// The ABI's pointer to `bytes`, for a call that only reads them.
#[cfg(target_arch = "wasm32")]
pub fn ptr(bytes: &[u8]) -> i32 {
    // Wasm32 addresses are 32-bit; the kernel reads the value back as unsigned.
    bytes.as_ptr() as i32
}

/// The ABI's pointer to `bytes`, for a call that writes them.
#[cfg(target_arch = "wasm32")]
pub fn ptr_mut(bytes: &mut [u8]) -> i32 {
    bytes.as_mut_ptr() as i32
}

#[cfg(not(target_arch = "wasm32"))]
pub mod fake;

#[cfg(not(target_arch = "wasm32"))]
pub use fake::{
    ptr, ptr_mut, sys_bench_ipc_native, sys_cap_call, sys_cap_close, sys_cap_derive, sys_cap_mem_read,
    sys_cap_mem_size, sys_cap_mem_write, sys_cap_recv, sys_cap_send, sys_cap_try_recv, sys_cap_wait,
    sys_clock_ns, sys_endpoint_create, sys_exit, sys_fb_format, sys_fb_info, sys_kernel_log, sys_log,
    sys_mem_info, sys_proc_kill, sys_proc_list, sys_proc_spawn, sys_sleep_ns, sys_tsc_hz, sys_yield,
};
