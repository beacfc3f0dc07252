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
    next: Option<Waker>,
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

    /// Whether a receive would not wait: a message is queued, or none ever will be.
    pub fn is_readable(&self) -> bool {
        let state = self.state.lock();
        !state.queue.is_empty() || state.drained()
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
    // Forced inline, as `take_message`: out of line, these two move the message and the wakers
    // through memory; with only the hint the compiler leaves it out of line (measured: 248
    // instructions more of a Wasm round trip's 3078, 8%).
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
pub(crate) mod tests;
