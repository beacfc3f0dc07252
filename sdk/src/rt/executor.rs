//! The executor: the actor's tasks, polled one at a time on its only thread.
//!
//! [`block_on`] runs a future (the actor's `main`) together with every task [`spawn`]ed
//! meanwhile; when it returns, the tasks still pending are dropped, as a process's threads end
//! with it. Tasks that can run are polled in rounds, the main future first; when none can, the
//! reactor parks the actor until one of them can.
//!
//! A waker is the task's slot number in a `RawWaker`: waking pushes the number on the run
//! queue, without allocation or reference counts (nothing is shared between threads).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::local::actor_local;
use super::reactor;

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// The waker id of the future given to [`block_on`].
const MAIN: usize = usize::MAX;

struct Slot {
    /// `None` while the task is being polled (or after it finished).
    task: Option<Task>,
    live: bool,
    queued: bool,
}

struct Executor {
    running: Cell<bool>,
    main_woken: Cell<bool>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<usize>>,
    ready: RefCell<VecDeque<usize>>,
}

actor_local! {
    static EXECUTOR: Executor = Executor {
        running: Cell::new(false),
        main_woken: Cell::new(false),
        slots: RefCell::new(Vec::new()),
        free: RefCell::new(Vec::new()),
        ready: RefCell::new(VecDeque::new()),
    };
}

/// Runs `future` to completion, with every task spawned meanwhile; returns its output.
///
/// # Panics
/// If called from inside `block_on` (an actor has one executor), or if every task is suspended
/// with nothing to wait for.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let _session = Session::start();
    let mut future = pin!(future);
    let waker = task_waker(MAIN);
    let mut main_cx = Context::from_waker(&waker);
    loop {
        if EXECUTOR.with(|ex| ex.main_woken.replace(false))
            && let Poll::Ready(output) = future.as_mut().poll(&mut main_cx)
        {
            return output;
        }
        // One round: the tasks ready now. Tasks they wake wait for the next round, so one that
        // keeps waking itself cannot starve the main future.
        for _ in 0..EXECUTOR.with(|ex| ex.ready.borrow().len()) {
            if let Some(id) = EXECUTOR.with(|ex| ex.ready.borrow_mut().pop_front()) {
                run(id);
            }
        }
        if EXECUTOR.with(|ex| !ex.main_woken.get() && ex.ready.borrow().is_empty()) {
            reactor::park();
        }
    }
}

/// Starts `future` as a task of the running [`block_on`]; its output comes from the handle.
///
/// # Panics
/// Outside `block_on`.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = Rc::new(RefCell::new(JoinState { output: None, waiter: None }));
    let result = Rc::clone(&state);
    let task = Box::pin(async move {
        let output = future.await;
        let waiter = {
            let mut result = result.borrow_mut();
            result.output = Some(output);
            result.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    });
    EXECUTOR.with(|ex| ex.insert(task));
    JoinHandle { state }
}

/// Awaits a spawned task's output; dropping it lets the task run on, detached.
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
}

struct JoinState<T> {
    output: Option<T>,
    waiter: Option<Waker>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.borrow_mut();
        match state.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                state.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Polls task `id` once.
fn run(id: usize) {
    let Some(mut task) = EXECUTOR.with(|ex| ex.take(id)) else { return };
    let waker = task_waker(id);
    if task.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
        EXECUTOR.with(|ex| ex.slots.borrow_mut()[id].task = Some(task));
    } else {
        EXECUTOR.with(|ex| ex.release(id));
    }
}

/// The executor's state for one [`block_on`]; dropping it drops the tasks left.
struct Session;

impl Session {
    fn start() -> Session {
        EXECUTOR.with(|ex| {
            assert!(!ex.running.replace(true), "block_on inside block_on: an actor has one executor");
            ex.main_woken.set(true);
        });
        Session
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let tasks = EXECUTOR.with(|ex| {
            ex.running.set(false);
            ex.ready.borrow_mut().clear();
            ex.free.borrow_mut().clear();
            core::mem::take(&mut *ex.slots.borrow_mut())
        });
        // Dropped with nothing borrowed: a task's destructor may wake or deregister.
        drop(tasks);
    }
}

impl Executor {
    fn insert(&self, task: Task) {
        assert!(self.running.get(), "spawn outside block_on");
        let slot = Slot { task: Some(task), live: true, queued: true };
        let mut slots = self.slots.borrow_mut();
        let id = match self.free.borrow_mut().pop() {
            Some(id) => {
                slots[id] = slot;
                id
            }
            None => {
                slots.push(slot);
                slots.len() - 1
            }
        };
        self.ready.borrow_mut().push_back(id);
    }

    /// Takes task `id` out for polling; a wake from now on queues it again.
    fn take(&self, id: usize) -> Option<Task> {
        let mut slots = self.slots.borrow_mut();
        let slot = slots.get_mut(id)?;
        slot.queued = false;
        slot.task.take()
    }

    fn release(&self, id: usize) {
        self.slots.borrow_mut()[id] = Slot { task: None, live: false, queued: false };
        self.free.borrow_mut().push(id);
    }

    fn schedule(&self, id: usize) {
        if id == MAIN {
            self.main_woken.set(true);
            return;
        }
        // A waker may outlive its task (or its block_on): waking it then does nothing.
        if let Some(slot) = self.slots.borrow_mut().get_mut(id)
            && slot.live
            && !slot.queued
        {
            slot.queued = true;
            self.ready.borrow_mut().push_back(id);
        }
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

fn task_waker(id: usize) -> Waker {
    // SAFETY: the vtable's functions never dereference the data pointer, which is a task id
    // and not an address; they only touch this actor's executor, on its only thread.
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::without_provenance(id), &VTABLE)) }
}

fn clone_waker(id: *const ()) -> RawWaker {
    RawWaker::new(id, &VTABLE)
}

fn wake(id: *const ()) {
    EXECUTOR.with(|ex| ex.schedule(id.addr()));
}

fn drop_waker(_: *const ()) {}
