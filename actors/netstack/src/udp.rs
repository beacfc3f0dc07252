//! UDP sockets: a `BIND` becomes a smoltcp socket on the port, carried both ways until the
//! actor drops its socket (its endpoint closes) — datagrams from peers to the actor as
//! `DATAGRAM` messages while its queue has room (past that smoltcp's buffer, then the card,
//! drop them, as UDP allows), and the actor's to their peers as the socket takes them.

use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::task::Poll;
use sdk::Endpoint;
use sdk::net::wire::{BOUND, DATAGRAM, FAILED, MAX_DATAGRAM};
use sdk::net::{Failure, Peer};
use sdk::rt::select;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::udp;
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address};

use crate::net::Net;

/// UDP sockets at once.
const MAX_SOCKETS: usize = 32;
/// Datagrams each socket buffers each way, and their bytes.
const PACKETS: usize = 16;
const BYTES: usize = 16 * 1024;
/// Messages queued on the stack's endpoint for a socket.
const QUEUE: u32 = 16;

/// Says why to `to`.
fn fail(to: &Endpoint, failure: Failure) {
    let _ = to.try_send(FAILED, &failure.code().to_le_bytes(), None);
}

/// Binds `port` for the actor behind `outbox` and carries its datagrams until it lets go.
pub async fn bind(net: Rc<Net>, port: u16, outbox: Endpoint) {
    if port == 0 {
        return fail(&outbox, Failure::Invalid);
    }
    if net.udp_ports.borrow().contains(&port) {
        return fail(&outbox, Failure::AddressInUse);
    }
    if net.udp_ports.borrow().len() >= MAX_SOCKETS {
        return fail(&outbox, Failure::Limit);
    }
    let buffer = || udp::PacketBuffer::new(vec![udp::PacketMetadata::EMPTY; PACKETS], vec![0u8; BYTES]);
    let mut socket = udp::Socket::new(buffer(), buffer());
    if socket.bind(port).is_err() {
        return fail(&outbox, Failure::Invalid);
    }
    let Ok((inbox, for_actor)) = Endpoint::pair(QUEUE) else { return fail(&outbox, Failure::Limit) };
    if outbox.try_send(BOUND, &[], Some(for_actor)).is_err() {
        return;
    }
    let handle = net.stack.borrow_mut().sockets.add(socket);
    net.udp_ports.borrow_mut().push(port);
    // Whichever side ends first ends both: the actor let go, or can no longer be reached.
    let _ = select(upstream(&net, handle, &inbox), downstream(&net, handle, &outbox)).await;
    net.stack.borrow_mut().sockets.remove(handle);
    net.udp_ports.borrow_mut().retain(|&p| p != port);
}

/// Runs `f` on the UDP socket `handle`.
fn with<R>(net: &Net, handle: SocketHandle, f: impl FnOnce(&mut udp::Socket<'static>) -> R) -> R {
    f(net.stack.borrow_mut().sockets.get_mut::<udp::Socket<'static>>(handle))
}

/// The actor's datagrams to their peers, until the actor lets go.
async fn upstream(net: &Net, handle: SocketHandle, inbox: &Endpoint) {
    while let Ok(message) = inbox.recv().await {
        let Some(peer) = Peer::from_bytes(&message.payload) else { continue };
        let data = &message.payload[Peer::LEN..];
        if message.opcode != DATAGRAM || data.len() > MAX_DATAGRAM {
            continue;
        }
        poll_fn(|cx| {
            with(net, handle, |socket| {
                if socket.payload_send_capacity() >= data.len() && socket.can_send() {
                    Poll::Ready(())
                } else {
                    socket.register_send_waker(cx.waker());
                    Poll::Pending
                }
            })
        })
        .await;
        let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from(peer.address)), peer.port);
        // A datagram to a peer the interface cannot reach is dropped, as UDP allows.
        let _ = with(net, handle, |socket| socket.send_slice(data, to));
        net.count(|f| f.bytes_out += data.len() as u64);
        net.poke();
    }
}

/// Datagrams from peers to the actor, until the actor can no longer be reached.
async fn downstream(net: &Net, handle: SocketHandle, outbox: &Endpoint) {
    let mut message: Vec<u8> = vec![0u8; Peer::LEN + MAX_DATAGRAM];
    loop {
        let received = poll_fn(|cx| {
            with(net, handle, |socket| match socket.recv_slice(&mut message[Peer::LEN..]) {
                Ok((n, meta)) => Poll::Ready(Some((n, meta.endpoint))),
                Err(udp::RecvError::Truncated) => Poll::Ready(None),
                Err(udp::RecvError::Exhausted) => {
                    socket.register_recv_waker(cx.waker());
                    Poll::Pending
                }
            })
        })
        .await;
        let Some((n, from)) = received else { continue };
        let IpAddress::Ipv4(address) = from.addr;
        message[..Peer::LEN].copy_from_slice(&Peer { address: address.octets(), port: from.port }.to_bytes());
        net.count(|f| f.bytes_in += n as u64);
        if outbox.send(DATAGRAM, &message[..Peer::LEN + n], None).await.is_err() {
            return;
        }
    }
}
