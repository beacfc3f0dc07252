//! The kernel's vfs client: a WASI file call becomes a request to the vfs actor, sent with the
//! program's vfs capability, and the program's fiber waits for the reply (as an SDK actor's
//! `Endpoint::call` does, with the same opcodes and encoding). The message and the endpoint
//! the reply comes back on are charged to the program.

use protocol::vfs::{Reply, Request, Response};

use super::{Errno, Fail};
use crate::cap::{Capability, Object, Rights};
use crate::ipc::{Message, Payload};
use crate::proc::Wait;
use crate::wasm::actor::ActorContext;
use crate::wasm::handoff;
use minimalos_abi::{REPLY, REQUEST};

/// Sends `request` to the vfs behind `vfs` and waits for its answer.
pub fn call(ctx: &ActorContext, vfs: &Capability, request: &Request) -> Result<Reply, Fail> {
    let Object::Endpoint(server) = vfs.object() else { return Err(Errno::IO.into()) };
    let account = ctx.process.account();
    let bytes = postcard::to_allocvec(request).map_err(|_| Errno::NOMEM)?;
    let payload = Payload::new(&bytes, Some(account)).map_err(Errno::from)?;
    // Only the server's copy may write: if it drops the request unanswered, the receive below
    // ends with `Closed` instead of waiting for ever.
    let (reader, for_server) = {
        let made = Capability::endpoint(core::num::NonZeroUsize::MIN, Some(account)).map_err(Errno::from)?;
        (made.derive(Rights::READ).map_err(Errno::from)?, made.derive(Rights::WRITE).map_err(Errno::from)?)
    };
    // `reader` lives to the end: while it does, the endpoint has a receiver.
    let Object::Endpoint(answers) = reader.object() else { return Err(Errno::IO.into()) };
    let message = Message { sender: ctx.process.pid(), opcode: REQUEST, payload, cap: Some(for_server) };
    let _blocked = ctx.process.waiting(Wait::Kernel);
    // The vfs gone is as a disk that went away.
    super::send_waiting(ctx, server, message)?.map_err(|_| Errno::IO)?;
    let answer = handoff::block_on(ctx, answers.recv()).map_err(|_| ctx.ended())?.map_err(|_| Errno::IO)?;
    if answer.opcode != REPLY {
        return Err(Errno::IO.into());
    }
    let response: Response = postcard::from_bytes(&answer.payload).map_err(|_| Errno::IO)?;
    Ok(response.map_err(Errno::from)?)
}
