//! Kernel tasks: futures polled by a cooperative executor on every CPU.
//!
//! - `executor`: spawns tasks onto CPUs, polls the runnable ones, balances, keeps statistics.
//! - `registry`: the live tasks by slot.
//! - `run_queue`: each CPU's queues and scheduling counters.
//! - `wake`: allocation-free wakers that interrupt handlers may use, on any CPU; which CPU runs
//!   a task.
//! - `preempt`: time slices, `should_yield` and `yield_now`.
//! - `fiber`: stacks of their own for code that must block inside a call (Wasm host functions).
//!
//! Sleeping lives in `time`; the executor's idle loop and timer interrupt in `startup`/`arch`.
//!
//! May use: `arch` (context switches, the TSC), `mem` (fiber stacks).

pub mod executor;
pub mod fiber;
pub mod preempt;
mod registry;
mod run_queue;
pub mod wake;

pub use executor::{CpuInfo, Executor, Placement, SpawnError, TaskInfo};
pub use preempt::{should_yield, yield_now};
pub use wake::TaskId;
