//! `net.sock`, where actors ask for sockets: each request brings the sending capability of the
//! actor's endpoint for the answer, and is served by a task of its own.

use alloc::rc::Rc;
use core::time::Duration;
use sdk::net::Peer;
use sdk::net::wire::{BIND, CONNECT, LISTEN, STATUS, STATUS_REPLY};
use sdk::rt::spawn;
use sdk::{Endpoint, Message};

use crate::net::Net;
use crate::{tcp, udp};

/// Serves the requests on `requests` for ever (the stack's own grant: it never closes).
pub async fn serve(net: Rc<Net>, requests: Endpoint) {
    while let Ok(Message { opcode, payload, cap, .. }) = requests.recv().await {
        let Some(reply) = cap.map(Endpoint::from) else { continue };
        match opcode {
            LISTEN => {
                let Some(&[a, b, c, d]) = payload.get(..4) else { continue };
                let (port, backlog) = (u16::from_le_bytes([a, b]), u16::from_le_bytes([c, d]));
                spawn(tcp::listen(Rc::clone(&net), port, backlog, reply));
            }
            CONNECT => {
                let (Some(peer), Some(millis)) =
                    (Peer::from_bytes(&payload), payload.get(Peer::LEN..Peer::LEN + 4))
                else {
                    continue;
                };
                let millis = u32::from_le_bytes([millis[0], millis[1], millis[2], millis[3]]);
                spawn(tcp::connect(Rc::clone(&net), peer, Duration::from_millis(millis.into()), reply));
            }
            BIND => {
                let Some(&[a, b]) = payload.get(..2) else { continue };
                spawn(udp::bind(Rc::clone(&net), u16::from_le_bytes([a, b]), reply));
            }
            STATUS => {
                let _ = reply.try_send(STATUS_REPLY, &net.status().to_bytes(), None);
            }
            _ => {}
        }
    }
}
