//! The task that runs one Wasm actor: its interpreter lives on a fiber, runs in fuel slices,
//! gives way when the time slice expires, and blocks inside host calls without running a single
//! further instruction until what it waits for is there.

use alloc::rc::Rc;
use alloc::sync::Arc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::abi::HostError;
use super::handoff::Registration;

use crate::mem::kmem::Charge;
use crate::mem::meter::{self, MeteredCharge};
use crate::proc::{Exit, Process, Trap};
use crate::task::fiber::{self, Fiber, Resumed};
use crate::task::preempt;

/// What host functions know about the actor calling them.
pub struct ActorContext {
    /// Its process: pid, name, capabilities.
    pub process: Arc<Process>,
    /// Why a host call stopped the interpreter, set before it returns the error that stops it.
    pub stop: Cell<Option<Stop>>,
    /// What the kernel keeps for its WASI imports, if its module has any.
    pub wasi: Option<super::wasi::Wasi>,
    /// What its interpreter took of the heap while running (its stacks growing), charged at
    /// each host call and slice boundary (`mem::meter`).
    pub grown: Arc<MeteredCharge>,
}

/// Why a host call stops its actor's interpreter (it returns an error to do so, whose words
/// decide nothing: this does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `sys_exit` with this status.
    Exit(i32),
    /// The actor was ended while in the call (its fiber cancelled, or it killed itself); the
    /// process has recorded why.
    Ended,
    /// What its interpreter took could not be charged (`grown`).
    OutOfMemory,
}

impl ActorContext {
    /// Records `why` and returns the error the host call stops the interpreter with.
    pub fn stop(&self, why: Stop) -> HostError {
        self.stop.set(Some(why));
        HostError::Stopped
    }

    /// The error a host call returns when its actor was ended while it waited.
    pub fn ended(&self) -> HostError {
        self.stop(Stop::Ended)
    }

    /// How the actor ended once its interpreter stopped with `trap`: as a host call recorded
    /// (an exit, or an end from outside), else by the trap.
    pub fn exit_after(&self, trap: Trap) -> Exit {
        match self.stop.take() {
            Some(Stop::Exit(code)) => Exit::Exited(code),
            Some(Stop::Ended) => Exit::Killed { by: None },
            Some(Stop::OutOfMemory) => Exit::Trapped(Trap::OutOfMemory),
            None => Exit::Trapped(trap),
        }
    }
}

/// Between two fuel slices of the actor `ctx`: charges what its interpreter took, then gives the
/// CPU away if the time slice is used up; how it ended if it must stop (the charge refused, or
/// the actor ended meanwhile).
#[inline]
pub fn between_slices(ctx: &ActorContext) -> Result<(), Exit> {
    ctx.grown.settle().map_err(|_| Exit::Trapped(Trap::OutOfMemory))?;
    let given_way = if preempt::should_yield() { fiber::yield_slice() } else { Ok(()) };
    meter::begin();
    given_way.map_err(|_| Exit::Killed { by: None })
}

/// The body of an actor's process: polls its fiber.
pub struct ActorTask {
    /// Its entry in the table of direct-switch targets (`handoff`).
    registration: Registration,
    fiber: Fiber,
    exit: Rc<RefCell<Option<Exit>>>,
    /// What its interpreter, stacks, tables and code cost its actor, returned when it goes.
    _charge: Charge,
}

impl ActorTask {
    /// An actor whose fiber runs `program` (for a Wasm actor, its entry functions in fuel
    /// slices) and ends as it returns.
    pub fn new(
        context: Rc<ActorContext>,
        stack_size: u64,
        program: impl FnOnce() -> Exit + 'static,
        charge: Charge,
    ) -> Result<Self, crate::mem::MemError> {
        let exit = Rc::new(RefCell::new(None));
        let result = exit.clone();
        let fiber = Fiber::new(stack_size, move || {
            // Its first stretch: what the interpreter allocates from here is the actor's.
            meter::begin();
            let exit = program();
            meter::end();
            *result.borrow_mut() = Some(exit);
        })?;
        Ok(Self { registration: Registration::new(context, fiber.handle()), fiber, exit, _charge: charge })
    }
}

impl Future for ActorTask {
    type Output = Exit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exit> {
        self.registration.list(cx.waker());
        match self.fiber.resume(cx.waker()) {
            Resumed::Yielded => {
                crate::task::wake::defer(cx.waker());
                Poll::Pending
            }
            Resumed::Blocked => Poll::Pending,
            Resumed::Overflowed => Poll::Ready(Exit::Trapped(Trap::KernelStackOverflow)),
            Resumed::OutOfMemory => Poll::Ready(Exit::Trapped(Trap::OutOfMemory)),
            Resumed::Finished => Poll::Ready(
                self.exit
                    .borrow_mut()
                    .take()
                    .unwrap_or(Exit::Trapped(Trap::Other("no exit recorded".into()))),
            ),
        }
    }
}

impl Drop for ActorTask {
    /// An actor ended from outside is unwound, not abandoned: its waits return `Cancelled`,
    /// the interpreter stops at the next host call or slice boundary, and everything on the
    /// fiber is dropped.
    fn drop(&mut self) {
        // No other actor's fiber may switch to this one from here on.
        self.registration.unlist();
        self.fiber.cancel();
        while !self.fiber.is_finished() {
            self.fiber.resume(Waker::noop());
        }
    }
}
