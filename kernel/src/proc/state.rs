//! What `ps` shows about a process and what bounds it: its state (and what it waits for), its
//! counters, its limits. The process itself is in `process`.

use alloc::string::String;

use super::{Exit, Pid};
use crate::cap::{Handle, MAX_HANDLES};
use crate::mem::kmem;

/// Where a process is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Runnable, or not started yet.
    Ready,
    /// Its task is being polled.
    Running,
    /// Waiting for something.
    Blocked(Wait),
    /// Ended; its capabilities are released.
    Dead(Exit),
}

/// What a blocked process waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// A message on the endpoint behind this handle.
    Receive(Handle),
    /// One of several events, or a deadline (`sys_cap_wait`).
    Events,
    /// Time to pass (`sys_sleep_ns`).
    Sleep,
    /// Work the kernel does for it: a spawn, the native IPC benchmark.
    Kernel,
}

impl Wait {
    /// As `waiting_on` stores it: a handle is never negative, so the other kinds take
    /// negative values.
    pub(super) fn to_raw(self) -> i64 {
        match self {
            Self::Receive(handle) => handle.raw(),
            Self::Events => -2,
            Self::Sleep => -3,
            Self::Kernel => -4,
        }
    }

    pub(super) fn from_raw(raw: i64) -> Self {
        match raw {
            -2 => Self::Events,
            -3 => Self::Sleep,
            -4 => Self::Kernel,
            handle => Self::Receive(Handle::from_raw(handle)),
        }
    }
}

/// A process's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Messages it queued.
    pub messages_sent: u64,
    /// Messages it took.
    pub messages_received: u64,
    /// TSC cycles its task was polled for.
    pub cpu_cycles: u64,
    /// Kernel memory charged to it now (`mem::kmem`).
    pub memory_bytes: u64,
}

/// What a process may hold and start; the boot manifest sets them per actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most capabilities in its table.
    pub handles: usize,
    /// Most processes it has started that are alive at once.
    pub children: u32,
    /// Largest capacity of an endpoint it creates.
    pub queue: usize,
    /// Most kernel memory that may be charged to it, in bytes.
    pub kmem: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            handles: MAX_HANDLES,
            children: 128,
            queue: crate::ipc::MAX_CAPACITY,
            kmem: kmem::POOL.default_limit(),
        }
    }
}

/// What `ps` shows about a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// The CPU its task runs on or last ran on; `None` before it starts and once it ended.
    pub cpu: Option<usize>,
    /// Capabilities it holds.
    pub handles: usize,
    /// Its counters.
    pub stats: Stats,
    /// Its limits.
    pub limits: Limits,
    /// Processes it started that are alive.
    pub children: u32,
    /// Bytes of Wasm linear memory it has now, and the most it may have (0 and 0 for a kernel
    /// task).
    pub linear_memory: (u64, u64),
    /// Times it was started again after it ended (supervision).
    pub restarts: u32,
    /// Whether it is a kernel service (its kernel memory counts but has no limit).
    pub kernel: bool,
}
