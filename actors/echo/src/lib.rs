//! `echo.wasm`: the echo service (RFC 862) on TCP and UDP port 7, through the network stack
//! (`net.sock`, grant 0). Each TCP connection is a task of its own; whatever it reads it
//! writes back, until the peer closes. Up to [`BACKLOG`] connections at once; more are refused
//! by the stack. Each UDP datagram goes back to its sender.
#![no_std]

use sdk::net::{NetError, Network};
use sdk::rt::{join, spawn};

/// The echo port.
const PORT: u16 = 7;
/// TCP connections served at once.
const BACKLOG: u16 = 32;

#[sdk::main]
async fn main() -> Result<(), NetError> {
    let network = Network::from_grant(0);
    let (tcp, udp) = join(tcp(&network), udp(&network)).await;
    tcp.and(udp)
}

/// Echoes every TCP connection.
async fn tcp(network: &Network) -> Result<(), NetError> {
    let listener = network.listen(PORT, BACKLOG).await?;
    loop {
        let (mut stream, _peer) = listener.accept().await?;
        spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf).await {
                if stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// Sends every UDP datagram back.
async fn udp(network: &Network) -> Result<(), NetError> {
    let socket = network.bind_udp(PORT).await?;
    let mut buf = [0u8; sdk::net::wire::MAX_DATAGRAM];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        socket.send_to(&buf[..n.min(buf.len())], peer).await?;
    }
}
