//! Processes: who holds capabilities, sends and receives, and why each one ended.
//!
//! - `pid`: process ids, never reused.
//! - `process`: one process (state, capability table, statistics) run as one executor task.
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

pub mod exit;
pub mod pid;
pub mod process;
pub mod table;

pub use exit::{Exit, Trap};
pub use pid::Pid;
pub use process::{Blocked, Inbox, Limits, Process, ProcessInfo, Received, State, Stats, Transferred, Wait};
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
