//! UDP: [`UdpSocket`], a port's datagrams through the stack (see [`wire`](super::wire)).

use alloc::vec::Vec;

use super::wire::{self, MAX_DATAGRAM, Peer};
use super::{NetError, failure};
use crate::Endpoint;

/// A UDP port the stack holds for this actor; closed when dropped.
#[derive(Debug)]
pub struct UdpSocket {
    stack: Endpoint,
    own: Endpoint,
    port: u16,
}

impl UdpSocket {
    pub(super) fn new(stack: Endpoint, own: Endpoint, port: u16) -> Self {
        Self { stack, own, port }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends `data` (at most [`MAX_DATAGRAM`] bytes) to `peer`, waiting while the stack's
    /// queue is full.
    pub async fn send_to(&self, data: &[u8], peer: Peer) -> Result<(), NetError> {
        if data.len() > MAX_DATAGRAM {
            return Err(NetError::Failed(wire::Failure::Invalid));
        }
        let mut message = Vec::with_capacity(Peer::LEN + data.len());
        message.extend_from_slice(&peer.to_bytes());
        message.extend_from_slice(data);
        self.stack.send(wire::DATAGRAM, &message, None).await?;
        Ok(())
    }

    /// Waits for the next datagram: copies as much of it as fits into `buf` (the rest is
    /// dropped, as a datagram socket does) and says how long it was and who sent it.
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, Peer), NetError> {
        let message = self.own.recv().await?;
        match message.opcode {
            wire::DATAGRAM => {
                let peer = Peer::from_bytes(&message.payload).ok_or(NetError::Protocol)?;
                let data = &message.payload[Peer::LEN..];
                let n = data.len().min(buf.len());
                buf[..n].copy_from_slice(&data[..n]);
                Ok((data.len(), peer))
            }
            wire::FAILED => Err(failure(&message.payload)),
            _ => Err(NetError::Protocol),
        }
    }
}
