//! Tests of `process`: state, statistics, ending, sending and receiving, kernel memory.

use super::*;
use crate::cap::table::FIRST_ROOM_BYTES;
use crate::cap::{MAX_HANDLES, Object};
use crate::ipc::endpoint::tests::{endpoint_of, message, run_until_idle};
use crate::ipc::{DEFAULT_CAPACITY, Endpoint};
use crate::proc::ProcessTable;
use crate::task::executor::tests::serial;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::num::NonZeroUsize;
use proptest::prelude::*;

fn any(_: &Message) -> Result<(), Error> {
    Ok(())
}

/// Gives `a` and `b` the two ends of a new endpoint; returns (a's handle, b's handle).
fn connect(
    a: &Process,
    a_rights: Rights,
    b: &Process,
    b_rights: Rights,
    capacity: usize,
) -> (Handle, Handle) {
    let cap = Capability::endpoint(NonZeroUsize::new(capacity).unwrap(), None).unwrap();
    (a.insert(cap.derive(a_rights).unwrap()).unwrap(), b.insert(cap.derive(b_rights).unwrap()).unwrap())
}

#[test]
fn state_and_statistics_follow_the_body() {
    let _turn = serial();
    let mut executor = Executor::new();
    let mut processes = ProcessTable::new();
    let p = processes.create("echo");
    let kernel_side = Capability::endpoint(DEFAULT_CAPACITY, None).unwrap();
    let inbox = p.insert(kernel_side.derive(Rights::READ).unwrap()).unwrap();
    let me = Arc::clone(&p);
    assert_eq!(p.info().cpu, None, "not started");
    let task = p
        .start(&mut executor, async move {
            let m = me.recv(inbox, any).await.unwrap();
            Exit::Exited(m.opcode as i32)
        })
        .unwrap();
    assert_eq!(p.state(), State::Ready);
    run_until_idle(&mut executor);
    assert_eq!(p.state(), State::Blocked(Wait::Receive(inbox)));
    assert_eq!(p.info().cpu, Some(wake::cpu_of(task)), "where its task ran");
    assert_eq!(p.info().stats.memory_bytes, FIRST_ROOM_BYTES, "its capability table alone is charged yet");

    endpoint_of(&kernel_side).send(message(Pid::next(), 7, b"")).unwrap();
    run_until_idle(&mut executor);
    let info = p.info();
    assert_eq!((info.state, info.cpu), (State::Dead(Exit::Exited(7)), None));
    assert_eq!((info.stats.messages_received, info.stats.messages_sent, info.handles), (1, 0, 0));
    assert!(info.stats.cpu_cycles > 0);
    assert!(executor.is_empty());
    assert_eq!(processes.reap(p.pid()), Some(Exit::Exited(7)));
    assert_eq!(processes.get(p.pid()).err(), Some(Error::NoSuchProcess));
}

#[test]
fn a_body_waiting_for_a_sleep_or_for_events_is_blocked_not_ready() {
    let _turn = serial();
    let mut executor = Executor::new();
    let mut processes = ProcessTable::new();
    for wait in [Wait::Sleep, Wait::Events] {
        let p = processes.create("waiter");
        let me = Arc::clone(&p);
        p.start(&mut executor, async move {
            let _blocked = me.waiting(wait);
            core::future::pending::<Exit>().await
        })
        .unwrap();
        run_until_idle(&mut executor);
        assert_eq!(p.state(), State::Blocked(wait));
        p.end(Exit::Killed { by: None });
        run_until_idle(&mut executor);
        assert!(p.is_dead());
    }
    assert!(executor.is_empty());
}

#[test]
fn a_process_sleeping_through_its_own_sleep_is_blocked_on_it() {
    let _turn = serial();
    let mut executor = Executor::new();
    let mut processes = ProcessTable::new();
    let p = processes.create("sleeper");
    let me = Arc::clone(&p);
    p.start(&mut executor, async move {
        me.sleep(core::time::Duration::from_secs(3600)).await;
        Exit::Exited(0)
    })
    .unwrap();
    run_until_idle(&mut executor);
    assert_eq!(p.state(), State::Blocked(Wait::Sleep));
    p.end(Exit::Killed { by: None });
    run_until_idle(&mut executor);
    assert!(p.is_dead() && executor.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// However many peers wait on it, from either side, a process's death releases every
    /// capability it held, and each peer's wait ends with `Closed`; its own blocked task ends.
    #[test]
    fn a_dead_process_releases_its_capabilities_and_its_peers_see_closed(
        receivers in 0usize..4,
        senders in 0usize..4,
        killer in proptest::option::of(Just(())),
    ) {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        let victim = processes.create("victim");
        let outcomes: Rc<RefCell<Vec<Result<(), Error>>>> = Rc::default();
        // Peers waiting for messages only the victim could send.
        for _ in 0..receivers {
            let peer = processes.create("receiver");
            let (_, inbox) = connect(&victim, Rights::WRITE, &peer, Rights::READ, 4);
            let (me, out) = (Arc::clone(&peer), Rc::clone(&outcomes));
            peer.start(&mut executor, async move {
                let outcome = me.recv(inbox, any).await.map(drop);
                out.borrow_mut().push(outcome);
                Exit::Exited(0)
            })
            .unwrap();
        }
        // Peers waiting for room on full queues only the victim could drain.
        for _ in 0..senders {
            let peer = processes.create("sender");
            let (_, outbox) = connect(&victim, Rights::READ, &peer, Rights::WRITE, 1);
            peer.send(outbox, 0, b"fills the queue", None).unwrap();
            let (me, out) = (Arc::clone(&peer), Rc::clone(&outcomes));
            peer.start(&mut executor, async move {
                let endpoint = me.with_caps(|caps| caps.endpoint(outbox, Rights::WRITE).cloned()).unwrap();
                let outcome = endpoint.writable().await;
                out.borrow_mut().push(outcome);
                Exit::Exited(0)
            })
            .unwrap();
        }
        // The victim itself waits on an endpoint whose sender nobody will use.
        let keep_open = Capability::endpoint(DEFAULT_CAPACITY, None).unwrap();
        let own = victim.insert(keep_open.derive(Rights::READ).unwrap()).unwrap();
        let me = Arc::clone(&victim);
        victim.start(&mut executor, async move {
            let _ = me.recv(own, any).await;
            Exit::Exited(0)
        })
        .unwrap();
        run_until_idle(&mut executor);
        prop_assert!(outcomes.borrow().is_empty());
        prop_assert_eq!(victim.info().handles, receivers + senders + 1);

        let by = killer.map(|()| processes.create("killer").pid());
        let ended = victim.end(Exit::Killed { by });
        prop_assert!(ended);
        let ended_again = victim.end(Exit::Exited(0));
        prop_assert!(!ended_again, "a process ends once");
        run_until_idle(&mut executor);
        prop_assert_eq!(&*outcomes.borrow(), &vec![Err(Error::Closed); receivers + senders]);
        prop_assert_eq!(victim.info().handles, 0);
        prop_assert_eq!(victim.state(), State::Dead(Exit::Killed { by }));
        prop_assert!(executor.is_empty(), "the victim's body was dropped, the peers ended");
        prop_assert_eq!(victim.insert(keep_open.derive(Rights::READ).unwrap()), Err(Error::NoSuchProcess));
    }

    /// A capability moves only with GRANT, keeps exactly its rights, and leaves the sender's
    /// table only when the message was queued.
    #[test]
    fn transfer_needs_grant_keeps_rights_and_moves_only_on_success(bits in 0u8..8, full: bool) {
        let rights = Rights::from_bits_truncate(bits);
        let mut processes = ProcessTable::new();
        let (a, b) = (processes.create("a"), processes.create("b"));
        let (out, inbox) = connect(&a, Rights::WRITE, &b, Rights::READ, 1);
        if full {
            a.send(out, 0, b"", None).unwrap();
        }
        let moved = a.insert(Capability::shared_memory(4).unwrap().derive(rights).unwrap()).unwrap();
        let sent = a.send(out, 1, b"", Some(moved));
        let expected = if !rights.contains(Rights::GRANT) {
            Err(Error::NoRights)
        } else if full {
            Err(Error::Full)
        } else {
            Ok(())
        };
        prop_assert_eq!(sent, expected);
        prop_assert_eq!(a.with_caps(|caps| caps.get(moved, Rights::empty()).is_ok()), sent.is_err());
        if full {
            b.try_recv(inbox, any).unwrap();
        }
        match b.try_recv(inbox, any) {
            Ok(received) => {
                let handle = received.cap.unwrap().unwrap();
                let held = b.with_caps(|caps| caps.shared_memory(handle, Rights::empty()).map(|m| m.size()));
                prop_assert_eq!(held, Ok(4));
                prop_assert_eq!(b.with_caps(|caps| caps.get(handle, Rights::empty()).map(Capability::rights)), Ok(rights));
            }
            Err(e) => {
                prop_assert_eq!(e, Error::Empty);
                prop_assert!(sent.is_err());
            }
        }
    }
}

/// Kernel memory an actor makes the kernel hold is charged to it until the object goes:
/// the endpoints it creates, and its queued payloads until they are received. Past its
/// limit a call fails with `KernelMemoryLimit`, and the kernel allocates nothing for it.
#[test]
fn kernel_memory_is_charged_to_the_actor_until_the_object_goes() {
    let mut processes = ProcessTable::new();
    let kmem = 64 * 1024;
    let sender = processes.create_with("sender", Limits { kmem, ..Limits::default() }, None);
    let receiver = processes.create("receiver");
    let account = sender.account().clone();
    let endpoint = Capability::endpoint(NonZeroUsize::new(64).unwrap(), Some(&account)).unwrap();
    let endpoint_bytes = Endpoint::kernel_bytes(NonZeroUsize::new(64).unwrap());
    assert_eq!(account.used(), endpoint_bytes);
    let out = sender.insert(endpoint.derive(Rights::WRITE).unwrap()).unwrap();
    let inbox = receiver.insert(endpoint.derive(Rights::READ).unwrap()).unwrap();
    drop(endpoint);

    sender.send(out, 1, &[7; 8], None).unwrap();
    assert_eq!(
        account.used(),
        endpoint_bytes + FIRST_ROOM_BYTES,
        "an inline payload sits in room already paid for (the endpoint's, and the capability table's)"
    );
    let mut sent = 0;
    let refused = loop {
        match sender.send(out, 2, &[7; 4096], None) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(refused, Error::KernelMemoryLimit);
    assert!(sent > 0 && account.used() <= kmem, "{sent} sent, {} charged", account.used());
    assert_eq!(sender.info().stats.memory_bytes, account.used(), "ps shows the charge");
    let before = account.used();
    receiver.try_recv(inbox, any).unwrap();
    assert_eq!(account.used(), before, "the inline message was charged nothing");
    receiver.try_recv(inbox, any).unwrap();
    assert!(account.used() < before, "a received payload is no longer the sender's");
    sender.send(out, 2, &[7; 4096], None).unwrap();

    // Every charge goes with its object: the queue dies with its last reader, the endpoint
    // with its last capability.
    receiver.end(Exit::Killed { by: None });
    assert_eq!(account.used(), endpoint_bytes + FIRST_ROOM_BYTES, "the queued payloads went with the queue");
    sender.end(Exit::Exited(0));
    assert_eq!(account.used(), 0);
}

#[test]
fn a_message_the_receiver_cannot_take_stays_queued() {
    let mut processes = ProcessTable::new();
    let (a, b) = (processes.create("a"), processes.create("b"));
    let (out, inbox) = connect(&a, Rights::WRITE, &b, Rights::READ, 4);
    let gift = a.insert(Capability::shared_memory(1).unwrap()).unwrap();
    a.send(out, 1, b"too long", Some(gift)).unwrap();

    let small = |m: &Message| if m.payload.len() > 4 { Err(Error::BufferTooSmall) } else { Ok(()) };
    assert_eq!(b.try_recv(inbox, small).unwrap_err(), Error::BufferTooSmall);
    while b.info().handles < MAX_HANDLES {
        b.insert(Capability::shared_memory(0).unwrap()).unwrap();
    }
    assert_eq!(b.try_recv(inbox, any).unwrap_err(), Error::TooManyHandles);
    b.close(Handle::from_raw(1)).unwrap();
    let received = b.try_recv(inbox, any).unwrap();
    assert_eq!((received.sender, received.opcode, &*received.payload), (a.pid(), 1, &b"too long"[..]));
    let handle = received.cap.unwrap().unwrap();
    assert!(matches!(
        b.with_caps(|caps| caps.get(handle, Rights::all()).map(|c| c.object().clone())),
        Ok(Object::SharedMemory(_))
    ));
    assert_eq!(b.try_recv(inbox, any).unwrap_err(), Error::Empty);
}

#[test]
fn lookups_and_closes_answer_errors_not_panics() {
    let mut processes = ProcessTable::new();
    let p = processes.create("p");
    let memory = p.insert(Capability::shared_memory(8).unwrap().derive(Rights::READ).unwrap()).unwrap();
    assert_eq!(p.send(memory, 0, b"", None), Err(Error::WrongKind));
    assert_eq!(p.send(Handle::from_raw(-5), 0, b"", None), Err(Error::InvalidHandle));
    assert_eq!(p.try_recv(Handle::from_raw(i64::MAX), any).unwrap_err(), Error::InvalidHandle);
    let (out, _) = connect(&p, Rights::READ, &p, Rights::READ, 1);
    assert_eq!(p.send(out, 0, b"", None), Err(Error::NoRights));
    assert_eq!(p.send(out, 0, &[0; crate::ipc::MAX_PAYLOAD + 1], None), Err(Error::TooLarge));
    p.close(memory).unwrap();
    assert_eq!(p.close(memory), Err(Error::InvalidHandle));
}
