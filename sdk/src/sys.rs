//! Raw host imports (module `"env"`), one-to-one with `docs/ABI.md`.
//!
//! Every pointer is an offset into this actor's linear memory; the kernel checks each one
//! against the memory's bounds. Prefer the safe wrappers in the crate root.

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    #[link_name = "sys_log"]
    fn sys_log(ptr: i32, len: i32);
    #[link_name = "sys_exit"]
    fn sys_exit(code: i32);
    #[link_name = "sys_yield"]
    fn sys_yield();
    #[link_name = "sys_clock_ns"]
    fn sys_clock_ns() -> i64;
    #[link_name = "sys_sleep_ns"]
    fn sys_sleep_ns(ns: i64) -> i32;
}

/// Writes `len` bytes of UTF-8 text at `ptr` to the kernel console.
pub fn log(ptr: i32, len: i32) {
    // SAFETY: the kernel validates ptr/len against this actor's memory; bad values are an
    // error code, not undefined behaviour.
    unsafe { sys_log(ptr, len) }
}

/// Ends the calling actor with exit status `code`.
pub fn exit(code: i32) {
    // SAFETY: takes no memory from the actor.
    unsafe { sys_exit(code) }
}

/// Lets every other runnable task run once.
pub fn yield_now() {
    // SAFETY: takes no arguments.
    unsafe { sys_yield() }
}

/// Nanoseconds since boot on the kernel's monotonic clock.
pub fn clock_ns() -> i64 {
    // SAFETY: takes no arguments.
    unsafe { sys_clock_ns() }
}

/// Blocks for at least `ns` nanoseconds; 0, or `E_INVALID_ARGUMENT` (-12) if `ns` is negative.
pub fn sleep_ns(ns: i64) -> i32 {
    // SAFETY: takes no memory from the actor.
    unsafe { sys_sleep_ns(ns) }
}
