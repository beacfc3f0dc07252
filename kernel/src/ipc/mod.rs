//! Inter-process communication: the objects capabilities refer to.
//!
//! - `endpoint`: bounded FIFO message queues with waiting, readiness and closing.
//! - `message`: what a queue carries (sender, opcode, payload, an optional capability).
//! - `shared_memory`: buffers processes copy into and out of.
//! - `wait`: the list of tasks waiting on one side of an endpoint.
//!
//! Capabilities to these objects, and their rights, are in `cap`; the processes that send and
//! receive (and their statistics) are in `proc`, whose `Process::send`/`Process::recv` are the
//! calls the host ABI makes. Kernel code may also use an endpoint directly:
//!
//! ```ignore
//! let message = Message { sender: me.pid(), opcode: 1, payload: Payload::new(b"hi", None)?, cap: None };
//! if let Err(rejected) = endpoint.send(message) { /* rejected.value is the message */ }
//! let reply = endpoint.recv().await?;
//! ```
//!
//! May use: `cap` (messages carry capabilities), `task` (wait lists wake tasks), `mem` (kernel
//! memory charges).

pub mod endpoint;
pub mod message;
pub mod pid;
pub mod shared_memory;
mod wait;

pub use endpoint::{DEFAULT_CAPACITY, Endpoint, Listener, MAX_CAPACITY, Waiting};
pub use message::{INLINE_PAYLOAD, MAX_PAYLOAD, Message, Payload};
pub use pid::Pid;
pub use shared_memory::{MAX_SHARED_MEMORY, SharedMemory};
