//! The hosted actor's program. It runs on the actor's fiber, as a Wasm actor's interpreter
//! does, and makes the calls the native code on the test thread posts, one at a time, through
//! the host functions its module imports and re-exports: the kernel's own handlers, with the
//! kernel's checks, on the actor's real linear memory. A call that waits parks the fiber, and
//! the executor runs meanwhile, as it would for a Wasm actor.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use kernel::proc::{Exit, Trap};
use kernel::task::fiber;
use kernel::wasm::actor::ActorContext;
use kernel::wasm::engine::{Instance, Value};

/// Bytes the caller lends one call, copied into the actor's memory at `offset` before it.
pub struct Lent {
    /// Where they go in the actor's memory.
    pub offset: usize,
    /// What they are when the call starts.
    pub bytes: Vec<u8>,
    /// Whether the call may write them (they are copied back after it).
    pub writable: bool,
}

/// One host call the native code makes.
pub struct Call {
    /// The host function.
    pub name: &'static str,
    /// Its arguments, in Wasm signature order.
    pub args: Vec<Value>,
    /// The buffers its pointer arguments name.
    pub lent: Vec<Lent>,
}

/// How a call ended.
pub enum Answer {
    /// It returned `results`; the writable buffers hold `written` (in the order lent).
    Returned { results: Vec<Value>, written: Vec<Vec<u8>> },
    /// It ended the actor (`sys_exit`, killed while it waited, or a fault); the process says why.
    Ended,
}

/// Where the test thread posts a call and the fiber leaves its answer.
#[derive(Default)]
pub struct Mailbox {
    call: RefCell<Option<Call>>,
    answer: RefCell<Option<Answer>>,
    waker: Cell<Option<Waker>>,
}

impl Mailbox {
    /// Posts `call` and wakes the actor for it.
    pub fn post(&self, call: Call) {
        *self.call.borrow_mut() = Some(call);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// The answer to the posted call, once there is one.
    pub fn take_answer(&self) -> Option<Answer> {
        self.answer.borrow_mut().take()
    }

    /// Whether the answer is there.
    pub fn has_answer(&self) -> bool {
        self.answer.borrow().is_some()
    }

    async fn next_call(&self) -> Call {
        poll_fn(|cx| match self.call.borrow_mut().take() {
            Some(call) => Poll::Ready(call),
            None => {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// The program that serves `mailbox`'s calls until one ends the actor.
pub fn serve(mailbox: Rc<Mailbox>) -> impl FnOnce(Rc<ActorContext>, Instance) -> Exit + 'static {
    move |context, mut instance| {
        loop {
            let Ok(call) = fiber::block_on(mailbox.next_call()) else { return Exit::Killed { by: None } };
            let lent_in =
                call.lent.iter().all(|lent| instance.write_memory(lent.offset, &lent.bytes).is_some());
            if !lent_in {
                *mailbox.answer.borrow_mut() = Some(Answer::Ended);
                return Exit::Trapped(Trap::Other("a lent buffer does not fit the hosted memory".into()));
            }
            match instance.call(call.name, &call.args) {
                Ok(results) => {
                    let written = call.lent.iter().filter(|lent| lent.writable);
                    let written = written
                        .map(|lent| instance.read_memory(lent.offset, lent.bytes.len()).unwrap_or_default());
                    let answer = Answer::Returned { results, written: written.collect() };
                    *mailbox.answer.borrow_mut() = Some(answer);
                }
                Err(trap) => {
                    *mailbox.answer.borrow_mut() = Some(Answer::Ended);
                    return context.exit_after(trap);
                }
            }
        }
    }
}
