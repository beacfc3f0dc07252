//! A process: a name, a capability table, a lifecycle and statistics, run as one executor task.
//! What `ps` shows of it is in `state`, receiving in `inbox`, the table of processes in `table`,
//! why one ended in `exit`; the objects it sends to and receives from are in `ipc`.
//!
//! Locks: a process's lock is never held while a capability is dropped or a waker is woken
//! (dropping a capability may close an endpoint and wake its waiters), and it is taken before an
//! endpoint's lock, never after.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::future::{Future, poll_fn};
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use core::task::{Context, Poll};
use spin::Mutex;

use super::table::EndOrder;
use super::{Exit, Inbox, Limits, Pid, ProcessInfo, Received, State, Stats, Wait};
use crate::cap::{CapTable, Capability, Handle, Rights};
use crate::error::{Error, Rejected};
use crate::ipc::{Message, Payload};
use crate::klog::budget::{BURST, LineBudget, REFILL_NS};
use crate::mem::kmem::{self, Account, Tier};
use crate::task::{Executor, Placement, TaskId, wake};

/// One process.
pub struct Process {
    pid: Pid,
    name: String,
    inner: Mutex<Inner>,
    messages_sent: AtomicU64,
    pub(super) messages_received: AtomicU64,
    /// TSC cycles its task was polled for, counted by the executor.
    cpu_cycles: Arc<AtomicU64>,
    limits: Limits,
    /// The process that started it, if one did; its count of live children includes this one.
    parent: Option<Weak<Process>>,
    children: AtomicU32,
    linear_memory: AtomicU64,
    linear_memory_limit: AtomicU64,
    restarts: AtomicU32,
    /// Whether it is running, idle (ready or blocked) or dead ([`Phase`]), kept apart from the
    /// lock: the executor updates it around every poll.
    phase: AtomicU8,
    /// The raw handle its body waits to receive on, or [`NOT_WAITING`].
    waiting_on: AtomicI64,
    /// A kernel service (the console, the log mirror, the native benchmark's tasks): no actor
    /// may end it.
    kernel: bool,
    /// The kernel memory charged to it.
    account: Arc<Account>,
    /// Where its table learns that it ended.
    ended: &'static EndOrder,
    /// The log lines the kernel writes about its children (started, refused, ended).
    child_lines: LineBudget,
}

/// A process's phase as [`Process::phase`] stores it.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Not running: ready or blocked, as `waiting_on` says.
    Idle,
    Running,
    /// Why is in `Inner::exit`.
    Dead,
}

/// `waiting_on` when the body waits for nothing.
const NOT_WAITING: i64 = i64::MIN;

struct Inner {
    /// Why it ended, once it has.
    exit: Option<Exit>,
    caps: CapTable,
    task: Option<TaskId>,
}

impl Process {
    /// A ready process with a fresh pid, no capabilities and `limits`, started by `parent`
    /// (counted among its live children until it ends); `kernel` for a kernel service.
    pub(super) fn new(
        name: String,
        limits: Limits,
        parent: Option<&Arc<Process>>,
        kernel: bool,
        ended: &'static EndOrder,
    ) -> Self {
        if let Some(parent) = parent {
            parent.children.fetch_add(1, Ordering::Relaxed);
        }
        let tier = match (kernel, parent) {
            (true, _) => Tier::Kernel,
            (false, None) => Tier::System,
            (false, Some(_)) => Tier::Spawned,
        };
        let account = Account::new(&kmem::POOL, tier, limits.kmem);
        Self {
            pid: Pid::next(),
            name,
            inner: Mutex::new(Inner {
                exit: None,
                caps: CapTable::charged_to(limits.handles, &account),
                task: None,
            }),
            messages_sent: AtomicU64::new(0),
            messages_received: AtomicU64::new(0),
            cpu_cycles: Arc::default(),
            limits,
            parent: parent.map(Arc::downgrade),
            children: AtomicU32::new(0),
            linear_memory: AtomicU64::new(0),
            linear_memory_limit: AtomicU64::new(0),
            restarts: AtomicU32::new(0),
            phase: AtomicU8::new(Phase::Idle as u8),
            waiting_on: AtomicI64::new(NOT_WAITING),
            kernel,
            account,
            ended,
            child_lines: LineBudget::new(),
        }
    }

    /// The kernel memory charged to it.
    pub fn account(&self) -> &Arc<Account> {
        &self.account
    }

    /// Whether it is a kernel service, which no actor may end.
    pub fn is_kernel(&self) -> bool {
        self.kernel
    }

    /// Counts `cycles` more TSC cycles of CPU time (the executor counts its polls itself).
    pub fn add_cpu_cycles(&self, cycles: u64) {
        self.cpu_cycles.fetch_add(cycles, Ordering::Relaxed);
    }

    /// Its limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether it may start another process: fewer than its limit of children are alive.
    pub fn may_start_child(&self) -> bool {
        self.children.load(Ordering::Relaxed) < self.limits.children
    }

    /// Records the size of its Wasm linear memory (kept by the memory itself as it grows).
    pub fn set_linear_memory(&self, bytes: u64, limit: u64) {
        self.linear_memory.store(bytes, Ordering::Relaxed);
        self.linear_memory_limit.store(limit, Ordering::Relaxed);
    }

    /// The most Wasm linear memory it may have, in bytes (0 for a kernel task).
    pub fn linear_memory_limit(&self) -> u64 {
        self.linear_memory_limit.load(Ordering::Relaxed)
    }

    /// Records that it is the `n`th restart of its actor.
    pub fn set_restarts(&self, n: u32) {
        self.restarts.store(n, Ordering::Relaxed);
    }

    /// Its pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Marks it as waiting for `wait` until the marker is dropped: between polls it is then
    /// [`State::Blocked`], not ready.
    pub fn waiting(&self, wait: Wait) -> Blocked<'_> {
        self.waiting_on.store(wait.to_raw(), Ordering::Relaxed);
        Blocked(self)
    }

    /// Waits for `duration` to pass, as [`State::Blocked`] on [`Wait::Sleep`].
    pub async fn sleep(&self, duration: core::time::Duration) {
        let _blocked = self.waiting(Wait::Sleep);
        crate::time::sleep(duration).await;
    }

    /// Whether it has ended.
    pub fn is_dead(&self) -> bool {
        self.phase.load(Ordering::Acquire) == Phase::Dead as u8
    }

    /// Where it is in its life.
    pub fn state(&self) -> State {
        self.state_with(&self.inner.lock())
    }

    /// The state, from the phase and (for an ended process) `inner`'s exit.
    fn state_with(&self, inner: &Inner) -> State {
        match self.phase.load(Ordering::Acquire) {
            p if p == Phase::Running as u8 => State::Running,
            p if p == Phase::Dead as u8 => {
                State::Dead(inner.exit.clone().unwrap_or(Exit::Killed { by: None }))
            }
            // Between polls, what its body waits for (if anything) says it: a body run directly
            // by another's fiber (`wasm::handoff`) passes through no poll of its own.
            _ => match self.waiting_on.load(Ordering::Relaxed) {
                NOT_WAITING => State::Ready,
                raw => State::Blocked(Wait::from_raw(raw)),
            },
        }
    }

    /// Its state and counters.
    pub fn info(&self) -> ProcessInfo {
        let inner = self.inner.lock();
        ProcessInfo {
            pid: self.pid,
            name: self.name.clone(),
            state: self.state_with(&inner),
            // Once it ended its task's slot may be another task's: no CPU then.
            cpu: inner.task.filter(|_| inner.exit.is_none()).map(wake::cpu_of),
            handles: inner.caps.count(),
            stats: Stats {
                messages_sent: self.messages_sent.load(Ordering::Relaxed),
                messages_received: self.messages_received.load(Ordering::Relaxed),
                cpu_cycles: self.cpu_cycles.load(Ordering::Relaxed),
                memory_bytes: self.account.used(),
            },
            limits: self.limits,
            children: self.children.load(Ordering::Relaxed),
            linear_memory: (
                self.linear_memory.load(Ordering::Relaxed),
                self.linear_memory_limit.load(Ordering::Relaxed),
            ),
            restarts: self.restarts.load(Ordering::Relaxed),
            kernel: self.kernel,
        }
    }

    /// Runs `f` on its capability table: lookups only, so nothing is dropped under the lock.
    pub fn with_caps<R>(&self, f: impl FnOnce(&CapTable) -> R) -> R {
        f(&self.inner.lock().caps)
    }

    /// Gives it `cap` (a grant at spawn, or later from the kernel) and returns the handle.
    /// A dead process takes nothing (`NoSuchProcess`).
    pub fn insert(&self, cap: Capability) -> Result<Handle, Error> {
        let inserted = {
            let mut inner = self.inner.lock();
            match inner.exit {
                Some(_) => Err(Rejected { error: Error::NoSuchProcess, value: cap }),
                None => inner.caps.insert(cap),
            }
        };
        // A refused capability is dropped here, after the lock.
        inserted.map_err(|rejected| rejected.error)
    }

    /// Closes `handle`: the capability is gone, and so is the handle, for good.
    pub fn close(&self, handle: Handle) -> Result<(), Error> {
        let cap = self.inner.lock().caps.remove(handle)?;
        // After the lock: the last capability of an endpoint side wakes the other side.
        drop(cap);
        Ok(())
    }

    /// Queues a message with `opcode` and a copy of `payload` on the endpoint `handle` names
    /// (needs WRITE). `transfer` moves another capability along with it: it needs GRANT, keeps
    /// its rights, and leaves this process's table only if the send succeeds.
    pub fn send(
        &self,
        handle: Handle,
        opcode: u32,
        payload: &[u8],
        transfer: Option<Handle>,
    ) -> Result<(), Error> {
        self.send_payload(handle, opcode, Payload::new(payload, Some(&self.account))?, transfer)
    }

    /// As [`send`](Self::send), with the payload already built.
    // A hint, so the payload may be built where the message is (forced, it saved 60
    // instructions of a Wasm round trip's 3078: under 3%, not worth forcing).
    #[inline]
    pub fn send_payload(
        &self,
        handle: Handle,
        opcode: u32,
        payload: Payload,
        transfer: Option<Handle>,
    ) -> Result<(), Error> {
        let (endpoint, cap) = self.with_caps(|caps| {
            let endpoint = caps.endpoint(handle, Rights::WRITE)?.clone();
            let cap = transfer
                .map(|moved| caps.get(moved, Rights::GRANT).and_then(|cap| cap.derive(cap.rights())))
                .transpose()?;
            Ok::<_, Error>((endpoint, cap))
        })?;
        endpoint
            .send(Message { sender: self.pid, opcode, payload, cap })
            .map_err(|rejected| rejected.error)?;
        if let Some(moved) = transfer {
            // The copy is on its way; the original goes. Nothing else ran since the lookup, so
            // the handle is still live.
            let _ = self.close(moved);
        }
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Takes the oldest message on the endpoint `handle` names (needs READ) if `accept` agrees,
    /// without waiting: `Empty` if none is queued, `Closed` if none ever will be. A message
    /// `accept` refuses, or whose capability would not fit the table (`TooManyHandles`), stays
    /// queued. `accept` runs under the endpoint's lock: it must only look.
    pub fn try_recv(
        &self,
        handle: Handle,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
    ) -> Result<Received, Error> {
        self.inbox(handle)?.try_recv(accept)
    }

    /// As [`try_recv`](Self::try_recv), but waits while the queue is empty, as
    /// [`State::Blocked`].
    pub async fn recv(
        &self,
        handle: Handle,
        accept: impl FnMut(&Message) -> Result<(), Error>,
    ) -> Result<Received, Error> {
        self.inbox(handle)?.recv(accept).await
    }

    /// The endpoint `handle` names (needs READ), looked up once for any number of receives
    /// and waits on it.
    pub fn inbox(&self, handle: Handle) -> Result<Inbox<'_>, Error> {
        let endpoint = self.with_caps(|caps| caps.endpoint(handle, Rights::READ).cloned())?;
        Ok(Inbox { process: self, endpoint, handle })
    }

    /// Logs `line`, about one of its children, if its budget of such lines allows
    /// (`klog::budget`: a start or an end is written for it, synchronously, on the console);
    /// the first line after some were left out says how many.
    pub fn log_about_child(&self, level: log::Level, line: core::fmt::Arguments<'_>) {
        if !log::log_enabled!(level) {
            return;
        }
        let Some(left_out) = self.child_lines.take(crate::time::clock::now().as_nanos()) else { return };
        if left_out > 0 {
            log::log!(
                level,
                "{}[{}]: {left_out} lines about its children left out of the log (more than {BURST} at once, then {} a second)",
                self.name,
                self.pid,
                1_000_000_000 / REFILL_NS
            );
        }
        log::log!(level, "{line}");
    }

    /// Ends the process, unless it has ended already (then `false`): records `exit`, releases
    /// every capability (peers waiting on its endpoints get `Closed`), and wakes its task so the
    /// body is dropped at its next poll.
    pub fn end(&self, exit: Exit) -> bool {
        let (caps, task) = {
            let mut inner = self.inner.lock();
            if inner.exit.is_some() {
                return false;
            }
            inner.exit = Some(exit.clone());
            self.phase.store(Phase::Dead as u8, Ordering::Release);
            (core::mem::replace(&mut inner.caps, CapTable::new(0)), inner.task)
        };
        let parent = self.parent.as_ref().and_then(Weak::upgrade);
        match &parent {
            Some(parent) => {
                parent.log_about_child(exit.level(), format_args!("{}[{}] {exit}", self.name, self.pid))
            }
            None => log::log!(exit.level(), "{}[{}] {exit}", self.name, self.pid),
        }
        super::note_end();
        self.ended.push(self.pid);
        if let Some(parent) = parent {
            parent.children.fetch_sub(1, Ordering::Relaxed);
        }
        drop(caps);
        if let Some(task) = task {
            wake::waker(task).wake();
        }
        true
    }

    /// Runs `body` as the process's task; the process ends with the [`Exit`] it returns (unless
    /// [`end`](Self::end) came first). Call it once per process.
    pub fn start(
        self: &Arc<Self>,
        executor: &mut Executor,
        body: impl Future<Output = Exit> + 'static,
    ) -> Result<TaskId, Error> {
        self.start_on(executor, body, Placement::LeastLoaded)
    }

    /// As [`start`](Self::start), on the CPU `placement` names.
    pub fn start_on(
        self: &Arc<Self>,
        executor: &mut Executor,
        body: impl Future<Output = Exit> + 'static,
        placement: Placement,
    ) -> Result<TaskId, Error> {
        let process = Arc::clone(self);
        let body = async move {
            let mut body = pin!(body);
            if let Some(exit) = poll_fn(|cx| process.poll_body(body.as_mut(), cx)).await {
                process.end(exit);
            }
        };
        let task = executor
            .spawn_counted(self.name.clone(), body, Arc::clone(&self.cpu_cycles), placement)
            .map_err(|_| Error::TooManyTasks)?;
        let mut inner = self.inner.lock();
        inner.task = Some(task);
        // The task may already run on another CPU: if something ended the process before the
        // id was known, `end` could not wake it.
        if inner.exit.is_some() {
            wake::waker(task).wake();
        }
        Ok(task)
    }

    /// Polls the body once, keeping the state (the executor counts the CPU); `Ready(None)` if the process
    /// was ended from outside.
    fn poll_body<F: Future<Output = Exit>>(
        &self,
        body: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Exit>> {
        // Another CPU may end the process at any time: it becomes Running only if it is not
        // Dead (the body ending it itself is handled below).
        let running = self.phase.fetch_update(Ordering::AcqRel, Ordering::Acquire, |phase| {
            (phase != Phase::Dead as u8).then_some(Phase::Running as u8)
        });
        if running.is_err() {
            return Poll::Ready(None);
        }
        let poll = body.poll(cx);
        if poll.is_pending() {
            // Unless the body ended its own process meanwhile.
            let _ = self.phase.compare_exchange(
                Phase::Running as u8,
                Phase::Idle as u8,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
        poll.map(Some)
    }
}

/// Marks its process as waiting, for as long as it lives (a future dropped mid-wait included);
/// made by [`Process::waiting`].
pub struct Blocked<'a>(&'a Process);

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        self.0.waiting_on.store(NOT_WAITING, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
