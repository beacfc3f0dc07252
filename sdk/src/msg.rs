//! Typed messages: a payload is the `postcard` encoding of a `serde` type. Adds
//! [`Endpoint::send_msg`] / [`Endpoint::recv_msg`], and request/reply: [`Client`] (or
//! [`Endpoint::call`]) on the client, [`Mailbox`] and [`Request`] on the server.
//!
//! A call carries its own reply capability, so a server needs no table of clients: the request
//! goes out with opcode [`REQUEST`] and a WRITE (and GRANT, so the server may hand it on) copy of
//! a fresh reply endpoint; the server answers once, with opcode [`REPLY`] (or [`REJECTED`] when
//! the request does not decode), and drops it. A client that went away meanwhile is something
//! the server is told ([`Delivery::CallerGone`]), not an error that could end it.
//!
//! Decoding never panics: bytes that are not an encoding of the expected type, or that have
//! anything after it, give [`Error::Malformed`].

use alloc::vec::Vec;
use core::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Endpoint, Error, Message};

/// The opcodes of request/reply (from `0xffff_0000` up), which the kernel's WASI file calls
/// speak to the vfs too: a request sent by [`Endpoint::call`], its reply, and the answer to a
/// request the server could not decode (the call fails with [`Error::Malformed`]).
pub use crate::sys::{REJECTED, REPLY, REQUEST};

/// The payload encoding of `value`.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    postcard::to_allocvec(value).map_err(|_| Error::Malformed)
}

/// The value `bytes` encode, which must be all of them.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, Error> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(Error::Malformed),
    }
}

impl Message {
    /// The payload as a `T`.
    pub fn decode<'a, T: Deserialize<'a>>(&'a self) -> Result<T, Error> {
        decode(&self.payload)
    }
}

impl Endpoint {
    /// Sends `value` with `opcode`, waiting while the queue is full.
    pub async fn send_msg<T: Serialize + ?Sized>(&self, opcode: u32, value: &T) -> Result<(), Error> {
        let payload = encode(value)?;
        Ok(self.send(opcode, &payload, None).await?)
    }

    /// Receives a message and decodes its payload as a `T`; returns the opcode with it.
    pub async fn recv_msg<T: DeserializeOwned>(&self) -> Result<(u32, T), Error> {
        let message = self.recv().await?;
        Ok((message.opcode, message.decode()?))
    }

    /// Sends `request` to the server behind this endpoint and waits for its reply: the untyped
    /// form of [`Client::call`].
    ///
    /// `Req` must be the type the server decodes, exactly: the encoding does not name types,
    /// so an unsuffixed literal (an `i32`) read as a `u32` decodes to another number.
    /// `Error::Closed` if the server drops the request without replying, `Error::Malformed` if
    /// it could not decode it or its reply is not a `Resp`.
    pub async fn call<Req, Resp>(&self, request: &Req) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = encode(request)?;
        // Only the server's copy may write: if it is dropped unanswered, the endpoint has no
        // writer left and the receive below fails with Closed instead of waiting forever.
        let (reply, for_server) = Endpoint::pair(1)?;
        self.send(REQUEST, &payload, Some(for_server)).await?;
        let answer = reply.recv().await?;
        match answer.opcode {
            REPLY => answer.decode(),
            _ => Err(Error::Malformed),
        }
    }
}

/// The client's side of a request/reply protocol: requests are `Req`, replies `Resp`. Cheap to
/// clone (the clones share the endpoint), so every task can have one.
///
/// ```ignore
/// let counter: Client<Count, u64> = Client::from_grant(0);
/// let total = counter.call(&Count::Add(5)).await?;
/// ```
pub struct Client<Req, Resp> {
    endpoint: Endpoint,
    protocol: PhantomData<fn(&Req) -> Resp>,
}

impl<Req: Serialize, Resp: DeserializeOwned> Client<Req, Resp> {
    /// Calls the server that receives on `endpoint` (which needs WRITE).
    pub fn new(endpoint: Endpoint) -> Self {
        Client { endpoint, protocol: PhantomData }
    }

    /// Calls the server behind the `n`-th grant.
    pub fn from_grant(n: u32) -> Self {
        Client::new(Endpoint::from_grant(n))
    }

    /// Sends `request` and waits for the reply; see [`Endpoint::call`] for the errors.
    pub async fn call(&self, request: &Req) -> Result<Resp, Error> {
        self.endpoint.call(request).await
    }

    /// The endpoint the requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl<Req, Resp> Clone for Client<Req, Resp> {
    fn clone(&self) -> Self {
        Client { endpoint: self.endpoint.clone(), protocol: PhantomData }
    }
}

/// The server's side of a request/reply protocol: the requests that arrive on an endpoint, as
/// `Req`, each answered with one `Resp`. Cheap to clone, like [`Client`].
///
/// ```ignore
/// let requests: Mailbox<Count, u64> = Mailbox::from_grant(0);
/// while let Some(request) = requests.next().await? {
///     request.reply(&42);
/// }
/// ```
pub struct Mailbox<Req, Resp> {
    endpoint: Endpoint,
    protocol: PhantomData<fn(&Resp) -> Req>,
}

impl<Req: DeserializeOwned, Resp: Serialize> Mailbox<Req, Resp> {
    /// Serves the requests sent to `endpoint` (which needs READ).
    pub fn new(endpoint: Endpoint) -> Self {
        Mailbox { endpoint, protocol: PhantomData }
    }

    /// Serves the requests sent to the `n`-th grant.
    pub fn from_grant(n: u32) -> Self {
        Mailbox::new(Endpoint::from_grant(n))
    }

    /// The next request, waiting for one; `Ok(None)` once none can come any more (every
    /// capability that could send to the endpoint is closed).
    ///
    /// A message that is not a request is dropped, and a request whose body is not a `Req` is
    /// answered with [`REJECTED`] (its call fails with `Error::Malformed`): a confused client
    /// never stops the server. The errors left are the handle's own (`InvalidHandle`,
    /// `WrongKind`, `NoRights`): the grant is not what the server needs.
    pub async fn next(&self) -> Result<Option<Request<Req, Resp>>, Error> {
        loop {
            let message = match self.endpoint.recv().await {
                Ok(message) => message,
                Err(Error::Closed) => return Ok(None),
                Err(error) => return Err(error),
            };
            let Message { sender, opcode: REQUEST, payload, cap: Some(cap) } = message else {
                continue;
            };
            let reply = Endpoint::from(cap);
            match decode(&payload) {
                Ok(body) => return Ok(Some(Request { sender, body, reply, protocol: PhantomData })),
                // The caller learns it from its call; whether it is still there changes nothing.
                Err(_) => drop(reply.try_send(REJECTED, &[], None)),
            }
        }
    }

    /// The endpoint the requests arrive on.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl<Req, Resp> Clone for Mailbox<Req, Resp> {
    fn clone(&self) -> Self {
        Mailbox { endpoint: self.endpoint.clone(), protocol: PhantomData }
    }
}

/// A request a server received: what was asked, and where the one reply goes.
#[derive(Debug)]
pub struct Request<Req, Resp> {
    /// Pid of the caller.
    pub sender: u64,
    /// The decoded request.
    pub body: Req,
    reply: Endpoint,
    protocol: PhantomData<fn(&Resp)>,
}

/// What became of a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The caller has it.
    Delivered,
    /// The caller stopped waiting (it ended, or dropped its call) before the reply arrived.
    CallerGone,
    /// The response could not be encoded; the caller's call fails with `Error::Malformed`.
    NotEncodable,
}

impl<Req, Resp: Serialize> Request<Req, Resp> {
    /// Sends `response` to the caller and closes the reply capability.
    ///
    /// Never waits: the reply endpoint is made for this one message, so a full one means a
    /// misbehaving caller, which like a caller that is gone only the returned [`Delivery`]
    /// shows.
    pub fn reply(self, response: &Resp) -> Delivery {
        let (opcode, payload) = match encode(response) {
            Ok(payload) => (REPLY, payload),
            Err(_) => (REJECTED, Vec::new()),
        };
        match self.reply.try_send(opcode, &payload, None) {
            Err(_) => Delivery::CallerGone,
            Ok(()) if opcode == REJECTED => Delivery::NotEncodable,
            Ok(()) => Delivery::Delivered,
        }
    }
}
