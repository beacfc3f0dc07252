//! Task wake-ups that interrupt handlers can use, on any CPU: no allocation, no lock, no
//! reference count.
//!
//! Each task owns a slot in a fixed table. A [`Waker`] carries only the task's [`TaskId`]
//! (slot index and the slot's generation), so cloning or dropping one costs nothing and is safe
//! anywhere, and a waker that outlives its task finds a newer generation and does nothing.
//!
//! A slot's state is one atomic word: the generation, the task's *home* CPU, and two flags.
//! `QUEUED`: the slot's index is in a run queue (at most once, so queues as large as the table
//! never overflow, no wake-up is lost, and a task woken twice runs once). `RUNNING`: the home
//! CPU is polling it (or running its fiber by a direct switch, `wasm::handoff`), and no other
//! CPU may. Waking sets `QUEUED` and pushes the index onto the home CPU's queue
//! (`run_queue`): the ready queue for an event, the deferred one for a task whose slice ran
//! out ([`defer`]); if that CPU is not this one and may be halted, it gets an interrupt. A CPU
//! that takes a queued index *claims* the task: clears `QUEUED`, sets `RUNNING` and makes
//! itself the home, in one compare-and-swap, so an idle CPU can steal a task from a busy one's
//! queue and every later wake follows it; an index whose task runs on another CPU, or is
//! `PINNED` to it, goes back to that CPU's queue.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering, fence};
use core::task::{RawWaker, RawWakerVTable, Waker};

use super::run_queue::{self, RunQueue};
use crate::arch::cpu_local::{self, MAX_CPUS};

/// Most tasks alive at once (and so each run queue's capacity).
pub const MAX_TASKS: usize = 16 * 1024;

/// Identifies a task: its slot, and which of the slot's successive tasks it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    index: u32,
    generation: u32,
}

impl TaskId {
    fn to_bits(self) -> usize {
        ((self.generation as usize) << 32) | self.index as usize
    }

    fn from_bits(bits: usize) -> Self {
        Self { index: bits as u32, generation: (bits >> 32) as u32 }
    }

    /// The slot index (stable while the task lives; reused after it ends).
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl core::fmt::Display for TaskId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.index, self.generation)
    }
}

/// State bit: the slot's index is in a run queue.
const QUEUED: u64 = 1 << 0;
/// State bit: its home CPU runs it now.
const RUNNING: u64 = 1 << 1;
/// State bit: it stays on its home CPU (placed there on purpose); no other CPU takes it.
const PINNED: u64 = 1 << 2;
/// State bits 8-15: the home CPU.
const HOME_SHIFT: u32 = 8;
const HOME_MASK: u64 = 0xff << HOME_SHIFT;
/// State bits 32-63: the generation.
const GENERATION_SHIFT: u32 = 32;

const _: () = assert!(MAX_CPUS <= 256);

fn home(state: u64) -> usize {
    ((state & HOME_MASK) >> HOME_SHIFT) as usize
}

fn generation(state: u64) -> u32 {
    (state >> GENERATION_SHIFT) as u32
}

struct Slot {
    /// Generation, home CPU, `QUEUED` and `RUNNING` (see the module documentation).
    state: AtomicU64,
    /// Times the task was woken (repeated wakes before it ran count once).
    wakeups: AtomicU64,
}

/// What a CPU learns when it tries to take a queued task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    /// It is this CPU's to run (and was on `from` until now).
    Taken { from: usize },
    /// CPU `home` runs it, or it is pinned there; the queue entry belongs there.
    Elsewhere { home: usize },
    /// The slot is not queued (cannot happen while each queued slot has one entry).
    Stale,
}

/// The slots, and each CPU's run queues; one per kernel, created by the first executor.
pub(super) struct WakeTable {
    slots: Box<[Slot]>,
    queues: Box<[RunQueue]>,
    /// Bit `i`: CPU `i` may be halted (set before it halts, cleared when it wakes).
    halted: AtomicU64,
}

// `spin::Once`, not `conquer_once`'s cell: when two CPUs make the table at once, the loser of
// `conquer_once`'s `get_or_init` hits an `unreachable!` (seen as a kernel panic with SMP=4);
// `call_once` waits for the winner instead.
static TABLE: spin::Once<WakeTable> = spin::Once::new();

/// The kernel's wake table, created on first use with queues for every CPU online then.
// Inlined: every wake and every pop comes here, and once the table exists the look is a load
// and a compare.
#[inline]
pub(super) fn table() -> &'static WakeTable {
    match TABLE.get() {
        Some(table) => table,
        None => create_table(),
    }
}

#[cold]
fn create_table() -> &'static WakeTable {
    TABLE.call_once(|| WakeTable::new(cpu_local::online()))
}

impl WakeTable {
    /// Free slots, and empty queues for `cpus` CPUs.
    fn new(cpus: usize) -> Self {
        Self {
            slots: (0..MAX_TASKS)
                .map(|_| Slot { state: AtomicU64::new(0), wakeups: AtomicU64::new(0) })
                .collect(),
            queues: run_queue::for_cpus(cpus),
            halted: AtomicU64::new(0),
        }
    }

    /// The id the task in slot `index` gets now.
    pub(super) fn id_for(&self, index: usize) -> TaskId {
        TaskId {
            index: index as u32,
            generation: generation(self.slots[index].state.load(Ordering::Acquire)),
        }
    }

    /// How many CPUs have queues.
    pub(super) fn cpus(&self) -> usize {
        self.queues.len()
    }

    /// CPU `cpu`'s queues (below [`cpus`](Self::cpus)).
    pub(super) fn queue(&self, cpu: usize) -> &RunQueue {
        &self.queues[cpu]
    }

    /// Makes `cpu` the home of the new task in slot `index` (not running: it was just freed or
    /// never used), for good if `pinned`, and counts it there.
    pub(super) fn place(&self, index: usize, cpu: usize, pinned: bool) {
        let cpu = cpu.min(self.queues.len() - 1);
        let slot = &self.slots[index];
        let pin = if pinned { PINNED } else { 0 };
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            let placed = (state & !(HOME_MASK | PINNED)) | pin | (cpu as u64) << HOME_SHIFT;
            match slot.state.compare_exchange_weak(state, placed, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        self.queues[cpu].load.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks `id` runnable (ready queue), unless it is queued already or has ended.
    // Inlined: every message's receiver is woken here.
    #[inline]
    pub(super) fn wake(&self, id: TaskId) {
        if let Some(cpu) = self.mark_queued(id) {
            self.queues[cpu].push_ready(id.index);
            self.kick(cpu);
        }
    }

    /// Marks `id` runnable behind the tasks woken by events (deferred queue), unless it is
    /// queued already or has ended. A CPU-bound task waits there: if a CPU is idle, it is told
    /// to come and take it.
    pub(super) fn defer(&self, id: TaskId) {
        if let Some(cpu) = self.mark_queued(id) {
            let pinned = self.is_pinned(id.index as usize);
            self.queues[cpu].push_deferred(id.index, pinned);
            self.kick(cpu);
            if !pinned {
                self.kick_idle();
            }
        }
    }

    /// Whether the task in slot `index` may run on its home CPU only.
    fn is_pinned(&self, index: usize) -> bool {
        self.slots[index].state.load(Ordering::Acquire) & PINNED != 0
    }

    /// Returns the queue entry `index`, taken off a queue by a CPU that may not run it (see
    /// [`Claim::Elsewhere`]), to CPU `home`'s ready or deferred queue, and tells that CPU if it
    /// may be halted: the entry is the only one its task has, so it must not sit unseen.
    pub(super) fn give_back(&self, index: u32, home: usize, deferred: bool) {
        let queue = &self.queues[home];
        if deferred {
            queue.push_deferred(index, self.is_pinned(index as usize));
        } else {
            queue.push_ready(index);
        }
        self.kick(home);
    }

    /// Sets `id`'s `QUEUED` flag; the home CPU whose queue the caller pushes to, if it was
    /// clear and the task lives.
    fn mark_queued(&self, id: TaskId) -> Option<usize> {
        let slot = self.slots.get(id.index())?;
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            if generation(state) != id.generation || state & QUEUED != 0 {
                return None;
            }
            match slot.state.compare_exchange_weak(state, state | QUEUED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        slot.wakeups.fetch_add(1, Ordering::Relaxed);
        Some(home(state))
    }

    /// Interrupts `cpu` if it is another CPU that may be halted, now that its queue has work.
    #[inline]
    fn kick(&self, cpu: usize) {
        if self.queues.len() > 1 && cpu != cpu_local::index() {
            self.kick_other(cpu);
        }
    }

    #[inline(never)]
    fn kick_other(&self, cpu: usize) {
        // Pairs with the fence in `may_halt`: either that CPU sees the push, or this sees its bit.
        fence(Ordering::SeqCst);
        if self.halted.load(Ordering::Relaxed) & (1 << cpu) != 0 {
            crate::arch::irq::wake_cpu(cpu);
        }
    }

    /// Interrupts one halted CPU other than this one, if there is one: there is work it may
    /// steal.
    pub(super) fn kick_idle(&self) {
        let others = self.halted.load(Ordering::Relaxed) & !(1 << cpu_local::index());
        if others != 0 {
            crate::arch::irq::wake_cpu(others.trailing_zeros() as usize);
        }
    }

    /// For CPU `me`, about to halt: records that it may be halted, and says whether it must
    /// not, because work arrived meanwhile. Call with interrupts off; [`woke`](Self::woke)
    /// afterwards either way.
    pub(super) fn may_halt(&self, me: usize) -> bool {
        self.halted.fetch_or(1 << me, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.queues[me].is_empty()
    }

    /// For CPU `me`: it is not halted (any more).
    pub(super) fn woke(&self, me: usize) {
        self.halted.fetch_and(!(1 << me), Ordering::Relaxed);
    }

    /// For CPU `me`, which took `index` off a queue: takes the task to run it here (see
    /// [`Claim`]).
    // Inlined: the direct switch claims the actor it switches to on every round trip.
    #[inline]
    pub(super) fn claim(&self, index: usize, me: usize) -> Claim {
        let slot = &self.slots[index];
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            if state & QUEUED == 0 {
                return Claim::Stale;
            }
            let from = home(state);
            if state & (RUNNING | PINNED) != 0 && from != me {
                return Claim::Elsewhere { home: from };
            }
            let mine = (state & !(QUEUED | HOME_MASK)) | RUNNING | (me as u64) << HOME_SHIFT;
            match slot.state.compare_exchange_weak(state, mine, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if from != me {
                        self.queues[from].load.fetch_sub(1, Ordering::Relaxed);
                        self.queues[me].load.fetch_add(1, Ordering::Relaxed);
                    }
                    return Claim::Taken { from };
                }
                Err(now) => state = now,
            }
        }
    }

    /// Ends a claim: other CPUs may take the task again.
    pub(super) fn release(&self, index: usize) {
        self.slots[index].state.fetch_and(!RUNNING, Ordering::AcqRel);
    }

    /// Queues `index`, claimed by this CPU, again at the head of its ready queue, without
    /// counting a wake (unless a wake queued it meanwhile).
    pub(super) fn requeue(&self, index: usize, me: usize) {
        let previous = self.slots[index].state.fetch_or(QUEUED, Ordering::AcqRel);
        if previous & QUEUED == 0 {
            self.queues[me].push_ready(index as u32);
        }
    }

    /// Ends the task in `index`, which this CPU has claimed: its wakers go stale. `QUEUED`
    /// stays as it is, so a queue entry left for it serves the slot's next task.
    pub(super) fn retire(&self, index: usize) {
        let slot = &self.slots[index];
        let mut state = slot.state.load(Ordering::Acquire);
        loop {
            let next = (state & (QUEUED | HOME_MASK))
                | u64::from(generation(state).wrapping_add(1)) << GENERATION_SHIFT;
            match slot.state.compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        slot.wakeups.store(0, Ordering::Relaxed);
        self.queues[home(state)].load.fetch_sub(1, Ordering::Relaxed);
    }

    /// How often the task in `index` was woken.
    pub(super) fn wakeups(&self, index: usize) -> u64 {
        self.slots[index].wakeups.load(Ordering::Relaxed)
    }

    /// The home CPU of the task in `index`.
    pub(super) fn home(&self, index: usize) -> usize {
        home(self.slots[index].state.load(Ordering::Relaxed))
    }
}

/// Runs the task behind `waker` again once the tasks woken by events have run: what a task
/// does when its time slice is used up. A waker that is not the executor's is simply woken.
pub fn defer(waker: &Waker) {
    match id_of(waker) {
        Some(id) => table().defer(id),
        None => waker.wake_by_ref(),
    }
}

/// The live task `waker` wakes, if it is one of the executor's wakers and its task has not
/// ended.
pub fn task_of(waker: &Waker) -> Option<TaskId> {
    let id = id_of(waker)?;
    let slot = table().slots.get(id.index())?;
    (generation(slot.state.load(Ordering::Acquire)) == id.generation).then_some(id)
}

/// For this CPU's timer tick, once its poll has lasted half a slice: if tasks wait in its
/// ready queue, tells an idle CPU, which may take them.
pub(super) fn offer_waiting() {
    // Not `table()`: an interrupt must not be the one that allocates the table.
    let Some(table) = TABLE.get() else { return };
    if table.queues.get(cpu_local::index()).is_some_and(RunQueue::has_ready) {
        table.kick_idle();
    }
}

/// The home CPU of the task `id` (where it last ran, or will run next).
pub fn cpu_of(id: TaskId) -> usize {
    table().home(id.index())
}

/// A waker for `id`.
pub fn waker(id: TaskId) -> Waker {
    // SAFETY: the vtable functions treat the data as a plain integer (a packed TaskId) and never
    // dereference it, so any value is sound and no resource is owned.
    unsafe { Waker::from_raw(raw_waker(id.to_bits())) }
}

/// The task `waker` names, if it is one of [`waker`]'s (the task may have ended since).
#[inline]
fn id_of(waker: &Waker) -> Option<TaskId> {
    core::ptr::eq(waker.vtable(), &VTABLE).then(|| TaskId::from_bits(waker.data() as usize))
}

fn raw_waker(bits: usize) -> RawWaker {
    RawWaker::new(core::ptr::without_provenance(bits), &VTABLE)
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(
    |data| raw_waker(data as usize),
    |data| table().wake(TaskId::from_bits(data as usize)),
    |data| table().wake(TaskId::from_bits(data as usize)),
    |_| {},
);

#[cfg(test)]
impl WakeTable {
    /// Empties every queue and clears every slot's flags: tests start from nothing.
    pub(super) fn clear(&self) {
        for queue in self.queues.iter() {
            while queue.pop_ready().or_else(|| queue.pop_deferred()).is_some() {}
            queue.load.store(0, Ordering::Relaxed);
        }
        for slot in self.slots.iter() {
            slot.state.fetch_and(!(QUEUED | RUNNING | PINNED | HOME_MASK), Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::executor::tests::serial;
    use crate::task::executor::{put_back, take_lone_ready};

    #[test]
    fn woken_tasks_run_in_wake_order_whether_or_not_the_queue_was_empty() {
        let _turn = serial();
        let table = table();
        crate::task::executor::tests::reset();
        let ids: alloc::vec::Vec<TaskId> = (MAX_TASKS - 4..MAX_TASKS).map(|i| table.id_for(i)).collect();
        let [a, b, c, d] = ids[..] else { unreachable!() };
        let queue = table.queue(0);
        let next = || {
            let index = queue.pop_ready()? as usize;
            assert_eq!(table.claim(index, 0), Claim::Taken { from: 0 });
            table.release(index);
            Some(table.id_for(index))
        };

        table.wake(a);
        assert_eq!(take_lone_ready(), Some(a), "a lone wake is taken at once");
        put_back(a);
        assert_eq!(table.wakeups(a.index()), 1, "putting it back is not a wake");
        table.wake(b);
        assert_eq!(take_lone_ready(), None, "two are waiting");
        table.wake(c);
        table.wake(b);
        assert_eq!(next(), Some(a));
        table.wake(d);
        assert_eq!([next(), next(), next(), next()], [Some(b), Some(c), Some(d), None]);
        assert_eq!(table.wakeups(b.index()), 1, "a second wake of a queued task counts once");
        crate::task::executor::tests::reset();
    }

    #[test]
    fn a_task_running_on_one_cpu_is_not_taken_by_another_and_a_steal_moves_its_home() {
        let table = WakeTable::new(2);
        let index = MAX_TASKS - 5;
        let id = table.id_for(index);
        table.place(index, 0, false);
        table.wake(id);
        let queued = table.queue(0).pop_ready().map(|i| i as usize);
        assert_eq!(queued, Some(index));
        assert_eq!(table.claim(index, 0), Claim::Taken { from: 0 });
        // Woken while CPU 0 runs it: the entry goes to CPU 0, and CPU 1 may not take it.
        table.wake(id);
        assert_eq!(table.claim(index, 1), Claim::Elsewhere { home: 0 });
        assert_eq!(table.queue(0).pop_ready().map(|i| i as usize), Some(index));
        table.release(index);
        // Released, it may be stolen: CPU 1 becomes its home, and the next wake goes there.
        assert_eq!(table.claim(index, 1), Claim::Taken { from: 0 });
        assert_eq!(table.home(index), 1);
        table.release(index);
        assert_eq!(table.claim(index, 0), Claim::Stale, "not queued: nothing to take");
        assert_eq!(
            (table.queue(0).load.load(Ordering::Relaxed), table.queue(1).load.load(Ordering::Relaxed)),
            (0, 1),
            "the load moved with it"
        );
    }

    #[test]
    fn a_pinned_task_is_taken_only_by_its_own_cpu() {
        let table = WakeTable::new(2);
        let index = MAX_TASKS - 7;
        table.place(index, 1, true);
        let id = table.id_for(index);
        table.wake(id);
        assert_eq!(table.queue(1).pop_ready().map(|i| i as usize), Some(index));
        assert_eq!(table.claim(index, 0), Claim::Elsewhere { home: 1 }, "not stolen");
        assert_eq!(table.claim(index, 1), Claim::Taken { from: 1 });
        table.release(index);
        table.retire(index);
        let next = table.id_for(index);
        table.place(index, 0, false);
        table.wake(next);
        assert_eq!(table.queue(0).pop_ready().map(|i| i as usize), Some(index));
        assert_eq!(table.claim(index, 1), Claim::Taken { from: 0 }, "the slot's next task is not pinned");
    }

    #[test]
    fn an_ended_task_leaves_its_queue_entry_to_the_next_task_of_the_slot() {
        let table = WakeTable::new(1);
        let index = MAX_TASKS - 6;
        let old = table.id_for(index);
        table.place(index, 0, false);
        table.wake(old);
        let _ = table.queue(0).pop_ready();
        assert!(matches!(table.claim(index, 0), Claim::Taken { .. }));
        // Woken during its last poll, then ended: one entry stays queued.
        table.wake(old);
        table.retire(index);
        table.wake(old);
        assert_eq!(table.wakeups(index), 0, "a stale waker does nothing");
        let new = table.id_for(index);
        assert_ne!(new, old);
        table.wake(new);
        assert_eq!(table.queue(0).pop_ready().map(|i| i as usize), Some(index), "the one entry serves it");
        assert_eq!(table.queue(0).pop_ready(), None, "and no second one was pushed");
    }
}
