//! What every task of the stack shares: the interface and its sockets, the link, the figures,
//! and a way to have the poll loop run again (after a task gave a socket bytes to send, or
//! took bytes, which opens the window).

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};
use sdk::net::Status;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp;
use smoltcp::wire::IpCidr;

use crate::interface::{Addressing, Stack};
use crate::link::Link;

/// Connections open at once over all listeners; more are refused.
pub const MAX_CONNECTIONS: u64 = 128;

/// The stack's shared state (the actor is single-threaded: cells, no locks).
pub struct Net {
    /// The interface and sockets.
    pub stack: RefCell<Stack>,
    /// The card.
    pub link: RefCell<Link>,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// TCP ports listened on.
    pub ports: RefCell<Vec<u16>>,
    /// UDP ports bound.
    pub udp_ports: RefCell<Vec<u16>>,
    /// Connection figures.
    pub figures: Cell<Figures>,
    /// Sockets whose connection is over, removed once they are closed.
    pub finished: RefCell<Vec<SocketHandle>>,
    poked: Cell<bool>,
    poll_loop: RefCell<Option<Waker>>,
}

/// Connections and bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Figures {
    /// Open now.
    pub open: u64,
    /// Accepted or opened, ever.
    pub accepted: u64,
    /// Refused at a limit.
    pub refused: u64,
    /// Bytes from peers.
    pub bytes_in: u64,
    /// Bytes to peers.
    pub bytes_out: u64,
}

impl Net {
    /// Shared state around `stack` on `link`.
    pub fn new(stack: Stack, link: Link, mac: [u8; 6]) -> Self {
        Self {
            stack: RefCell::new(stack),
            link: RefCell::new(link),
            mac,
            ports: RefCell::new(Vec::new()),
            udp_ports: RefCell::new(Vec::new()),
            figures: Cell::new(Figures::default()),
            finished: RefCell::new(Vec::new()),
            poked: Cell::new(false),
            poll_loop: RefCell::new(None),
        }
    }

    /// Changes the figures.
    pub fn count(&self, f: impl FnOnce(&mut Figures)) {
        let mut figures = self.figures.get();
        f(&mut figures);
        self.figures.set(figures);
    }

    /// Has the poll loop run again soon.
    pub fn poke(&self) {
        self.poked.set(true);
        if let Some(waker) = self.poll_loop.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Waits until [`poke`](Self::poke) is called (for the poll loop).
    pub async fn poked(&self) {
        poll_fn(|cx| {
            if self.poked.replace(false) {
                return Poll::Ready(());
            }
            *self.poll_loop.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Runs `f` on the TCP socket `handle`.
    pub fn tcp<R>(&self, handle: SocketHandle, f: impl FnOnce(&mut tcp::Socket<'static>) -> R) -> R {
        f(self.stack.borrow_mut().sockets.get_mut::<tcp::Socket<'static>>(handle))
    }

    /// Polls the interface, hands what it made to the driver, and removes finished sockets
    /// that are closed.
    pub fn poll(&self) {
        let mut stack = self.stack.borrow_mut();
        let mut link = self.link.borrow_mut();
        stack.poll(&mut link);
        link.flush();
        self.finished.borrow_mut().retain(|&handle| {
            let socket = stack.sockets.get::<tcp::Socket<'static>>(handle);
            let closed = matches!(socket.state(), tcp::State::Closed | tcp::State::TimeWait);
            if closed {
                stack.sockets.remove(handle);
            }
            !closed
        });
    }

    /// The figures as `STATUS` answers them.
    pub fn status(&self) -> Status {
        let stack = self.stack.borrow();
        let link = self.link.borrow().counters;
        let figures = self.figures.get();
        let mut status = Status {
            mac: self.mac,
            addressing: match stack.addressing {
                Addressing::Waiting => 0,
                Addressing::Dhcp => 1,
                Addressing::Fallback => 2,
            },
            frames_in: link.received,
            frames_out: link.sent,
            frames_dropped: link.dropped,
            connections: figures.open,
            accepted: figures.accepted,
            refused: figures.refused,
            bytes_in: figures.bytes_in,
            bytes_out: figures.bytes_out,
            ..Status::default()
        };
        if let Some(IpCidr::Ipv4(cidr)) = stack.iface.ip_addrs().first() {
            status.address = cidr.address().octets();
            status.prefix = cidr.prefix_len();
        }
        status
    }
}
