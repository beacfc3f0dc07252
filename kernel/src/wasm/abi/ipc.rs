//! Host functions for capabilities and IPC: send, receive, wait, create, derive, close.
//! The endpoint and capability logic they call is in `ipc` and `cap`; the caller's table is its
//! process's (`proc`).

use alloc::vec;
use alloc::vec::Vec;
use core::future::{Future, poll_fn};
use core::num::NonZeroUsize;
use core::pin::Pin;
use core::task::Poll;

use super::errors::{E_BUFFER_TOO_SMALL, E_INVALID_ARGUMENT, E_LIMIT, E_OUT_OF_BOUNDS, code};
use minimalos_abi::{
    CALL_ROUTE, CallRoute, MAX_WAIT_ENTRIES, MessageHeader, NO_CAP as NO_HANDLE, READABLE,
    READY_CLOSED as CLOSED, READY_INVALID as INVALID, RECV_HEADER, WAIT_ENTRY, WRITABLE, WaitEntry,
};

use super::{HostError, HostResult, arg_i32, arg_i64, i32_result, i64_result};
use crate::cap::{Capability, Handle, Rights};
use crate::error::Error;
use crate::ipc::{MAX_CAPACITY, Message, Payload, Waiting};
use crate::proc::{Inbox, Transferred, Wait};
use crate::time::{self, Instant};
use crate::wasm::actor::ActorContext;
use crate::wasm::engine::{HostCall, Value};
use crate::wasm::guest::{Guest, GuestRange};
use crate::wasm::handoff;

/// `sys_cap_send(handle: i64, opcode: i32, payload_ptr: i32, payload_len: i32, cap: i64) -> i32`
pub fn sys_cap_send(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, opcode, ptr, len, cap) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i32(args, 3)?, arg_i64(args, 4)?);
    let guest = call.guest();
    let Ok(payload) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    i32_result(send(ctx, &guest, handle, opcode as u32, payload, cap)?)
}

/// `sys_cap_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64`
pub fn sys_cap_recv(ctx: &ActorContext, call: HostCall<'_>, args: &[Value]) -> HostResult {
    receive(ctx, call, args, true)
}

/// `sys_cap_try_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64`
pub fn sys_cap_try_recv(ctx: &ActorContext, call: HostCall<'_>, args: &[Value]) -> HostResult {
    receive(ctx, call, args, false)
}

/// `sys_cap_call(buf_ptr: i32, buf_len: i32) -> i64`: the buffer holds the route (the handle to
/// send on, the one to wait on), then the request in the layout a receive writes; sends the
/// request, then waits for the answer and writes it over the request, in one host call. The
/// handles travel in the buffer, not as arguments: the interpreter pops each argument through
/// a call of its own. Everything that could refuse the receive is checked first, so an
/// argument error sends nothing.
pub fn sys_cap_call(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (ptr, len) = (arg_i32(args, 0)?, arg_i32(args, 1)?);
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i64_result(E_OUT_OF_BOUNDS.into()) };
    let (Some(route), Some(head)) = (buffer.sub(0, CALL_ROUTE), buffer.sub(CALL_ROUTE, RECV_HEADER)) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    let (mut route_bytes, mut head_bytes) = ([0u8; CALL_ROUTE], [0u8; RECV_HEADER]);
    guest.read(route, &mut route_bytes)?;
    guest.read(head, &mut head_bytes)?;
    let (route, request) = (CallRoute::from_bytes(&route_bytes), MessageHeader::from_bytes(&head_bytes));
    // The message area: the request now, the answer once it comes.
    let (_, message) = buffer.split_at(CALL_ROUTE);
    let Some(payload) = message.sub(RECV_HEADER, request.len as usize) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    let inbox = match ctx.process.inbox(Handle::from_raw(route.reply)) {
        Ok(inbox) => inbox,
        Err(error) => return i64_result(code(error).into()),
    };
    match send(ctx, &guest, route.handle, request.opcode, payload, request.cap)? {
        0 => i64_result(receive_into(ctx, &inbox, &mut guest, message, true)?),
        refused => i64_result(refused.into()),
    }
}

/// Sends the guest's bytes in `payload`; returns 0 or the error code.
fn send(
    ctx: &ActorContext,
    guest: &Guest<'_>,
    handle: i64,
    opcode: u32,
    payload: GuestRange,
    cap: i64,
) -> Result<i32, HostError> {
    // The guest's bytes go straight into the message: no staging buffer to zero and copy.
    let mut bytes = match Payload::zeroed(payload.len(), Some(ctx.process.account())) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(code(error)),
    };
    guest.read(payload, &mut bytes)?;
    let transfer = (cap != NO_HANDLE).then_some(Handle::from_raw(cap));
    let sent = ctx.process.send_payload(Handle::from_raw(handle), opcode, bytes, transfer);
    Ok(sent.map_or_else(code, |()| 0))
}

/// The header `sys_cap_recv` writes: opcode, payload length, transferred handle.
fn header(opcode: u32, len: usize, cap: i64) -> [u8; RECV_HEADER] {
    MessageHeader { opcode, len: len as u32, cap }.to_bytes()
}

fn receive(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value], block: bool) -> HostResult {
    let (handle, ptr, len) = (Handle::from_raw(arg_i64(args, 0)?), arg_i32(args, 1)?, arg_i32(args, 2)?);
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i64_result(E_OUT_OF_BOUNDS.into()) };
    match ctx.process.inbox(handle) {
        Ok(inbox) => i64_result(receive_into(ctx, &inbox, &mut guest, buffer, block)?),
        Err(error) => i64_result(code(error).into()),
    }
}

/// Receives from `inbox` into `buffer` (header, then payload), waiting if `block`; returns the
/// sender's pid or the error code.
fn receive_into(
    ctx: &ActorContext,
    inbox: &Inbox<'_>,
    guest: &mut Guest<'_>,
    buffer: GuestRange,
    block: bool,
) -> Result<i64, HostError> {
    // A message that does not fit stays queued; its size is reported so the actor can retry.
    let mut too_big = None;
    let fits = |message: &Message| {
        if RECV_HEADER + message.payload.len() <= buffer.len() {
            Ok(())
        } else {
            too_big = Some((message.opcode, message.payload.len()));
            Err(Error::BufferTooSmall)
        }
    };
    // The message stays where the take put it and is delivered from there.
    let mut taken = None;
    let received = if block {
        handoff::block_on(ctx, inbox.recv_into(fits, &mut taken)).map_err(|_| ctx.ended())?
    } else {
        inbox.try_recv_into(fits, &mut taken)
    };
    match (received, &taken) {
        (Ok(cap), Some(message)) => deliver(guest, buffer, message, cap),
        // A take that succeeded left its message; `Empty` stands for the case that cannot be.
        (Ok(_), None) => Ok(code(Error::Empty).into()),
        (Err(error), _) => {
            let Some((opcode, needed)) = too_big else { return Ok(code(error).into()) };
            if let Some(head) = buffer.sub(0, RECV_HEADER) {
                guest.write(head, &header(opcode, needed, NO_HANDLE))?;
            }
            Ok(E_BUFFER_TOO_SMALL.into())
        }
    }
}

/// Writes `message` into `buffer` (header, then payload, which fits: the receive checked it
/// under the endpoint's lock), with the handle of the capability it brought; returns the
/// sender's pid.
fn deliver(
    guest: &mut Guest<'_>,
    buffer: GuestRange,
    message: &Message,
    cap: Transferred,
) -> Result<i64, HostError> {
    let cap = match cap {
        Some(Ok(handle)) => handle.raw(),
        // The capability could not be stored; the message still counts as delivered.
        Some(Err(_)) | None => NO_HANDLE,
    };
    let payload = &message.payload[..];
    let header = header(message.opcode, payload.len(), cap);
    let Some(whole) = buffer.sub(0, RECV_HEADER + payload.len()) else {
        return Ok(E_BUFFER_TOO_SMALL.into());
    };
    let (head, body) = whole.split_at(RECV_HEADER);
    guest.write(head, &header)?;
    guest.write(body, payload)?;
    Ok(message.sender.raw() as i64)
}

/// `sys_cap_wait(entries_ptr: i32, count: i32, deadline_ns: i64) -> i32`
pub fn sys_cap_wait(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (ptr, count, deadline) = (arg_i32(args, 0)?, arg_i32(args, 1)?, arg_i64(args, 2)?);
    let count = match usize::try_from(count) {
        Ok(n @ 1..=MAX_WAIT_ENTRIES) => n,
        _ => return i32_result(E_INVALID_ARGUMENT),
    };
    let mut guest = call.guest();
    let Ok(list) = guest.range(ptr, (count * WAIT_ENTRY) as i32) else { return i32_result(E_OUT_OF_BOUNDS) };
    let mut raw = [0u8; MAX_WAIT_ENTRIES * WAIT_ENTRY];
    guest.read(list, &mut raw)?;
    let entries: Vec<WaitEntry> =
        raw[..list.len()].as_chunks::<WAIT_ENTRY>().0.iter().map(WaitEntry::from_bytes).collect();
    // An entry interested in nothing could never become ready.
    if entries.iter().any(|e| e.interest == 0 || e.interest & !(READABLE | WRITABLE) != 0) {
        return i32_result(E_INVALID_ARGUMENT);
    }

    // Each entry's endpoint, or INVALID when its handle names none.
    let endpoints: Vec<_> = entries
        .iter()
        .map(|e| {
            ctx.process.with_caps(|caps| caps.endpoint(Handle::from_raw(e.handle), Rights::empty()).cloned())
        })
        .collect();
    // Readiness futures, with the entry and the bit each answers for.
    let mut waits: Vec<(usize, u32, Waiting<'_, ()>)> = Vec::new();
    for (index, (entry, endpoint)) in entries.iter().zip(&endpoints).enumerate() {
        if let Ok(endpoint) = endpoint {
            if entry.interest & READABLE != 0 {
                waits.push((index, READABLE, endpoint.readable()));
            }
            if entry.interest & WRITABLE != 0 {
                waits.push((index, WRITABLE, endpoint.writable()));
            }
        }
    }
    let mut ready = vec![0u32; count];
    for (slot, endpoint) in ready.iter_mut().zip(&endpoints) {
        if endpoint.is_err() {
            *slot = INVALID;
        }
    }
    // A negative deadline waits for ever; one in the past only polls.
    let mut sleep = (deadline >= 0).then(|| time::timer::sleep_until(Instant::from_nanos(deadline as u64)));
    let blocked = ctx.process.waiting(Wait::Events);
    let found = handoff::block_on(
        ctx,
        poll_fn(|cx| {
            for (index, bit, wait) in &mut waits {
                match Pin::new(wait).poll(cx) {
                    Poll::Ready(Ok(())) => ready[*index] |= *bit,
                    Poll::Ready(Err(_)) => ready[*index] |= *bit | CLOSED,
                    Poll::Pending => {}
                }
            }
            let count = ready.iter().filter(|&&r| r != 0).count();
            let timed_out = sleep.as_mut().is_some_and(|s| Pin::new(s).poll(cx).is_ready());
            if count > 0 || timed_out { Poll::Ready(count) } else { Poll::Pending }
        }),
    )
    .map_err(|_| ctx.ended())?;
    drop(blocked);
    for (index, bits) in ready.iter().enumerate() {
        if let Some(field) = list.sub(index * WAIT_ENTRY + WaitEntry::READY_AT, 4) {
            guest.write(field, &bits.to_le_bytes())?;
        }
    }
    i32_result(found as i32)
}

/// `sys_endpoint_create(capacity: i32) -> i64`
pub fn sys_endpoint_create(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let capacity = arg_i32(args, 0)?;
    let Some(capacity) =
        usize::try_from(capacity).ok().filter(|&c| c <= MAX_CAPACITY).and_then(NonZeroUsize::new)
    else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    if capacity.get() > ctx.process.limits().queue {
        return i64_result(E_LIMIT.into());
    }
    let created =
        Capability::endpoint(capacity, Some(ctx.process.account())).and_then(|cap| ctx.process.insert(cap));
    i64_result(created.map_or_else(|e| code(e).into(), Handle::raw))
}

/// `sys_cap_derive(handle: i64, rights: i32) -> i64`
pub fn sys_cap_derive(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, bits) = (Handle::from_raw(arg_i64(args, 0)?), arg_i32(args, 1)?);
    let Some(rights) = u8::try_from(bits).ok().and_then(Rights::from_bits) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    let derived =
        ctx.process.with_caps(|caps| caps.get(handle, Rights::empty()).and_then(|cap| cap.derive(rights)));
    let inserted = derived.and_then(|cap| ctx.process.insert(cap));
    i64_result(inserted.map_or_else(|e| code(e).into(), Handle::raw))
}

/// `sys_cap_close(handle: i64) -> i32`
pub fn sys_cap_close(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let closed = ctx.process.close(Handle::from_raw(arg_i64(args, 0)?));
    i32_result(closed.map_or_else(code, |()| 0))
}
