//! Host functions for drivers: a device's configuration space and registers, DMA buffers and
//! their descriptors, and interrupts bound to endpoints. Each checks the caller's capability
//! and its arguments, then asks `dev`, where the rules of `docs/DRIVERS.md` are kept.

use alloc::sync::Arc;

use super::errors::{E_INVALID_ARGUMENT, code};
use super::{HostResult, arg_i32, arg_i64, i32_result, i64_result};
use crate::cap::{Capability, Handle, Rights};
use crate::dev::dma::Kind;
use crate::dev::{DmaBuffer, Session, irq};
use crate::error::Error;
use crate::wasm::actor::ActorContext;
use crate::wasm::engine::{HostCall, Value};
use minimalos_abi::{DMA_DATA, DMA_DESCRIPTORS};

/// The device session `handle` names, if the capability has `rights`.
fn session(ctx: &ActorContext, handle: i64, rights: Rights) -> Result<Arc<Session>, Error> {
    ctx.process.with_caps(|caps| caps.device(Handle::from_raw(handle), rights).cloned())
}

/// The DMA buffer `handle` names, if the capability has `rights`.
fn buffer(ctx: &ActorContext, handle: i64, rights: Rights) -> Result<Arc<DmaBuffer>, Error> {
    ctx.process.with_caps(|caps| caps.dma(Handle::from_raw(handle), rights).cloned())
}

/// An access of `width` bytes at `offset`: `E_INVALID_ARGUMENT` unless the width is 1, 2 or 4
/// and the offset a multiple of it.
fn access(offset: i32, width: i32) -> Result<(u64, u8), i32> {
    let offset = u64::from(offset as u32);
    match u8::try_from(width) {
        Ok(w @ (1 | 2 | 4)) if offset.is_multiple_of(u64::from(w)) => Ok((offset, w)),
        _ => Err(E_INVALID_ARGUMENT),
    }
}

/// A register value read as an `i64` result (never negative: at most 32 bits).
fn read_result(read: Result<u32, Error>) -> HostResult {
    i64_result(read.map_or_else(|e| code(e).into(), i64::from))
}

/// A result with no value.
fn status(result: Result<(), Error>) -> HostResult {
    i32_result(result.map_or_else(code, |()| 0))
}

/// `sys_dev_config_read(dev: i64, offset: i32, width: i32) -> i64`
pub fn sys_dev_config_read(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, offset, width) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    let (offset, width) = match access(offset, width) {
        Ok(access) => access,
        Err(code) => return i64_result(code.into()),
    };
    let offset = u32::try_from(offset).unwrap_or(u32::MAX);
    read_result(session(ctx, handle, Rights::READ).and_then(|s| s.config_read(offset, width)))
}

/// `sys_dev_read(dev: i64, bar: i32, offset: i32, width: i32) -> i64`
pub fn sys_dev_read(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, bar, offset, width) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i32(args, 3)?);
    let (offset, width) = match access(offset, width) {
        Ok(access) => access,
        Err(code) => return i64_result(code.into()),
    };
    read_result(session(ctx, handle, Rights::READ).and_then(|s| s.read(bar as u32, offset, width)))
}

/// `sys_dev_write(dev: i64, bar: i32, offset: i32, width: i32, value: i64) -> i32`
pub fn sys_dev_write(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, bar, offset, width, value) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i32(args, 3)?, arg_i64(args, 4)?);
    let (offset, width) = match access(offset, width) {
        Ok(access) => access,
        Err(code) => return i32_result(code),
    };
    // The value must fit the width: a wider one is a driver's mistake, not bits to drop.
    let Some(value) = u32::try_from(value).ok().filter(|v| u64::from(*v) >> (8 * u32::from(width)) == 0)
    else {
        return i32_result(E_INVALID_ARGUMENT);
    };
    status(session(ctx, handle, Rights::WRITE).and_then(|s| s.write(bar as u32, offset, width, value)))
}

/// `sys_dev_dma_addr(dev: i64, bar: i32, offset: i32, buf: i64, buf_offset: i32) -> i32`
pub fn sys_dev_dma_addr(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, bar, offset, buf, buf_offset) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i64(args, 3)?, arg_i32(args, 4)?);
    let (offset, _) = match access(offset, 4) {
        Ok(access) => access,
        Err(code) => return i32_result(code),
    };
    let result = session(ctx, handle, Rights::WRITE).and_then(|session| {
        let buffer = buffer(ctx, buf, Rights::WRITE)?;
        session.write_address(bar as u32, offset, &buffer, buf_offset as u32 as usize, ctx.process.account())
    });
    status(result)
}

/// `sys_dev_irq_bind(dev: i64, entry: i32, endpoint: i64, opcode: i32) -> i32`
pub fn sys_dev_irq_bind(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, entry, endpoint, opcode) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i64(args, 2)?, arg_i32(args, 3)?);
    let Ok(entry) = u16::try_from(entry) else { return i32_result(E_INVALID_ARGUMENT) };
    let result = session(ctx, handle, Rights::WRITE).and_then(|session| {
        let endpoint = ctx.process.with_caps(|caps| {
            let handle = Handle::from_raw(endpoint);
            caps.endpoint(handle, Rights::WRITE)?;
            caps.get(handle, Rights::WRITE)?.derive(Rights::WRITE)
        })?;
        irq::bind(&session, entry, endpoint, opcode as u32)
    });
    status(result)
}

/// `sys_dma_create(dev: i64, size: i32, kind: i32) -> i64`
pub fn sys_dma_create(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, size, kind) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    let kind = match kind {
        DMA_DATA => Kind::Data,
        DMA_DESCRIPTORS => Kind::Descriptors,
        _ => return i64_result(E_INVALID_ARGUMENT.into()),
    };
    let created = session(ctx, handle, Rights::WRITE)
        .and_then(|_| DmaBuffer::new(size as u32 as usize, kind, ctx.process.account()))
        .and_then(|buffer| ctx.process.insert(Capability::dma(buffer)));
    i64_result(created.map_or_else(|e| code(e).into(), Handle::raw))
}

/// `sys_dma_desc_set(table: i64, index: i32, buf: i64, offset: i32, len: i32, flags_next: i32) -> i32`
pub fn sys_dma_desc_set(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (table, index, buf) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i64(args, 2)?);
    let (offset, len, flags_next) = (arg_i32(args, 3)?, arg_i32(args, 4)?, arg_i32(args, 5)?);
    let (flags, next) = (flags_next as u32 as u16, (flags_next as u32 >> 16) as u16);
    let result = buffer(ctx, table, Rights::WRITE).and_then(|table| {
        let target = buffer(ctx, buf, Rights::WRITE)?;
        table.set_descriptor(
            index as u32 as usize,
            &target,
            offset as u32 as usize,
            len as u32 as usize,
            flags,
            next,
        )
    });
    status(result)
}
