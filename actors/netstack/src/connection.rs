//! One TCP connection between an actor and a peer: bytes from the actor's messages into the
//! socket (`upstream`), bytes from the socket into messages to the actor (`downstream`), each
//! waiting on the other side's room, so neither side can make the stack hold more than the
//! socket's buffers and the two queues.

use alloc::rc::Rc;
use alloc::vec;
use core::future::poll_fn;
use core::task::{Poll, Waker};
use sdk::Endpoint;
use sdk::net::Failure;
use sdk::net::wire::{DATA, EOF, FAILED, MAX_CHUNK, SHUTDOWN};
use sdk::rt::join;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};

use crate::net::Net;

/// Bytes of each socket's receive and send buffers.
pub const SOCKET_BUFFER: usize = 16 * 1024;

/// A new TCP socket, in the socket set.
pub fn new_socket(net: &Net) -> SocketHandle {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; SOCKET_BUFFER]),
        tcp::SocketBuffer::new(vec![0u8; SOCKET_BUFFER]),
    );
    // Actors write whole chunks (a message each), so holding small segments back for an ACK
    // would only add a round trip: an answer's head and body written apart waited for the
    // peer's delayed ACK.
    socket.set_nagle_enabled(false);
    net.stack.borrow_mut().sockets.add(socket)
}

/// Carries the connection on socket `handle` between the actor's messages on `inbox` and
/// `outbox` and the peer, until both directions are over; then the socket is left to close.
pub async fn serve(net: Rc<Net>, handle: SocketHandle, inbox: Endpoint, outbox: Endpoint) {
    join(upstream(&net, handle, &inbox), downstream(&net, handle, &outbox)).await;
    net.tcp(handle, tcp::Socket::close);
    net.finished.borrow_mut().push(handle);
    net.count(|f| f.open -= 1);
    net.poke();
}

/// The actor's bytes to the peer, until the actor shuts its side or goes.
async fn upstream(net: &Net, handle: SocketHandle, inbox: &Endpoint) {
    loop {
        let Ok(message) = inbox.recv().await else { break };
        match message.opcode {
            DATA => {
                let mut data = &message.payload[..];
                while !data.is_empty() {
                    if !sendable(net, handle).await {
                        return;
                    }
                    let sent = net.tcp(handle, |socket| socket.send_slice(data).unwrap_or(0));
                    net.count(|f| f.bytes_out += sent as u64);
                    data = &data[sent..];
                    net.poke();
                }
            }
            SHUTDOWN => break,
            _ => {}
        }
    }
    // The actor shut its side or dropped the connection: the peer gets a FIN once the bytes
    // before it are sent.
    net.tcp(handle, tcp::Socket::close);
    net.poke();
}

/// The peer's bytes to the actor, until the peer ends, the connection breaks or the actor
/// goes.
async fn downstream(net: &Net, handle: SocketHandle, outbox: &Endpoint) {
    let mut chunk = vec![0u8; MAX_CHUNK];
    while receivable(net, handle).await {
        let n = net.tcp(handle, |socket| socket.recv_slice(&mut chunk).unwrap_or(0));
        net.count(|f| f.bytes_in += n as u64);
        // The window opened.
        net.poke();
        if outbox.send(DATA, &chunk[..n], None).await.is_err() {
            // The actor is gone: nobody will read the rest.
            net.tcp(handle, tcp::Socket::abort);
            return;
        }
    }
    let state = net.tcp(handle, |socket| socket.state());
    let _ = match state {
        State::Closed | State::Listen | State::SynSent | State::SynReceived => {
            outbox.send(FAILED, &Failure::Reset.code().to_le_bytes(), None).await
        }
        _ => outbox.send(EOF, &[], None).await,
    };
}

/// Waits until the socket can take bytes; `false` once it never will.
async fn sendable(net: &Net, handle: SocketHandle) -> bool {
    let state = |socket: &tcp::Socket| (socket.can_send() || !socket.may_send()).then(|| socket.can_send());
    until(net, handle, state, tcp::Socket::register_send_waker).await
}

/// Waits until the socket has bytes; `false` once it never will.
async fn receivable(net: &Net, handle: SocketHandle) -> bool {
    let state = |socket: &tcp::Socket| (socket.can_recv() || !socket.may_recv()).then(|| socket.can_recv());
    until(net, handle, state, tcp::Socket::register_recv_waker).await
}

/// Waits until `state` of the socket has an answer, with `register` putting the task on the
/// socket's wakers meanwhile.
async fn until(
    net: &Net,
    handle: SocketHandle,
    state: impl Fn(&tcp::Socket) -> Option<bool>,
    register: fn(&mut tcp::Socket<'static>, &Waker),
) -> bool {
    poll_fn(|cx| {
        net.tcp(handle, |socket| match state(socket) {
            Some(answer) => Poll::Ready(answer),
            None => {
                register(socket, cx.waker());
                Poll::Pending
            }
        })
    })
    .await
}

/// Waits until the handshake is over: `true` once the connection is open (or already closing
/// after carrying bytes), `false` if it failed.
pub async fn established(net: &Net, handle: SocketHandle) -> bool {
    poll_fn(|cx| {
        net.tcp(handle, |socket| match socket.state() {
            State::Closed | State::Listen => Poll::Ready(false),
            State::SynSent | State::SynReceived => {
                socket.register_recv_waker(cx.waker());
                Poll::Pending
            }
            _ => Poll::Ready(true),
        })
    })
    .await
}
