//! The live tasks, by slot: the CPU that has claimed a slot (`wake::Claim`) reaches its task
//! without a lock; a lock guards only what changes the set of tasks (spawn, end) or reads all
//! of it (`ps`), never a poll.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::future::Future;
use core::pin::Pin;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use super::wake::MAX_TASKS;

/// A task: its future and what `ps` shows of it.
pub(super) struct Task {
    pub name: String,
    /// Touched only by the CPU that has claimed the task (see the `Send` note below).
    pub future: UnsafeCell<Pin<Box<dyn Future<Output = ()>>>>,
    pub polls: AtomicU64,
    /// TSC cycles spent polling it, shared with whoever started it (a process counts its CPU
    /// time here, without reading the TSC again around its own poll).
    pub cpu_cycles: Arc<AtomicU64>,
}

// SAFETY: a task moves between CPUs only as a whole, between two polls, and one CPU at a time
// touches its future: the one that claimed its slot, until it releases it (the claim is a
// compare-and-swap on the slot's state, with acquire/release ordering, so the next CPU sees
// every write of the last). The future, and what it owns, are reachable only through the task:
// an actor's `Rc`-shared context and `Cell`s are shared with its own fiber and host functions,
// which run only inside its polls, never with another task (the direct switch of
// `wasm::handoff` reaches another actor only after claiming it). So moving the task to another
// CPU is moving a value to another thread with nothing left aliasing it. The other fields are
// immutable or atomic.
unsafe impl Send for Task {}
// SAFETY: as above: shared references reach the future only through a claim.
unsafe impl Sync for Task {}

/// Each slot's task (null: free).
static TASKS: [AtomicPtr<Task>; MAX_TASKS] = [const { AtomicPtr::new(ptr::null_mut()) }; MAX_TASKS];

/// Which slots are free.
struct Slots {
    /// Freed slots, reused first.
    free: Vec<u32>,
    /// Slots `used..` have never held a task.
    used: usize,
}

static SLOTS: spin::Mutex<Slots> = spin::Mutex::new(Slots { free: Vec::new(), used: 0 });

/// Stores `task` in a free slot and returns the slot, or gives the task back if all are taken.
pub(super) fn insert(task: Box<Task>) -> Result<usize, Box<Task>> {
    let mut slots = SLOTS.lock();
    let index = match slots.free.pop() {
        Some(index) => index as usize,
        None if slots.used < MAX_TASKS => {
            slots.used += 1;
            slots.used - 1
        }
        None => return Err(task),
    };
    TASKS[index].store(Box::into_raw(task), Ordering::Release);
    Ok(index)
}

/// The task in slot `index`, if any.
///
/// # Safety
/// The calling CPU must have claimed the slot, and must not keep the reference past its
/// release (or past [`remove`]).
pub(super) unsafe fn claimed(index: usize) -> Option<&'static Task> {
    let task = TASKS.get(index)?.load(Ordering::Acquire);
    // SAFETY: a non-null entry is a live boxed task; only [`remove`], which the claiming CPU
    // alone calls, frees it, and the caller does not keep the reference past that.
    unsafe { task.as_ref() }
}

/// Takes the task out of slot `index`, freeing the slot; `ps` no longer sees it.
///
/// # Safety
/// The calling CPU must have claimed the slot.
pub(super) unsafe fn remove(index: usize) -> Option<Box<Task>> {
    let mut slots = SLOTS.lock();
    let task = TASKS.get(index)?.swap(ptr::null_mut(), Ordering::AcqRel);
    if task.is_null() {
        return None;
    }
    slots.free.push(index as u32);
    // SAFETY: the entry came from `Box::into_raw` in `insert`, and the swap made this the only
    // owner (readers in `each` hold the lock this function holds).
    Some(unsafe { Box::from_raw(task) })
}

/// Number of live tasks.
pub(super) fn len() -> usize {
    let slots = SLOTS.lock();
    slots.used - slots.free.len()
}

/// Calls `f` with each live task and its slot, in slot order.
pub(super) fn each(mut f: impl FnMut(usize, &Task)) {
    let slots = SLOTS.lock();
    for (index, entry) in TASKS[..slots.used].iter().enumerate() {
        // SAFETY: a task is freed only after `remove` took it out under the lock held here.
        if let Some(task) = unsafe { entry.load(Ordering::Acquire).as_ref() } {
            f(index, task);
        }
    }
}
