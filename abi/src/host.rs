//! Every host function of the ABI, declared once: its name in module `"env"`, its Wasm
//! signature, whether the SDK may call it without `unsafe` (it writes nothing into the actor's
//! memory), what the caller needs, and a one-line doc. The kernel registers its handlers from
//! [`HOST_FUNCTIONS`]; the SDK declares its imports with [`with_host_functions!`]; tests hold
//! both, the actors the build produces and `docs/ABI.md` to the same list.

/// A Wasm value type a host function takes or returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    /// `i32`: a pointer, a length, a small number or a result code.
    I32,
    /// `i64`: a handle, a pid, nanoseconds, or a result that may be any of these.
    I64,
}

impl ValType {
    /// How `docs/ABI.md` and Wasm text write it.
    pub const fn name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        }
    }
}

/// One host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFunction {
    /// Its import module: [`MODULE`](crate::MODULE), or [`WASI_MODULE`](crate::WASI_MODULE).
    pub module: &'static str,
    /// Its import name.
    pub name: &'static str,
    /// Its parameters' names, as `docs/ABI.md` gives them, and types.
    pub params: &'static [(&'static str, ValType)],
    /// Its results (none or one).
    pub results: &'static [ValType],
    /// Whether it writes into the caller's memory (the SDK's declaration is `unsafe` then).
    pub writes_memory: bool,
    /// What the caller needs: a capability and its rights, or nothing (`""`).
    pub needs: &'static str,
    /// One line on what it does.
    pub doc: &'static str,
}

/// Calls `$m!` with every host function, in the order `docs/ABI.md` lists them, each as
///
/// ```text
/// /// One-line doc.
/// safe|writes fn NAME(PARAM: TYPE, ...) [-> TYPE]; needs "WHAT";
/// ```
///
/// where `writes` marks a function that writes into the caller's memory (the SDK declares it
/// `unsafe`). The SDK turns the list
/// into its `extern` block, this crate into [`HOST_FUNCTIONS`].
#[macro_export]
macro_rules! with_host_functions {
    ($m:ident) => {
        $m! {
            /// Prints `len` bytes of UTF-8 at `ptr` as one line of the actor's output.
            safe fn sys_log(ptr: i32, len: i32); needs "";
            /// Logs `len` bytes of UTF-8 at `ptr` as a kernel log line at `level` (1 error to 5 trace).
            safe fn sys_log_level(level: i32, ptr: i32, len: i32) -> i32; needs "";
            /// Ends the actor with status `code`.
            safe fn sys_exit(code: i32); needs "";
            /// Gives the CPU away: woken tasks run first, then those that gave way before.
            safe fn sys_yield(); needs "";
            /// Nanoseconds since boot on the monotonic clock.
            safe fn sys_clock_ns() -> i64; needs "";
            /// Nanoseconds since 1970-01-01 UTC on the wall clock (the RTC at boot plus the monotonic clock).
            safe fn sys_clock_wall_ns() -> i64; needs "";
            /// The TSC frequency the kernel measured at boot, in Hz.
            safe fn sys_tsc_hz() -> i64; needs "";
            /// Blocks the actor for at least `ns` nanoseconds.
            safe fn sys_sleep_ns(ns: i64) -> i32; needs "";
            /// Queues a message on endpoint `handle`, moving `cap` (or `-1`) with it; never blocks.
            safe fn sys_cap_send(handle: i64, opcode: i32, payload_ptr: i32, payload_len: i32, cap: i64) -> i32;
                needs "WRITE on the endpoint; GRANT on the moved capability";
            /// Takes the oldest message into the buffer (header, then payload), blocking until one is queued.
            writes fn sys_cap_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64; needs "READ on the endpoint";
            /// As `sys_cap_recv`, but `E_EMPTY` instead of blocking.
            writes fn sys_cap_try_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64; needs "READ on the endpoint";
            /// Sends the request after the buffer's route, then waits for the answer and writes it over the request.
            writes fn sys_cap_call(buf_ptr: i32, buf_len: i32) -> i64;
                needs "WRITE on the route's endpoint, READ on its reply endpoint";
            /// Blocks until one of `count` wait entries is ready or the clock reaches `deadline_ns`.
            writes fn sys_cap_wait(entries_ptr: i32, count: i32, deadline_ns: i64) -> i32; needs "";
            /// Creates an endpoint of `capacity` messages; returns a handle with every right.
            safe fn sys_endpoint_create(capacity: i32) -> i64; needs "";
            /// Returns a new handle to the same object with `rights`, a subset of the handle's own.
            safe fn sys_cap_derive(handle: i64, rights: i32) -> i64; needs "";
            /// Closes the handle.
            safe fn sys_cap_close(handle: i64) -> i32; needs "";
            /// Copies `len` bytes at `offset` of a memory object into the actor's memory.
            writes fn sys_cap_mem_read(handle: i64, offset: i32, buf_ptr: i32, len: i32) -> i32;
                needs "READ on the memory object";
            /// Copies `len` bytes of the actor's memory to `offset` of a memory object.
            safe fn sys_cap_mem_write(handle: i64, offset: i32, data_ptr: i32, len: i32) -> i32;
                needs "WRITE on the memory object";
            /// Size in bytes of a memory object.
            safe fn sys_cap_mem_size(handle: i64) -> i64; needs "READ or WRITE on the memory object";
            /// The boot framebuffer's size as `(width << 32) | height`.
            safe fn sys_fb_info() -> i64; needs "";
            /// Writes the boot framebuffer's 24-byte format into the buffer.
            writes fn sys_fb_format(buf_ptr: i32, buf_len: i32) -> i32; needs "";
            /// Writes a record per process that fits into the buffer; returns how many there are.
            writes fn sys_proc_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32; needs "READ on `system`";
            /// Writes a record per CPU that fits into the buffer; returns how many CPUs there are.
            writes fn sys_cpu_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32; needs "READ on `system`";
            /// Ends the live process `pid`.
            safe fn sys_proc_kill(handle: i64, pid: i64) -> i32; needs "WRITE on `system`";
            /// Starts the named ramdisk module as a new actor; returns its pid, or writes why not to `err`.
            writes fn sys_proc_spawn(
                handle: i64,
                name_ptr: i32,
                name_len: i32,
                grants_ptr: i32,
                grants_count: i32,
                err_ptr: i32,
                err_len: i32
            ) -> i64;
                needs "WRITE on `system`; GRANT on each grant";
            /// Starts a program as `sys_proc_spawn` does, with the arguments, environment,
            /// directories, standard streams and grants of the start spec in the buffer.
            writes fn sys_proc_start(handle: i64, spec_ptr: i32, spec_len: i32, err_ptr: i32, err_len: i32) -> i64;
                needs "WRITE on `system`; GRANT on each capability the spec moves";
            /// Copies the newest kernel log text, from a line boundary; returns how many bytes.
            writes fn sys_kernel_log(handle: i64, buf_ptr: i32, buf_len: i32) -> i32; needs "READ on `system`";
            /// Writes the kernel's memory figures into the buffer.
            writes fn sys_mem_info(handle: i64, buf_ptr: i32, buf_len: i32) -> i32; needs "READ on `system`";
            /// Runs the kernel-native IPC benchmark; writes min, p50, p90, p99, max round trip in ns.
            writes fn sys_bench_ipc_native(handle: i64, round_trips: i32, buf_ptr: i32, buf_len: i32) -> i32;
                needs "WRITE on `system`";
            /// Reads `width` (1, 2 or 4) bytes at `offset` of the device's PCI configuration space.
            safe fn sys_dev_config_read(dev: i64, offset: i32, width: i32) -> i64; needs "READ on the device";
            /// Reads `width` (1, 2 or 4) bytes at `offset` of the device's BAR `bar` (memory or I/O).
            safe fn sys_dev_read(dev: i64, bar: i32, offset: i32, width: i32) -> i64; needs "READ on the device";
            /// Writes the low `width` bytes of `value` at `offset` of BAR `bar`, if the kernel's DMA guard allows it.
            safe fn sys_dev_write(dev: i64, bar: i32, offset: i32, width: i32, value: i64) -> i32;
                needs "WRITE on the device";
            /// Writes the device address of byte `buf_offset` of DMA buffer `buf` into the address register at `offset` of BAR `bar`.
            safe fn sys_dev_dma_addr(dev: i64, bar: i32, offset: i32, buf: i64, buf_offset: i32) -> i32;
                needs "WRITE on the device and on the buffer";
            /// Delivers the interrupts of MSI-X entry `entry` as messages with `opcode` on `endpoint`.
            safe fn sys_dev_irq_bind(dev: i64, entry: i32, endpoint: i64, opcode: i32) -> i32;
                needs "WRITE on the device and on the endpoint";
            /// Creates a zeroed DMA buffer of `size` bytes and `kind` for the device's driver; returns its handle.
            safe fn sys_dma_create(dev: i64, size: i32, kind: i32) -> i64; needs "WRITE on the device";
            /// Sets descriptor `index` of `table` to `len` bytes at `offset` of DMA buffer `buf`, with flags and next.
            safe fn sys_dma_desc_set(table: i64, index: i32, buf: i64, offset: i32, len: i32, flags_next: i32) -> i32;
                needs "WRITE on the table and on the buffer";
        }
    };
}

/// The Wasm type `i32` or `i64` names.
macro_rules! val_type {
    (i32) => {
        ValType::I32
    };
    (i64) => {
        ValType::I64
    };
}

/// Whether a declaration's safety marks a function that writes into the caller's memory.
macro_rules! writes_memory {
    (safe) => {
        false
    };
    (writes) => {
        true
    };
}

/// `FUNCTIONS`, the list's table, for the import module `MODULE` in scope where it is called.
macro_rules! table {
    ($($(#[doc = $doc:literal])* $safety:ident fn $name:ident($($arg:ident: $ty:ident),* $(,)?) $(-> $ret:ident)?;
        needs $needs:literal;)*) => {
        pub const FUNCTIONS: &[HostFunction] = &[$(HostFunction {
            module: MODULE,
            name: stringify!($name),
            params: &[$((stringify!($arg), val_type!($ty))),*],
            results: &[$(val_type!($ret))?],
            writes_memory: writes_memory!($safety),
            needs: $needs,
            doc: concat!($($doc),*),
        }),*];
    };
}

/// The tables, one module each (`table!` names what it makes the same in both).
mod env {
    use super::{HostFunction, ValType};
    use crate::MODULE;
    with_host_functions!(table);
}
mod wasi {
    use super::{HostFunction, ValType};
    use crate::WASI_MODULE as MODULE;
    crate::with_wasi_functions!(table);
}

/// Every host function of module `"env"`, in the order `docs/ABI.md` lists them.
pub const HOST_FUNCTIONS: &[HostFunction] = env::FUNCTIONS;
/// Every WASI function, in the order `docs/WASI.md` lists them.
pub const WASI_FUNCTIONS: &[HostFunction] = wasi::FUNCTIONS;

/// The host function called `name` in module `"env"`.
pub fn host_function(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// The import `name` of `module`: a host function of `"env"` or a WASI function.
pub fn import(module: &str, name: &str) -> Option<&'static HostFunction> {
    let list = match module {
        crate::MODULE => HOST_FUNCTIONS,
        crate::WASI_MODULE => WASI_FUNCTIONS,
        _ => return None,
    };
    list.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_results_at_most_one() {
        for (i, f) in HOST_FUNCTIONS.iter().enumerate() {
            assert!(HOST_FUNCTIONS[..i].iter().all(|g| g.name != f.name), "{} twice", f.name);
            assert!(f.results.len() <= 1, "{}", f.name);
            assert!(f.name.starts_with("sys_") && !f.doc.trim().is_empty(), "{}", f.name);
        }
        assert_eq!(host_function("sys_cap_call").map(|f| f.params.len()), Some(2));
        assert!(host_function("sys_cap_recv").is_some_and(|f| f.writes_memory));
        assert!(host_function("sys_cap_send").is_some_and(|f| !f.writes_memory));
    }

    #[test]
    fn wasi_has_every_preview_1_function_once_each_answering_an_errno() {
        assert_eq!(WASI_FUNCTIONS.len(), 46);
        for (i, f) in WASI_FUNCTIONS.iter().enumerate() {
            assert!(WASI_FUNCTIONS[..i].iter().all(|g| g.name != f.name), "{} twice", f.name);
            let errno = f.results == [ValType::I32];
            assert!(errno || (f.name == "proc_exit" && f.results.is_empty()), "{}", f.name);
            assert_eq!(f.module, crate::WASI_MODULE);
        }
        assert_eq!(import(crate::WASI_MODULE, "path_open").map(|f| f.params.len()), Some(9));
        assert_eq!(import(crate::MODULE, "sys_yield"), host_function("sys_yield"));
        assert_eq!(import(crate::MODULE, "fd_write"), None);
        assert_eq!(import("wasi_unstable", "fd_write"), None);
    }
}
