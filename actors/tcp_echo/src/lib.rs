//! `tcp_echo.wasm`: a TCP echo server on port 7 (RFC 862), through the network stack
//! (`net.sock`, grant 0). Each connection is a task of its own; whatever it reads it writes
//! back, until the peer closes. Up to [`BACKLOG`] connections at once; more are refused by the
//! stack.
#![no_std]

use sdk::net::Network;
use sdk::rt::spawn;

/// The echo port.
const PORT: u16 = 7;
/// Connections served at once.
const BACKLOG: u16 = 32;

#[sdk::main]
async fn main() -> Result<(), sdk::net::NetError> {
    let listener = Network::from_grant(0).listen(PORT, BACKLOG).await?;
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
