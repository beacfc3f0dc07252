//! Typed messages: a payload is the `postcard` encoding of a `serde` type. Adds
//! [`Endpoint::send_msg`] / [`Endpoint::recv_msg`], and request/reply: [`Endpoint::call`] on the
//! client, [`Request`] on the server.
//!
//! A call carries its own reply capability, so a server needs no table of clients: the request
//! goes out with opcode [`REQUEST`] and a WRITE (and GRANT, so the server may hand it on) copy of
//! a fresh reply endpoint; the server answers once, with opcode [`REPLY`], and drops it.
//!
//! Decoding never panics: bytes that are not an encoding of the expected type, or that have
//! anything after it, give [`Error::Malformed`].

use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Endpoint, Error, Message, Rights};

/// Opcode of a request sent by [`Endpoint::call`] (opcodes from `0xffff_0000` up are the SDK's).
pub const REQUEST: u32 = 0xffff_0000;
/// Opcode of the reply to a [`REQUEST`].
pub const REPLY: u32 = 0xffff_0001;

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

    /// Sends `request` to the server behind this endpoint and waits for its reply.
    ///
    /// `Req` must be the type the server decodes, exactly: the encoding does not name types,
    /// so an unsuffixed literal (an `i32`) read as a `u32` decodes to another number.
    /// `Error::Closed` if the server drops the request without replying.
    pub async fn call<Req, Resp>(&self, request: &Req) -> Result<Resp, Error>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let payload = encode(request)?;
        // Only the server's copy may write: if it is dropped unanswered, the endpoint has no
        // writer left and the receive below fails with Closed instead of waiting forever.
        let (reply, for_server) = {
            let made = Endpoint::create(1)?;
            (made.derive(Rights::READ)?, made.derive(Rights::WRITE | Rights::GRANT)?)
        };
        self.send(REQUEST, &payload, Some(for_server.into_capability())).await?;
        let answer = reply.recv().await?;
        if answer.opcode != REPLY {
            return Err(Error::Malformed);
        }
        answer.decode()
    }

    /// Receives the next message as a [`Request`]; `Error::Malformed` if it is not one.
    pub async fn recv_request<T: DeserializeOwned>(&self) -> Result<Request<T>, Error> {
        Request::from_message(self.recv().await?)
    }
}

/// A request a server received: what was asked, and where the one reply goes.
#[derive(Debug)]
pub struct Request<T> {
    /// Pid of the caller.
    pub sender: u64,
    /// The decoded request.
    pub body: T,
    reply: Endpoint,
}

impl<T: DeserializeOwned> Request<T> {
    /// The request `message` carries; `Error::Malformed` if it is not a request or its body
    /// is not a `T`.
    pub fn from_message(message: Message) -> Result<Request<T>, Error> {
        match message {
            Message { sender, opcode: REQUEST, payload, cap: Some(cap) } => {
                Ok(Request { sender, body: decode(&payload)?, reply: Endpoint::from(cap) })
            }
            _ => Err(Error::Malformed),
        }
    }
}

impl<T> Request<T> {
    /// Sends `response` to the caller and closes the reply capability.
    ///
    /// Never waits: the reply endpoint is made for this one message, so a full one means a
    /// misbehaving caller, reported as `Error::Full` rather than stalling the server.
    pub fn reply<R: Serialize + ?Sized>(self, response: &R) -> Result<(), Error> {
        let payload = encode(response)?;
        Ok(self.reply.try_send(REPLY, &payload, None)?)
    }
}
