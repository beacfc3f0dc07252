//! `netstack.wasm`: the network stack. TCP/IP is `smoltcp` over the card's driver: frames
//! arrive on `net.up` (grant 1) and go out on `net.dev` (grant 0), one per message
//! (`protocol::net`). Actors ask for sockets on `net.sock` (grant 2), in the protocol of
//! `sdk::net::wire`, and use them with `sdk::net`.
//!
//! - `link`: the card as smoltcp sees it, by way of its driver.
//! - `interface`: the interface and its address (DHCP, or a fallback).
//! - `net`: what the stack's tasks share.
//! - `control`: requests on `net.sock`; `tcp`: listeners and outgoing connections;
//!   `connection`: the bytes of one connection, both ways; `udp`: datagram sockets.
//!
//! The poll loop below drives smoltcp: it polls the interface, hands what it made to the
//! driver, then waits for a frame, a task's poke, or the moment smoltcp next needs the clock.
//! Every socket's task waits on the socket's wakers, which the poll wakes.
#![no_std]

extern crate alloc;

mod connection;
mod control;
mod interface;
mod link;
mod net;
mod tcp;
mod udp;

use alloc::rc::Rc;
use protocol::net::{LINK_UP, QUERY, RECEIVED};
use sdk::Endpoint;
use sdk::rt::{Either, select, spawn, with_timeout};

use interface::Stack;
use link::Link;
use net::Net;

#[sdk::main]
async fn main() -> Result<(), sdk::Error> {
    let driver = Endpoint::from_grant(0);
    let frames = Endpoint::from_grant(1);
    let requests = Endpoint::from_grant(2);
    // The driver announces the card when it starts; if it started first, ask again.
    let _ = driver.try_send(QUERY, &[], None);
    let mut link = Link::new(driver);
    let mac = loop {
        let message = frames.recv().await?;
        if message.opcode == LINK_UP && message.payload.len() == 6 {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&message.payload);
            break mac;
        }
    };
    let stack = Stack::new(&mut link, mac);
    let net = Rc::new(Net::new(stack, link, mac));
    spawn(control::serve(Rc::clone(&net), requests));
    loop {
        net.poll();
        if net.link.borrow().has_incoming() {
            continue;
        }
        let delay = net.stack.borrow_mut().delay();
        let first = match with_timeout(delay, select(frames.recv(), net.poked())).await {
            Ok(Either::Left(message)) => message?,
            Ok(Either::Right(())) | Err(_) => continue,
        };
        let mut next = Some(first);
        while let Some(message) = next {
            match message.opcode {
                RECEIVED => net.link.borrow_mut().arrived(message.payload),
                // The driver came back (a restart): same card, same address.
                LINK_UP => sdk::debug!("netstack: the card's driver is up again"),
                _ => {}
            }
            next = frames.try_recv().ok();
        }
    }
}
