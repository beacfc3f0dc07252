//! Tests of `endpoint`, and helpers other modules' tests share (`endpoint_of`, `message`,
//! `run_until_idle`).

use super::*;
use crate::cap::{Capability, Object};
use crate::ipc::Payload;
use crate::ipc::Pid;
use crate::task::Executor;
use crate::task::executor::tests::serial;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use proptest::prelude::*;

/// The endpoint behind `cap`.
pub(crate) fn endpoint_of(cap: &Capability) -> Arc<Endpoint> {
    match cap.object() {
        Object::Endpoint(endpoint) => Arc::clone(endpoint),
        _ => panic!("not an endpoint"),
    }
}

/// A message without a capability.
pub(crate) fn message(sender: Pid, opcode: u32, bytes: &[u8]) -> Message {
    Message { sender, opcode, payload: Payload::new(bytes, None).unwrap(), cap: None }
}

/// Runs the executor until no task is runnable.
pub(crate) fn run_until_idle(executor: &mut Executor) {
    for _ in 0..10_000 {
        if executor.run_ready(|_| false) == 0 {
            return;
        }
    }
    panic!("tasks keep running");
}

fn sized(capacity: usize) -> Capability {
    Capability::endpoint(NonZeroUsize::new(capacity).unwrap(), None).unwrap()
}

/// A receiving and a sending capability to one new endpoint (and no other).
fn pair(capacity: usize) -> (Capability, Capability) {
    let cap = sized(capacity);
    (cap.derive(Rights::READ).unwrap(), cap.derive(Rights::WRITE).unwrap())
}

#[derive(Debug, Clone)]
enum Op {
    Send { sender: usize, len: usize },
    Recv,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..3, 0usize..2 * INLINE).prop_map(|(sender, len)| Op::Send { sender, len }),
        2 => Just(Op::Recv),
    ]
}

const INLINE: usize = crate::ipc::INLINE_PAYLOAD;

fn bytes(seq: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq as usize + i) as u8).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Three senders and a receiver in random interleavings: every message accepted comes
    /// out once, in order, intact; a refused one comes back to its sender intact.
    #[test]
    fn no_message_is_lost_duplicated_or_reordered(capacity in 1usize..6, ops in proptest::collection::vec(op(), 1..300)) {
        let (reader, writer) = pair(capacity);
        let endpoint = endpoint_of(&reader);
        let senders = [Pid::next(), Pid::next(), Pid::next()];
        let mut next_seq = [0u32; 3];
        let mut queued: VecDeque<(usize, u32, usize)> = VecDeque::new();
        let received = |m: Message, (sender, seq, len): (usize, u32, usize)| {
            assert_eq!((m.sender, m.opcode, &*m.payload), (senders[sender], seq, &bytes(seq, len)[..]));
        };
        for op in ops {
            match op {
                Op::Send { sender, len } => {
                    let seq = next_seq[sender];
                    match endpoint.send(message(senders[sender], seq, &bytes(seq, len))) {
                        Ok(()) => {
                            prop_assert!(queued.len() < capacity);
                            queued.push_back((sender, seq, len));
                            next_seq[sender] += 1;
                        }
                        Err(refused) => {
                            prop_assert_eq!(refused.error, Error::Full);
                            prop_assert_eq!(queued.len(), capacity);
                            received(refused.value, (sender, seq, len));
                        }
                    }
                }
                Op::Recv => match (endpoint.try_recv(), queued.pop_front()) {
                    (Ok(m), Some(expected)) => received(m, expected),
                    (Err(Error::Empty), None) => {}
                    (got, expected) => prop_assert!(false, "got {:?}, expected {:?}", got, expected),
                },
            }
        }
        for expected in queued {
            received(endpoint.try_recv().unwrap(), expected);
        }
        prop_assert_eq!(endpoint.try_recv().unwrap_err(), Error::Empty);
        drop(writer);
    }
}

#[test]
fn after_the_last_sender_queued_messages_still_arrive_then_closed() {
    let (reader, writer) = pair(4);
    let endpoint = endpoint_of(&reader);
    let pid = Pid::next();
    for opcode in [1, 2] {
        endpoint.send(message(pid, opcode, b"")).unwrap();
    }
    drop(writer);
    assert_eq!(endpoint.try_recv().unwrap().opcode, 1);
    assert_eq!(endpoint.try_recv().unwrap().opcode, 2);
    assert_eq!(endpoint.try_recv().unwrap_err(), Error::Closed);
}

#[test]
fn after_the_last_receiver_senders_get_closed_and_queued_capabilities_are_dropped() {
    let (reader, writer) = pair(4);
    let endpoint = endpoint_of(&reader);
    let pid = Pid::next();
    // A queued message carries the only sending capability of another endpoint.
    let (other_reader, other_writer) = pair(4);
    let other = endpoint_of(&other_reader);
    endpoint.send(Message { cap: Some(other_writer), ..message(pid, 1, b"") }).unwrap();
    assert_eq!(other.try_recv().unwrap_err(), Error::Empty, "its sender lives in the queue");

    drop(reader);
    let refused = endpoint.send(message(pid, 2, b"back")).unwrap_err();
    assert_eq!(
        (refused.error, refused.value.opcode, &*refused.value.payload),
        (Error::Closed, 2, &b"back"[..])
    );
    assert_eq!(endpoint.try_recv().unwrap_err(), Error::Closed);
    assert_eq!(other.try_recv().unwrap_err(), Error::Closed, "the queued capability was dropped");
    drop(writer);
}

#[test]
fn a_receiving_capability_never_travels_so_no_queue_keeps_its_endpoint_alive() {
    let pid = Pid::next();
    let cap = sized(1);
    let endpoint = endpoint_of(&cap);
    for rights in [Rights::all(), Rights::READ | Rights::GRANT, Rights::READ] {
        let refused =
            endpoint.send(Message { cap: Some(cap.derive(rights).unwrap()), ..message(pid, 0, b"") });
        assert_eq!(refused.unwrap_err().error, Error::NotMovable, "{rights:?}");
    }
    let other = sized(1);
    let refused = endpoint_of(&other)
        .send(Message { cap: Some(cap.derive(Rights::READ).unwrap()), ..message(pid, 0, b"") });
    assert_eq!(refused.unwrap_err().error, Error::NotMovable, "nor on another endpoint");
    // A sending copy may sit in its own endpoint's queue: it keeps nothing alive once the
    // receivers are gone.
    endpoint
        .send(Message {
            cap: Some(cap.derive(Rights::WRITE | Rights::GRANT).unwrap()),
            ..message(pid, 0, b"")
        })
        .unwrap();
    let weak = Arc::downgrade(&endpoint);
    drop((endpoint, cap));
    assert!(weak.upgrade().is_none(), "freed with its last capability outside the queue");
}

#[test]
fn every_waiting_task_is_woken_however_many_wait() {
    let _turn = serial();
    let mut executor = Executor::new();
    let (reader, writer) = pair(64);
    let endpoint = endpoint_of(&reader);
    let got = Rc::new(RefCell::new(Vec::new()));
    // Many waiters, each woken under its own turn of the lock.
    const WAITERS: u32 = 25;
    for _ in 0..WAITERS {
        let (endpoint, got) = (Arc::clone(&endpoint), Rc::clone(&got));
        executor
            .spawn("receiver", async move {
                let m = endpoint.recv().await.unwrap();
                got.borrow_mut().push(m.opcode);
            })
            .unwrap();
    }
    run_until_idle(&mut executor);
    let pid = Pid::next();
    // One message at a time: each send must reach a waiter even though all of them wait.
    for opcode in 0..WAITERS {
        endpoint.send(message(pid, opcode, b"")).unwrap();
        run_until_idle(&mut executor);
        assert_eq!(got.borrow().len(), opcode as usize + 1);
    }
    assert!(executor.is_empty());
    let mut got = got.take();
    got.sort_unstable();
    assert_eq!(got, (0..WAITERS).collect::<Vec<_>>());
    drop(writer);
}

#[test]
fn a_waiter_dropped_or_never_polled_again_takes_no_wake_from_others() {
    let _turn = serial();
    let mut executor = Executor::new();
    let (reader, writer) = pair(4);
    let endpoint = endpoint_of(&reader);
    let mut abandoned = endpoint.recv();
    let mut dropped = endpoint.recv();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut abandoned).poll(&mut cx).is_pending());
    assert!(Pin::new(&mut dropped).poll(&mut cx).is_pending());
    let got = Rc::new(RefCell::new(None));
    let (e, g) = (Arc::clone(&endpoint), Rc::clone(&got));
    executor
        .spawn("receiver", async move { *g.borrow_mut() = Some(e.recv().await.unwrap().opcode) })
        .unwrap();
    run_until_idle(&mut executor);
    drop(dropped);
    endpoint.send(message(Pid::next(), 9, b"")).unwrap();
    run_until_idle(&mut executor);
    assert_eq!(*got.borrow(), Some(9));
    drop(abandoned);
    drop(writer);
}

#[test]
fn a_look_at_an_empty_queue_lists_the_listener_until_it_takes_or_goes() {
    let (reader, writer) = pair(4);
    let endpoint = endpoint_of(&reader);
    let listed = || endpoint.state.lock().recv_waiters.len();
    let any: fn(&Message) -> Result<(), Error> = |_| Ok(());
    let mut listener = endpoint.listener();
    let waker = Waker::noop();
    let look = |accept: fn(&Message) -> Result<(), Error>, listener: &mut Listener<'_>| {
        endpoint.take_with(accept, Some((listener, waker)), |message| message)
    };
    assert_eq!(look(any, &mut listener).unwrap_err(), Error::Empty);
    assert_eq!(listed(), 1);
    assert_eq!(look(any, &mut listener).unwrap_err(), Error::Empty);
    assert_eq!(listed(), 1, "looking again refreshes the entry, it does not add one");
    endpoint.send(message(Pid::next(), 7, b"x")).unwrap();
    assert_eq!(listed(), 0, "the send took the waiter to wake it");
    assert_eq!(look(any, &mut listener).unwrap().opcode, 7);
    // Listed again, then a message arrives and is refused: the entry goes with the answer.
    assert_eq!(look(any, &mut listener).unwrap_err(), Error::Empty);
    assert_eq!(listed(), 1);
    let refuse: fn(&Message) -> Result<(), Error> = |_| Err(Error::BufferTooSmall);
    endpoint.state.lock().queue.push_back(message(Pid::next(), 8, b"y"));
    assert_eq!(look(refuse, &mut listener).unwrap_err(), Error::BufferTooSmall);
    assert_eq!(listed(), 0);
    assert_eq!(endpoint.try_recv().unwrap().opcode, 8, "a refused message stays queued");
    // A listener dropped while listed leaves the list; one that ends with Closed does too.
    assert_eq!(look(any, &mut listener).unwrap_err(), Error::Empty);
    drop(listener);
    assert_eq!(listed(), 0);
    drop(writer);
    let mut listener = endpoint.listener();
    assert_eq!(look(any, &mut listener).unwrap_err(), Error::Closed);
    assert_eq!(listed(), 0);
}

#[test]
fn readiness_follows_the_queue_and_the_other_side() {
    let _turn = serial();
    let mut executor = Executor::new();
    let (reader, writer) = pair(1);
    let endpoint = endpoint_of(&reader);
    let log = Rc::new(RefCell::new(Vec::new()));
    let pid = Pid::next();
    // A sender that waits for room between sends, a receiver that waits for messages.
    let (e, l) = (Arc::clone(&endpoint), Rc::clone(&log));
    executor
        .spawn("sender", async move {
            for opcode in 0..3 {
                e.writable().await.unwrap();
                e.send(message(pid, opcode, b"")).unwrap();
                l.borrow_mut().push(alloc::format!("sent {opcode}"));
            }
        })
        .unwrap();
    let (e, l) = (Arc::clone(&endpoint), Rc::clone(&log));
    executor
        .spawn("receiver", async move {
            loop {
                match e.readable().await {
                    Ok(()) => l.borrow_mut().push(alloc::format!("got {}", e.try_recv().unwrap().opcode)),
                    Err(closed) => break l.borrow_mut().push(alloc::format!("{closed:?}")),
                }
            }
        })
        .unwrap();
    run_until_idle(&mut executor);
    assert_eq!(*log.borrow(), ["sent 0", "got 0", "sent 1", "got 1", "sent 2", "got 2"]);
    drop(writer);
    run_until_idle(&mut executor);
    assert_eq!(log.borrow().last().map(String::as_str), Some("Closed"));

    // Waiting for room on a full queue ends with `Closed` when the receiver goes.
    let (reader, writer) = pair(1);
    let endpoint = endpoint_of(&writer);
    endpoint.send(message(pid, 0, b"")).unwrap();
    let outcome = Rc::new(RefCell::new(None));
    let (e, o) = (Arc::clone(&endpoint), Rc::clone(&outcome));
    executor.spawn("blocked sender", async move { *o.borrow_mut() = Some(e.writable().await) }).unwrap();
    run_until_idle(&mut executor);
    assert_eq!(*outcome.borrow(), None);
    drop(reader);
    run_until_idle(&mut executor);
    assert_eq!(*outcome.borrow(), Some(Err(Error::Closed)));
}

#[test]
fn try_recv_if_leaves_a_refused_message_queued() {
    let (reader, writer) = pair(2);
    let endpoint = endpoint_of(&reader);
    endpoint.send(message(Pid::next(), 5, b"twelve bytes")).unwrap();
    let refused =
        endpoint.try_recv_if(|m| if m.payload.len() > 4 { Err(Error::BufferTooSmall) } else { Ok(()) });
    assert_eq!(refused.unwrap_err(), Error::BufferTooSmall);
    assert_eq!(endpoint.try_recv().unwrap().opcode, 5);
    drop(writer);
}
