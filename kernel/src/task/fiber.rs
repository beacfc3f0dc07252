//! Fibers: a stack of its own for code that must wait in the middle of a call it does not
//! control — a Wasm host function deep inside the interpreter.
//!
//! A task owns a [`Fiber`] and [`resume`](Fiber::resume)s it from its `poll`. Code on the fiber
//! waits with [`block_on`], which polls a future with the task's waker and, while it is
//! pending, switches back to the executor: the task returns `Pending` and the fiber continues
//! exactly where it stopped when the task is polled again. [`yield_slice`] gives the CPU away
//! without waiting for anything. This is how wasmtime runs async host functions.
//!
//! A fiber that waits may also run another waiting fiber in its place ([`block_on_then`]), as
//! if that one's task had been polled: the switch goes fiber to fiber, and whichever fiber
//! gives the CPU back returns from the executor's `resume` (`wasm::handoff` decides when).
//!
//! A fiber is never dropped while suspended in the middle of its body: the owner [`cancel`]s it
//! and resumes it until it finishes, so `block_on` and `yield_slice` return `Err(Cancelled)` and
//! the body unwinds through ordinary returns, dropping everything it owns.
//!
//! A fiber's stack is mapped as it grows: the page-fault handler asks [`on_stack_fault`],
//! which maps the missing page. One exception to the rule above: a fiber that runs off the
//! bottom of its stack faults on the guard page below it, or its stack cannot grow for want of
//! memory. The fault handler then abandons it: its task gets [`Resumed::Overflowed`] or
//! [`Resumed::OutOfMemory`] as if the fiber had switched back, and the fiber never runs again.
//! What its body owned is leaked (there is no unwinding through a broken stack), and a kernel
//! lock it held stays held; the rest of the kernel goes on.
//!
//! [`cancel`]: Fiber::cancel

use alloc::boxed::Box;
use core::future::Future;
use core::pin::pin;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use core::task::{Context, Poll, Waker};

use crate::arch::context;
use crate::arch::cpu_local::PerCpu;
use crate::arch::exceptions::StackFault;
use crate::mem::MemError;
use crate::per_cpu;

/// Why a fiber gave the CPU back to its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// It can run again at once: the task should be polled again soon.
    Yielded,
    /// It waits for a future whose waker will wake the task.
    Blocked,
    /// Its body returned; resuming it again does nothing.
    Finished,
    /// It overflowed its stack and was abandoned; resuming it again does nothing.
    Overflowed,
    /// Its stack could not grow (no free frame) and it was abandoned; resuming it again does
    /// nothing.
    OutOfMemory,
}

impl Resumed {
    /// Whether the fiber will never run again: finished or abandoned.
    fn is_final(self) -> bool {
        matches!(self, Self::Finished | Self::Overflowed | Self::OutOfMemory)
    }
}

/// The fiber was cancelled while it waited: unwind and return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl core::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cancelled")
    }
}

/// What the two sides of a switch share; boxed so its address is stable.
struct Control {
    caller_rsp: u64,
    fiber_rsp: u64,
    /// Its task's waker: the one the last poll that resumed it passed, or the one given to the
    /// switch that ran it directly.
    waker: Waker,
    state: Resumed,
    cancelled: bool,
    body: Option<Box<dyn FnOnce()>>,
    /// Where its stack is, lowest address first; the guard page lies just below.
    stack: core::ops::Range<u64>,
}

/// The fiber running on each CPU (null while the executor's own stack runs). A fiber suspended
/// on one CPU may be resumed on another (its actor moved): code on a fiber asks again after
/// every switch.
static CURRENT: PerCpu<AtomicPtr<Control>> = per_cpu!(AtomicPtr::new(ptr::null_mut()));

#[cfg(not(any(test, feature = "host")))]
type Stack = crate::mem::stack::KernelStack;

/// Host builds (tests, fuzzing) run fibers on heap memory.
#[cfg(any(test, feature = "host"))]
struct Stack(alloc::vec::Vec<u128>);

#[cfg(any(test, feature = "host"))]
impl Stack {
    /// At least this much: host builds are often unoptimised, and an unoptimised interpreter
    /// and host call take several times the stack of the kernel's release build. The kernel
    /// still charges the size it asked for.
    const HOST_MIN: u64 = 1 << 20;

    fn on_demand(size: u64) -> Result<Self, MemError> {
        Ok(Self(alloc::vec![0; size.max(Self::HOST_MIN) as usize / 16]))
    }

    fn bottom(&self) -> u64 {
        self.0.as_ptr_range().start as u64
    }

    fn top(&self) -> u64 {
        self.0.as_ptr_range().end as u64
    }
}

/// A body of code with its own stack; see the module documentation.
pub struct Fiber {
    control: Box<Control>,
    _stack: Stack,
}

impl Fiber {
    /// A fiber that will run `body` on a fresh stack of `stack_size` bytes when first resumed.
    pub fn new(stack_size: u64, body: impl FnOnce() + 'static) -> Result<Self, MemError> {
        let stack = Stack::on_demand(stack_size)?;
        let mut control = Box::new(Control {
            caller_rsp: 0,
            fiber_rsp: 0,
            waker: Waker::noop().clone(),
            state: Resumed::Yielded,
            cancelled: false,
            body: Some(Box::new(body)),
            stack: stack.bottom()..stack.top(),
        });
        let arg = &raw mut *control as u64;
        // SAFETY: the stack is fresh, owned by this fiber and outlives every switch into it.
        control.fiber_rsp = unsafe { context::prepare_stack(stack.top(), fiber_entry, arg) };
        Ok(Self { control, _stack: stack })
    }

    /// Runs the fiber until it yields, blocks or finishes. Call from a task's `poll`, passing
    /// its waker, never from another fiber.
    ///
    /// The fiber may hand the CPU to another fiber directly ([`block_on_then`]), and that one
    /// to a third; whichever gives the CPU back ends this call. If that is not this fiber, its
    /// task learns here what its own poll would have: it is deferred if it yielded, and woken
    /// if it finished or was abandoned (its next poll then reports that); this fiber itself
    /// stays blocked where it switched away.
    pub fn resume(&mut self, waker: &Waker) -> Resumed {
        if self.control.state.is_final() {
            return self.control.state;
        }
        // Its stack, or that of a fiber it switches to, may need a page mapped on this CPU.
        crate::mem::stack::keep_reserve();
        let control = &raw mut *self.control;
        let previous = CURRENT.get().swap(control, Ordering::Relaxed);
        assert!(previous.is_null(), "a fiber resumed another fiber");
        // SAFETY: `control` is boxed and outlives the switch; the fiber's stack is alive and
        // suspended (or fresh), and it (or a fiber it switched to) switches back to
        // `caller_rsp` before this returns.
        unsafe {
            (*control).waker.clone_from(waker);
            context::switch(&raw mut (*control).caller_rsp, (*control).fiber_rsp);
        }
        let back = CURRENT.get().swap(ptr::null_mut(), Ordering::Relaxed);
        if back != control {
            // SAFETY: `back` is the control of a fiber entered by `switch_to`, whose owner
            // cannot drop it before this poll returns (its task is not being polled).
            let (state, waker) = unsafe { ((*back).state, &(*back).waker) };
            match state {
                Resumed::Blocked => {}
                Resumed::Yielded => super::wake::defer(waker),
                Resumed::Finished | Resumed::Overflowed | Resumed::OutOfMemory => waker.wake_by_ref(),
            }
        }
        self.control.state
    }

    /// A reference through which another fiber may switch to this one directly
    /// ([`Successor`]); valid as long as the fiber lives.
    pub fn handle(&self) -> FiberRef {
        FiberRef(ptr::NonNull::from(&*self.control))
    }

    /// Asks the fiber to unwind: its pending and later waits return [`Cancelled`]. Resume it
    /// until it reports [`Resumed::Finished`]. A fiber that never ran is finished at once,
    /// without running its body at all.
    pub fn cancel(&mut self) {
        self.control.cancelled = true;
        if self.control.body.take().is_some() {
            self.control.state = Resumed::Finished;
        }
    }

    /// Whether the body has returned, or the fiber was abandoned.
    pub fn is_finished(&self) -> bool {
        self.control.state.is_final()
    }
}

impl Drop for Fiber {
    fn drop(&mut self) {
        // Dropping a fiber stopped inside its body would leak what that body owns.
        debug_assert!(
            self.control.body.is_some() || self.is_finished(),
            "a fiber was dropped while suspended; cancel and resume it first"
        );
    }
}

extern "sysv64" fn fiber_entry(arg: u64) -> ! {
    let control = arg as *mut Control;
    // SAFETY: `arg` is the fiber's boxed control, alive for as long as the fiber can run.
    let body = unsafe { (*control).body.take() };
    if let Some(body) = body {
        body();
    }
    // SAFETY: as above; the owner never switches back into a finished fiber.
    unsafe {
        (*control).state = Resumed::Finished;
        let mut dead_rsp = 0;
        context::switch(&mut dead_rsp, (*control).caller_rsp);
    }
    unreachable!("a finished fiber was resumed")
}

/// The running fiber's stack, if a fiber runs: where a fault report may walk its frames.
pub fn current_stack() -> Option<core::ops::Range<u64>> {
    let control = CURRENT.get().load(Ordering::Relaxed);
    // SAFETY: a non-null CURRENT is the running fiber's boxed control, alive while it runs.
    (!control.is_null()).then(|| unsafe { (*control).stack.clone() })
}

/// For the fault handler, about a fault at address `fault` with the faulting code's stack
/// pointer at `rsp` (`missing`: a page fault on a page not mapped): if `fault` is a missing
/// page of the running fiber's stack, maps it; if `fault` or `rsp` lies in the guard page below
/// that stack, or the page cannot be had, abandons the fiber and gives the handler the stack
/// pointer of the task that resumed it, saved by `context::switch` (the handler resumes there
/// with `context::resume_saved`, and the task sees [`Resumed::Overflowed`] or
/// [`Resumed::OutOfMemory`]). Any other fault is not the fiber's (`None`).
pub fn on_stack_fault(fault: u64, rsp: u64, missing: bool) -> Option<StackFault> {
    let control = CURRENT.get().load(Ordering::Relaxed);
    if control.is_null() {
        return None;
    }
    // SAFETY: a non-null CURRENT is the running fiber's boxed control; the fiber is stopped
    // in the fault, so nothing else touches it.
    unsafe {
        let stack = (*control).stack.clone();
        let guard = stack.start.saturating_sub(crate::mem::PAGE_SIZE)..stack.start;
        let (state, why) = if missing && stack.contains(&fault) {
            match crate::mem::stack::commit(fault) {
                Ok(()) => return Some(StackFault::Committed),
                Err(_) => (Resumed::OutOfMemory, "stack cannot grow: out of physical memory"),
            }
        } else if guard.contains(&fault) || guard.contains(&rsp) {
            (Resumed::Overflowed, "stack overflow")
        } else {
            return None;
        };
        (*control).state = state;
        Some(StackFault::Abandoned { resume_rsp: (*control).caller_rsp, why })
    }
}

/// Switches from the current fiber back to its task with `state`.
fn suspend(state: Resumed) -> Result<(), Cancelled> {
    let control = CURRENT.get().load(Ordering::Relaxed);
    assert!(!control.is_null(), "fiber wait outside a fiber");
    // SAFETY: `control` is the running fiber's boxed control; switching to `caller_rsp` returns
    // to `Fiber::resume`, which switches back here on the next resume.
    unsafe {
        (*control).state = state;
        context::switch(&raw mut (*control).fiber_rsp, (*control).caller_rsp);
        if (*control).cancelled { Err(Cancelled) } else { Ok(()) }
    }
}

/// On a fiber: gives the CPU to other tasks and continues when the task is polled again.
pub fn yield_slice() -> Result<(), Cancelled> {
    suspend(Resumed::Yielded)
}

/// Gives the CPU away, as [`yield_slice`], if this is a fiber and its time slice is used up;
/// otherwise returns at once. Work whose cost grows with its arguments (a bulk memory
/// instruction, a host call that copies) asks between steps, so no single step of an actor
/// holds the CPU past its slice.
// Inlined: every host call asks on its way out, and the answer is almost always no.
#[inline]
pub fn yield_if_expired() -> Result<(), Cancelled> {
    if super::preempt::should_yield() && !CURRENT.get().load(Ordering::Relaxed).is_null() {
        trace_preemption();
        yield_slice()
    } else {
        Ok(())
    }
}

/// At `log=trace`, says which task used up its slice and is made to give way.
#[cold]
fn trace_preemption() {
    if log::log_enabled!(log::Level::Trace) {
        super::executor::with_current_task_name(|name| {
            log::trace!("sched: {} used up its time slice and gives way", name.unwrap_or("a task"));
        });
    }
}

/// On a fiber: waits for `future`, letting other tasks run meanwhile.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Cancelled> {
    block_on_then(future, || None)
}

/// On a fiber: as [`block_on`], but whenever the future is pending, `next` may name a fiber
/// to run in this one's place instead of going back to the executor (L4's direct process
/// switch): a fiber waiting in a wait of its own, whose task the executor would have polled
/// next (see `wasm::handoff`, which decides, and does the executor's bookkeeping of who
/// runs). If that fiber can no longer be switched to, its task is woken instead.
pub fn block_on_then<F: Future>(
    future: F,
    mut next: impl FnMut() -> Option<Successor>,
) -> Result<F::Output, Cancelled> {
    let mut future = pin!(future);
    loop {
        let control = CURRENT.get().load(Ordering::Relaxed);
        assert!(!control.is_null(), "fiber wait outside a fiber");
        // SAFETY: `control` is the running fiber's; its `waker` and `cancelled` are only
        // written while it is suspended (by the owner or a switch to it).
        let (waker, cancelled) = unsafe { (&(*control).waker, (*control).cancelled) };
        if cancelled {
            return Err(Cancelled);
        }
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(waker)) {
            return Ok(output);
        }
        match next() {
            Some(successor) => switch_to(control, successor)?,
            None => suspend(Resumed::Blocked)?,
        }
    }
}

/// A fiber, as [`Successor`] names it; see [`Fiber::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiberRef(ptr::NonNull<Control>);

/// A fiber suspended in a wait, to run in place of the one that waits next, with its task's
/// waker.
pub struct Successor {
    fiber: FiberRef,
    waker: Waker,
}

impl Successor {
    /// `fiber`, woken by `waker`, if it is suspended in a wait; else the waker comes back.
    /// Nothing is woken or dequeued here.
    ///
    /// # Safety
    /// 1. `fiber` is alive, and stays alive until the poll running now returns (its owner
    ///    keeps it while its task lives, and that task is not the one being polled).
    /// 2. Its task was taken off the run queues: the switch stands for the poll it would get.
    pub unsafe fn new(fiber: FiberRef, waker: Waker) -> Result<Self, Waker> {
        let target = fiber.0.as_ptr();
        // SAFETY: alive by (1); not running (only the current fiber runs, and it is not
        // suspended in a wait), so nothing writes these meanwhile.
        let waits = unsafe {
            target != CURRENT.get().load(Ordering::Relaxed)
                && (*target).state == Resumed::Blocked
                && (*target).body.is_none()
                && !(*target).cancelled
        };
        if waits { Ok(Self { fiber, waker }) } else { Err(waker) }
    }
}

/// Suspends the fiber of `control` (the running one) as blocked and runs `next` in its place,
/// returning to the same executor poll when it gives the CPU back; continues when this fiber
/// is resumed again, by its task or by another switch.
fn switch_to(control: *mut Control, next: Successor) -> Result<(), Cancelled> {
    let target = next.fiber.0.as_ptr();
    // SAFETY: `control` is the running fiber's boxed control; `target` is a live fiber
    // suspended in a wait (`Successor::new`), whose saved `fiber_rsp` resumes it there. It
    // inherits the executor context this fiber was to return to, so when it suspends,
    // `Fiber::resume` returns as if this fiber had.
    unsafe {
        // Once CURRENT names the target, a fault on this fiber's stack would not be told to be
        // its: the switch's pushes must find their page mapped.
        context::touch_stack_below();
        (*control).state = Resumed::Blocked;
        (*target).caller_rsp = (*control).caller_rsp;
        drop(core::mem::replace(&mut (*target).waker, next.waker));
        CURRENT.get().store(target, Ordering::Relaxed);
        context::switch(&raw mut (*control).fiber_rsp, (*target).fiber_rsp);
        if (*control).cancelled { Err(Cancelled) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::{Cell, RefCell};

    const STACK: u64 = 64 * 1024;

    use crate::task::executor::tests::serial;

    fn noop_waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn a_fiber_yields_and_resumes_where_it_stopped() {
        let _turn = serial();
        let trace = Rc::new(RefCell::new(alloc::vec::Vec::new()));
        let t = trace.clone();
        let mut fiber = Fiber::new(STACK, move || {
            for i in 0..3 {
                t.borrow_mut().push(i);
                yield_slice().unwrap();
            }
        })
        .unwrap();
        let waker = noop_waker();
        assert_eq!(fiber.resume(&waker), Resumed::Yielded);
        assert_eq!(*trace.borrow(), [0]);
        assert_eq!(fiber.resume(&waker), Resumed::Yielded);
        assert_eq!(fiber.resume(&waker), Resumed::Yielded);
        assert_eq!(fiber.resume(&waker), Resumed::Finished);
        assert_eq!(*trace.borrow(), [0, 1, 2]);
        assert_eq!(fiber.resume(&waker), Resumed::Finished, "a finished fiber stays finished");
    }

    #[test]
    fn block_on_runs_nothing_until_the_future_is_ready() {
        let _turn = serial();
        let ready = Rc::new(Cell::new(false));
        let steps = Rc::new(Cell::new(0));
        let (r, s) = (ready.clone(), steps.clone());
        let mut fiber = Fiber::new(STACK, move || {
            s.set(1);
            let value =
                block_on(core::future::poll_fn(|_| if r.get() { Poll::Ready(42) } else { Poll::Pending }));
            assert_eq!(value, Ok(42));
            s.set(2);
        })
        .unwrap();
        let waker = noop_waker();
        assert_eq!(fiber.resume(&waker), Resumed::Blocked);
        assert_eq!(fiber.resume(&waker), Resumed::Blocked);
        assert_eq!(steps.get(), 1, "nothing past the wait ran while it was pending");
        ready.set(true);
        assert_eq!(fiber.resume(&waker), Resumed::Finished);
        assert_eq!(steps.get(), 2);
    }

    #[test]
    fn cancelling_a_fiber_that_never_ran_runs_nothing() {
        let _turn = serial();
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let mut fiber = Fiber::new(STACK, move || r.set(true)).unwrap();
        fiber.cancel();
        assert_eq!(fiber.resume(&noop_waker()), Resumed::Finished);
        assert!(!ran.get());
    }

    #[test]
    fn cancelling_a_blocked_fiber_unwinds_it_and_drops_what_it_owns() {
        let _turn = serial();
        let owned = Rc::new(());
        let held = owned.clone();
        let mut fiber = Fiber::new(STACK, move || {
            let _held = held;
            let waited = block_on(core::future::pending::<()>());
            assert_eq!(waited, Err(Cancelled));
        })
        .unwrap();
        let waker = noop_waker();
        assert_eq!(fiber.resume(&waker), Resumed::Blocked);
        assert_eq!(Rc::strong_count(&owned), 2);
        fiber.cancel();
        assert_eq!(fiber.resume(&waker), Resumed::Finished);
        assert_eq!(Rc::strong_count(&owned), 1, "the body's captures were dropped");
    }

    /// A waker that counts its wakes.
    struct Counter(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counting_waker() -> (std::sync::Arc<Counter>, Waker) {
        let counter = std::sync::Arc::new(Counter(std::sync::atomic::AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    /// Pending until `open` is set, then ready once (and closed again).
    fn gate(open: &Cell<bool>) -> impl Future<Output = ()> + '_ {
        core::future::poll_fn(move |_| if open.replace(false) { Poll::Ready(()) } else { Poll::Pending })
    }

    #[test]
    fn a_waiting_fiber_runs_another_in_its_place_and_the_one_that_stops_ends_the_poll() {
        let _turn = serial();
        let (a_open, b_open) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
        let trace = Rc::new(RefCell::new(alloc::vec::Vec::new()));
        let (b_gate, b_trace) = (b_open.clone(), trace.clone());
        let mut b = Fiber::new(STACK, move || {
            for round in 0..2 {
                block_on(gate(&b_gate)).unwrap();
                b_trace.borrow_mut().push(("b", round));
            }
        })
        .unwrap();
        let (b_count, b_waker) = counting_waker();
        assert_eq!(b.resume(&b_waker), Resumed::Blocked);

        let successor = Cell::new(Some(b.handle()));
        let (a_gate, a_trace, hand_b, b_ready, successor_waker) =
            (a_open.clone(), trace.clone(), b.handle(), b_open.clone(), b_waker.clone());
        let mut a = Fiber::new(STACK, move || {
            for round in 0..2 {
                // B's turn comes with A's wait: switch to it directly, once per round.
                b_ready.set(true);
                successor.set(Some(hand_b));
                let next = || {
                    let fiber = successor.take()?;
                    // SAFETY: B lives until the end of the test and is not being polled.
                    unsafe { Successor::new(fiber, successor_waker.clone()) }.ok()
                };
                block_on_then(gate(&a_gate), next).unwrap();
                a_trace.borrow_mut().push(("a", round));
            }
        })
        .unwrap();
        let (_, a_waker) = counting_waker();

        // A waits and switches to B, which runs one round and waits: A's poll ends, blocked.
        assert_eq!(a.resume(&a_waker), Resumed::Blocked);
        assert_eq!(*trace.borrow(), [("b", 0)]);
        assert_eq!(b_count.0.load(Ordering::Relaxed), 0, "B ran directly, unwoken");
        // A's turn through its own poll; it waits again, and B's last round ends B's body.
        a_open.set(true);
        assert_eq!(a.resume(&a_waker), Resumed::Blocked);
        assert_eq!(*trace.borrow(), [("b", 0), ("a", 0), ("b", 1)]);
        assert!(b.is_finished());
        assert_eq!(b_count.0.load(Ordering::Relaxed), 1, "B's task is woken to learn it finished");
        assert_eq!(b.resume(&b_waker), Resumed::Finished);
        // With nothing to switch to, A waits as `block_on` does.
        a_open.set(true);
        assert_eq!(a.resume(&a_waker), Resumed::Finished);
        assert_eq!(*trace.borrow(), [("b", 0), ("a", 0), ("b", 1), ("a", 1)]);
    }

    #[test]
    fn only_a_fiber_suspended_in_a_wait_can_be_switched_to() {
        let _turn = serial();
        let waker = noop_waker();
        let mut fresh = Fiber::new(STACK, || {}).unwrap();
        // SAFETY: the fibers live until the end of the test and are not being polled.
        assert!(unsafe { Successor::new(fresh.handle(), waker.clone()) }.is_err(), "never started");
        let mut yielding = Fiber::new(STACK, || {
            let _ = yield_slice();
        })
        .unwrap();
        assert_eq!(yielding.resume(&waker), Resumed::Yielded);
        // SAFETY: as above.
        assert!(unsafe { Successor::new(yielding.handle(), waker.clone()) }.is_err(), "yielded");
        let mut waiting = Fiber::new(STACK, || {
            let _ = block_on(core::future::pending::<()>());
        })
        .unwrap();
        assert_eq!(waiting.resume(&waker), Resumed::Blocked);
        // SAFETY: as above.
        assert!(unsafe { Successor::new(waiting.handle(), waker.clone()) }.is_ok(), "waiting");
        waiting.cancel();
        // SAFETY: as above.
        assert!(unsafe { Successor::new(waiting.handle(), waker.clone()) }.is_err(), "cancelled");
        for fiber in [&mut fresh, &mut yielding, &mut waiting] {
            fiber.cancel();
            while !fiber.is_finished() {
                fiber.resume(&waker);
            }
        }
    }
}
