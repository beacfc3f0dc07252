//! Work host calls ask of the executor loop: starting a ramdisk module, running the native IPC
//! benchmark. Both need the executor, which is busy polling the asking actor, so a host call
//! queues a request here and waits; whoever runs the loop takes the requests ([`next`]) between
//! rounds of polls and answers each. How a request is served is policy (`system::requests`).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;
use futures_util::task::AtomicWaker;
use minimalos_abi::IpcFigures;

use super::SpawnError;
use super::spawn::Given;
use crate::proc::{Pid, Process};

/// Why a module asked for could not be started.
#[derive(Debug, Clone, PartialEq)]
pub enum SpawnFailure {
    /// The ramdisk has no such file.
    NoSuchFile(String),
    /// The kernel refused the module, or had too little memory to load it.
    Spawn { file: String, error: SpawnError },
    /// The asking actor already has as many live children as its limit allows.
    TooManyChildren(u32),
    /// What the program was to be given cannot be.
    Start { file: String, why: super::wasi::StartError },
    /// The module at a vfs path could not be read.
    Unreadable { file: String, errno: super::wasi::Errno },
}

impl core::fmt::Display for SpawnFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchFile(file) => write!(f, "no file `{file}` in the ramdisk"),
            Self::Spawn { file, error } => write!(f, "`{file}` {error}"),
            Self::TooManyChildren(limit) => {
                write!(f, "the actor already has {limit} live children, its limit")
            }
            Self::Start { file, why } => write!(f, "`{file}`: {why}"),
            Self::Unreadable { file, errno } => write!(f, "cannot read `{file}` from the vfs: {errno}"),
        }
    }
}

/// One request and where its answer goes.
pub enum Request {
    /// Start the module `file` as a child of `parent`, with what it is `given`: the ramdisk's
    /// file of that name, or `code` when it comes from elsewhere (a vfs path).
    Spawn {
        file: String,
        code: Option<Vec<u8>>,
        given: Box<Given>,
        parent: Arc<Process>,
        reply: Reply<Result<Pid, SpawnFailure>>,
    },
    /// Run the native IPC benchmark for `round_trips`; `None` if it failed (the loop logs why,
    /// naming `asker`).
    NativeIpc { round_trips: u32, asker: Arc<Process>, reply: Reply<Option<IpcFigures>> },
}

/// Where the loop leaves a request's answer; the first answer stands.
pub struct Reply<T>(Arc<Slot<T>>);

struct Slot<T> {
    result: spin::Mutex<Option<T>>,
    waker: AtomicWaker,
}

impl<T> Reply<T> {
    /// Answers the request and wakes the actor waiting for it.
    pub fn answer(&self, value: T) {
        self.0.result.lock().get_or_insert(value);
        self.0.waker.wake();
    }
}

impl<T> Clone for Reply<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// Requests not served yet.
static REQUESTS: spin::Mutex<VecDeque<Request>> = spin::Mutex::new(VecDeque::new());
/// Whether [`REQUESTS`] may hold one: the executor asks between every two polls, so it reads
/// a flag rather than taking the lock.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Queues the request `make` builds around a fresh reply, and waits for the answer.
async fn ask<T>(make: impl FnOnce(Reply<T>) -> Request) -> T {
    let reply = Reply(Arc::new(Slot { result: spin::Mutex::new(None), waker: AtomicWaker::new() }));
    {
        let mut queue = REQUESTS.lock();
        queue.push_back(make(reply.clone()));
        PENDING.store(true, Ordering::Release);
    }
    core::future::poll_fn(|cx| {
        reply.0.waker.register(cx.waker());
        match reply.0.result.lock().take() {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    })
    .await
}

/// Starts the module `file` (the ramdisk's, or `code`) as a new actor with what it is
/// `given`, a child of `parent`, once the executor loop gets to it; the reason is returned when
/// it cannot start.
pub async fn spawn(
    file: String,
    code: Option<Vec<u8>>,
    given: Given,
    parent: Arc<Process>,
) -> Result<Pid, SpawnFailure> {
    ask(|reply| Request::Spawn { file, code, given: Box::new(given), parent, reply }).await
}

/// Runs the kernel-native ping-pong for `round_trips` and returns its figures; `None` if it
/// failed, which the loop logs, naming `asker`.
pub async fn native_ipc(round_trips: u32, asker: Arc<Process>) -> Option<IpcFigures> {
    ask(|reply| Request::NativeIpc { round_trips, asker, reply }).await
}

/// Whether a request waits to be served.
pub fn pending() -> bool {
    PENDING.load(Ordering::Acquire)
}

/// The oldest request not served yet.
pub fn next() -> Option<Request> {
    let mut queue = REQUESTS.lock();
    let request = queue.pop_front();
    // Cleared under the lock, so a request queued meanwhile sets it again after.
    if queue.is_empty() {
        PENDING.store(false, Ordering::Release);
    }
    request
}
