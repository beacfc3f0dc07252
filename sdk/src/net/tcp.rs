//! TCP: [`TcpListener`] and [`TcpStream`], each a pair of endpoints with the stack (see
//! [`wire`](super::wire)).

use alloc::vec::Vec;

use super::wire::{self, Peer};
use super::{NetError, QUEUE, failure};
use crate::Endpoint;

/// A port the stack listens on for this actor; the stack stops listening when it is dropped
/// (its endpoint for the listener, whose only sender this holds, closes).
#[derive(Debug)]
pub struct TcpListener {
    events: Endpoint,
    _stack: Endpoint,
    port: u16,
}

impl TcpListener {
    pub(super) fn new(events: Endpoint, stack: Endpoint, port: u16) -> Self {
        Self { events, _stack: stack, port }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the next connection.
    pub async fn accept(&self) -> Result<(TcpStream, Peer), NetError> {
        let event = self.events.recv().await?;
        let (Some(stack), Some(peer)) = (event.cap, Peer::from_bytes(&event.payload)) else {
            return Err(match event.opcode {
                wire::FAILED => failure(&event.payload),
                _ => NetError::Protocol,
            });
        };
        if event.opcode != wire::ACCEPTED {
            return Err(NetError::Protocol);
        }
        let stack = Endpoint::from(stack);
        let (own, for_stack) = Endpoint::pair(QUEUE)?;
        stack.send(wire::HELLO, &[], Some(for_stack)).await?;
        Ok((TcpStream::new(stack, own, peer), peer))
    }
}

/// An open TCP connection. Dropping it closes this side; bytes written before are still
/// delivered.
#[derive(Debug)]
pub struct TcpStream {
    stack: Endpoint,
    own: Endpoint,
    peer: Peer,
    /// Bytes received and not yet read, from `taken` on.
    pending: Vec<u8>,
    taken: usize,
    /// The peer sent its last byte.
    ended: bool,
}

impl TcpStream {
    pub(super) fn new(stack: Endpoint, own: Endpoint, peer: Peer) -> Self {
        Self { stack, own, peer, pending: Vec::new(), taken: 0, ended: false }
    }

    /// The other end.
    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Reads what has arrived into `buf`, waiting for at least one byte; `Ok(0)` once the
    /// peer has closed its side.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        while self.taken == self.pending.len() {
            if self.ended || buf.is_empty() {
                return Ok(0);
            }
            let message = self.own.recv().await?;
            match message.opcode {
                wire::DATA => (self.pending, self.taken) = (message.payload, 0),
                wire::EOF => self.ended = true,
                wire::FAILED => return Err(failure(&message.payload)),
                _ => return Err(NetError::Protocol),
            }
        }
        let n = buf.len().min(self.pending.len() - self.taken);
        buf[..n].copy_from_slice(&self.pending[self.taken..self.taken + n]);
        self.taken += n;
        Ok(n)
    }

    /// Writes up to one chunk of `data`, waiting while the stack's queue is full; returns how
    /// many bytes were taken.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize, NetError> {
        let n = data.len().min(wire::MAX_CHUNK);
        if n > 0 {
            self.stack.send(wire::DATA, &data[..n], None).await?;
        }
        Ok(n)
    }

    /// Writes all of `data`.
    pub async fn write_all(&mut self, mut data: &[u8]) -> Result<(), NetError> {
        while !data.is_empty() {
            let n = self.write(data).await?;
            data = &data[n..];
        }
        Ok(())
    }

    /// Says this side will write no more (the peer reads the end); reading goes on.
    pub async fn shutdown(&mut self) -> Result<(), NetError> {
        self.stack.send(wire::SHUTDOWN, &[], None).await?;
        Ok(())
    }
}
