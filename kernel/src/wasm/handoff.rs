//! Direct switch between actors (L4's direct process switch): when an actor waits (for the
//! answer to its request, say) and the executor's next poll would be another actor's that
//! waits in a wait of its own (the server its request just woke), its fiber switches straight
//! to that actor's fiber instead of going back through the executor and the other's poll.
//!
//! It happens only when the executor would have polled that actor next: it is the one task
//! woken by an event that waits, the time slice has not run out, and no request waits for the
//! executor. Timers due meanwhile, and tasks that used up their slice, wait as they would
//! behind a task that computes: a switch does not renew the slice, so a pair that keeps
//! calling each other goes back through the executor at least once a slice, which then
//! serves them. What the executor would have done for the other actor's poll is done here:
//! it is taken off the ready queue, its CPU time counted from the switch on and the caller's
//! until then (`executor::switch_running`). An ended actor is left to the executor, which
//! drops it. The mechanism is `fiber::block_on_then`.
//!
//! An actor is found from its task's slot: [`Registration`] maps it to the actor's context and
//! fiber for as long as its task lives.

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::future::Future;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use core::task::Waker;

use super::actor::ActorContext;
use super::requests;
use crate::arch::cpu;
use crate::task::executor;
use crate::task::fiber::{self, Cancelled, FiberRef, Successor};
use crate::task::preempt;
use crate::task::wake::{self, MAX_TASKS, TaskId};

/// What a direct switch needs of an actor.
struct Target {
    context: Rc<ActorContext>,
    fiber: FiberRef,
}

/// Each task slot's actor, if an actor's task holds the slot (null otherwise).
static TARGETS: [AtomicPtr<Target>; MAX_TASKS] = [const { AtomicPtr::new(ptr::null_mut()) }; MAX_TASKS];

/// An actor's entry in the table of switch targets, listed at its task's first poll and taken
/// off for good when its task is dropped.
pub struct Registration {
    target: Box<Target>,
    listed: Listed,
}

enum Listed {
    NotYet,
    As(TaskId),
    Never,
}

impl Registration {
    /// The entry of the actor with `context`, running on `fiber`, not listed yet.
    pub fn new(context: Rc<ActorContext>, fiber: FiberRef) -> Self {
        Self { target: Box::new(Target { context, fiber }), listed: Listed::NotYet }
    }

    /// Lists it under the task `waker` wakes, unless it was listed or taken off before.
    pub fn list(&mut self, waker: &Waker) {
        if let Listed::NotYet = self.listed
            && let Some(task) = wake::task_of(waker)
        {
            TARGETS[task.index()].store(&raw const *self.target as *mut Target, Ordering::Relaxed);
            self.listed = Listed::As(task);
        }
    }

    /// Takes it off the table for good.
    pub fn unlist(&mut self) {
        if let Listed::As(task) = core::mem::replace(&mut self.listed, Listed::Never) {
            TARGETS[task.index()].store(ptr::null_mut(), Ordering::Relaxed);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.unlist();
    }
}

/// On `caller`'s fiber: waits for `future` as `fiber::block_on` does, but gives the CPU
/// straight to the actor the executor would run next, when it may (see the module
/// documentation).
pub fn block_on<F: Future>(caller: &ActorContext, future: F) -> Result<F::Output, Cancelled> {
    fiber::block_on_then(future, || successor(caller))
}

/// The actor to switch to from `caller`, which is about to wait, taken off the ready queue
/// with the executor's bookkeeping done; `None` leaves the choice (and the queue) to the
/// executor.
// A hint: forced inline, it saved 16 of a Wasm round trip's 3078 instructions.
#[inline]
fn successor(caller: &ActorContext) -> Option<Successor> {
    if preempt::should_yield() || requests::pending() {
        return None;
    }
    let task = executor::take_lone_ready()?;
    let target = TARGETS[task.index()].load(Ordering::Relaxed);
    // SAFETY: a non-null entry is the boxed target of the live actor task holding the slot
    // (its `Registration` takes it off before the box goes); that task cannot be dropped
    // while the caller's poll runs, and the reference is not kept past this call.
    // An ended actor's task is left to the executor, which drops it.
    let target = unsafe { target.as_ref() }.filter(|t| !t.context.process.is_dead());
    // SAFETY: the fiber is the live actor's (above), and its task was just taken off the
    // ready queue.
    let next =
        target.and_then(|t| unsafe { Successor::new(t.fiber, wake::waker(task)) }.ok().map(|n| (t, n)));
    let Some((target, next)) = next else {
        executor::put_back(task);
        return None;
    };
    let used = executor::switch_running(task, target.context.process.name(), cpu::rdtsc());
    caller.process.add_cpu_cycles(used);
    Some(next)
}
