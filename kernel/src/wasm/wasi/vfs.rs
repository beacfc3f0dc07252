//! The kernel's vfs client: a WASI file call becomes a request to the vfs actor, sent with the
//! program's vfs capability, and the program's fiber waits for the reply (as an SDK actor's
//! `Endpoint::call` does, with the same opcodes and encoding). The message and the endpoint
//! the reply comes back on are charged to the program.

use alloc::vec::Vec;

use protocol::vfs::{Kind, MAX_IO, Reply, Request, Response};

use super::{Errno, Fail};
use crate::cap::{Capability, Object, Rights};
use crate::ipc::{Message, Payload};
use crate::mem::kmem::Charge;
use crate::proc::Wait;
use crate::wasm::actor::ActorContext;
use crate::wasm::handoff;
use minimalos_abi::{REPLY, REQUEST};

/// The whole file at the vfs path `path`, if it is at most `most` bytes (`EFBIG` if larger),
/// read in pieces of one request each; its bytes are charged to the caller while it holds them.
pub fn read_file(
    ctx: &ActorContext,
    vfs: &Capability,
    path: &str,
    most: usize,
) -> Result<(Vec<u8>, Charge), Fail> {
    let Reply::Stat(metadata) = call(ctx, vfs, &Request::Stat { path: path.into() })? else {
        return Err(Errno::IO.into());
    };
    if metadata.kind == Kind::Dir {
        return Err(Errno::ISDIR.into());
    }
    let size = usize::try_from(metadata.size).ok().filter(|&size| size <= most).ok_or(Errno::FBIG)?;
    let charge = ctx.process.account().charge(size as u64).map_err(Errno::from)?;
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| Errno::NOMEM)?;
    while bytes.len() < size {
        let request = Request::Read { path: path.into(), offset: bytes.len() as u64, len: MAX_IO };
        match call(ctx, vfs, &request)? {
            // The file shrank meanwhile: what was read is the module.
            Reply::Data(data) if data.is_empty() => break,
            Reply::Data(data) => bytes.extend_from_slice(&data[..data.len().min(size - bytes.len())]),
            _ => return Err(Errno::IO.into()),
        }
    }
    Ok((bytes, charge))
}

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
