//! Listening and connecting: turning a `LISTEN` into listening sockets and their connections
//! into `ACCEPTED` messages, and a `CONNECT` into an open connection.
//!
//! smoltcp has no backlog: a listening socket becomes the connection when a SYN arrives. So a
//! listener keeps a few sockets listening, hands each that gets a connection to a task of its
//! own, and listens with a fresh one. Past the listener's backlog or the stack's limit, a new
//! connection is reset at once and counted as refused.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::Cell;
use core::future::poll_fn;
use core::task::Poll;
use core::time::Duration;
use sdk::Endpoint;
use sdk::net::wire::{ACCEPTED, CONNECTED, FAILED, HELLO, LISTENING};
use sdk::net::{Failure, Peer};
use sdk::rt::{Either, select, spawn, with_timeout};
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self, State};
use smoltcp::wire::{IpAddress, IpEndpoint, Ipv4Address};

use crate::connection::{self, established, new_socket};
use crate::net::{MAX_CONNECTIONS, Net};

/// Sockets a listener keeps listening: connections arriving in one poll beyond these are
/// reset by smoltcp before the listener can listen again.
const SPARE: usize = 4;
/// Listeners at once: each keeps [`SPARE`] sockets, with their buffers, in the stack's memory.
const MAX_LISTENERS: usize = 32;
/// Most connections one listener may have open.
const MAX_BACKLOG: u16 = 1024;
/// How long an accepted connection waits for its actor's `HELLO`.
const HELLO_PATIENCE: Duration = Duration::from_secs(5);
/// Messages queued on the stack's endpoint for a connection.
const QUEUE: u32 = 16;
/// The first local port of outgoing connections.
const EPHEMERAL: u16 = 49152;

/// Says why to `to`, as the payload of `FAILED`.
fn fail(to: &Endpoint, failure: Failure) {
    let _ = to.try_send(FAILED, &failure.code().to_le_bytes(), None);
}

/// Listens on `port` for the actor behind `events`, with up to `backlog` connections open,
/// until the actor drops its listener (which holds the only sender of the stack's endpoint for
/// it, so that endpoint closes).
pub async fn listen(net: Rc<Net>, port: u16, backlog: u16, events: Endpoint) {
    if port == 0 || backlog == 0 || backlog > MAX_BACKLOG {
        return fail(&events, Failure::Invalid);
    }
    if net.ports.borrow().contains(&port) {
        return fail(&events, Failure::AddressInUse);
    }
    if net.ports.borrow().len() >= MAX_LISTENERS {
        return fail(&events, Failure::Limit);
    }
    let Ok((control, for_actor)) = Endpoint::pair(1) else { return fail(&events, Failure::Limit) };
    if events.try_send(LISTENING, &[], Some(for_actor)).is_err() {
        return;
    }
    net.ports.borrow_mut().push(port);
    let mut listening = Vec::new();
    accept_loop(&net, port, u64::from(backlog), &events, &control, &mut listening).await;
    for handle in listening {
        net.tcp(handle, tcp::Socket::abort);
        net.stack.borrow_mut().sockets.remove(handle);
    }
    net.ports.borrow_mut().retain(|&p| p != port);
}

/// Keeps sockets listening and hands their connections over, until a message (or the end)
/// comes on `control`.
async fn accept_loop(
    net: &Rc<Net>,
    port: u16,
    backlog: u64,
    events: &Endpoint,
    control: &Endpoint,
    listening: &mut Vec<SocketHandle>,
) {
    let open = Rc::new(Cell::new(0u64));
    loop {
        while listening.len() < SPARE {
            let handle = new_socket(net);
            if net.tcp(handle, |socket| socket.listen(port)).is_err() {
                net.stack.borrow_mut().sockets.remove(handle);
                return;
            }
            listening.push(handle);
        }
        net.poke();
        let arrived = match select(next_arrival(net, listening), control.recv()).await {
            Either::Left(handle) => handle,
            Either::Right(_) => return,
        };
        listening.retain(|&h| h != arrived);
        if open.get() >= backlog || net.figures.get().open >= MAX_CONNECTIONS {
            net.tcp(arrived, tcp::Socket::abort);
            net.finished.borrow_mut().push(arrived);
            net.count(|f| f.refused += 1);
            continue;
        }
        open.set(open.get() + 1);
        net.count(|f| {
            f.open += 1;
            f.accepted += 1;
        });
        let (net, events, open) = (Rc::clone(net), events.clone(), Rc::clone(&open));
        spawn(async move {
            accepted(&net, arrived, &events).await;
            open.set(open.get() - 1);
        });
    }
}

/// Waits until one of the `listening` sockets has a connection coming; returns it.
async fn next_arrival(net: &Net, listening: &[SocketHandle]) -> SocketHandle {
    poll_fn(|cx| {
        for &handle in listening {
            let arrived = net.tcp(handle, |socket| {
                if socket.state() == State::Listen {
                    socket.register_recv_waker(cx.waker());
                    false
                } else {
                    true
                }
            });
            if arrived {
                return Poll::Ready(handle);
            }
        }
        Poll::Pending
    })
    .await
}

/// Finishes the handshake of a connection a listener got, offers it to the actor on `events`,
/// and carries it once the actor says hello.
async fn accepted(net: &Rc<Net>, handle: SocketHandle, events: &Endpoint) {
    let peer = net.tcp(handle, |socket| socket.remote_endpoint()).map(peer);
    let (Ok((inbox, for_actor)), Some(peer)) = (Endpoint::pair(QUEUE), peer) else {
        return drop_connection(net, handle);
    };
    if !established(net, handle).await
        || events.send(ACCEPTED, &peer.to_bytes(), Some(for_actor)).await.is_err()
    {
        return drop_connection(net, handle);
    }
    let hello = with_timeout(HELLO_PATIENCE, inbox.recv()).await;
    match hello {
        Ok(Ok(message)) if message.opcode == HELLO => match message.cap {
            Some(outbox) => connection::serve(Rc::clone(net), handle, inbox, Endpoint::from(outbox)).await,
            None => drop_connection(net, handle),
        },
        _ => drop_connection(net, handle),
    }
}

/// Resets a connection no actor will carry.
fn drop_connection(net: &Net, handle: SocketHandle) {
    net.tcp(handle, tcp::Socket::abort);
    net.finished.borrow_mut().push(handle);
    net.count(|f| f.open -= 1);
    net.poke();
}

/// Opens a connection to `peer` for the actor behind `outbox`, giving up after `timeout`.
pub async fn connect(net: Rc<Net>, peer: Peer, timeout: Duration, outbox: Endpoint) {
    if net.figures.get().open >= MAX_CONNECTIONS {
        net.count(|f| f.refused += 1);
        return fail(&outbox, Failure::Limit);
    }
    let handle = new_socket(&net);
    let local = EPHEMERAL + (net.figures.get().accepted % u64::from(u16::MAX - EPHEMERAL)) as u16;
    let remote = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from(peer.address)), peer.port);
    let started = {
        let mut stack = net.stack.borrow_mut();
        let stack = &mut *stack;
        let socket = stack.sockets.get_mut::<tcp::Socket<'static>>(handle);
        socket.connect(stack.iface.context(), remote, local).is_ok()
    };
    net.count(|f| {
        f.open += 1;
        f.accepted += 1;
    });
    if !started {
        fail(&outbox, Failure::Unreachable);
        return drop_connection(&net, handle);
    }
    net.poke();
    let opened = match with_timeout(timeout, established(&net, handle)).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::Refused),
        Err(_) => Err(Failure::TimedOut),
    };
    match (opened, Endpoint::pair(QUEUE)) {
        (Ok(()), Ok((inbox, for_actor))) => {
            if outbox.try_send(CONNECTED, &peer.to_bytes(), Some(for_actor)).is_ok() {
                connection::serve(Rc::clone(&net), handle, inbox, outbox).await;
            } else {
                drop_connection(&net, handle);
            }
        }
        (Err(failure), _) => {
            fail(&outbox, failure);
            drop_connection(&net, handle);
        }
        _ => {
            fail(&outbox, Failure::Limit);
            drop_connection(&net, handle);
        }
    }
}

/// A smoltcp endpoint as the protocol's peer (an IPv6 one cannot occur: the stack has IPv4
/// only).
fn peer(endpoint: IpEndpoint) -> Peer {
    let IpAddress::Ipv4(address) = endpoint.addr;
    Peer { address: address.octets(), port: endpoint.port }
}
