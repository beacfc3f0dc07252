//! The runtime against the kernel (`sdk-host`): tasks, wakeups, time, and the single blocking wait.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use sdk::rt::{Either, Instant, Ticker, TimedOut, block_on, join, select, sleep, spawn, with_timeout};
use sdk::sys::{READABLE, WRITABLE};
use sdk::{Endpoint, Error, Rights};
use sdk_host::{Kernel, WaitCall};

/// Runs `future` as a fresh actor.
fn actor<F: Future>(future: F) -> F::Output {
    let _kernel = Kernel::start();
    block_on(future)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Nanoseconds since `start`.
fn since(start: Instant) -> i64 {
    Instant::now().as_nanos() - start.as_nanos()
}

/// Counts how often the wrapped future is polled.
struct Counted<F> {
    polls: Rc<Cell<u32>>,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.future.as_mut().poll(cx)
    }
}

fn counted<F: Future>(future: F) -> (Counted<F>, Rc<Cell<u32>>) {
    let polls = Rc::new(Cell::new(0));
    (Counted { polls: Rc::clone(&polls), future: Box::pin(future) }, polls)
}

#[test]
fn spawned_tasks_run_and_join() {
    let total = actor(async {
        let handles: Vec<_> = (1..=3u32)
            .map(|i| {
                spawn(async move {
                    sleep(ms(u64::from(i))).await;
                    i * 10
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await;
        }
        total
    });
    assert_eq!(total, 60);
}

#[test]
fn tasks_left_pending_are_dropped_with_block_on() {
    let _kernel = Kernel::start();
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let flag = Flag(Rc::clone(&dropped));
    block_on(async move {
        spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(3600)).await;
        });
        sleep(ms(1)).await;
    });
    assert!(dropped.get());
    // The next block_on starts from nothing: the old task is not polled again.
    block_on(sleep(ms(1)));
}

#[test]
fn recv_wakes_only_its_task() {
    actor(async {
        let a = Endpoint::create(4).unwrap();
        let b = Endpoint::create(4).unwrap();
        let (a_writer, b_writer) = (a.derive(Rights::WRITE).unwrap(), b.derive(Rights::WRITE).unwrap());
        let (on_a, a_polls) = counted(async move { a.recv().await.unwrap().opcode });
        let (on_b, b_polls) = counted(async move { b.recv().await.unwrap().opcode });
        let (on_a, on_b) = (spawn(on_a), spawn(on_b));
        sleep(ms(1)).await;
        a_writer.try_send(7, b"", None).unwrap();
        assert_eq!(on_a.await, 7);
        assert_eq!((a_polls.get(), b_polls.get()), (2, 1));
        b_writer.try_send(8, b"", None).unwrap();
        assert_eq!(on_b.await, 8);
        assert_eq!(b_polls.get(), 2);
    });
}

#[test]
fn send_waits_while_full_and_completes_when_drained() {
    let (log, took) = actor(async {
        let start = Instant::now();
        let queue = Endpoint::create(1).unwrap();
        let writer = queue.derive(Rights::WRITE).unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let producer_log = Rc::clone(&log);
        let producer = spawn(async move {
            for i in 0..3u32 {
                writer.send(i, b"x", None).await.unwrap();
                producer_log.borrow_mut().push(format!("sent {i}"));
            }
        });
        for _ in 0..3 {
            sleep(ms(10)).await;
            let message = queue.recv().await.unwrap();
            log.borrow_mut().push(format!("got {}", message.opcode));
        }
        producer.await;
        (log.take(), since(start))
    });
    assert_eq!(log, ["sent 0", "got 0", "sent 1", "got 1", "sent 2", "got 2"]);
    assert!(took >= 30_000_000, "three sleeps of 10 ms took {took} ns");
}

#[test]
fn sleepers_wake_in_deadline_order() {
    let kernel = Kernel::start();
    let order = block_on(async {
        let start = Instant::now();
        let order = Rc::new(RefCell::new(Vec::new()));
        let sleepers: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|n| {
                let order = Rc::clone(&order);
                spawn(async move {
                    sleep(ms(n)).await;
                    order.borrow_mut().push((n, since(start)));
                })
            })
            .collect();
        for sleeper in sleepers {
            sleeper.await;
        }
        order.take()
    });
    assert_eq!(order.iter().map(|&(n, _)| n).collect::<Vec<_>>(), [10, 20, 30]);
    assert!(order.iter().all(|&(n, at)| at >= n as i64 * 1_000_000), "none woke early: {order:?}");
    // Deadlines alone need no wait list: the actor just sleeps.
    assert!(kernel.wait_calls().is_empty());
}

#[test]
fn every_waiting_task_shares_one_blocking_wait() {
    let kernel = Kernel::start();
    let (a_handle, b_handle) = block_on(async {
        let a = Endpoint::create(4).unwrap();
        let b = Endpoint::create(4).unwrap();
        let handles = (a.raw(), b.raw());
        let (a_writer, b_writer) = (a.derive(Rights::WRITE).unwrap(), b.derive(Rights::WRITE).unwrap());
        let on_a = spawn(async move { a.recv().await.map(|m| m.opcode) });
        let on_b = spawn(async move { b.recv().await.map(|m| m.opcode) });
        let far = spawn(sleep(ms(9)));
        sleep(ms(5)).await;
        assert_eq!(kernel.wait_calls().len(), 1, "one wait until the nearest deadline");
        a_writer.try_send(1, b"", None).unwrap();
        b_writer.try_send(2, b"", None).unwrap();
        assert_eq!(join(on_a, on_b).await, (Ok(1), Ok(2)));
        far.await;
        handles
    });
    let both = vec![(a_handle, READABLE), (b_handle, READABLE)];
    let waits = kernel.wait_calls();
    assert_eq!(waits.iter().map(|w| &w.entries).collect::<Vec<_>>(), [&both, &both]);
    // The nearest deadline first (5 ms from the first poll), then the far sleeper's (9 ms from
    // its own first poll, just after).
    assert!(waits[1].deadline - waits[0].deadline >= 4_000_000, "{waits:?}");
}

#[test]
fn interests_on_one_handle_merge_and_wake_only_the_matching_task() {
    let kernel = Kernel::start();
    let (handle, receiver_polls, sender_polls) = block_on(async {
        let queue = Rc::new(Endpoint::create(1).unwrap());
        let handle = queue.raw();
        let shared = Rc::clone(&queue);
        let (receiver, receiver_polls) = counted(async move { shared.recv().await.unwrap().opcode });
        let receiver = spawn(receiver);
        // The receiver suspends on the empty queue; filling it does not wake the receiver
        // until the next wait, so the sender started now finds the queue full and suspends too.
        sleep(ms(1)).await;
        queue.try_send(1, b"", None).unwrap();
        let shared = Rc::clone(&queue);
        let (sender, sender_polls) =
            counted(async move { shared.send(2, b"", None).await.map_err(Error::from) });
        let sender = spawn(sender);
        assert_eq!(receiver.await, 1);
        assert_eq!(sender.await, Ok(()));
        assert_eq!(queue.try_recv().unwrap().opcode, 2);
        (handle, receiver_polls.get(), sender_polls.get())
    });
    let waits = kernel.wait_calls();
    assert_eq!(
        waits[1..],
        [
            WaitCall { entries: vec![(handle, READABLE | WRITABLE)], deadline: -1 },
            WaitCall { entries: vec![(handle, WRITABLE)], deadline: -1 },
        ]
    );
    assert_eq!(waits[0].entries, [(handle, READABLE)], "with the sleep's deadline");
    assert!(waits[0].deadline > 0);
    // Readable woke the receiver alone; the sender was polled again only once writable.
    assert_eq!((receiver_polls, sender_polls), (2, 2));
}

#[test]
fn select_drops_the_loser_and_its_registration() {
    let kernel = Kernel::start();
    let took = block_on(async {
        let start = Instant::now();
        let idle = Endpoint::create(1).unwrap();
        let _writer = idle.derive(Rights::WRITE).unwrap();
        let winner = match select(idle.recv(), sleep(ms(3))).await {
            Either::Left(_) => "recv",
            Either::Right(_) => "sleep",
        };
        assert_eq!(winner, "sleep");
        sleep(ms(1)).await;
        since(start)
    });
    // The later sleep waited alone: the dropped recv no longer held the idle handle.
    assert_eq!(kernel.wait_calls().len(), 1);
    assert!(took >= 4_000_000, "{took} ns");
}

#[test]
fn select_takes_futures_as_written_and_the_first_wins_a_tie() {
    let (tie, later) = actor(async {
        let tie = select(async { 1 }, async { 2 }).await;
        let later = select(sleep(ms(5)), async { "now" }).await;
        (tie, later)
    });
    assert!(matches!(tie, Either::Left(1)));
    assert!(matches!(later, Either::Right("now")));
}

#[test]
fn with_timeout_gives_the_output_or_timed_out() {
    let (done, idle, waited) = actor(async {
        let done = with_timeout(ms(50), async { 7 }).await;
        let queue = Endpoint::create(1).unwrap();
        let _writer = queue.derive(Rights::WRITE).unwrap();
        let start = Instant::now();
        let idle = with_timeout(ms(3), queue.recv()).await.map(|m| m.map(|m| m.opcode));
        (done, idle, since(start))
    });
    assert_eq!(done, Ok(7));
    assert_eq!(idle, Err(TimedOut));
    assert!(waited >= 3_000_000, "{waited} ns");
    assert_eq!(Error::from(TimedOut), Error::TimedOut, "`?` turns it into the SDK's error");
}

#[test]
fn a_ticker_keeps_its_schedule_and_skips_the_ticks_it_missed() {
    let (two_ticks, caught_up, next) = actor(async {
        let start = Instant::now();
        let mut ticker = Ticker::every(ms(5));
        ticker.next().await;
        ticker.next().await;
        let two_ticks = since(start);
        // Three ticks go by while the task is busy elsewhere: it gets one at once, then waits.
        sleep(ms(17)).await;
        let late = Instant::now();
        ticker.next().await;
        let caught_up = since(late);
        let late = Instant::now();
        ticker.next().await;
        (two_ticks, caught_up, since(late))
    });
    assert!(two_ticks >= 10_000_000, "{two_ticks} ns");
    assert!(
        caught_up < next,
        "the missed tick came at once ({caught_up} ns), the next one waited ({next} ns)"
    );
    assert!(next >= 4_000_000, "{next} ns: a burst of missed ticks");
}

#[test]
fn clones_of_an_endpoint_share_one_handle_between_tasks() {
    let kernel = Kernel::start();
    let (got, moved_while_shared, moved_alone) = block_on(async {
        let queue = Endpoint::create(4).unwrap();
        let (a, b) = (queue.clone(), queue.clone());
        let first = spawn(async move { a.recv().await.map(|m| m.opcode) });
        let second = spawn(async move { b.recv().await.map(|m| m.opcode) });
        queue.try_send(1, b"", None).unwrap();
        queue.try_send(2, b"", None).unwrap();
        let got = join(first, second).await;
        let other = queue.clone();
        let moved_while_shared = queue.into_capability().map(drop).map_err(drop);
        let moved_alone = other.into_capability().map(drop).map_err(drop);
        (got, moved_while_shared, moved_alone)
    });
    assert_eq!(got, (Ok(1), Ok(2)));
    assert_eq!((moved_while_shared, moved_alone), (Err(()), Ok(())), "a shared handle does not move");
    assert_eq!(kernel.open_handles(), 0, "the last clone closed it");
}

#[test]
fn a_closed_endpoint_ends_the_wait_with_an_error() {
    let result = actor(async {
        let writer = Endpoint::create(1).unwrap();
        let queue = writer.derive(Rights::READ).unwrap();
        let reader = spawn(async move { queue.recv().await.map(|m| m.opcode) });
        sleep(ms(1)).await;
        // The last capability with WRITE goes, with nothing queued: the receiver is told.
        drop(writer);
        reader.await
    });
    assert_eq!(result, Err(Error::Closed));
}

#[test]
#[should_panic(expected = "none waits for a handle or a deadline")]
fn a_deadlocked_actor_panics_instead_of_hanging() {
    actor(std::future::pending::<()>());
}

#[test]
#[should_panic(expected = "spawn outside block_on")]
fn spawn_needs_the_runtime() {
    drop(spawn(async {}));
}

mod ok_actor {
    #[sdk::main]
    async fn main() {
        sdk::rt::sleep(super::ms(2)).await;
        sdk::println!("done");
    }
}

mod failing_actor {
    #[sdk::main]
    async fn main() -> Result<(), sdk::Error> {
        sdk::Endpoint::create(0)?;
        Ok(())
    }
}

/// How `_start` ended the actor (the panic `sys_exit` raises on the host), and what it logged.
fn exit_of(start: fn()) -> (String, Vec<String>) {
    let kernel = Kernel::start();
    let panic = catch_unwind(AssertUnwindSafe(start)).expect_err("sys_exit never returns");
    (panic.downcast_ref::<String>().cloned().unwrap_or_default(), kernel.logs())
}

#[test]
fn main_macro_runs_main_and_exits_with_its_status() {
    assert_eq!(exit_of(ok_actor::_start), ("the actor exited with status 0".into(), vec!["done".into()]));
    assert_eq!(
        exit_of(failing_actor::_start),
        ("the actor exited with status 1".into(), vec!["[ERROR] main failed: invalid argument".into()])
    );
}
