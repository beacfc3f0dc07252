//! Kernel tasks: futures polled by one cooperative executor.
//!
//! - `executor`: spawns tasks, polls the runnable ones, keeps per-task statistics.
//! - `wake`: allocation-free wakers that interrupt handlers may use.
//! - `preempt`: time slices, `should_yield` and `yield_now`.
//! - `fiber`: stacks of their own for code that must block inside a call (Wasm host functions).
//!
//! Sleeping lives in `time`; the executor's idle loop and timer interrupt in `startup`/`arch`.
//!
//! May use: `arch` (context switches, the TSC), `mem` (fiber stacks).

pub mod executor;
pub mod fiber;
pub mod preempt;
pub mod wake;

pub use executor::{Executor, SpawnError, TaskInfo};
pub use preempt::{should_yield, yield_now};
pub use wake::TaskId;
