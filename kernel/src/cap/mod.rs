//! Capabilities: the only way a process reaches a kernel object.
//!
//! - `rights`: what a capability allows (`READ`, `WRITE`, `GRANT`).
//! - `capability`: an object with rights; copies only keep or narrow the rights.
//! - `table`: a process's capabilities behind unforgeable, never-reused `i64` handles.
//!
//! The objects themselves (endpoints, shared memory) are in `ipc`; the process that owns a table
//! is in `proc`. Typical use, granting at spawn and then narrowing for a peer:
//!
//! ```ignore
//! let endpoint = Capability::endpoint(ipc::DEFAULT_CAPACITY, None)?;
//! let server_inbox = server.insert(endpoint.derive(Rights::READ)?)?;
//! let client_outbox = client.insert(endpoint.derive(Rights::WRITE)?)?;
//! ```
//!
//! May use: `ipc` (the objects capabilities name), `mem` (kernel memory charges), `boot` (the
//! framebuffer's description).

pub mod capability;
pub mod rights;
pub mod table;

pub use capability::{Capability, Object};
pub use rights::Rights;
pub use table::{CapTable, Handle, MAX_HANDLES};
