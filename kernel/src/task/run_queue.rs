//! Each CPU's run queues, and what other CPUs may learn of it: how many tasks live on it, how
//! much it worked.
//!
//! A queue holds task slot indices. Tasks woken by an event go to the *ready* queue; tasks that
//! used up their time slice to the *deferred* one, or, when they are pinned to this CPU, to the
//! *pinned* one, which no other CPU looks at: a thief that took a pinned task off the deferred
//! queue could only give it back at the end, behind the task that yielded after it (two pinned
//! CPU-bound tasks then shared their CPU 74 slices to 3). All are lock-free (any CPU, and
//! interrupt handlers, may push; the owner pops, and an idle CPU may steal from the first two),
//! sized for every task at once: a task is queued at most once (`wake`), so no push can fail.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crossbeam_queue::ArrayQueue;

use super::wake::MAX_TASKS;

/// `first` when it holds no slot.
const NO_SLOT: u32 = u32::MAX;

/// One CPU's queues and scheduling counters; a cache line of its own for the fields others
/// read, so a CPU's polls do not slow down the ones that look.
#[repr(align(64))]
pub(super) struct RunQueue {
    /// The head of the ready queue when a wake found it empty ([`NO_SLOT`] otherwise): the
    /// common case, one task woken at a time, takes a swap instead of a trip through `ready`.
    first: AtomicU32,
    /// The rest of the ready queue, behind `first`.
    ready: ArrayQueue<u32>,
    deferred: ArrayQueue<u32>,
    pinned: ArrayQueue<u32>,
    /// Whether the owner's next deferred turn goes to the pinned queue (when both wait).
    pinned_turn: AtomicBool,
    /// Live tasks whose home is this CPU: where new tasks go is the CPU with the fewest.
    pub load: AtomicUsize,
    /// TSC cycles spent halted, and polls made: what `cpus` shows.
    pub idle_cycles: AtomicU64,
    /// The TSC when the CPU halted, while it is halted (0 while it runs): a CPU halted for
    /// long, with its timer stopped, has idle time not yet in `idle_cycles`.
    pub halted_since: AtomicU64,
    pub polls: AtomicU64,
    /// Tasks this CPU took from another's queues.
    pub steals: AtomicU64,
}

impl RunQueue {
    /// Empty queues for one CPU.
    pub fn new() -> Self {
        Self {
            first: AtomicU32::new(NO_SLOT),
            ready: ArrayQueue::new(MAX_TASKS),
            deferred: ArrayQueue::new(MAX_TASKS),
            pinned: ArrayQueue::new(MAX_TASKS),
            pinned_turn: AtomicBool::new(false),
            load: AtomicUsize::new(0),
            idle_cycles: AtomicU64::new(0),
            halted_since: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            steals: AtomicU64::new(0),
        }
    }

    /// Appends `index` to the ready queue: into `first` only while the queue behind it is
    /// empty, so it is always the oldest. An interrupt's wake between the look and the
    /// exchange only changes which of two simultaneous wakes runs first.
    pub fn push_ready(&self, index: u32) {
        let first = self.ready.is_empty()
            && self.first.compare_exchange(NO_SLOT, index, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        if !first {
            // Cannot fail: each slot is in at most one queue, once, and a queue holds every slot.
            let _ = self.ready.push(index);
        }
    }

    /// Appends `index` to the deferred queue, or to the pinned one if its task is `pinned` here.
    pub fn push_deferred(&self, index: u32, pinned: bool) {
        // Cannot fail, as above.
        let _ = if pinned { self.pinned.push(index) } else { self.deferred.push(index) };
    }

    /// The oldest ready slot.
    pub fn pop_ready(&self) -> Option<u32> {
        match self.first.swap(NO_SLOT, Ordering::AcqRel) {
            NO_SLOT => self.ready.pop(),
            index => Some(index),
        }
    }

    /// The ready slot, if it is the only one.
    pub fn pop_lone_ready(&self) -> Option<u32> {
        if !self.ready.is_empty() {
            return None;
        }
        match self.first.swap(NO_SLOT, Ordering::AcqRel) {
            NO_SLOT => None,
            index => Some(index),
        }
    }

    /// For the owner: the oldest deferred slot, of the pinned and the other deferred tasks in
    /// turn when both wait.
    pub fn pop_deferred(&self) -> Option<u32> {
        // Only the owner pops here: a plain load and store suffice.
        let pinned_first = self.pinned_turn.load(Ordering::Relaxed);
        self.pinned_turn.store(!pinned_first, Ordering::Relaxed);
        if pinned_first {
            self.pinned.pop().or_else(|| self.deferred.pop())
        } else {
            self.deferred.pop().or_else(|| self.pinned.pop())
        }
    }

    /// For another CPU: the oldest deferred slot that is not pinned here.
    pub fn steal_deferred(&self) -> Option<u32> {
        self.deferred.pop()
    }

    /// Whether a task woken by an event waits here.
    pub fn has_ready(&self) -> bool {
        self.first.load(Ordering::Acquire) != NO_SLOT || !self.ready.is_empty()
    }

    /// Whether a deferred task waits here.
    pub fn has_deferred(&self) -> bool {
        !self.deferred.is_empty() || !self.pinned.is_empty()
    }

    /// Whether nothing waits here.
    pub fn is_empty(&self) -> bool {
        !self.has_ready() && !self.has_deferred()
    }
}

/// Queues for `cpus` CPUs.
pub(super) fn for_cpus(cpus: usize) -> Box<[RunQueue]> {
    (0..cpus.max(1)).map(|_| RunQueue::new()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_deferred_task_is_served_by_its_cpu_in_turn_and_never_stolen() {
        let queue = RunQueue::new();
        queue.push_deferred(1, true);
        queue.push_deferred(2, false);
        queue.push_deferred(3, false);
        assert_eq!(queue.steal_deferred(), Some(2), "a thief sees the other deferred tasks only");
        queue.push_deferred(2, false);
        assert_eq!(queue.steal_deferred(), Some(3));
        assert_eq!(queue.steal_deferred(), Some(2));
        assert_eq!(queue.steal_deferred(), None, "the pinned task stays");
        assert!(queue.has_deferred());
        queue.push_deferred(4, false);
        queue.push_deferred(5, true);
        let served: Vec<_> = core::iter::from_fn(|| queue.pop_deferred()).collect();
        assert_eq!(served, [4, 1, 5], "the owner takes the two kinds in turn");
        assert!(queue.is_empty());
    }
}
