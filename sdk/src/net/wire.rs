//! The socket protocol between actors and the network stack (`actors/netstack`), defined once
//! for both. Raw messages, little-endian fields, no encoding library.
//!
//! A receiving end is always made by its receiver (a message can carry only a sending
//! capability), so every exchange brings one along:
//! - To listen, an actor sends [`LISTEN`] to the stack's `net.sock` with WRITE on an endpoint
//!   of its own; the stack answers there [`LISTENING`] or [`FAILED`], then [`ACCEPTED`] for
//!   each connection, with WRITE on an endpoint the stack made for it.
//! - The actor sends [`HELLO`] there with WRITE on its own endpoint for the connection; from
//!   then on bytes flow as [`DATA`] each way, [`SHUTDOWN`] ends the actor's side, [`EOF`] the
//!   peer's, and [`FAILED`] says why the connection broke. Dropping its capability closes the
//!   actor's side.
//! - To connect, an actor sends [`CONNECT`] to `net.sock` with WRITE on its connection
//!   endpoint; the stack answers [`CONNECTED`] (with WRITE on its own) or [`FAILED`].
//! - For UDP, an actor sends [`BIND`] with WRITE on its socket's endpoint; the stack answers
//!   [`BOUND`] (with WRITE on its own) or [`FAILED`]; then [`DATAGRAM`]s go each way, each
//!   naming the peer. Dropping its capability closes the socket.
//!
//! Each queue is bounded, so a side that stops reading makes the other wait: the stack stops
//! taking bytes from the peer (TCP's window closes) while the actor's queue is full, and an
//! actor's writes wait while the stack's is.

/// To `net.sock`: listen on a port. Payload: port `u16`, backlog `u16`; cap: WRITE on the
/// listener's endpoint.
pub const LISTEN: u32 = 0x6e00;
/// To `net.sock`: open a connection. Payload: a [`Peer`], then the timeout in ms `u32`; cap:
/// WRITE on the connection's endpoint.
pub const CONNECT: u32 = 0x6e01;
/// To `net.sock`: the stack's figures. Cap: WRITE on the endpoint the [`Status`] goes to.
pub const STATUS: u32 = 0x6e02;
/// To `net.sock`: a UDP socket on a port. Payload: port `u16`; cap: WRITE on the socket's
/// endpoint.
pub const BIND: u32 = 0x6e03;
/// To a listener: it listens.
pub const LISTENING: u32 = 0x6e10;
/// To a listener: a connection came. Payload: the peer ([`Peer`]); cap: WRITE on the stack's
/// endpoint for it.
pub const ACCEPTED: u32 = 0x6e11;
/// To a connection: it is open. Payload: the peer; cap: WRITE on the stack's endpoint for it.
pub const CONNECTED: u32 = 0x6e12;
/// Either way on a connection: bytes (1 to [`MAX_CHUNK`]).
pub const DATA: u32 = 0x6e13;
/// To a connection: the peer will send no more.
pub const EOF: u32 = 0x6e14;
/// To a listener or connection: it failed. Payload: a [`Failure`] as `u32`.
pub const FAILED: u32 = 0x6e15;
/// To the stack on an accepted connection: the actor's endpoint (cap: WRITE on it).
pub const HELLO: u32 = 0x6e16;
/// To the stack on a connection: the actor will send no more (TCP's FIN).
pub const SHUTDOWN: u32 = 0x6e17;
/// The answer to [`STATUS`]: a [`Status`].
pub const STATUS_REPLY: u32 = 0x6e18;
/// Either way on a UDP socket: a [`Peer`] (to or from), then the datagram's bytes (up to
/// [`MAX_DATAGRAM`]).
pub const DATAGRAM: u32 = 0x6e19;
/// To a UDP socket: it is bound. Cap: WRITE on the stack's endpoint for it.
pub const BOUND: u32 = 0x6e1a;

/// Largest UDP datagram: what one unfragmented frame carries.
pub const MAX_DATAGRAM: usize = 1500 - 20 - 8;

/// Most bytes a [`DATA`] message carries.
pub const MAX_CHUNK: usize = crate::sys::MAX_PAYLOAD;

/// An IPv4 address and port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The address.
    pub address: [u8; 4],
    /// The port.
    pub port: u16,
}

impl Peer {
    /// Bytes it takes.
    pub const LEN: usize = 6;

    /// Its bytes.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let [a, b, c, d] = self.address;
        let [p, q] = self.port.to_le_bytes();
        [a, b, c, d, p, q]
    }

    /// The peer at the start of `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match *bytes.get(..Self::LEN)? {
            [a, b, c, d, p, q] => Some(Self { address: [a, b, c, d], port: u16::from_le_bytes([p, q]) }),
            _ => None,
        }
    }
}

impl core::fmt::Display for Peer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c, d] = self.address;
        write!(f, "{a}.{b}.{c}.{d}:{}", self.port)
    }
}

/// Why a listener or connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The peer refused the connection.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// The peer stopped answering, or did not answer in time.
    TimedOut,
    /// No route to the peer, or the interface has no address yet.
    Unreachable,
    /// Another listener has the port.
    AddressInUse,
    /// The stack's limit on listeners or connections is reached.
    Limit,
    /// The request was malformed (port 0, backlog 0, a short payload).
    Invalid,
}

impl Failure {
    const ALL: [Failure; 7] = [
        Failure::Refused,
        Failure::Reset,
        Failure::TimedOut,
        Failure::Unreachable,
        Failure::AddressInUse,
        Failure::Limit,
        Failure::Invalid,
    ];

    /// Its number on the wire.
    pub fn code(self) -> u32 {
        self as u32 + 1
    }

    /// The failure `code` stands for (an unknown code reads as `Reset`).
    pub fn from_code(code: u32) -> Self {
        Self::ALL.into_iter().find(|f| f.code() == code).unwrap_or(Failure::Reset)
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Failure::Refused => "connection refused",
            Failure::Reset => "connection reset",
            Failure::TimedOut => "timed out",
            Failure::Unreachable => "network unreachable",
            Failure::AddressInUse => "port in use",
            Failure::Limit => "the network stack's connection limit is reached",
            Failure::Invalid => "invalid request",
        })
    }
}

/// The stack's figures, as [`STATUS_REPLY`] carries them: eleven `u64`, then the MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    /// The interface's address and prefix length (all zero: none yet).
    pub address: [u8; 4],
    /// Its prefix length.
    pub prefix: u8,
    /// 0 none yet, 1 DHCP, 2 fallback.
    pub addressing: u8,
    /// The card's MAC address.
    pub mac: [u8; 6],
    /// Frames in and out, and dropped on a full queue.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Frames dropped.
    pub frames_dropped: u64,
    /// Connections open now.
    pub connections: u64,
    /// Connections accepted and opened, ever.
    pub accepted: u64,
    /// Connections refused because a listener was at its backlog or the stack at its limit.
    pub refused: u64,
    /// Bytes received and sent on connections.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
}

impl Status {
    /// Bytes it takes.
    pub const LEN: usize = 12 + 8 * 8;

    /// Its bytes.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..4].copy_from_slice(&self.address);
        out[4] = self.prefix;
        out[5] = self.addressing;
        out[6..12].copy_from_slice(&self.mac);
        let figures = [
            self.frames_in,
            self.frames_out,
            self.frames_dropped,
            self.connections,
            self.accepted,
            self.refused,
            self.bytes_in,
            self.bytes_out,
        ];
        for (i, figure) in figures.into_iter().enumerate() {
            out[12 + 8 * i..20 + 8 * i].copy_from_slice(&figure.to_le_bytes());
        }
        out
    }

    /// The status these bytes hold.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; Self::LEN] = bytes.get(..Self::LEN)?.try_into().ok()?;
        let figure =
            |i: usize| u64::from_le_bytes(bytes[12 + 8 * i..20 + 8 * i].try_into().unwrap_or_default());
        let mut status = Status { prefix: bytes[4], addressing: bytes[5], ..Status::default() };
        status.address.copy_from_slice(&bytes[..4]);
        status.mac.copy_from_slice(&bytes[6..12]);
        [
            status.frames_in,
            status.frames_out,
            status.frames_dropped,
            status.connections,
            status.accepted,
            status.refused,
            status.bytes_in,
            status.bytes_out,
        ] = core::array::from_fn(figure);
        Some(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_as_written() {
        let peer = Peer { address: [10, 0, 2, 2], port: 8080 };
        assert_eq!(Peer::from_bytes(&peer.to_bytes()), Some(peer));
        assert_eq!(Peer::from_bytes(&[1, 2, 3]), None);
        let status = Status {
            address: [10, 0, 2, 15],
            prefix: 24,
            refused: 3,
            bytes_out: 1 << 40,
            ..Status::default()
        };
        assert_eq!(Status::from_bytes(&status.to_bytes()), Some(status));
        for failure in Failure::ALL {
            assert_eq!(Failure::from_code(failure.code()), failure);
        }
        assert_eq!(Failure::from_code(0), Failure::Reset);
    }
}
