//! [`Endpoint`]: messages in and out. The `async` calls suspend only the calling task while the
//! queue is empty or full (the reactor waits for the handle); `recv_blocking` parks the whole
//! actor, for actors without the runtime.

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::rt::reactor;
use crate::{Capability, Error, Rights, sys};

/// Payload bytes the first receive makes room for; a larger message costs one retry.
const FIRST_PAYLOAD: usize = 256;

/// A capability on an endpoint, a bounded queue of messages; closed when the last clone is
/// dropped.
///
/// Cloning is cheap and stays inside the actor: the clones share one handle, so tasks can each
/// hold one (`spawn(async move { ... })`) without a kernel call or a slot in the capability
/// table. For another actor, make a capability with [`Endpoint::capability`].
#[derive(Clone, Debug)]
pub struct Endpoint(Rc<Capability>);

/// A received message.
#[derive(Debug)]
pub struct Message {
    /// Pid of the sending actor.
    pub sender: u64,
    /// What the message means, as the protocol defines it.
    pub opcode: u32,
    /// At most 4096 bytes.
    pub payload: Vec<u8>,
    /// The capability the sender moved to this actor with the message.
    pub cap: Option<Capability>,
}

/// A failed send, with the capability that was to go with it (it stays this actor's).
#[derive(Debug)]
pub struct SendError {
    /// Why nothing was sent.
    pub error: Error,
    /// The capability given to the send, not moved.
    pub cap: Option<Capability>,
}

impl Endpoint {
    /// The `n`-th grant of this actor's manifest line (counting from 0), as an endpoint.
    pub fn from_grant(n: u32) -> Endpoint {
        Endpoint::from(Capability::from_grant(n))
    }

    /// A new endpoint holding up to `capacity` (1 to 4096) messages; this handle has every right.
    pub fn create(capacity: u32) -> Result<Endpoint, Error> {
        Error::check(sys::sys_endpoint_create(capacity as i32))
            .map(|h| Endpoint::from(Capability::from_raw(h)))
    }

    /// A new endpoint of `capacity` messages as a pair: this actor's receiving end (READ only),
    /// and a sending capability (WRITE and GRANT) to give away. Once that capability and every
    /// copy of it are gone, a receive answers `Error::Closed` instead of waiting for ever.
    pub fn pair(capacity: u32) -> Result<(Endpoint, Capability), Error> {
        let made = Endpoint::create(capacity)?;
        Ok((made.derive(Rights::READ)?, made.capability(Rights::WRITE | Rights::GRANT)?))
    }

    /// Another handle to this endpoint with `rights`, a subset of this one's.
    pub fn derive(&self, rights: Rights) -> Result<Endpoint, Error> {
        self.capability(rights).map(Endpoint::from)
    }

    /// A new capability on this endpoint with `rights`, a subset of this one's: what to send
    /// in a message or give to an actor being started.
    pub fn capability(&self, rights: Rights) -> Result<Capability, Error> {
        self.0.derive(rights)
    }

    /// The raw handle, still owned by `self`.
    pub fn raw(&self) -> i64 {
        self.0.raw()
    }

    /// This handle itself, to move in a message; `Err(self)` while clones still share it.
    pub fn into_capability(self) -> Result<Capability, Endpoint> {
        Rc::try_unwrap(self.0).map_err(Endpoint)
    }

    /// Queues a message, moving `cap` with it; `Error::Full` if the queue is full.
    pub fn try_send(&self, opcode: u32, payload: &[u8], cap: Option<Capability>) -> Result<(), SendError> {
        let raw_cap = cap.as_ref().map_or(sys::NO_CAP, Capability::raw);
        let result =
            sys::sys_cap_send(self.raw(), opcode as i32, sys::ptr(payload), payload.len() as i32, raw_cap);
        match Error::from_code(result.into()) {
            None => {
                // The kernel moved it out of this actor's table: it is no longer ours to close.
                cap.map(Capability::into_raw);
                Ok(())
            }
            Some(error) => Err(SendError { error, cap }),
        }
    }

    /// Queues a message, moving `cap` with it, waiting while the queue is full.
    pub async fn send(&self, opcode: u32, payload: &[u8], cap: Option<Capability>) -> Result<(), SendError> {
        let mut cap = cap;
        reactor::retry_when(self.raw(), sys::WRITABLE, || match self.try_send(opcode, payload, cap.take()) {
            Err(SendError { error: Error::Full, cap: back }) => {
                cap = back;
                None
            }
            done => Some(done),
        })
        .await
    }

    /// Takes the oldest message; `Error::Empty` if there is none.
    pub fn try_recv(&self) -> Result<Message, Error> {
        self.receive::<false>()
    }

    /// Takes the oldest message, waiting for one.
    pub async fn recv(&self) -> Result<Message, Error> {
        reactor::retry_when(self.raw(), sys::READABLE, || match self.try_recv() {
            Err(Error::Empty) => None,
            done => Some(done),
        })
        .await
    }

    /// Takes the oldest message, parking the whole actor (every task) until there is one.
    pub fn recv_blocking(&self) -> Result<Message, Error> {
        self.receive::<true>()
    }

    /// Sends a request, then waits for the answer on `reply`, parking the whole actor, in one
    /// host call (`sys_cap_call`): a client's round trip for one kernel entry instead of two.
    /// An answer larger than the first buffer stays queued and is taken with a second call.
    /// An error before the request was queued means it was not sent (see `docs/ABI.md`).
    pub fn call_blocking(&self, opcode: u32, payload: &[u8], reply: &Endpoint) -> Result<Message, Error> {
        let mut buf = vec![0; sys::CALL_ROUTE + sys::RECV_HEADER + payload.len().max(FIRST_PAYLOAD)];
        let route = sys::CallRoute { handle: self.raw(), reply: reply.raw() };
        let request = sys::MessageHeader { opcode, len: payload.len() as u32, cap: sys::NO_CAP };
        let (head, message) = buf.split_at_mut(sys::CALL_ROUTE);
        head.copy_from_slice(&route.to_bytes());
        message[..sys::RECV_HEADER].copy_from_slice(&request.to_bytes());
        message[sys::RECV_HEADER..][..payload.len()].copy_from_slice(payload);
        let (ptr, len) = (sys::ptr_mut(&mut buf), buf.len() as i32);
        // SAFETY: the kernel reads and writes at most `len` bytes at `ptr`, all inside `buf`,
        // which nothing else borrows during the call.
        let result = unsafe { sys::sys_cap_call(ptr, len) };
        match Error::check(result) {
            Ok(sender) => Ok(decode(buf.split_off(sys::CALL_ROUTE), sender)),
            Err(Error::BufferTooSmall) => reply.recv_blocking(),
            Err(error) => Err(error),
        }
    }

    /// One receive, retried with a larger buffer as long as the message does not fit: the
    /// kernel then leaves it queued and reports the size it needs in the header. (A constant
    /// parameter, so an actor that never blocks does not import `sys_cap_recv`.)
    fn receive<const BLOCKING: bool>(&self) -> Result<Message, Error> {
        let mut buf = vec![0; sys::RECV_HEADER + FIRST_PAYLOAD];
        loop {
            let (ptr, len) = (sys::ptr_mut(&mut buf), buf.len() as i32);
            // SAFETY: the kernel writes at most `len` bytes at `ptr`, all inside `buf`, which
            // nothing else borrows during the call.
            let result = unsafe {
                if BLOCKING {
                    sys::sys_cap_recv(self.raw(), ptr, len)
                } else {
                    sys::sys_cap_try_recv(self.raw(), ptr, len)
                }
            };
            match Error::check(result) {
                Ok(sender) => return Ok(decode(buf, sender)),
                // Grow to what the header asks for. Never shrink: if another receiver took that
                // message meanwhile, the next one may need more than the header says.
                Err(Error::BufferTooSmall) => {
                    let needed = sys::MessageHeader::read(&buf).map_or(0, |header| header.len as usize);
                    buf.resize(buf.len().max(sys::RECV_HEADER + needed), 0);
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// The message in `buf` as the kernel wrote it (header, then payload), from `sender`.
fn decode(mut buf: Vec<u8>, sender: i64) -> Message {
    let header = sys::MessageHeader::read(&buf).expect("every receive buffer holds a header");
    buf.truncate(sys::RECV_HEADER + header.len as usize);
    buf.drain(..sys::RECV_HEADER);
    Message {
        sender: sender as u64,
        opcode: header.opcode,
        payload: buf,
        cap: (header.cap != sys::NO_CAP).then(|| Capability::from_raw(header.cap)),
    }
}

impl From<Capability> for Endpoint {
    /// Treats a capability (say, one received in a message) as an endpoint; calls on it fail
    /// with `Error::WrongKind` if it is not one.
    fn from(cap: Capability) -> Endpoint {
        Endpoint(Rc::new(cap))
    }
}

impl From<SendError> for Error {
    fn from(failed: SendError) -> Error {
        failed.error
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}
