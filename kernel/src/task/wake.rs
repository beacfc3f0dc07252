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
    ready: ArrayQueue<u32>,
    deferred: ArrayQueue<u32>,
}

static TABLE: conquer_once::spin::OnceCell<WakeTable> = conquer_once::spin::OnceCell::uninit();

/// The kernel's wake table, created on first use.
pub(super) fn table() -> &'static WakeTable {
    TABLE.get_or_init(|| WakeTable {
        slots: (0..MAX_TASKS)
            .map(|_| Slot {
                generation: AtomicU32::new(0),
                queued: AtomicBool::new(false),
                wakeups: AtomicU64::new(0),
            })
            .collect(),
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
        self.enqueue(id, &self.ready);
    }

    /// Marks `id` runnable behind the tasks woken by events (deferred queue), unless it is
    /// queued already or has ended.
    pub(super) fn defer(&self, id: TaskId) {
        self.enqueue(id, &self.deferred);
    }

    fn enqueue(&self, id: TaskId, queue: &ArrayQueue<u32>) {
        let Some(slot) = self.slots.get(id.index()) else { return };
        if slot.generation.load(Ordering::Acquire) != id.generation {
            return;
        }
        if !slot.queued.swap(true, Ordering::AcqRel) {
            slot.wakeups.fetch_add(1, Ordering::Relaxed);
            // Cannot fail: each slot is in at most one queue, once, and a queue holds every slot.
            let _ = queue.push(id.index);
        }
    }

    /// The next slot woken by an event, with its `queued` flag cleared so a wake during the
    /// poll queues it again.
    pub(super) fn pop_ready(&self) -> Option<usize> {
        self.take(self.ready.pop()?)
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
        self.ready.is_empty() && self.deferred.is_empty()
    }

    /// Whether a task woken by an event waits to run.
    pub(super) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
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
    if core::ptr::eq(waker.vtable(), &VTABLE) {
        table().defer(TaskId::from_bits(waker.data() as usize));
    } else {
        waker.wake_by_ref();
    }
}

/// A waker for `id`.
pub fn waker(id: TaskId) -> Waker {
    // SAFETY: the vtable functions treat the data as a plain integer (a packed TaskId) and never
    // dereference it, so any value is sound and no resource is owned.
    unsafe { Waker::from_raw(raw_waker(id.to_bits())) }
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
