//! The task that runs one Wasm actor: its interpreter lives on a fiber, runs in fuel slices,
//! gives way when the time slice expires, and blocks inside host calls without running a single
//! further instruction until what it waits for is there.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use tinywasm::{ExecProgress, Function, Store};

use crate::task::fiber::{self, Fiber, Resumed};
use crate::task::preempt;

/// Why an actor ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorExit {
    /// It called `sys_exit(code)` (or returned from `_start`: code 0).
    Exited(i32),
    /// The interpreter stopped it: a Wasm trap or a limit, with the interpreter's words.
    Trapped(String),
    /// The kernel stopped it.
    Killed,
}

impl core::fmt::Display for ActorExit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exited with status {code}"),
            Self::Trapped(reason) => write!(f, "trapped: {reason}"),
            Self::Killed => write!(f, "killed"),
        }
    }
}

/// What host functions know about the actor calling them.
pub struct ActorContext {
    /// Its process id.
    pub pid: u64,
    /// Its name (the module's file name).
    pub name: String,
    /// Set by `sys_exit` before it stops the interpreter.
    pub exit_code: Cell<Option<i32>>,
    /// Set when the actor ends.
    pub exit: RefCell<Option<ActorExit>>,
}

/// The executor's view of a running actor.
pub struct ActorTask {
    fiber: Fiber,
    context: Rc<ActorContext>,
}

impl ActorTask {
    /// An actor task whose fiber runs `entry` (the start function, if any, then `_start`).
    pub fn new(
        context: Rc<ActorContext>,
        stack_size: u64,
        fuel_slice: u32,
        mut store: Store,
        entry: alloc::vec::Vec<Function>,
    ) -> Result<Self, crate::mem::MemError> {
        let ctx = context.clone();
        let fiber = Fiber::new(stack_size, move || {
            let exit = run(&ctx, &mut store, &entry, fuel_slice);
            *ctx.exit.borrow_mut() = Some(exit);
        })?;
        Ok(Self { fiber, context })
    }
}

/// Runs each function in fuel slices, giving way when the time slice is used up.
fn run(ctx: &ActorContext, store: &mut Store, entry: &[Function], fuel_slice: u32) -> ActorExit {
    for function in entry {
        let mut execution = match function.call_resumable(store, &[]) {
            Ok(execution) => execution,
            Err(e) => return ActorExit::Trapped(e.to_string()),
        };
        loop {
            match execution.resume_with_fuel(fuel_slice) {
                Ok(ExecProgress::Completed(_)) => break,
                Ok(ExecProgress::Suspended) => {
                    if preempt::should_yield() && fiber::yield_slice().is_err() {
                        return ActorExit::Killed;
                    }
                }
                // `sys_exit` ends the interpreter with an error after recording the code.
                Err(e) => {
                    return match ctx.exit_code.get() {
                        Some(code) => ActorExit::Exited(code),
                        None if is_cancellation(&e) => ActorExit::Killed,
                        None => ActorExit::Trapped(trap_reason(&e)),
                    };
                }
            }
        }
    }
    ActorExit::Exited(0)
}

/// The error host functions return when their fiber was cancelled (the actor is being killed).
pub fn cancelled() -> tinywasm::Error {
    tinywasm::Error::Other(CANCELLED.into())
}

const CANCELLED: &str = "actor cancelled";

fn is_cancellation(e: &tinywasm::Error) -> bool {
    matches!(e, tinywasm::Error::Other(m) if m == CANCELLED)
}

fn trap_reason(e: &tinywasm::Error) -> String {
    match e {
        tinywasm::Error::Trap(trap) => trap.to_string(),
        other => format!("{other}"),
    }
}

impl Future for ActorTask {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.fiber.resume(cx.waker()) {
            Resumed::Yielded => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Resumed::Blocked => Poll::Pending,
            Resumed::Finished => {
                let ctx = &self.context;
                match ctx.exit.borrow().as_ref() {
                    Some(exit) => log::info!("actor {}[{}] {exit}", ctx.name, ctx.pid),
                    None => log::error!("actor {}[{}] ended without a reason", ctx.name, ctx.pid),
                }
                Poll::Ready(())
            }
        }
    }
}
