//! Wasm actors: every user program is a WebAssembly module interpreted by tinywasm.
//!
//! - `spawn`: parse, validate against the host ABI, instantiate, start.
//! - `engine`: the interpreter behind one boundary (tinywasm, or wasmi with its feature).
//! - `actor`: the task that runs an actor on its own fiber, in fuel slices.
//! - `abi`: the host functions (module `"env"`); `docs/ABI.md` is their contract.
//! - `wasi`: WASI preview 1 (module `wasi_snapshot_preview1`); `docs/WASI.md` is its contract.
//! - `handoff`: the direct switch from a waiting actor to the actor the executor would run next.
//! - `guest`: checked access to an actor's linear memory.
//! - `limits`: memory, stack and fuel limits per actor.
//! - `module_cache`: parsed ramdisk modules kept across spawns.
//! - `requests`: the queue where host calls that need the executor loop (spawning, the native
//!   benchmark) leave their work; the loop's owner serves it (`system::requests`).
//!
//! May use: every mechanism below it (`arch`, `mem`, `task`, `time`, `cap`, `ipc`, `proc`);
//! nothing of the policy in `system`.

pub mod abi;
pub mod actor;
pub mod engine;
pub mod guest;
pub mod handoff;
pub mod limits;
pub mod module_cache;
pub mod requests;
pub mod spawn;
pub mod wasi;

pub use spawn::{SpawnError, spawn_wasm};
