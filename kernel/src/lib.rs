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
//! - Mechanism apart from policy: the folders below `system` say how things work, `system`
//!   what runs and when. Every byte the kernel holds for an actor is charged to it (`mem::kmem`).
//!
//! Mechanisms, each a folder whose `mod.rs` says what it owns and what it may use (the arrows
//! point one way: `arch` ← `task`, `time` ← `ipc` ← `proc` ← `wasm`; `cap` and `ipc` name each
//! other, as a capability names an endpoint and a message carries a capability):
//! - `arch`: x86_64 glue (serial port, GDT/TSS, IDT and exception reports, APICs, QEMU exit).
//! - `dev`: devices found on the machine's buses (PCI), to be handed to driver actors.
//! - `mem`: physical frames, page tables through the HHDM, the kernel heap, kernel memory
//!   charged to actors.
//! - `task`, `time`: the executor, fibers, time slices; the clock and sleeping.
//! - `cap`: capabilities, rights and per-process handle tables.
//! - `ipc`: endpoints, messages and shared memory, the objects capabilities name; pids.
//! - `proc`: processes: state, capability tables, sending and receiving, why each ended.
//! - `wasm`: the Wasm actor runtime and its host ABI (the contract is the `minimalos-abi`
//!   crate).
//!
//! Policy: `system` (the boot manifest, init, the supervisor, the services and the requests
//! actors make of the executor loop, the kernel's self-checks).
//!
//! Around them: `startup` (the boot sequence, in order, and each CPU's executor loop), `smp`
//! (starting the other CPUs), `boot` (Limine requests and what
//! their responses say), `cmdline` (boot options), `klog` (the log on the serial console),
//! `ramdisk` (the `ramdisk.tar` module), `symbols` (the kernel's own function names, for fault
//! reports), `fatal` (what happens when the kernel cannot go on), `error` (what capability,
//! IPC and process operations fail with).
#![cfg_attr(not(any(test, feature = "host")), no_std)]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod arch;
pub mod boot;
pub mod cap;
pub mod cmdline;
pub mod dev;
pub mod error;
pub mod fatal;
pub mod ipc;
pub mod klog;
pub mod mem;
pub mod proc;
pub mod ramdisk;
pub mod smp;
pub mod startup;
pub mod symbols;
pub mod system;
pub mod task;
pub mod time;
pub mod wasm;
