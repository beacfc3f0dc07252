//! Task wake-ups that interrupt handlers can use: no allocation, no lock, no reference count.
//!
//! Each task owns a slot in a fixed table. A [`Waker`] carries only the task's [`TaskId`]
//! (slot index and the slot's generation), so cloning or dropping one costs nothing and is safe
//! anywhere, and a waker that outlives its task finds a newer generation and does nothing.
//! Waking sets the slot's `queued` flag and, only if it was clear, pushes the slot index onto
//! a run queue: a task is in a queue at most once, so queues as large as the table can never
//! overflow and no wake-up is ever lost, and a task woken twice runs once.
//!
//! There are two run queues. Tasks woken by an event (a message, a timer, an interrupt) go to
//! the *ready* queue; tasks that gave way because their time slice ran out ([`defer`]) go to
//! the *deferred* one. The executor serves the ready queue first, so a receiver woken by a
//! send runs next rather than behind every CPU-bound task's slice, and it ages the deferred
//! queue so those tasks still get their turn (see `executor`).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use core::task::{RawWaker, RawWakerVTable, Waker};
use crossbeam_queue::ArrayQueue;

/// Most tasks alive at once (and so the run queue's capacity).
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

struct Slot {
    /// Bumped when a task ends, so its leftover wakers stop matching.
    generation: AtomicU32,
    /// Set while the slot's index is in the run queue.
    queued: AtomicBool,
    /// Times the task was woken (repeated wakes before it ran count once).
    wakeups: AtomicU64,
}

/// The slots and the run queues; one per kernel, created by the first executor.
pub(super) struct WakeTable {
    slots: alloc::boxed::Box<[Slot]>,
    /// The head of the ready queue when a wake found it empty ([`NO_SLOT`] otherwise): the
    /// common case, one task woken at a time, takes a swap instead of a trip through `ready`.
    first: AtomicU32,
    /// The rest of the ready queue, behind `first`.
    ready: ArrayQueue<u32>,
    deferred: ArrayQueue<u32>,
}

/// `first` when it holds no slot.
const NO_SLOT: u32 = u32::MAX;

static TABLE: conquer_once::spin::OnceCell<WakeTable> = conquer_once::spin::OnceCell::uninit();

/// The kernel's wake table, created on first use.
// Inlined: every wake and every pop comes here, and once the table exists the look is a load
// and a compare.
#[inline]
pub(super) fn table() -> &'static WakeTable {
    match TABLE.try_get() {
        Ok(table) => table,
        Err(_) => create_table(),
    }
}

#[cold]
fn create_table() -> &'static WakeTable {
    TABLE.get_or_init(|| WakeTable {
        slots: (0..MAX_TASKS)
            .map(|_| Slot {
                generation: AtomicU32::new(0),
                queued: AtomicBool::new(false),
                wakeups: AtomicU64::new(0),
            })
            .collect(),
        first: AtomicU32::new(NO_SLOT),
        ready: ArrayQueue::new(MAX_TASKS),
        deferred: ArrayQueue::new(MAX_TASKS),
    })
}

impl WakeTable {
    /// The id the task in slot `index` gets now.
    pub(super) fn id_for(&self, index: usize) -> TaskId {
        TaskId { index: index as u32, generation: self.slots[index].generation.load(Ordering::Acquire) }
    }

    /// Marks `id` runnable (ready queue), unless it is queued already or has ended.
    pub(super) fn wake(&self, id: TaskId) {
        if self.mark_queued(id) {
            self.push_ready(id.index);
        }
    }

    /// Appends `index` to the ready queue: into `first` only while the queue behind it is
    /// empty, so it is always the oldest. An interrupt's wake between the look and the
    /// exchange only changes which of two simultaneous wakes runs first.
    fn push_ready(&self, index: u32) {
        let first = self.ready.is_empty()
            && self.first.compare_exchange(NO_SLOT, index, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        if !first {
            // Cannot fail: each slot is in at most one queue, once, and a queue holds every slot.
            let _ = self.ready.push(index);
        }
    }

    /// Marks `id` runnable behind the tasks woken by events (deferred queue), unless it is
    /// queued already or has ended.
    pub(super) fn defer(&self, id: TaskId) {
        if self.mark_queued(id) {
            // Cannot fail, as above.
            let _ = self.deferred.push(id.index);
        }
    }

    /// Sets `id`'s `queued` flag; whether it was clear (then the caller queues it).
    fn mark_queued(&self, id: TaskId) -> bool {
        let Some(slot) = self.slots.get(id.index()) else { return false };
        if slot.generation.load(Ordering::Acquire) != id.generation
            || slot.queued.swap(true, Ordering::AcqRel)
        {
            return false;
        }
        slot.wakeups.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// The next slot woken by an event, with its `queued` flag cleared so a wake during the
    /// poll queues it again.
    pub(super) fn pop_ready(&self) -> Option<usize> {
        match self.first.swap(NO_SLOT, Ordering::AcqRel) {
            NO_SLOT => self.take(self.ready.pop()?),
            index => self.take(index),
        }
    }

    /// As [`pop_ready`](Self::pop_ready), but only if that task is the only one woken by an
    /// event.
    fn pop_lone_ready(&self) -> Option<usize> {
        if !self.ready.is_empty() {
            return None;
        }
        match self.first.swap(NO_SLOT, Ordering::AcqRel) {
            NO_SLOT => None,
            index => self.take(index),
        }
    }

    /// Queues `index` again at the head, where `pop_lone_ready` took it from, without counting
    /// a wake (unless a wake queued it meanwhile).
    fn put_back(&self, index: usize) {
        if !self.slots[index].queued.swap(true, Ordering::AcqRel) {
            // Behind any task an interrupt woke meanwhile.
            self.push_ready(index as u32);
        }
    }

    /// The next deferred slot, likewise.
    pub(super) fn pop_deferred(&self) -> Option<usize> {
        self.take(self.deferred.pop()?)
    }

    fn take(&self, index: u32) -> Option<usize> {
        let index = index as usize;
        self.slots[index].queued.store(false, Ordering::Release);
        Some(index)
    }

    /// Whether any task is runnable.
    pub(super) fn is_empty(&self) -> bool {
        !self.has_ready() && self.deferred.is_empty()
    }

    /// Whether a task woken by an event waits to run.
    pub(super) fn has_ready(&self) -> bool {
        self.first.load(Ordering::Acquire) != NO_SLOT || !self.ready.is_empty()
    }

    /// Whether a deferred task waits to run.
    pub(super) fn has_deferred(&self) -> bool {
        !self.deferred.is_empty()
    }

    /// Ends the task in `index`: its wakers go stale.
    pub(super) fn retire(&self, index: usize) {
        let slot = &self.slots[index];
        slot.generation.fetch_add(1, Ordering::AcqRel);
        slot.wakeups.store(0, Ordering::Relaxed);
    }

    /// How often the task in `index` was woken.
    pub(super) fn wakeups(&self, index: usize) -> u64 {
        self.slots[index].wakeups.load(Ordering::Relaxed)
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
    (slot.generation.load(Ordering::Acquire) == id.generation).then_some(id)
}

/// The task woken by an event that the executor would poll next, taken off the ready queue,
/// if it is the only one waiting there; a caller that does not run it [`put_back`]s it.
pub fn take_lone_ready() -> Option<TaskId> {
    let table = table();
    Some(table.id_for(table.pop_lone_ready()?))
}

/// Queues `id`, taken by [`take_lone_ready`], where it was: the executor polls it next.
pub fn put_back(id: TaskId) {
    table().put_back(id.index());
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
mod tests {
    use super::*;
    use crate::task::executor::tests::serial;

    #[test]
    fn woken_tasks_run_in_wake_order_whether_or_not_the_queue_was_empty() {
        let _turn = serial();
        let table = table();
        while table.pop_ready().or_else(|| table.pop_deferred()).is_some() {}
        let ids: alloc::vec::Vec<TaskId> = (MAX_TASKS - 4..MAX_TASKS).map(|i| table.id_for(i)).collect();
        let [a, b, c, d] = ids[..] else { unreachable!() };
        let next = || table.pop_ready().map(|i| table.id_for(i));

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
    }
}
