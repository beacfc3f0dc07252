//! The executor: owns the kernel's tasks and polls the runnable ones in wake order.
//!
//! One executor runs on the boot CPU. It polls tasks woken by events first, in the order they
//! were woken, so the receiver of a message runs next instead of behind a CPU-bound task's
//! slice; tasks that used up their slice (`wake::defer`) run when no woken task is left, or
//! once they have waited a slice's length, so a busy exchange of messages cannot starve them
//! (and takes at most about half the CPU from them). Each poll gets a fresh time slice (see
//! `preempt`), and the executor records per-task statistics. Within one poll, a waiting actor
//! may run the next woken actor directly (`wasm::handoff`); the poll's time slice then covers
//! both, and the CPU time is split between them (`switch_running`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use core::task::Context;

use super::preempt;
use super::wake::{self, MAX_TASKS, TaskId};
use crate::arch::cpu;

/// Why a task could not be spawned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// [`MAX_TASKS`] tasks are alive.
    TooManyTasks,
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooManyTasks => write!(f, "the kernel already runs {MAX_TASKS} tasks"),
        }
    }
}

/// What `ps` shows about a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Its id.
    pub id: TaskId,
    /// Its name.
    pub name: String,
    /// Times it was polled.
    pub polls: u64,
    /// Times it was woken.
    pub wakeups: u64,
    /// TSC cycles spent polling it.
    pub cpu_cycles: u64,
}

struct Task {
    id: TaskId,
    name: String,
    future: Pin<Box<dyn Future<Output = ()>>>,
    polls: u64,
    /// TSC cycles spent polling it, shared with whoever started it (a process counts its CPU
    /// time here, without reading the TSC again around its own poll).
    cpu_cycles: Arc<AtomicU64>,
}

/// The kernel's tasks.
pub struct Executor {
    tasks: Vec<Option<Task>>,
    free: Vec<usize>,
    /// TSC when the last deferred task's poll ended: the deferred queue's age.
    deferred_served: u64,
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor {
    /// An executor with no tasks.
    pub fn new() -> Self {
        wake::table();
        Self { tasks: Vec::new(), free: Vec::new(), deferred_served: cpu::rdtsc() }
    }

    /// Adds a task running `future`; it runs on the next [`run_ready`](Self::run_ready).
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        future: impl Future<Output = ()> + 'static,
    ) -> Result<TaskId, SpawnError> {
        self.spawn_counted(name, future, Arc::default())
    }

    /// As [`spawn`](Self::spawn), adding the TSC cycles spent polling the task to `cpu_cycles`.
    pub fn spawn_counted(
        &mut self,
        name: impl Into<String>,
        future: impl Future<Output = ()> + 'static,
        cpu_cycles: Arc<AtomicU64>,
    ) -> Result<TaskId, SpawnError> {
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.tasks.len() < MAX_TASKS => {
                self.tasks.push(None);
                self.tasks.len() - 1
            }
            None => return Err(SpawnError::TooManyTasks),
        };
        let table = wake::table();
        let id = table.id_for(index);
        self.tasks[index] =
            Some(Task { id, name: name.into(), future: Box::pin(future), polls: 0, cpu_cycles });
        table.wake(id);
        Ok(id)
    }

    /// Polls runnable tasks until none is left, a deferred task has had its turn, or `stop`
    /// (asked before each poll with the TSC) says the kernel has other work: a due timer, a
    /// spawn request. Returns how many polls it made. Tasks woken during a poll run in the
    /// same call, so a message exchange goes from sender to receiver without leaving it.
    pub fn run_ready(&mut self, stop: impl Fn(u64) -> bool) -> usize {
        let table = wake::table();
        let mut polls = 0;
        // One TSC read per poll: the end of one poll is the start of the next decision.
        let mut now = cpu::rdtsc();
        loop {
            if stop(now) {
                break;
            }
            let aged = now.wrapping_sub(self.deferred_served) >= preempt::slice_cycles();
            let deferred = table.has_deferred() && (aged || !table.has_ready());
            let popped = if deferred { table.pop_deferred() } else { table.pop_ready() };
            let Some(index) = popped else { break };
            let Some(end) = self.poll(index, now) else { continue };
            polls += 1;
            now = end;
            if deferred {
                self.deferred_served = now;
                break;
            }
        }
        polls
    }

    /// Polls the task in slot `index` once, from TSC `start`; returns the TSC when the poll
    /// ended, or `None` for a stale queue entry whose task has ended.
    fn poll(&mut self, index: usize, start: u64) -> Option<u64> {
        let task = self.tasks.get_mut(index).and_then(Option::as_mut)?;
        let waker = wake::waker(task.id);
        let mut cx = Context::from_waker(&waker);
        preempt::begin_slice(start);
        note_running(index, &task.name, start);
        let done = task.future.as_mut().poll(&mut cx).is_ready();
        CURRENT_NAME_LEN.store(0, Ordering::Relaxed);
        preempt::end_slice();
        let end = cpu::rdtsc();
        task.polls += 1;
        // The poll's last stretch belongs to whichever task ran it: another one if the polled
        // task's fiber switched to it directly (`switch_running`).
        let (last, since) = (RUNNING.load(Ordering::Relaxed), RUNNING_SINCE.load(Ordering::Relaxed));
        if let Some(ran) = self.tasks.get(last).and_then(Option::as_ref) {
            ran.cpu_cycles.fetch_add(end.wrapping_sub(since), Ordering::Relaxed);
        }
        if done {
            self.tasks[index] = None;
            wake::table().retire(index);
            self.free.push(index);
        }
        Some(end)
    }

    /// Whether a task is runnable now.
    pub fn has_ready(&self) -> bool {
        !wake::table().is_empty()
    }

    /// Number of live tasks.
    pub fn len(&self) -> usize {
        self.tasks.len() - self.free.len()
    }

    /// Whether no task is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Statistics of every live task, in slot order.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        let table = wake::table();
        self.tasks
            .iter()
            .flatten()
            .map(|t| TaskInfo {
                id: t.id,
                name: t.name.clone(),
                polls: t.polls,
                wakeups: table.wakeups(t.id.index()),
                cpu_cycles: t.cpu_cycles.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// Name of the task running (length 0: none), for the panic report.
static CURRENT_NAME: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
static CURRENT_NAME_LEN: AtomicUsize = AtomicUsize::new(0);
/// Slot of the task running, and the TSC since when its CPU time is not counted yet.
static RUNNING: AtomicUsize = AtomicUsize::new(usize::MAX);
static RUNNING_SINCE: AtomicU64 = AtomicU64::new(0);

/// Records that the task in slot `index`, called `name`, runs from TSC `now`.
fn note_running(index: usize, name: &str, now: u64) {
    CURRENT_NAME.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
    CURRENT_NAME_LEN.store(name.len(), Ordering::Relaxed);
    RUNNING.store(index, Ordering::Relaxed);
    RUNNING_SINCE.store(now, Ordering::Relaxed);
}

/// For a direct switch, inside one poll, from the running task's fiber to the task `next`'s
/// (called `name`, which must stay alive until the poll returns): `next` runs from TSC `now`
/// on. Returns the TSC cycles the task running until now used since it began, which the
/// caller charges to it (the executor charges the poll's last stretch to `next`, or to
/// whichever task runs when the poll returns).
pub fn switch_running(next: TaskId, name: &str, now: u64) -> u64 {
    let since = RUNNING_SINCE.load(Ordering::Relaxed);
    note_running(next.index(), name, now);
    now.wrapping_sub(since)
}

/// Calls `f` with the name of the task being polled, if any: the panic handler names the
/// culprit with it.
pub fn with_current_task_name(f: impl FnOnce(Option<&str>)) {
    let len = CURRENT_NAME_LEN.load(Ordering::Relaxed);
    if len == 0 {
        return f(None);
    }
    // SAFETY: while the length is non-zero the pointer is the name of the task running: the
    // polled task's `String`, not touched until its poll returns, or the name given to
    // `switch_running`, which its caller keeps alive until then (the length is cleared as the
    // poll returns).
    let bytes = unsafe { core::slice::from_raw_parts(CURRENT_NAME.load(Ordering::Relaxed), len) };
    f(core::str::from_utf8(bytes).ok())
}

impl Drop for Executor {
    fn drop(&mut self) {
        let table = wake::table();
        for task in self.tasks.iter().flatten() {
            table.retire(task.id.index());
        }
        // Queued entries name this executor's slots; the next executor reuses the slots, and
        // must not find its first tasks polled for wakes that were not theirs.
        while table.pop_ready().or_else(|| table.pop_deferred()).is_some() {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::RefCell;
    use core::task::{Poll, Waker};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64};

    /// The wake table and the running fiber are one per kernel, so tests that use them take
    /// turns.
    pub(crate) static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pending until opened; keeps the last waker so the test can wake the task by hand.
    #[derive(Default)]
    struct Gate {
        open: bool,
        waker: Option<Waker>,
    }

    fn wait(gate: Rc<RefCell<Gate>>) -> impl Future<Output = ()> {
        core::future::poll_fn(move |cx| {
            let mut g = gate.borrow_mut();
            if g.open {
                Poll::Ready(())
            } else {
                g.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }

    fn open(gate: &Rc<RefCell<Gate>>) {
        let waker = {
            let mut g = gate.borrow_mut();
            g.open = true;
            g.waker.take().expect("task registered a waker")
        };
        waker.wake();
    }

    #[test]
    fn tasks_run_in_the_order_they_were_woken() {
        let _turn = serial();
        let mut ex = Executor::new();
        let order = Rc::new(RefCell::new(Vec::new()));
        let gates: Vec<_> = (0..3).map(|_| Rc::new(RefCell::new(Gate::default()))).collect();
        for (i, gate) in gates.iter().enumerate() {
            let (order, gate) = (order.clone(), gate.clone());
            ex.spawn(alloc::format!("t{i}"), async move {
                wait(gate).await;
                order.borrow_mut().push(i);
            })
            .unwrap();
        }
        assert_eq!(ex.run_ready(|_| false), 3);
        for i in [2, 0, 1] {
            open(&gates[i]);
        }
        assert_eq!(ex.run_ready(|_| false), 3);
        assert_eq!(*order.borrow(), [2, 0, 1]);
        assert!(ex.is_empty());
    }

    #[test]
    fn a_task_woken_twice_runs_once() {
        let _turn = serial();
        let mut ex = Executor::new();
        let gate = Rc::new(RefCell::new(Gate::default()));
        let id = ex.spawn("twice", wait(gate.clone())).unwrap();
        ex.run_ready(|_| false);
        let waker = gate.borrow().waker.clone().unwrap();
        waker.wake_by_ref();
        waker.wake_by_ref();
        assert_eq!(ex.run_ready(|_| false), 1, "one poll for two wakes");
        assert_eq!(ex.run_ready(|_| false), 0);
        let info = ex.tasks();
        assert_eq!((info[0].id, info[0].polls, info[0].wakeups), (id, 2, 2), "spawn and one effective wake");
    }

    #[test]
    fn a_waker_that_outlives_its_task_is_harmless() {
        let _turn = serial();
        let mut ex = Executor::new();
        let gate = Rc::new(RefCell::new(Gate::default()));
        ex.spawn("short", wait(gate.clone())).unwrap();
        ex.run_ready(|_| false);
        let stale = gate.borrow().waker.clone().unwrap();
        open(&gate);
        ex.run_ready(|_| false);
        assert!(ex.is_empty());

        // The next task reuses the slot; the old waker must not run it.
        let polls = Rc::new(RefCell::new(0));
        let p = polls.clone();
        ex.spawn(
            "reuser",
            core::future::poll_fn(move |_| {
                *p.borrow_mut() += 1;
                Poll::<()>::Pending
            }),
        )
        .unwrap();
        ex.run_ready(|_| false);
        stale.wake();
        assert_eq!(ex.run_ready(|_| false), 0);
        assert_eq!(*polls.borrow(), 1);
    }

    #[test]
    fn no_wakeup_is_lost_when_another_thread_wakes() {
        let _turn = serial();
        const WAKES: u64 = 20_000;
        let mut ex = Executor::new();
        let sent = Arc::new(AtomicU64::new(0));
        let waker_slot: Arc<std::sync::Mutex<Option<Waker>>> = Arc::default();
        let (s, w) = (sent.clone(), waker_slot.clone());
        // The task finishes only once it has seen every increment; a lost wake leaves it pending.
        ex.spawn(
            "counter",
            core::future::poll_fn(move |cx| {
                *w.lock().unwrap() = Some(cx.waker().clone());
                if s.load(Ordering::Acquire) == WAKES { Poll::Ready(()) } else { Poll::Pending }
            }),
        )
        .unwrap();
        ex.run_ready(|_| false);
        let (s, w) = (sent.clone(), waker_slot.clone());
        // Stands in for an interrupt handler: bumps the counter, then wakes.
        let waker_thread = std::thread::spawn(move || {
            for _ in 0..WAKES {
                s.fetch_add(1, Ordering::AcqRel);
                if let Some(waker) = w.lock().unwrap().as_ref() {
                    waker.wake_by_ref();
                }
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ex.is_empty() {
            ex.run_ready(|_| false);
            assert!(std::time::Instant::now() < deadline, "the task missed a wake-up");
        }
        waker_thread.join().unwrap();
    }

    #[test]
    fn cpu_bound_tasks_that_heed_should_yield_share_the_cpu() {
        let _turn = serial();
        let mut ex = Executor::new();
        preempt::set_slice_cycles(50_000);
        let stop = Arc::new(AtomicBool::new(false));
        // Stands in for the timer interrupt.
        let s = stop.clone();
        let ticker = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                preempt::on_tick(cpu::rdtsc());
                std::thread::yield_now();
            }
        });
        let progress: Vec<Rc<RefCell<u64>>> = (0..2).map(|_| Rc::default()).collect();
        for (i, p) in progress.iter().enumerate() {
            let p = p.clone();
            ex.spawn(alloc::format!("spinner{i}"), async move {
                loop {
                    *p.borrow_mut() += 1;
                    if preempt::should_yield() {
                        preempt::yield_now().await;
                    }
                }
            })
            .unwrap();
        }
        for _ in 0..400 {
            ex.run_ready(|_| false);
        }
        stop.store(true, Ordering::Relaxed);
        ticker.join().unwrap();
        preempt::set_slice_cycles(0);
        let (a, b) = (*progress[0].borrow(), *progress[1].borrow());
        assert!(a > 0 && b > 0, "both progress: {a} {b}");
        let polls: Vec<u64> = ex.tasks().iter().map(|t| t.polls).collect();
        assert!(polls[0].abs_diff(polls[1]) <= 2 && polls[0] >= 199, "round-robin: {polls:?}");
    }

    /// A pair of tasks that keep waking each other, like two actors exchanging messages.
    fn ping_pong_pair(ex: &mut Executor, hops: Rc<RefCell<Vec<&'static str>>>) {
        let slots: Rc<RefCell<[Option<Waker>; 2]>> = Rc::default();
        for (me, name) in [(0, "ping"), (1, "pong")] {
            let (slots, hops) = (slots.clone(), hops.clone());
            ex.spawn(
                name,
                core::future::poll_fn(move |cx| {
                    hops.borrow_mut().push(name);
                    let mut s = slots.borrow_mut();
                    s[me] = Some(cx.waker().clone());
                    if let Some(peer) = s[1 - me].take() {
                        peer.wake();
                    }
                    Poll::<()>::Pending
                }),
            )
            .unwrap();
        }
    }

    #[test]
    fn woken_tasks_run_before_a_cpu_bound_one_which_still_gets_its_turn() {
        let _turn = serial();
        let mut ex = Executor::new();
        // Slices never age during the first calls: the spinner runs only when nothing is woken.
        preempt::set_slice_cycles(u64::MAX);
        let hops = Rc::new(RefCell::new(Vec::new()));
        let spins = Rc::new(RefCell::new(0u64));
        let s = spins.clone();
        ex.spawn(
            "spinner",
            core::future::poll_fn(move |cx| {
                *s.borrow_mut() += 1;
                wake::defer(cx.waker());
                Poll::<()>::Pending
            }),
        )
        .unwrap();
        ping_pong_pair(&mut ex, hops.clone());
        // The first call runs everything spawned, then the pair keeps waking itself; stop it
        // after 100 hops.
        let h = hops.clone();
        ex.run_ready(move |_| h.borrow().len() >= 100);
        assert_eq!(*spins.borrow(), 1, "the spinner ran once, at spawn, then waited behind the pair");
        assert_eq!(hops.borrow().len(), 100);
        assert!(hops.borrow().windows(2).all(|w| w[0] != w[1]), "each wake ran the peer next");

        // Once the spinner has waited a slice, it runs, once, and the call returns.
        preempt::set_slice_cycles(1);
        let before = hops.borrow().len();
        ex.run_ready(|_| false);
        preempt::set_slice_cycles(0);
        assert_eq!(*spins.borrow(), 2, "an aged deferred task is not starved");
        assert!(hops.borrow().len() - before <= 1, "the call ended after the deferred task's poll");
    }
}
