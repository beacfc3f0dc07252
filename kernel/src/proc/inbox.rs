//! Receiving: an endpoint a process receives from, and messages as it gets them, with any
//! capability they carry moved into its table. The process is in `process`, the queue in `ipc`.

use alloc::sync::Arc;
use core::future::{Future, poll_fn};
use core::sync::atomic::Ordering;
use core::task::{Context, Poll, Waker};

use super::{Blocked, Pid, Process, Wait};
use crate::cap::{CapTable, Handle};
use crate::error::Error;
use crate::ipc::{Endpoint, Listener, Message, Payload};

/// A message as its receiver gets it: a transferred capability is already in its table.
#[derive(Debug)]
pub struct Received {
    /// Who sent it.
    pub sender: Pid,
    /// The sender's opcode.
    pub opcode: u32,
    /// Its bytes.
    pub payload: Payload,
    /// The capability that came with it (see [`Transferred`]).
    pub cap: Transferred,
}

/// An endpoint a process receives from, with the capability already checked (see
/// [`Process::inbox`]). Holding it keeps the endpoint alive, not the right: closing the handle
/// meanwhile does not stop a receive through it, which only its own process could do anyway.
pub struct Inbox<'p> {
    pub(super) process: &'p Process,
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) handle: Handle,
}

impl Inbox<'_> {
    /// As [`Process::try_recv`].
    pub fn try_recv(&self, accept: impl FnOnce(&Message) -> Result<(), Error>) -> Result<Received, Error> {
        self.take(accept, None, |message| message).map(|message| self.received(message))
    }

    /// As [`try_recv`](Self::try_recv), but the message is left in `into`, as
    /// [`recv_into`](Self::recv_into) leaves it.
    pub fn try_recv_into(
        &self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        into: &mut Option<Message>,
    ) -> Result<Transferred, Error> {
        self.take(accept, None, |message| *into = Some(message)).map(|()| self.transfer(into))
    }

    /// Takes the oldest message `accept` agrees to, waiting as [`State::Blocked`] while none is
    /// queued; `Closed` once none ever will be.
    pub fn recv(
        &self,
        mut accept: impl FnMut(&Message) -> Result<(), Error>,
    ) -> impl Future<Output = Result<Received, Error>> {
        let (mut listener, mut blocked) = (self.endpoint.listener(), None);
        poll_fn(move |cx| {
            self.poll_take(&mut accept, &mut listener, &mut blocked, cx, |message| message)
                .map(|taken| taken.map(|message| self.received(message)))
        })
    }

    /// As [`recv`](Self::recv), but the message is left in `into`, moved there once from the
    /// queue (a host call delivers it from there), with its capability (if it carried one)
    /// taken out and moved into the table: the future's output is where it went.
    pub fn recv_into(
        &self,
        mut accept: impl FnMut(&Message) -> Result<(), Error>,
        into: &mut Option<Message>,
    ) -> impl Future<Output = Result<Transferred, Error>> {
        let (mut listener, mut blocked) = (self.endpoint.listener(), None);
        poll_fn(move |cx| {
            self.poll_take(&mut accept, &mut listener, &mut blocked, cx, |message| *into = Some(message))
                .map(|taken| taken.map(|()| self.transfer(into)))
        })
    }

    /// One poll of a blocking receive: takes the message to `take`, or lists `listener` and
    /// marks the process blocked (for as long as `blocked` lives).
    fn poll_take<'a, T>(
        &'a self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        listener: &mut Listener<'_>,
        blocked: &mut Option<Blocked<'a>>,
        cx: &mut Context<'_>,
        take: impl FnOnce(Message) -> T,
    ) -> Poll<Result<T, Error>> {
        match self.take(accept, Some((listener, cx.waker())), take) {
            Err(Error::Empty) => {
                blocked.get_or_insert_with(|| self.process.waiting(Wait::Receive(self.handle)));
                Poll::Pending
            }
            taken => Poll::Ready(taken),
        }
    }

    /// Takes the oldest message to `take` if `accept` agrees (see [`Endpoint::take_with`],
    /// which also lists a listener in the same look).
    fn take<T>(
        &self,
        accept: impl FnOnce(&Message) -> Result<(), Error>,
        listen: Option<(&mut Listener<'_>, &Waker)>,
        take: impl FnOnce(Message) -> T,
    ) -> Result<T, Error> {
        // Read before the endpoint's lock (locks go process, then endpoint). Nothing runs between
        // here and the insert that follows the take that could fill the table.
        let room = !self.process.with_caps(CapTable::is_full);
        let accept = |message: &Message| match message.cap {
            Some(_) if !room => Err(Error::TooManyHandles),
            _ => accept(message),
        };
        let taken = self.endpoint.take_with(accept, listen, take)?;
        self.process.messages_received.fetch_add(1, Ordering::Relaxed);
        Ok(taken)
    }

    /// `message` as its receiver gets it, its capability moved into the table.
    fn received(&self, message: Message) -> Received {
        let Message { sender, opcode, payload, cap } = message;
        Received { sender, opcode, payload, cap: cap.map(|cap| self.process.insert(cap)) }
    }

    /// Moves the capability of the message in `taken`, if it carries one, into the table.
    fn transfer(&self, taken: &mut Option<Message>) -> Transferred {
        taken.as_mut().and_then(|message| message.cap.take()).map(|cap| self.process.insert(cap))
    }
}

/// A received capability's handle in the receiver's table (`None` if the message carried
/// none); an error if the heap could not grow the table (the capability is then dropped, the
/// message still delivered).
pub type Transferred = Option<Result<Handle, Error>>;
