//! The network, through the network stack actor (`actors/netstack`), which an actor reaches
//! with a `net.sock` grant: [`Network::listen`] gives a [`TcpListener`], whose `accept().await`
//! gives [`TcpStream`]s; [`Network::connect`] opens one; [`Network::bind_udp`] gives a
//! [`UdpSocket`]. Reads and writes are `async` and
//! bounded: a writer waits while the stack's queue for the connection is full, and the stack
//! stops taking bytes from the peer while the reader's is. Time limits are
//! [`rt::with_timeout`](crate::rt::with_timeout) around any call.
//!
//! ```ignore
//! let network = Network::from_grant(0);
//! let listener = network.listen(7, 8).await?;
//! loop {
//!     let (mut stream, _peer) = listener.accept().await?;
//!     sdk::rt::spawn(async move {
//!         let mut buf = [0u8; 4096];
//!         while let Ok(n @ 1..) = stream.read(&mut buf).await {
//!             if stream.write_all(&buf[..n]).await.is_err() { break }
//!         }
//!     });
//! }
//! ```

mod tcp;
mod udp;
pub mod wire;

use core::fmt;
use core::time::Duration;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use wire::{Failure, Peer, Status};

use crate::{Endpoint, Error};

/// Messages a listener's or connection's own endpoint holds: up to 16 chunks in flight.
const QUEUE: u32 = 16;

/// Why a network call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The stack says so.
    Failed(Failure),
    /// The network stack is gone (it ended, or was never granted).
    StackGone,
    /// The stack answered something the protocol does not allow.
    Protocol,
    /// A host call failed.
    Kernel(Error),
}

impl From<Error> for NetError {
    fn from(error: Error) -> Self {
        match error {
            Error::Closed => NetError::StackGone,
            other => NetError::Kernel(other),
        }
    }
}

impl From<crate::SendError> for NetError {
    fn from(error: crate::SendError) -> Self {
        error.error.into()
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Failed(failure) => failure.fmt(f),
            NetError::StackGone => f.write_str("the network stack is gone"),
            NetError::Protocol => f.write_str("the network stack broke the socket protocol"),
            NetError::Kernel(e) => write!(f, "kernel: {e}"),
        }
    }
}

impl core::error::Error for NetError {}

/// The network stack's door (`net.sock`).
#[derive(Debug, Clone)]
pub struct Network(Endpoint);

impl Network {
    /// The `n`-th grant of this actor's manifest line, as the network stack.
    pub fn from_grant(n: u32) -> Network {
        Network(Endpoint::from_grant(n))
    }

    /// Listens on `port` for TCP connections, up to `backlog` of them waiting or open at
    /// once (more are refused, and counted).
    pub async fn listen(&self, port: u16, backlog: u16) -> Result<TcpListener, NetError> {
        let (own, for_stack) = Endpoint::pair(QUEUE)?;
        let mut request = [0u8; 4];
        request[..2].copy_from_slice(&port.to_le_bytes());
        request[2..].copy_from_slice(&backlog.to_le_bytes());
        self.0.send(wire::LISTEN, &request, Some(for_stack)).await?;
        let reply = own.recv().await?;
        match (reply.opcode, reply.cap) {
            (wire::LISTENING, Some(stack)) => Ok(TcpListener::new(own, Endpoint::from(stack), port)),
            (wire::FAILED, _) => Err(failure(&reply.payload)),
            _ => Err(NetError::Protocol),
        }
    }

    /// Opens a TCP connection to `peer`, giving up after `timeout`.
    pub async fn connect(&self, peer: Peer, timeout: Duration) -> Result<TcpStream, NetError> {
        let (own, for_stack) = Endpoint::pair(QUEUE)?;
        let mut request = [0u8; Peer::LEN + 4];
        request[..Peer::LEN].copy_from_slice(&peer.to_bytes());
        let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        request[Peer::LEN..].copy_from_slice(&millis.to_le_bytes());
        self.0.send(wire::CONNECT, &request, Some(for_stack)).await?;
        let reply = own.recv().await?;
        match (reply.opcode, reply.cap) {
            (wire::CONNECTED, Some(stack)) => Ok(TcpStream::new(Endpoint::from(stack), own, peer)),
            (wire::FAILED, _) => Err(failure(&reply.payload)),
            _ => Err(NetError::Protocol),
        }
    }

    /// A UDP socket on `port`.
    pub async fn bind_udp(&self, port: u16) -> Result<UdpSocket, NetError> {
        let (own, for_stack) = Endpoint::pair(QUEUE)?;
        self.0.send(wire::BIND, &port.to_le_bytes(), Some(for_stack)).await?;
        let reply = own.recv().await?;
        match (reply.opcode, reply.cap) {
            (wire::BOUND, Some(stack)) => Ok(UdpSocket::new(Endpoint::from(stack), own, port)),
            (wire::FAILED, _) => Err(failure(&reply.payload)),
            _ => Err(NetError::Protocol),
        }
    }

    /// The stack's address and figures.
    pub async fn status(&self) -> Result<Status, NetError> {
        let (own, for_stack) = Endpoint::pair(1)?;
        self.0.send(wire::STATUS, &[], Some(for_stack)).await?;
        let reply = own.recv().await?;
        match reply.opcode {
            wire::STATUS_REPLY => Status::from_bytes(&reply.payload).ok_or(NetError::Protocol),
            _ => Err(NetError::Protocol),
        }
    }
}

impl From<Endpoint> for Network {
    /// Treats an endpoint (a grant looked up by the caller) as the stack's door.
    fn from(endpoint: Endpoint) -> Network {
        Network(endpoint)
    }
}

/// The failure a [`wire::FAILED`] payload names.
fn failure(payload: &[u8]) -> NetError {
    match payload.get(..4) {
        Some(&[a, b, c, d]) => NetError::Failed(Failure::from_code(u32::from_le_bytes([a, b, c, d]))),
        _ => NetError::Protocol,
    }
}
