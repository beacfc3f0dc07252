//! The executor's tests: one CPU, driven by hand, wakers fired from other threads.

use super::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::task::{Poll, Waker};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

/// The wake table and the running fiber are one per kernel, so tests that use them take
/// turns.
pub(crate) static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Empties the queues, clears every slot's flags and this CPU's running record.
pub(crate) fn reset() {
    wake::table().clear();
    RUNNING.get().borrowed_len.store(0, Ordering::Relaxed);
}

/// Pending until opened; keeps the last waker so the test can wake the task by hand.
#[derive(Default)]
struct Gate {
    open: bool,
    waker: Option<Waker>,
}

fn wait(gate: Rc<RefCell<Gate>>) -> impl Future<Output = ()> {
    core::future::poll_fn(move |cx| {
        let mut g = gate.borrow_mut();
        if g.open {
            Poll::Ready(())
        } else {
            g.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

fn open(gate: &Rc<RefCell<Gate>>) {
    let waker = {
        let mut g = gate.borrow_mut();
        g.open = true;
        g.waker.take().expect("task registered a waker")
    };
    waker.wake();
}

#[test]
fn tasks_run_in_the_order_they_were_woken() {
    let _turn = serial();
    let mut ex = Executor::new();
    let order = Rc::new(RefCell::new(Vec::new()));
    let gates: Vec<_> = (0..3).map(|_| Rc::new(RefCell::new(Gate::default()))).collect();
    for (i, gate) in gates.iter().enumerate() {
        let (order, gate) = (order.clone(), gate.clone());
        ex.spawn(alloc::format!("t{i}"), async move {
            wait(gate).await;
            order.borrow_mut().push(i);
        })
        .unwrap();
    }
    assert_eq!(ex.run_ready(|_| false), 3);
    for i in [2, 0, 1] {
        open(&gates[i]);
    }
    assert_eq!(ex.run_ready(|_| false), 3);
    assert_eq!(*order.borrow(), [2, 0, 1]);
    assert!(ex.is_empty());
}

#[test]
fn a_task_woken_twice_runs_once() {
    let _turn = serial();
    let mut ex = Executor::new();
    let gate = Rc::new(RefCell::new(Gate::default()));
    let id = ex.spawn("twice", wait(gate.clone())).unwrap();
    ex.run_ready(|_| false);
    let waker = gate.borrow().waker.clone().unwrap();
    waker.wake_by_ref();
    waker.wake_by_ref();
    assert_eq!(ex.run_ready(|_| false), 1, "one poll for two wakes");
    assert_eq!(ex.run_ready(|_| false), 0);
    let info = ex.tasks();
    assert_eq!((info[0].id, info[0].polls, info[0].wakeups), (id, 2, 2), "spawn and one effective wake");
}

#[test]
fn a_waker_that_outlives_its_task_is_harmless() {
    let _turn = serial();
    let mut ex = Executor::new();
    let gate = Rc::new(RefCell::new(Gate::default()));
    ex.spawn("short", wait(gate.clone())).unwrap();
    ex.run_ready(|_| false);
    let stale = gate.borrow().waker.clone().unwrap();
    open(&gate);
    ex.run_ready(|_| false);
    assert!(ex.is_empty());

    // The next task reuses the slot; the old waker must not run it.
    let polls = Rc::new(RefCell::new(0));
    let p = polls.clone();
    ex.spawn(
        "reuser",
        core::future::poll_fn(move |_| {
            *p.borrow_mut() += 1;
            Poll::<()>::Pending
        }),
    )
    .unwrap();
    ex.run_ready(|_| false);
    stale.wake();
    assert_eq!(ex.run_ready(|_| false), 0);
    assert_eq!(*polls.borrow(), 1);
}

#[test]
fn no_wakeup_is_lost_when_another_thread_wakes() {
    let _turn = serial();
    const WAKES: u64 = 20_000;
    let mut ex = Executor::new();
    let sent = Arc::new(AtomicU64::new(0));
    let waker_slot: Arc<std::sync::Mutex<Option<Waker>>> = Arc::default();
    let (s, w) = (sent.clone(), waker_slot.clone());
    // The task finishes only once it has seen every increment; a lost wake leaves it pending.
    ex.spawn(
        "counter",
        core::future::poll_fn(move |cx| {
            *w.lock().unwrap() = Some(cx.waker().clone());
            if s.load(Ordering::Acquire) == WAKES { Poll::Ready(()) } else { Poll::Pending }
        }),
    )
    .unwrap();
    ex.run_ready(|_| false);
    let (s, w) = (sent.clone(), waker_slot.clone());
    // Stands in for an interrupt handler: bumps the counter, then wakes.
    let waker_thread = std::thread::spawn(move || {
        for _ in 0..WAKES {
            s.fetch_add(1, Ordering::AcqRel);
            if let Some(waker) = w.lock().unwrap().as_ref() {
                waker.wake_by_ref();
            }
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ex.is_empty() {
        ex.run_ready(|_| false);
        assert!(std::time::Instant::now() < deadline, "the task missed a wake-up");
    }
    waker_thread.join().unwrap();
}

#[test]
fn cpu_bound_tasks_that_heed_should_yield_share_the_cpu() {
    let _turn = serial();
    let mut ex = Executor::new();
    preempt::set_slice_cycles(50_000);
    let stop = Arc::new(AtomicBool::new(false));
    // Stands in for the timer interrupt.
    let s = stop.clone();
    let ticker = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            preempt::on_tick(cpu::rdtsc());
            std::thread::yield_now();
        }
    });
    let progress: Vec<Rc<RefCell<u64>>> = (0..2).map(|_| Rc::default()).collect();
    for (i, p) in progress.iter().enumerate() {
        let p = p.clone();
        ex.spawn(alloc::format!("spinner{i}"), async move {
            loop {
                *p.borrow_mut() += 1;
                if preempt::should_yield() {
                    preempt::yield_now().await;
                }
            }
        })
        .unwrap();
    }
    for _ in 0..400 {
        ex.run_ready(|_| false);
    }
    stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
    preempt::set_slice_cycles(0);
    let (a, b) = (*progress[0].borrow(), *progress[1].borrow());
    assert!(a > 0 && b > 0, "both progress: {a} {b}");
    let polls: Vec<u64> = ex.tasks().iter().map(|t| t.polls).collect();
    assert!(polls[0].abs_diff(polls[1]) <= 2 && polls[0] >= 199, "round-robin: {polls:?}");
}

/// A pair of tasks that keep waking each other, like two actors exchanging messages.
fn ping_pong_pair(ex: &mut Executor, hops: Rc<RefCell<Vec<&'static str>>>) {
    let slots: Rc<RefCell<[Option<Waker>; 2]>> = Rc::default();
    for (me, name) in [(0, "ping"), (1, "pong")] {
        let (slots, hops) = (slots.clone(), hops.clone());
        ex.spawn(
            name,
            core::future::poll_fn(move |cx| {
                hops.borrow_mut().push(name);
                let mut s = slots.borrow_mut();
                s[me] = Some(cx.waker().clone());
                if let Some(peer) = s[1 - me].take() {
                    peer.wake();
                }
                Poll::<()>::Pending
            }),
        )
        .unwrap();
    }
}

#[test]
fn woken_tasks_run_before_a_cpu_bound_one_which_still_gets_its_turn() {
    let _turn = serial();
    let mut ex = Executor::new();
    // Slices never age during the first calls: the spinner runs only when nothing is woken.
    preempt::set_slice_cycles(u64::MAX);
    let hops = Rc::new(RefCell::new(Vec::new()));
    let spins = Rc::new(RefCell::new(0u64));
    let s = spins.clone();
    ex.spawn(
        "spinner",
        core::future::poll_fn(move |cx| {
            *s.borrow_mut() += 1;
            wake::defer(cx.waker());
            Poll::<()>::Pending
        }),
    )
    .unwrap();
    ping_pong_pair(&mut ex, hops.clone());
    // The first call runs everything spawned, then the pair keeps waking itself; stop it
    // after 100 hops.
    let h = hops.clone();
    ex.run_ready(move |_| h.borrow().len() >= 100);
    assert_eq!(*spins.borrow(), 1, "the spinner ran once, at spawn, then waited behind the pair");
    assert_eq!(hops.borrow().len(), 100);
    assert!(hops.borrow().windows(2).all(|w| w[0] != w[1]), "each wake ran the peer next");

    // Once the spinner has waited a slice, it runs, once, and the call returns.
    preempt::set_slice_cycles(1);
    let before = hops.borrow().len();
    ex.run_ready(|_| false);
    preempt::set_slice_cycles(0);
    assert_eq!(*spins.borrow(), 2, "an aged deferred task is not starved");
    assert!(hops.borrow().len() - before <= 1, "the call ended after the deferred task's poll");
}

#[test]
fn a_cpu_halted_now_is_idle_since_it_halted_before_it_wakes() {
    let _turn = serial();
    let ex = Executor::new();
    let idle = || cpus()[0].idle_cycles;
    let before = idle();
    ex.halting();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let halted = idle();
    assert!(halted > before, "the halt so far counts: {before} -> {halted}");
    ex.woke();
    let woken = idle();
    assert!(woken >= halted, "the whole halt counts once woken: {halted} -> {woken}");
    ex.woke();
    assert_eq!(idle(), woken, "a wake without a halt adds nothing");
}
