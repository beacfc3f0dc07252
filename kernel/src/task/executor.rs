//! The executor: spawns tasks onto CPUs, and on each CPU polls the runnable ones of its queues.
//!
//! Every CPU runs the same loop over its own run queues (`run_queue`): tasks woken by events
//! first, in the order they were woken, so the receiver of a message runs next instead of
//! behind a CPU-bound task's slice; tasks that used up their slice (`wake::defer`) run when no
//! woken task is left, or once they have waited a slice's length, so a busy exchange of
//! messages cannot starve them. Each poll gets a fresh time slice (see `preempt`), and the
//! executor records per-task statistics. Within one poll, a waiting actor may run the next
//! woken actor of the same CPU directly (`wasm::handoff`); the poll's time slice then covers
//! both, and the CPU time is split between them (`switch_running`).
//!
//! Placement: a new task goes to the CPU with the fewest live tasks. Balance: a CPU with
//! nothing to run takes a task from another CPU's queues — any deferred (CPU-bound) task, and
//! the ready tasks of a CPU whose current poll has lasted half a slice (`preempt::is_stalled`) —
//! and the task's home moves with it (`wake::Claim`). Halted CPUs are told when there is
//! something to take (`WakeTable::kick_idle`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use core::task::Context;

use super::preempt;
use super::registry::{self, Task};
use super::wake::{self, Claim, MAX_TASKS, TaskId, WakeTable};
use crate::arch::cpu;
use crate::arch::cpu_local::{self, PerCpu};
use crate::per_cpu;

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
    /// The CPU it last ran on (or will run on first).
    pub cpu: usize,
}

/// What `cpus` shows about a CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuInfo {
    /// Live tasks whose home it is.
    pub tasks: usize,
    /// Polls it made.
    pub polls: u64,
    /// TSC cycles it spent halted.
    pub idle_cycles: u64,
    /// Tasks it took from other CPUs' queues.
    pub steals: u64,
}

/// The kernel's tasks, as one CPU's loop sees them: spawning works from any CPU and places
/// the task anywhere; [`run_ready`](Self::run_ready) polls this CPU's queues. Not `Send`: each
/// CPU makes its own.
pub struct Executor {
    _this_cpu: PhantomData<*const ()>,
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a new task goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placement {
    /// The CPU with the fewest live tasks; an idle CPU may take it later.
    #[default]
    LeastLoaded,
    /// This CPU, for good (if it exists; else the least-loaded).
    Pinned(usize),
}

impl Executor {
    /// This CPU's view of the executor (the first one made creates the run queues, for every
    /// CPU online by then).
    pub fn new() -> Self {
        wake::table();
        Self { _this_cpu: PhantomData }
    }

    /// Adds a task running `future` on the least-loaded CPU.
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        future: impl Future<Output = ()> + 'static,
    ) -> Result<TaskId, SpawnError> {
        self.spawn_counted(name, future, Arc::default(), Placement::LeastLoaded)
    }

    /// As [`spawn`](Self::spawn), adding the TSC cycles spent polling the task to
    /// `cpu_cycles`, placed as `placement` says.
    pub fn spawn_counted(
        &mut self,
        name: impl Into<String>,
        future: impl Future<Output = ()> + 'static,
        cpu_cycles: Arc<AtomicU64>,
        placement: Placement,
    ) -> Result<TaskId, SpawnError> {
        let task = Task {
            name: name.into(),
            future: core::cell::UnsafeCell::new(Box::pin(future)),
            polls: AtomicU64::new(0),
            cpu_cycles,
        };
        let index = registry::insert(Box::new(task)).map_err(|_| SpawnError::TooManyTasks)?;
        let table = wake::table();
        match placement {
            Placement::Pinned(cpu) if cpu < table.cpus() => table.place(index, cpu, true),
            _ => table.place(index, least_loaded(table), false),
        }
        let id = table.id_for(index);
        table.wake(id);
        Ok(id)
    }

    /// Polls this CPU's runnable tasks until none is left, a deferred task has had its turn,
    /// or `stop` (asked before each poll with the TSC) says the kernel has other work: a due
    /// timer, a spawn request. With nothing of its own, the CPU takes a task from another's
    /// queues. Returns how many polls it made. Tasks woken during a poll run in the same call,
    /// so a message exchange goes from sender to receiver without leaving it.
    pub fn run_ready(&mut self, stop: impl Fn(u64) -> bool) -> usize {
        let table = wake::table();
        let me = cpu_local::index();
        let queue = table.queue(me);
        let served = DEFERRED_SERVED.get();
        let mut polls = 0;
        // One TSC read per poll: the end of one poll is the start of the next decision.
        let mut now = cpu::rdtsc();
        loop {
            if stop(now) {
                break;
            }
            let aged = now.wrapping_sub(served.load(Ordering::Relaxed)) >= preempt::slice_cycles();
            let deferred = queue.has_deferred() && (aged || !queue.has_ready());
            let popped = if deferred { queue.pop_deferred() } else { queue.pop_ready() };
            let index = match popped {
                Some(index) => match table.claim(index as usize, me) {
                    Claim::Taken { .. } => index,
                    Claim::Elsewhere { home } => {
                        table.give_back(index, home, deferred);
                        continue;
                    }
                    Claim::Stale => continue,
                },
                None => match steal(table, me) {
                    Some(index) => index,
                    None => break,
                },
            };
            now = poll(table, index as usize, now);
            polls += 1;
            if deferred {
                served.store(now, Ordering::Relaxed);
                break;
            }
        }
        queue.polls.fetch_add(polls as u64, Ordering::Relaxed);
        polls
    }

    /// Whether a task is runnable on this CPU now.
    pub fn has_ready(&self) -> bool {
        !wake::table().queue(cpu_local::index()).is_empty()
    }

    /// For this CPU, about to halt with interrupts off: records that it may be halted, and
    /// says whether it may, or work arrived meanwhile. Call [`woke`](Self::woke) afterwards
    /// either way.
    pub fn may_halt(&self) -> bool {
        wake::table().may_halt(cpu_local::index())
    }

    /// For this CPU: it halts now (idle, for `cpus`, until [`woke`](Self::woke)).
    pub fn halting(&self) {
        wake::table().queue(cpu_local::index()).halted_since.store(cpu::rdtsc(), Ordering::Relaxed);
    }

    /// For this CPU: it is not halted any more (or did not halt after all); the time since
    /// [`halting`](Self::halting), if it halted, counts as idle.
    pub fn woke(&self) {
        let table = wake::table();
        let me = cpu_local::index();
        table.woke(me);
        let queue = table.queue(me);
        let since = queue.halted_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            queue.idle_cycles.fetch_add(cpu::rdtsc().saturating_sub(since), Ordering::Relaxed);
        }
    }

    /// Number of live tasks.
    pub fn len(&self) -> usize {
        registry::len()
    }

    /// Whether no task is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Statistics of every live task, in slot order.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        let table = wake::table();
        let mut tasks = Vec::new();
        registry::each(|index, task| {
            tasks.push(TaskInfo {
                id: table.id_for(index),
                name: task.name.clone(),
                polls: task.polls.load(Ordering::Relaxed),
                wakeups: table.wakeups(index),
                cpu_cycles: task.cpu_cycles.load(Ordering::Relaxed),
                cpu: table.home(index),
            })
        });
        tasks
    }
}

/// How many CPUs run tasks.
pub fn cpu_count() -> usize {
    wake::table().cpus()
}

/// Statistics of every CPU, by index.
pub fn cpus() -> Vec<CpuInfo> {
    let table = wake::table();
    let now = cpu::rdtsc();
    (0..table.cpus())
        .map(|cpu| {
            let queue = table.queue(cpu);
            // A CPU halted now has been idle since it halted, though it has not said so yet.
            let halted = match queue.halted_since.load(Ordering::Relaxed) {
                0 => 0,
                since => now.saturating_sub(since),
            };
            CpuInfo {
                tasks: queue.load.load(Ordering::Relaxed),
                polls: queue.polls.load(Ordering::Relaxed),
                idle_cycles: queue.idle_cycles.load(Ordering::Relaxed) + halted,
                steals: queue.steals.load(Ordering::Relaxed),
            }
        })
        .collect()
}

/// The CPU with the fewest live tasks (the lowest index among equals).
fn least_loaded(table: &WakeTable) -> usize {
    (0..table.cpus()).min_by_key(|&cpu| table.queue(cpu).load.load(Ordering::Relaxed)).unwrap_or(0)
}

/// For CPU `me`, which has nothing to run: a task claimed from another CPU's queues — a
/// deferred one, or a ready one behind a poll that has lasted half a slice. A task that CPU
/// runs, or that is pinned to it, goes back where it was.
fn steal(table: &WakeTable, me: usize) -> Option<u32> {
    let cpus = table.cpus();
    for victim_cpu in (1..cpus).map(|k| (me + k) % cpus) {
        let victim = table.queue(victim_cpu);
        let deferred = victim.steal_deferred().map(|index| (index, true));
        let stalled = || preempt::is_stalled(victim_cpu).then(|| victim.pop_ready()).flatten();
        let Some((index, deferred)) = deferred.or_else(|| stalled().map(|index| (index, false))) else {
            continue;
        };
        match table.claim(index as usize, me) {
            Claim::Taken { .. } => {
                table.queue(me).steals.fetch_add(1, Ordering::Relaxed);
                return Some(index);
            }
            Claim::Elsewhere { home } => table.give_back(index, home, deferred),
            Claim::Stale => {}
        }
    }
    None
}

/// Polls the task in slot `index`, claimed by this CPU, once, from TSC `start`; releases it (and
/// every task it switched to directly) and returns the TSC when the poll ended.
fn poll(table: &WakeTable, index: usize, start: u64) -> u64 {
    // SAFETY: this CPU claimed the slot; the reference is dropped before the release below.
    let Some(task) = (unsafe { registry::claimed(index) }) else {
        // A queue entry left by an ended task, which no new task has taken over yet.
        table.release(index);
        return start;
    };
    let waker = wake::waker(table.id_for(index));
    let mut cx = Context::from_waker(&waker);
    preempt::begin_slice(start);
    note_running(index, &task.name, start);
    // SAFETY: this CPU claimed the task, so no other CPU touches its future until the release
    // below, and this CPU polls one task at a time (a direct switch runs another task's fiber,
    // never this future).
    let done = unsafe { &mut *task.future.get() }.as_mut().poll(&mut cx).is_ready();
    let running = RUNNING.get();
    running.name_len.store(0, Ordering::Relaxed);
    preempt::end_slice();
    let end = cpu::rdtsc();
    task.polls.fetch_add(1, Ordering::Relaxed);
    // The poll's last stretch belongs to whichever task ran it: another one if the polled
    // task's fiber switched to it directly (`switch_running`).
    let (last, since) = (running.slot.load(Ordering::Relaxed), running.since.load(Ordering::Relaxed));
    // SAFETY: `last` is the polled task or one claimed by `take_lone_ready` during the poll, and
    // both stay claimed by this CPU until released below.
    if let Some(ran) = unsafe { registry::claimed(last) } {
        ran.cpu_cycles.fetch_add(end.wrapping_sub(since), Ordering::Relaxed);
    }
    for slot in &running.borrowed[..running.borrowed_len.swap(0, Ordering::Relaxed)] {
        table.release(slot.load(Ordering::Relaxed) as usize);
    }
    if done {
        // SAFETY: still claimed by this CPU.
        let finished = unsafe { registry::remove(index) };
        table.retire(index);
        drop(finished);
    } else {
        table.release(index);
    }
    end
}

/// Most tasks one poll may run by direct switches besides the polled one (each counted once).
const MAX_BORROWED: usize = 8;

/// What runs on a CPU: the polled task, and the tasks its fiber switched to directly.
struct Running {
    /// Name of the task running (length 0: none), for the panic report.
    name: AtomicPtr<u8>,
    name_len: AtomicUsize,
    /// Slot of the task running, and the TSC since when its CPU time is not counted yet.
    slot: AtomicUsize,
    since: AtomicU64,
    /// Tasks this poll claimed by `take_lone_ready`, released when it returns.
    borrowed: [AtomicU32; MAX_BORROWED],
    borrowed_len: AtomicUsize,
}

static RUNNING: PerCpu<Running> = per_cpu!(Running {
    name: AtomicPtr::new(core::ptr::null_mut()),
    name_len: AtomicUsize::new(0),
    slot: AtomicUsize::new(usize::MAX),
    since: AtomicU64::new(0),
    borrowed: [const { AtomicU32::new(0) }; MAX_BORROWED],
    borrowed_len: AtomicUsize::new(0),
});

/// TSC when the last deferred task's poll ended on each CPU: its deferred queue's age.
static DEFERRED_SERVED: PerCpu<AtomicU64> = per_cpu!(AtomicU64::new(0));

/// Records that the task in slot `index`, called `name`, runs from TSC `now` on this CPU.
fn note_running(index: usize, name: &str, now: u64) {
    let running = RUNNING.get();
    running.name.store(name.as_ptr().cast_mut(), Ordering::Relaxed);
    running.name_len.store(name.len(), Ordering::Relaxed);
    running.slot.store(index, Ordering::Relaxed);
    running.since.store(now, Ordering::Relaxed);
}

/// The task woken by an event that this CPU would poll next, taken off its ready queue and
/// claimed until the running poll returns, if it is the only one waiting there; a caller that
/// does not run it [`put_back`]s it.
pub fn take_lone_ready() -> Option<TaskId> {
    let running = RUNNING.get();
    let borrowed = running.borrowed_len.load(Ordering::Relaxed);
    if borrowed == MAX_BORROWED {
        return None;
    }
    let (table, me) = (wake::table(), cpu_local::index());
    let index = table.queue(me).pop_lone_ready()?;
    match table.claim(index as usize, me) {
        Claim::Taken { .. } => {
            // Two actors calling each other switch back and forth within one poll: each is
            // listed once.
            let listed = running.borrowed[..borrowed].iter().any(|b| b.load(Ordering::Relaxed) == index);
            if !listed {
                running.borrowed[borrowed].store(index, Ordering::Relaxed);
                running.borrowed_len.store(borrowed + 1, Ordering::Relaxed);
            }
            Some(table.id_for(index as usize))
        }
        Claim::Elsewhere { home } => {
            table.give_back(index, home, false);
            None
        }
        Claim::Stale => None,
    }
}

/// Queues `id`, taken by [`take_lone_ready`], where it was: this CPU polls it next.
pub fn put_back(id: TaskId) {
    wake::table().requeue(id.index(), cpu_local::index());
}

/// For a direct switch, inside one poll, from the running task's fiber to the task `next`'s
/// (called `name`, which must stay alive until the poll returns): `next` runs from TSC `now`
/// on. Returns the TSC cycles the task running until now used since it began, which the
/// caller charges to it (the executor charges the poll's last stretch to `next`, or to
/// whichever task runs when the poll returns).
pub fn switch_running(next: TaskId, name: &str, now: u64) -> u64 {
    let since = RUNNING.get().since.load(Ordering::Relaxed);
    note_running(next.index(), name, now);
    now.wrapping_sub(since)
}

/// Calls `f` with the name of the task being polled on this CPU, if any: the panic handler
/// names the culprit with it.
pub fn with_current_task_name(f: impl FnOnce(Option<&str>)) {
    let running = RUNNING.get();
    let len = running.name_len.load(Ordering::Relaxed);
    if len == 0 {
        return f(None);
    }
    // SAFETY: while the length is non-zero the pointer is the name of the task running on
    // this CPU: the polled task's `String`, not touched until its poll returns, or the name
    // given to `switch_running`, which its caller keeps alive until then (the length is
    // cleared as the poll returns).
    let bytes = unsafe { core::slice::from_raw_parts(running.name.load(Ordering::Relaxed), len) };
    f(core::str::from_utf8(bytes).ok())
}

/// Tests make one executor each: the next must find neither this one's tasks nor its queue
/// entries.
#[cfg(test)]
impl Drop for Executor {
    fn drop(&mut self) {
        let mut slots = Vec::new();
        registry::each(|index, _| slots.push(index));
        for index in slots {
            // SAFETY: tests take turns (`tests::serial`) on one thread: nothing else polls.
            let task = unsafe { registry::remove(index) };
            wake::table().retire(index);
            drop(task);
        }
        tests::reset();
    }
}

#[cfg(test)]
pub(crate) mod tests;
