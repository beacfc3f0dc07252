//! Endpoints: bounded FIFO queues of [`Message`]s, reached through capabilities (`cap`).
//!
//! - `send` never blocks and never drops: on a full or closed queue the message comes back.
//! - `try_recv` takes the oldest message; `recv().await` waits for one.
//! - `readable()` / `writable()` wait until a receive or a send would not wait, so one task can
//!   wait on several endpoints at once.
//!
//! An endpoint counts the capabilities that may receive (READ) and send (WRITE). When the last
//! receiving capability goes, queued messages are dropped and senders get `Closed`; when the last
//! sending capability goes, receivers get the messages still queued, then `Closed`. Every waiter
//! is woken by these changes: waiting tasks learn that the other side is gone.
//!
//! Each side keeps a list of every waiting task, woken all at once on a change (after the lock is
//! released); a woken task re-checks and waits again if another took what it came for. Wake-all
//! costs nothing when one task waits, as in a request/reply pair, and cannot lose a wake-up when
//! a woken future is dropped before it looks.
//!
//! A message may carry a capability, but never one that can receive from an endpoint (READ on
//! an endpoint: `NotMovable`). Receiving capabilities therefore live only in processes' tables
//! and the kernel's hands, so a queue is dropped once no table can reach it, and no endpoint is
//! kept alive by a cycle of queues that nobody will ever receive from (the leak Unix descriptor
//! passing has).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::num::NonZeroUsize;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use spin::Mutex;

use super::Message;
use super::wait::WaitList;
use crate::cap::{Capability, Rights};
use crate::error::{Error, Rejected};
use crate::mem::kmem::{Account, Charge};
use crate::task::WakeTarget;

/// Queue capacity for endpoints nobody sized.
pub const DEFAULT_CAPACITY: NonZeroUsize = NonZeroUsize::new(64).unwrap();

/// Largest queue capacity.
pub const MAX_CAPACITY: usize = minimalos_abi::MAX_CAPACITY;

/// A bounded message queue between processes.
pub struct Endpoint {
    state: Mutex<State>,
    /// What it costs its creator, room for a full queue included (`None`: the kernel's own).
    _charge: Option<Charge>,
}

struct State {
    queue: VecDeque<Message>,
    capacity: usize,
    /// Capabilities with READ.
    receivers: usize,
    /// Capabilities with WRITE.
    senders: usize,
    /// Tasks waiting for a message (or for the end).
    recv_waiters: WaitList,
    /// Tasks waiting for room (or for the end).
    send_waiters: WaitList,
}

/// Which waiters.
#[derive(Debug, Clone, Copy)]
enum Side {
    Receive,
    Send,
}

impl State {
    fn waiters(&mut self, side: Side) -> &mut WaitList {
        match side {
            Side::Receive => &mut self.recv_waiters,
            Side::Send => &mut self.send_waiters,
        }
    }

    /// No message is queued and none can come (or none can be taken).
    fn drained(&self) -> bool {
        self.queue.is_empty() && (self.senders == 0 || self.receivers == 0)
    }
}

/// Wakers taken off one side under the lock, to be woken once it is released: one at a time,
/// the lock taken again for each further one. One waiter (a request/reply pair) is the common
/// case, so a single slot costs least; waking costs no allocation either way.
struct Wakeups {
    side: Side,
    next: Option<WakeTarget>,
    /// Waiters listed when the wake began and not yet taken. Later arrivals saw the change
    /// themselves and need no wake.
    left: usize,
}

impl Wakeups {
    fn new(side: Side) -> Self {
        Self { side, next: None, left: 0 }
    }

    /// Starts waking every task now waiting on this side.
    fn take(&mut self, state: &mut State) {
        self.left = state.waiters(self.side).len();
        self.take_more(state);
    }

    fn take_more(&mut self, state: &mut State) {
        if self.left > 0 {
            self.left -= 1;
            self.next = state.waiters(self.side).pop();
            if self.next.is_none() {
                self.left = 0;
            }
        }
    }
}

impl Endpoint {
    /// An endpoint with no capabilities yet (`cap::Capability::endpoint` makes the first),
    /// charged to `charge_to` for itself and a full queue (`None`: the kernel's own).
    pub(crate) fn new(capacity: NonZeroUsize, charge_to: Option<&Arc<Account>>) -> Result<Arc<Self>, Error> {
        if capacity.get() > MAX_CAPACITY {
            return Err(Error::TooLarge);
        }
        let _charge = charge_to.map(|account| account.charge(Self::kernel_bytes(capacity))).transpose()?;
        Ok(Arc::new(Self {
            _charge,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                capacity: capacity.get(),
                receivers: 0,
                senders: 0,
                recv_waiters: WaitList::new(),
                send_waiters: WaitList::new(),
            }),
        }))
    }

    /// Kernel memory an endpoint of `capacity` may hold: itself with its reference counts, and
    /// a queue grown (by doubling) to hold `capacity` messages.
    pub fn kernel_bytes(capacity: NonZeroUsize) -> u64 {
        let queue = capacity.get().next_power_of_two() * size_of::<Message>();
        (size_of::<Self>() + 2 * size_of::<usize>() + queue) as u64
    }

    /// Counts a new capability with `rights`.
    pub(crate) fn attach(&self, rights: Rights) {
        if !rights.intersects(Rights::READ | Rights::WRITE) {
            return;
        }
        let mut state = self.state.lock();
        state.receivers += usize::from(rights.contains(Rights::READ));
        state.senders += usize::from(rights.contains(Rights::WRITE));
    }

    /// Forgets a capability with `rights`; returns the queued messages it orphaned (the last
    /// receiver took them along) for the caller to drop once the lock is released.
    pub(crate) fn detach(&self, rights: Rights) -> VecDeque<Message> {
        if !rights.intersects(Rights::READ | Rights::WRITE) {
            return VecDeque::new();
        }
        let (orphans, receivers_gone, senders_gone) = {
            let mut state = self.state.lock();
            state.receivers -= usize::from(rights.contains(Rights::READ));
            state.senders -= usize::from(rights.contains(Rights::WRITE));
            let receivers_gone = rights.contains(Rights::READ) && state.receivers == 0;
            let senders_gone = rights.contains(Rights::WRITE) && state.senders == 0;
            let orphans = if receivers_gone { core::mem::take(&mut state.queue) } else { VecDeque::new() };
            (orphans, receivers_gone, senders_gone)
        };
        if receivers_gone || senders_gone {
            self.wake_all(Side::Receive);
        }
        if receivers_gone {
            self.wake_all(Side::Send);
        }
        orphans
    }

    /// Queues `message`. Carrying a capability that can receive from an endpoint
    /// (`NotMovable`), on a full queue (`Full`), with no receiver left (`Closed`) or no memory
    /// to grow the queue (`NoMemory`) the message comes back.
    pub fn send(&self, message: Message) -> Result<(), Rejected<Message>> {
        let mut arrived = Wakeups::new(Side::Receive);
        {
            if message.cap.as_ref().is_some_and(Capability::receives) {
                return Err(Rejected { error: Error::NotMovable, value: message });
            }
            let mut state = self.state.lock();
            let refused = if state.receivers == 0 {
                Some(Error::Closed)
            } else if state.queue.len() >= state.capacity {
                Some(Error::Full)
            } else if state.queue.try_reserve(1).is_err() {
                Some(Error::NoMemory)
            } else {
                None
            };
            if let Some(error) = refused {
                return Err(Rejected { error, value: message });
            }
            state.queue.push_back(message);
            arrived.take(&mut state);
        }
        self.wake(&mut arrived);
        Ok(())
    }

    /// The oldest message: `Empty` if none is queued, `Closed` if none ever will be.
    pub fn try_recv(&self) -> Result<Message, Error> {
        self.try_recv_if(|_| Ok(()))
    }

    /// As [`try_recv`](Self::try_recv), but the oldest message is taken only if `accept` says
    /// so; refused, it stays queued and `accept`'s error comes back. `accept` runs under the
    /// endpoint's lock: it must only look.
    pub fn try_recv_if(&self, accept: impl FnOnce(&Message) -> Result<(), Error>) -> Result<Message, Error> {
        self.take_with(accept, None, |message| message)
    }

    /// As [`try_recv_if`](Self::try_recv_if), but the taken message goes to `take`, which runs
    /// under the lock and must only put it somewhere (a receive that delivers the message from
    /// where `take` leaves it moves it no further). With a `listen`er, when nothing is queued
    /// and a message can still come, the listener is listed to be woken by the waker in the
    /// same lock round and `Empty` comes back: a blocking receive looks and waits with one lock
    /// round, and takes with one more once woken. A listed listener leaves the list when a
    /// call ends otherwise.
    pub fn take_with<T>(
        &self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        mut listen: Option<(&mut Listener<'_>, &Waker)>,
        take: impl FnOnce(Message) -> T,
    ) -> Result<T, Error> {
        let mut room = Wakeups::new(Side::Send);
        let taken = {
            let mut state = self.state.lock();
            let taken = match state.queue.front().map(accept) {
                Some(Err(refused)) => Err(refused),
                Some(Ok(())) => {
                    let taken = state.queue.pop_front().map(take).ok_or(Error::Empty);
                    room.take(&mut state);
                    taken
                }
                None if state.drained() => Err(Error::Closed),
                None => match &mut listen {
                    Some((listener, waker)) => {
                        state.recv_waiters.register(&mut listener.key, waker).and(Err(Error::Empty))
                    }
                    None => Err(Error::Empty),
                },
            };
            if !matches!(taken, Err(Error::Empty))
                && let Some((listener, _)) = listen
                && let Some(key) = listener.key.take()
            {
                state.recv_waiters.remove(key);
            }
            taken
        };
        self.wake(&mut room);
        taken
    }

    /// A place on the receive side's wait list for [`take_with`](Self::take_with).
    pub fn listener(&self) -> Listener<'_> {
        Listener { endpoint: self, key: None }
    }

    /// Waits for the oldest message; `Closed` once none will ever come.
    pub fn recv(&self) -> Waiting<'_, Message> {
        self.waiting(Side::Receive, take_message)
    }

    /// Waits until a message is queued (`Ok`) or none ever will be (`Closed`).
    pub fn readable(&self) -> Waiting<'_, ()> {
        self.waiting(Side::Receive, |state, _| {
            if !state.queue.is_empty() { Some(Ok(())) } else { state.drained().then_some(Err(Error::Closed)) }
        })
    }

    /// Waits until the queue has room (`Ok`) or no receiver is left (`Closed`).
    pub fn writable(&self) -> Waiting<'_, ()> {
        self.waiting(Side::Send, |state, _| {
            if state.receivers == 0 {
                Some(Err(Error::Closed))
            } else {
                (state.queue.len() < state.capacity).then_some(Ok(()))
            }
        })
    }

    fn waiting<T>(&self, side: Side, check: Check<T>) -> Waiting<'_, T> {
        Waiting { endpoint: self, side, key: None, check }
    }

    /// Wakes what `wakeups` took, then the rest of the waiters it counted, one by one.
    // Inlined, as `take_message`: out of line, these two move the message and the wakers
    // through memory (measured: 300 instructions more per Wasm round trip). Always: with
    // `WakeTarget`s in the lists the compiler stopped taking the plain hint (3507 against 3251).
    #[inline(always)]
    fn wake(&self, wakeups: &mut Wakeups) {
        while let Some(target) = wakeups.next.take() {
            target.wake();
            if wakeups.left > 0 {
                wakeups.take_more(&mut self.state.lock());
            }
        }
    }

    fn wake_all(&self, side: Side) {
        let mut wakeups = Wakeups::new(side);
        wakeups.take(&mut self.state.lock());
        self.wake(&mut wakeups);
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Endpoint")
            .field("queued", &state.queue.len())
            .field("capacity", &state.capacity)
            .field("receivers", &state.receivers)
            .field("senders", &state.senders)
            .finish()
    }
}

/// Takes the oldest message and lets senders waiting for room know; `None` means wait.
#[inline]
fn take_message(state: &mut State, room: &mut Wakeups) -> Option<Result<Message, Error>> {
    match state.queue.pop_front() {
        Some(message) => {
            room.take(state);
            Some(Ok(message))
        }
        None => state.drained().then_some(Err(Error::Closed)),
    }
}

/// Decides a wait under the endpoint's lock: `Some` ends it, `None` keeps waiting. It may take
/// waiters of the send side to wake (receiving makes room).
type Check<T> = fn(&mut State, &mut Wakeups) -> Option<Result<T, Error>>;

/// The future returned by [`Endpoint::recv`], [`Endpoint::readable`] and [`Endpoint::writable`].
#[must_use = "futures do nothing unless awaited"]
pub struct Waiting<'a, T> {
    endpoint: &'a Endpoint,
    side: Side,
    /// Its entry in the side's wait list, if it has one.
    key: Option<u64>,
    check: Check<T>,
}

impl<T> Future for Waiting<'_, T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut room = Wakeups::new(Side::Send);
        let outcome = {
            let mut state = this.endpoint.state.lock();
            match (this.check)(&mut state, &mut room) {
                Some(outcome) => {
                    if let Some(key) = this.key.take() {
                        state.waiters(this.side).remove(key);
                    }
                    Some(outcome)
                }
                None => state.waiters(this.side).register(&mut this.key, cx.waker()).err().map(Err),
            }
        };
        this.endpoint.wake(&mut room);
        outcome.map_or(Poll::Pending, Poll::Ready)
    }
}

impl<T> Drop for Waiting<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.endpoint.state.lock().waiters(self.side).remove(key);
        }
    }
}

/// A receiver's entry on an endpoint's wait list, kept across the calls of one blocking
/// receive; dropped, it leaves the list (a receive abandoned mid-wait included).
pub struct Listener<'a> {
    endpoint: &'a Endpoint,
    key: Option<u64>,
}

impl Drop for Listener<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.endpoint.state.lock().recv_waiters.remove(key);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cap::{Capability, Object};
    use crate::ipc::Payload;
    use crate::proc::Pid;
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
}
