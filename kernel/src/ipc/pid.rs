//! Process ids: who sent a message. They name processes (`proc`, whose table maps them), and
//! live here because a message carries one and IPC must not depend on processes.
//!
//! Pids come from one counter that only goes up, so a pid is never reused: a stale pid kept by a
//! supervisor, a log line or a message's sender field can never name a newer process, and at one
//! spawn per nanosecond 64 bits last five centuries.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

/// Identifies a process for the life of the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(u64);

/// The next pid; 0 is never issued, so the ABI may use it for "nobody".
static NEXT: AtomicU64 = AtomicU64::new(1);

impl Pid {
    /// A pid no process had before.
    pub(crate) fn next() -> Self {
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The pid an actor names by `raw` (which may name no process).
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    /// The number an actor sees (a message's sender, `sys_spawn`'s result).
    pub const fn raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
