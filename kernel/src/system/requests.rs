//! Work actors ask of the executor loop: starting a ramdisk module, running the native IPC
//! benchmark. Both need the executor, which is busy polling the asking actor, so a host call
//! queues a request and waits; the loop serves the queue between rounds of polls.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;
use futures_util::task::AtomicWaker;

use super::native_ipc::{self, PingPongError, RoundTrips};
use crate::cap::Capability;
use crate::proc::{PROCESSES, Pid, Process};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::wasm::{self, limits::Limits};

/// Why a module asked for could not be started.
#[derive(Debug, Clone, PartialEq)]
pub enum SpawnFailure {
    /// The ramdisk has no such file.
    NoSuchFile(String),
    /// The kernel refused the module, or had too little memory to load it.
    Spawn { file: String, error: wasm::SpawnError },
    /// The asking actor already has as many live children as its limit allows.
    TooManyChildren(u32),
}

impl core::fmt::Display for SpawnFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchFile(file) => write!(f, "no file `{file}` in the ramdisk"),
            Self::Spawn { file, error } => write!(f, "`{file}` {error}"),
            Self::TooManyChildren(limit) => {
                write!(f, "the actor already has {limit} live children, its limit")
            }
        }
    }
}

/// One request and where its answer goes.
enum Request {
    Spawn {
        file: String,
        grants: Vec<Capability>,
        parent: Arc<Process>,
        reply: Arc<Reply<Result<Pid, SpawnFailure>>>,
    },
    NativeIpc {
        round_trips: u32,
        reply: Arc<Reply<Result<RoundTrips, PingPongError>>>,
    },
}

/// Where the loop leaves an answer; the first answer stands.
struct Reply<T> {
    result: spin::Mutex<Option<T>>,
    waker: AtomicWaker,
}

impl<T> Reply<T> {
    fn answer(&self, value: T) {
        self.result.lock().get_or_insert(value);
        self.waker.wake();
    }
}

/// Requests not served yet.
static REQUESTS: spin::Mutex<VecDeque<Request>> = spin::Mutex::new(VecDeque::new());
/// Whether [`REQUESTS`] may hold one: the executor asks between every two polls, so it reads
/// a flag rather than taking the lock.
static PENDING: AtomicBool = AtomicBool::new(false);

/// Queues the request `make` builds around a fresh reply, and waits for the answer.
async fn ask<T>(make: impl FnOnce(Arc<Reply<T>>) -> Request) -> T {
    let reply = Arc::new(Reply { result: spin::Mutex::new(None), waker: AtomicWaker::new() });
    {
        let mut queue = REQUESTS.lock();
        queue.push_back(make(reply.clone()));
        PENDING.store(true, Ordering::Release);
    }
    core::future::poll_fn(|cx| {
        reply.waker.register(cx.waker());
        match reply.result.lock().take() {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    })
    .await
}

/// Starts the ramdisk module `file` as a new actor holding `grants` (at handles 0, 1, 2…), a
/// child of `parent`, once the executor loop gets to it; the reason is returned when it cannot
/// start.
pub async fn spawn(file: String, grants: Vec<Capability>, parent: Arc<Process>) -> Result<Pid, SpawnFailure> {
    ask(|reply| Request::Spawn { file, grants, parent, reply }).await
}

/// Runs the kernel-native ping-pong for `round_trips` and returns its figures, or what went
/// wrong.
pub async fn native_ipc(round_trips: u32) -> Result<RoundTrips, PingPongError> {
    ask(|reply| Request::NativeIpc { round_trips, reply }).await
}

/// Whether a request waits to be served.
pub fn pending() -> bool {
    PENDING.load(Ordering::Acquire)
}

/// Serves the pending requests (called by the executor loop between rounds).
pub fn serve(executor: &mut Executor, disk: Option<&Ramdisk<'static>>) {
    loop {
        let request = {
            let mut queue = REQUESTS.lock();
            let request = queue.pop_front();
            // Cleared under the lock, so a request queued meanwhile sets it again after.
            if queue.is_empty() {
                PENDING.store(false, Ordering::Release);
            }
            request
        };
        let Some(request) = request else { return };
        match request {
            Request::Spawn { file, grants, parent, reply } => {
                reply.answer(serve_spawn(executor, disk, &file, grants, &parent))
            }
            Request::NativeIpc { round_trips, reply } => {
                let sink = reply.clone();
                let mut processes = PROCESSES.lock();
                let started =
                    native_ipc::ping_pong(executor, &mut processes, round_trips, move |r| sink.answer(r));
                if let Err(e) = started {
                    reply.answer(Err(PingPongError::Start(e)));
                }
            }
        }
    }
}

fn serve_spawn(
    executor: &mut Executor,
    disk: Option<&Ramdisk<'static>>,
    file: &str,
    grants: Vec<Capability>,
    parent: &Arc<Process>,
) -> Result<Pid, SpawnFailure> {
    let result = match disk.and_then(|d| d.get(file)) {
        _ if !parent.may_start_child() => Err(SpawnFailure::TooManyChildren(parent.limits().children)),
        None => Err(SpawnFailure::NoSuchFile(file.into())),
        Some(bytes) => {
            let mut processes = PROCESSES.lock();
            let name = file.trim_end_matches(".wasm");
            let limits = Limits::for_child_of(parent);
            wasm::spawn_wasm(executor, &mut processes, name, bytes, limits, grants, Some(parent))
                .map(|child| child.pid())
                .map_err(|error| SpawnFailure::Spawn { file: file.into(), error })
        }
    };
    match &result {
        Ok(pid) => log::info!("init: started {file} as pid {pid} on request"),
        Err(why) => log::warn!("init: {}[{}] asked for {file}: {why}", parent.name(), parent.pid()),
    }
    result
}
