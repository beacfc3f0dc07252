//! Wasm actors: every user program is a WebAssembly module interpreted by tinywasm.
//!
//! - `spawn`: parse, validate against the host ABI, instantiate, start.
//! - `actor`: the task that runs an actor on its own fiber, in fuel slices.
//! - `abi`: the host functions (module `"env"`); `docs/ABI.md` is their contract.
//! - `handoff`: the direct switch from a waiting actor to the actor the executor would run next.
//! - `guest`: checked access to an actor's linear memory.
//! - `linear_memory`: the memory itself, capped, and where the kernel sees it.
//! - `limits`: memory, stack and fuel limits per actor.
//!
//! May use: every mechanism, and of the policy only `system::requests`, where the host calls
//! that need the executor loop (spawning, the native benchmark) queue their work.

pub mod abi;
pub mod actor;
pub mod guest;
pub mod handoff;
pub mod limits;
pub mod linear_memory;
pub mod spawn;

pub use spawn::{SpawnError, spawn_wasm};
