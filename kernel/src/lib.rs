//! MinimalOS: an x86_64 microkernel whose every program is a WebAssembly actor.
//!
//! What this kernel believes:
//! - One address space, one privilege level. Isolation comes from the Wasm sandbox and from
//!   capabilities, not from page tables or rings.
//! - The kernel does not care which loader booted it: everything it knows about the machine
//!   arrives through the Limine boot protocol (`boot`).
//! - Hardware glue and pure logic are apart: the logic builds and is tested on the host.
//! - Faults name their cause. Nothing an actor does may panic the kernel.
//!
//! Rooms, one job each:
//! - `startup`: the boot sequence, in order.
//! - `boot`: Limine requests and what their responses say about the machine.
//! - `arch`: x86_64 glue (serial port, GDT/TSS, IDT and exception reports, QEMU exit).
//! - `mem`: physical frames, page tables through the HHDM, the kernel heap.
//! - `klog`: the `log` backend on the serial console.
//! - `cmdline`: boot options from the kernel command line.
//! - `ramdisk`: the `ramdisk.tar` module.
//! - `manifest`, `init`: the boot manifest, and starting the actors it lists.
//! - `requests`: work actors ask of the executor loop (spawning, the native IPC benchmark).
//! - `supervisor`: restarting the actors the manifest marks `restart`.
//! - `symbols`: the kernel's own function names, for fault reports.
//! - `console`: the serial console as a service actors reach through endpoints.
//! - `log_mirror`: the kernel log copied to an endpoint the manifest names.
//! - `task`, `time`: the executor, fibers, time slices; the clock and sleeping.
//! - `cap`, `ipc`, `proc`: capabilities, endpoints and shared memory, processes.
//! - `wasm`: the Wasm actor runtime and its host ABI.
//! - `fatal`: what happens when the kernel cannot go on.
//! - `proc`: processes: pids, state, why each ended, statistics.
//! - `cap`: capabilities, rights and per-process handle tables.
//! - `ipc`: endpoints, messages and shared memory, the objects capabilities name.
//! - `error`: what capability, IPC and process operations fail with.
#![cfg_attr(not(any(test, feature = "host")), no_std)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod arch;
pub mod boot;
pub mod cap;
pub mod cmdline;
pub mod console;
pub mod error;
pub mod fatal;
pub mod init;
pub mod ipc;
pub mod klog;
pub mod ktest;
pub mod log_mirror;
pub mod manifest;
pub mod mem;
pub mod proc;
pub mod ramdisk;
pub mod requests;
pub mod startup;
pub mod supervisor;
pub mod symbols;
pub mod task;
pub mod time;
pub mod wasm;
