//! A process: a name, a state, a capability table and statistics, run as one executor task.
//! The table of processes and their pids are in `table` and `pid`; why one ended is in `exit`;
//! the objects it sends to and receives from are in `ipc`.
//!
//! Locks: a process's lock is never held while a capability is dropped or a waker is woken
//! (dropping a capability may close an endpoint and wake its waiters), and it is taken before an
//! endpoint's lock, never after.

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use core::future::{Future, poll_fn};
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicI64, AtomicU8, AtomicU32, AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use spin::Mutex;

use super::{Exit, Pid};
use crate::cap::{CapTable, Capability, Handle, MAX_HANDLES, Rights};
use crate::error::{Error, Rejected};
use crate::ipc::{Endpoint, Listener, Message, Payload};
use crate::mem::kmem::{self, Account, Tier};
use crate::task::{Executor, TaskId, wake};

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
    fn to_raw(self) -> i64 {
        match self {
            Self::Receive(handle) => handle.raw(),
            Self::Events => -2,
            Self::Sleep => -3,
            Self::Kernel => -4,
        }
    }

    fn from_raw(raw: i64) -> Self {
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

/// A message as its receiver gets it: a transferred capability is already in its table.
#[derive(Debug)]
pub struct Received {
    /// Who sent it.
    pub sender: Pid,
    /// The sender's opcode.
    pub opcode: u32,
    /// Its bytes.
    pub payload: Payload,
    /// The capability that came with it (see [`Transferred`]).
    pub cap: Transferred,
}

/// One process.
pub struct Process {
    pid: Pid,
    name: String,
    inner: Mutex<Inner>,
    messages_sent: AtomicU64,
    messages_received: AtomicU64,
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
    pub(super) fn new(name: String, limits: Limits, parent: Option<&Arc<Process>>, kernel: bool) -> Self {
        if let Some(parent) = parent {
            parent.children.fetch_add(1, Ordering::Relaxed);
        }
        let tier = match (kernel, parent) {
            (true, _) => Tier::Kernel,
            (false, None) => Tier::System,
            (false, Some(_)) => Tier::Spawned,
        };
        Self {
            pid: Pid::next(),
            name,
            inner: Mutex::new(Inner { exit: None, caps: CapTable::new(limits.handles), task: None }),
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
            account: Account::new(&kmem::POOL, tier, limits.kmem),
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
    // Inlined, so the payload is built where the message is.
    #[inline(always)]
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
        log::info!("{}[{}] {exit}", self.name, self.pid);
        super::note_end();
        if let Some(parent) = self.parent.as_ref().and_then(Weak::upgrade) {
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
        let process = Arc::clone(self);
        let body = async move {
            let mut body = pin!(body);
            if let Some(exit) = poll_fn(|cx| process.poll_body(body.as_mut(), cx)).await {
                process.end(exit);
            }
        };
        let task = executor
            .spawn_counted(self.name.clone(), body, Arc::clone(&self.cpu_cycles))
            .map_err(|_| Error::TooManyTasks)?;
        self.inner.lock().task = Some(task);
        Ok(task)
    }

    /// Polls the body once, keeping the state (the executor counts the CPU); `Ready(None)` if the process
    /// was ended from outside.
    fn poll_body<F: Future<Output = Exit>>(
        &self,
        body: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Exit>> {
        // One CPU: during a poll only the polled body runs, so nothing else can end the process
        // between this check and the store (the body ending it itself is handled below).
        if self.is_dead() {
            return Poll::Ready(None);
        }
        self.phase.store(Phase::Running as u8, Ordering::Release);
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

/// An endpoint a process receives from, with the capability already checked (see
/// [`Process::inbox`]). Holding it keeps the endpoint alive, not the right: closing the handle
/// meanwhile does not stop a receive through it, which only its own process could do anyway.
pub struct Inbox<'p> {
    process: &'p Process,
    endpoint: Arc<Endpoint>,
    handle: Handle,
}

impl Inbox<'_> {
    /// As [`Process::try_recv`].
    pub fn try_recv(&self, accept: impl FnOnce(&Message) -> Result<(), Error>) -> Result<Received, Error> {
        self.take(accept, None, |message| message).map(|message| self.received(message))
    }

    /// As [`try_recv`](Self::try_recv), but the message is left in `into`, as
    /// [`recv_into`](Self::recv_into) leaves it.
    pub fn try_recv_into(
        &self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        into: &mut Option<Message>,
    ) -> Result<Transferred, Error> {
        self.take(accept, None, |message| *into = Some(message)).map(|()| self.transfer(into))
    }

    /// Takes the oldest message `accept` agrees to, waiting as [`State::Blocked`] while none is
    /// queued; `Closed` once none ever will be.
    pub fn recv(
        &self,
        mut accept: impl FnMut(&Message) -> Result<(), Error>,
    ) -> impl Future<Output = Result<Received, Error>> {
        let (mut listener, mut blocked) = (self.endpoint.listener(), None);
        poll_fn(move |cx| {
            self.poll_take(&mut accept, &mut listener, &mut blocked, cx, |message| message)
                .map(|taken| taken.map(|message| self.received(message)))
        })
    }

    /// As [`recv`](Self::recv), but the message is left in `into`, moved there once from the
    /// queue (a host call delivers it from there), with its capability (if it carried one)
    /// taken out and moved into the table: the future's output is where it went.
    pub fn recv_into(
        &self,
        mut accept: impl FnMut(&Message) -> Result<(), Error>,
        into: &mut Option<Message>,
    ) -> impl Future<Output = Result<Transferred, Error>> {
        let (mut listener, mut blocked) = (self.endpoint.listener(), None);
        poll_fn(move |cx| {
            self.poll_take(&mut accept, &mut listener, &mut blocked, cx, |message| *into = Some(message))
                .map(|taken| taken.map(|()| self.transfer(into)))
        })
    }

    /// One poll of a blocking receive: takes the message to `take`, or lists `listener` and
    /// marks the process blocked (for as long as `blocked` lives).
    fn poll_take<'a, T>(
        &'a self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        listener: &mut Listener<'_>,
        blocked: &mut Option<Blocked<'a>>,
        cx: &mut Context<'_>,
        take: impl FnOnce(Message) -> T,
    ) -> Poll<Result<T, Error>> {
        match self.take(accept, Some((listener, cx.waker())), take) {
            Err(Error::Empty) => {
                blocked.get_or_insert_with(|| self.process.waiting(Wait::Receive(self.handle)));
                Poll::Pending
            }
            taken => Poll::Ready(taken),
        }
    }

    /// Takes the oldest message to `take` if `accept` agrees (see [`Endpoint::take_with`],
    /// which also lists a listener in the same look).
    fn take<T>(
        &self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        listen: Option<(&mut Listener<'_>, &Waker)>,
        take: impl FnOnce(Message) -> T,
    ) -> Result<T, Error> {
        // Read before the endpoint's lock (locks go process, then endpoint). Nothing runs between
        // here and the insert that follows the take that could fill the table.
        let room = !self.process.with_caps(CapTable::is_full);
        let accept = |message: &Message| match message.cap {
            Some(_) if !room => Err(Error::TooManyHandles),
            _ => accept(message),
        };
        let taken = self.endpoint.take_with(accept, listen, take)?;
        self.process.messages_received.fetch_add(1, Ordering::Relaxed);
        Ok(taken)
    }

    /// `message` as its receiver gets it, its capability moved into the table.
    fn received(&self, message: Message) -> Received {
        let Message { sender, opcode, payload, cap } = message;
        Received { sender, opcode, payload, cap: cap.map(|cap| self.process.insert(cap)) }
    }

    /// Moves the capability of the message in `taken`, if it carries one, into the table.
    fn transfer(&self, taken: &mut Option<Message>) -> Transferred {
        taken.as_mut().and_then(|message| message.cap.take()).map(|cap| self.process.insert(cap))
    }
}

/// A received capability's handle in the receiver's table (`None` if the message carried
/// none); an error if the heap could not grow the table (the capability is then dropped, the
/// message still delivered).
pub type Transferred = Option<Result<Handle, Error>>;

/// Marks its process as waiting, for as long as it lives (a future dropped mid-wait included);
/// made by [`Process::waiting`].
pub struct Blocked<'a>(&'a Process);

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        self.0.waiting_on.store(NOT_WAITING, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cap::Object;
    use crate::ipc::DEFAULT_CAPACITY;
    use crate::ipc::endpoint::tests::{endpoint_of, message, run_until_idle};
    use crate::proc::ProcessTable;
    use crate::task::executor::tests::serial;
    use alloc::rc::Rc;
    use alloc::vec;
    use alloc::vec::Vec;
    use core::cell::RefCell;
    use core::num::NonZeroUsize;
    use proptest::prelude::*;

    fn any(_: &Message) -> Result<(), Error> {
        Ok(())
    }

    /// Gives `a` and `b` the two ends of a new endpoint; returns (a's handle, b's handle).
    fn connect(
        a: &Process,
        a_rights: Rights,
        b: &Process,
        b_rights: Rights,
        capacity: usize,
    ) -> (Handle, Handle) {
        let cap = Capability::endpoint(NonZeroUsize::new(capacity).unwrap(), None).unwrap();
        (a.insert(cap.derive(a_rights).unwrap()).unwrap(), b.insert(cap.derive(b_rights).unwrap()).unwrap())
    }

    #[test]
    fn state_and_statistics_follow_the_body() {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        let p = processes.create("echo");
        let kernel_side = Capability::endpoint(DEFAULT_CAPACITY, None).unwrap();
        let inbox = p.insert(kernel_side.derive(Rights::READ).unwrap()).unwrap();
        let me = Arc::clone(&p);
        p.start(&mut executor, async move {
            let m = me.recv(inbox, any).await.unwrap();
            Exit::Exited(m.opcode as i32)
        })
        .unwrap();
        assert_eq!(p.state(), State::Ready);
        run_until_idle(&mut executor);
        assert_eq!(p.state(), State::Blocked(Wait::Receive(inbox)));
        assert_eq!(p.info().stats.memory_bytes, 0, "nothing it holds is charged yet");

        endpoint_of(&kernel_side).send(message(Pid::next(), 7, b"")).unwrap();
        run_until_idle(&mut executor);
        let info = p.info();
        assert_eq!(info.state, State::Dead(Exit::Exited(7)));
        assert_eq!((info.stats.messages_received, info.stats.messages_sent, info.handles), (1, 0, 0));
        assert!(info.stats.cpu_cycles > 0);
        assert!(executor.is_empty());
        assert_eq!(processes.reap(p.pid()), Some(Exit::Exited(7)));
        assert_eq!(processes.get(p.pid()).err(), Some(Error::NoSuchProcess));
    }

    #[test]
    fn a_body_waiting_for_a_sleep_or_for_events_is_blocked_not_ready() {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        for wait in [Wait::Sleep, Wait::Events] {
            let p = processes.create("waiter");
            let me = Arc::clone(&p);
            p.start(&mut executor, async move {
                let _blocked = me.waiting(wait);
                core::future::pending::<Exit>().await
            })
            .unwrap();
            run_until_idle(&mut executor);
            assert_eq!(p.state(), State::Blocked(wait));
            p.end(Exit::Killed { by: None });
            run_until_idle(&mut executor);
            assert!(p.is_dead());
        }
        assert!(executor.is_empty());
    }

    #[test]
    fn a_process_sleeping_through_its_own_sleep_is_blocked_on_it() {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        let p = processes.create("sleeper");
        let me = Arc::clone(&p);
        p.start(&mut executor, async move {
            me.sleep(core::time::Duration::from_secs(3600)).await;
            Exit::Exited(0)
        })
        .unwrap();
        run_until_idle(&mut executor);
        assert_eq!(p.state(), State::Blocked(Wait::Sleep));
        p.end(Exit::Killed { by: None });
        run_until_idle(&mut executor);
        assert!(p.is_dead() && executor.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// However many peers wait on it, from either side, a process's death releases every
        /// capability it held, and each peer's wait ends with `Closed`; its own blocked task ends.
        #[test]
        fn a_dead_process_releases_its_capabilities_and_its_peers_see_closed(
            receivers in 0usize..4,
            senders in 0usize..4,
            killer in proptest::option::of(Just(())),
        ) {
            let _turn = serial();
            let mut executor = Executor::new();
            let mut processes = ProcessTable::new();
            let victim = processes.create("victim");
            let outcomes: Rc<RefCell<Vec<Result<(), Error>>>> = Rc::default();
            // Peers waiting for messages only the victim could send.
            for _ in 0..receivers {
                let peer = processes.create("receiver");
                let (_, inbox) = connect(&victim, Rights::WRITE, &peer, Rights::READ, 4);
                let (me, out) = (Arc::clone(&peer), Rc::clone(&outcomes));
                peer.start(&mut executor, async move {
                    let outcome = me.recv(inbox, any).await.map(drop);
                    out.borrow_mut().push(outcome);
                    Exit::Exited(0)
                })
                .unwrap();
            }
            // Peers waiting for room on full queues only the victim could drain.
            for _ in 0..senders {
                let peer = processes.create("sender");
                let (_, outbox) = connect(&victim, Rights::READ, &peer, Rights::WRITE, 1);
                peer.send(outbox, 0, b"fills the queue", None).unwrap();
                let (me, out) = (Arc::clone(&peer), Rc::clone(&outcomes));
                peer.start(&mut executor, async move {
                    let endpoint = me.with_caps(|caps| caps.endpoint(outbox, Rights::WRITE).cloned()).unwrap();
                    let outcome = endpoint.writable().await;
                    out.borrow_mut().push(outcome);
                    Exit::Exited(0)
                })
                .unwrap();
            }
            // The victim itself waits on an endpoint whose sender nobody will use.
            let keep_open = Capability::endpoint(DEFAULT_CAPACITY, None).unwrap();
            let own = victim.insert(keep_open.derive(Rights::READ).unwrap()).unwrap();
            let me = Arc::clone(&victim);
            victim.start(&mut executor, async move {
                let _ = me.recv(own, any).await;
                Exit::Exited(0)
            })
            .unwrap();
            run_until_idle(&mut executor);
            prop_assert!(outcomes.borrow().is_empty());
            prop_assert_eq!(victim.info().handles, receivers + senders + 1);

            let by = killer.map(|()| processes.create("killer").pid());
            let ended = victim.end(Exit::Killed { by });
            prop_assert!(ended);
            let ended_again = victim.end(Exit::Exited(0));
            prop_assert!(!ended_again, "a process ends once");
            run_until_idle(&mut executor);
            prop_assert_eq!(&*outcomes.borrow(), &vec![Err(Error::Closed); receivers + senders]);
            prop_assert_eq!(victim.info().handles, 0);
            prop_assert_eq!(victim.state(), State::Dead(Exit::Killed { by }));
            prop_assert!(executor.is_empty(), "the victim's body was dropped, the peers ended");
            prop_assert_eq!(victim.insert(keep_open.derive(Rights::READ).unwrap()), Err(Error::NoSuchProcess));
        }

        /// A capability moves only with GRANT, keeps exactly its rights, and leaves the sender's
        /// table only when the message was queued.
        #[test]
        fn transfer_needs_grant_keeps_rights_and_moves_only_on_success(bits in 0u8..8, full: bool) {
            let rights = Rights::from_bits_truncate(bits);
            let mut processes = ProcessTable::new();
            let (a, b) = (processes.create("a"), processes.create("b"));
            let (out, inbox) = connect(&a, Rights::WRITE, &b, Rights::READ, 1);
            if full {
                a.send(out, 0, b"", None).unwrap();
            }
            let moved = a.insert(Capability::shared_memory(4).unwrap().derive(rights).unwrap()).unwrap();
            let sent = a.send(out, 1, b"", Some(moved));
            let expected = if !rights.contains(Rights::GRANT) {
                Err(Error::NoRights)
            } else if full {
                Err(Error::Full)
            } else {
                Ok(())
            };
            prop_assert_eq!(sent, expected);
            prop_assert_eq!(a.with_caps(|caps| caps.get(moved, Rights::empty()).is_ok()), sent.is_err());
            if full {
                b.try_recv(inbox, any).unwrap();
            }
            match b.try_recv(inbox, any) {
                Ok(received) => {
                    let handle = received.cap.unwrap().unwrap();
                    let held = b.with_caps(|caps| caps.shared_memory(handle, Rights::empty()).map(|m| m.size()));
                    prop_assert_eq!(held, Ok(4));
                    prop_assert_eq!(b.with_caps(|caps| caps.get(handle, Rights::empty()).map(Capability::rights)), Ok(rights));
                }
                Err(e) => {
                    prop_assert_eq!(e, Error::Empty);
                    prop_assert!(sent.is_err());
                }
            }
        }
    }

    /// Kernel memory an actor makes the kernel hold is charged to it until the object goes:
    /// the endpoints it creates, and its queued payloads until they are received. Past its
    /// limit a call fails with `KernelMemoryLimit`, and the kernel allocates nothing for it.
    #[test]
    fn kernel_memory_is_charged_to_the_actor_until_the_object_goes() {
        let mut processes = ProcessTable::new();
        let kmem = 64 * 1024;
        let sender = processes.create_with("sender", Limits { kmem, ..Limits::default() }, None);
        let receiver = processes.create("receiver");
        let account = sender.account().clone();
        let endpoint = Capability::endpoint(NonZeroUsize::new(64).unwrap(), Some(&account)).unwrap();
        let endpoint_bytes = Endpoint::kernel_bytes(NonZeroUsize::new(64).unwrap());
        assert_eq!(account.used(), endpoint_bytes);
        let out = sender.insert(endpoint.derive(Rights::WRITE).unwrap()).unwrap();
        let inbox = receiver.insert(endpoint.derive(Rights::READ).unwrap()).unwrap();
        drop(endpoint);

        sender.send(out, 1, &[7; 8], None).unwrap();
        assert_eq!(account.used(), endpoint_bytes, "an inline payload sits in room already paid for");
        let mut sent = 0;
        let refused = loop {
            match sender.send(out, 2, &[7; 4096], None) {
                Ok(()) => sent += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(refused, Error::KernelMemoryLimit);
        assert!(sent > 0 && account.used() <= kmem, "{sent} sent, {} charged", account.used());
        assert_eq!(sender.info().stats.memory_bytes, account.used(), "ps shows the charge");
        let before = account.used();
        receiver.try_recv(inbox, any).unwrap();
        assert_eq!(account.used(), before, "the inline message was charged nothing");
        receiver.try_recv(inbox, any).unwrap();
        assert!(account.used() < before, "a received payload is no longer the sender's");
        sender.send(out, 2, &[7; 4096], None).unwrap();

        // Every charge goes with its object: the queue dies with its last reader, the endpoint
        // with its last capability.
        receiver.end(Exit::Killed { by: None });
        assert_eq!(account.used(), endpoint_bytes, "the queued payloads went with the queue");
        sender.end(Exit::Exited(0));
        assert_eq!(account.used(), 0);
    }

    #[test]
    fn a_message_the_receiver_cannot_take_stays_queued() {
        let mut processes = ProcessTable::new();
        let (a, b) = (processes.create("a"), processes.create("b"));
        let (out, inbox) = connect(&a, Rights::WRITE, &b, Rights::READ, 4);
        let gift = a.insert(Capability::shared_memory(1).unwrap()).unwrap();
        a.send(out, 1, b"too long", Some(gift)).unwrap();

        let small = |m: &Message| if m.payload.len() > 4 { Err(Error::BufferTooSmall) } else { Ok(()) };
        assert_eq!(b.try_recv(inbox, small).unwrap_err(), Error::BufferTooSmall);
        while b.info().handles < MAX_HANDLES {
            b.insert(Capability::shared_memory(0).unwrap()).unwrap();
        }
        assert_eq!(b.try_recv(inbox, any).unwrap_err(), Error::TooManyHandles);
        b.close(Handle::from_raw(1)).unwrap();
        let received = b.try_recv(inbox, any).unwrap();
        assert_eq!((received.sender, received.opcode, &*received.payload), (a.pid(), 1, &b"too long"[..]));
        let handle = received.cap.unwrap().unwrap();
        assert!(matches!(
            b.with_caps(|caps| caps.get(handle, Rights::all()).map(|c| c.object().clone())),
            Ok(Object::SharedMemory(_))
        ));
        assert_eq!(b.try_recv(inbox, any).unwrap_err(), Error::Empty);
    }

    #[test]
    fn lookups_and_closes_answer_errors_not_panics() {
        let mut processes = ProcessTable::new();
        let p = processes.create("p");
        let memory = p.insert(Capability::shared_memory(8).unwrap().derive(Rights::READ).unwrap()).unwrap();
        assert_eq!(p.send(memory, 0, b"", None), Err(Error::WrongKind));
        assert_eq!(p.send(Handle::from_raw(-5), 0, b"", None), Err(Error::InvalidHandle));
        assert_eq!(p.try_recv(Handle::from_raw(i64::MAX), any).unwrap_err(), Error::InvalidHandle);
        let (out, _) = connect(&p, Rights::READ, &p, Rights::READ, 1);
        assert_eq!(p.send(out, 0, b"", None), Err(Error::NoRights));
        assert_eq!(p.send(out, 0, &[0; crate::ipc::MAX_PAYLOAD + 1], None), Err(Error::TooLarge));
        p.close(memory).unwrap();
        assert_eq!(p.close(memory), Err(Error::InvalidHandle));
    }
}
