//! Processes: who holds capabilities, sends and receives, and why each one ended.
//!
//! - `Pid`: process ids, never reused (in `ipc`, as a message's sender).
//! - `process`: one process (capability table, lifecycle, sending) run as one executor task.
//! - `inbox`: receiving, and messages as a process gets them.
//! - `state`: what `ps` shows: state and what it waits for, counters, limits.
//! - `exit`: why a process ended, the one enum `ps`, the log and supervision read.
//! - `table`: every process by pid.
//!
//! Capabilities are in `cap`, the objects they refer to in `ipc`, tasks in `task`. Starting a
//! process with a grant, and ending it:
//!
//! ```ignore
//! let server = processes.create("server");
//! let inbox = server.insert(endpoint.derive(Rights::READ)?)?;
//! let me = server.clone();
//! server.start(executor, async move { serve(&me, inbox).await })?;
//! processes.get(pid)?.end(Exit::Killed { by: Some(supervisor) });
//! ```
//!
//! May use: `cap`, `ipc`, `task`, `time`, `mem`.

pub mod exit;
pub mod inbox;
pub mod process;
pub mod state;
pub mod table;

pub use crate::ipc::Pid;
pub use exit::{Exit, Trap};
pub use inbox::{Inbox, Received, Transferred};
pub use process::{Blocked, Process};
pub use state::{Limits, ProcessInfo, State, Stats, Wait};
pub use table::{KEPT_DEAD, ProcessTable};

/// Processes ended since boot, for the supervisor to notice an end without asking each one.
static ENDED: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// How many processes have ended since boot.
pub fn ended() -> u64 {
    ENDED.load(core::sync::atomic::Ordering::Acquire)
}

/// Counts one more ended process.
fn note_end() {
    ENDED.fetch_add(1, core::sync::atomic::Ordering::Release);
}

/// The kernel's process table. Task code and host functions lock it only briefly and never
/// across a wait or while ending a process (take the `Arc<Process>` out, then act on it).
pub static PROCESSES: spin::Mutex<ProcessTable> = spin::Mutex::new(ProcessTable::new());
