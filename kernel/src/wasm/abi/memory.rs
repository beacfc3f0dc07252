//! Host functions for memory objects: shared memory, the framebuffer, the (read-only) boot
//! ramdisk and DMA buffers, read and written by copying between them and the actor's own memory.

use super::errors::{E_BUFFER_TOO_SMALL, E_NOT_FOUND, E_OUT_OF_BOUNDS, E_WRONG_KIND, code};
use minimalos_abi::FB_FORMAT_LEN as FB_FORMAT;

use super::{HostResult, arg_i32, arg_i64, i32_result, i64_result};
use crate::boot;
use crate::cap::{Handle, Object, Rights};
use crate::error::Error;
use crate::task::fiber;
use crate::wasm::actor::ActorContext;
use crate::wasm::engine::{HostCall, Value};

/// Bytes copied per step between an object and the actor's memory.
const CHUNK: usize = 4096;

/// The memory object `handle` names, if the capability has `rights`.
fn memory_object(ctx: &ActorContext, handle: i64, rights: Rights) -> Result<Object, i32> {
    let object =
        ctx.process.with_caps(|caps| caps.get(Handle::from_raw(handle), rights).map(|c| c.object().clone()));
    match object {
        Ok(
            object @ (Object::SharedMemory(_) | Object::Framebuffer(_) | Object::Ramdisk(_) | Object::Dma(_)),
        ) => Ok(object),
        Ok(Object::Endpoint(_) | Object::System | Object::Device(_)) => Err(E_WRONG_KIND),
        Err(e) => Err(code(e)),
    }
}

fn read_object(object: &Object, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
    match object {
        Object::SharedMemory(memory) => memory.read(offset, buf),
        Object::Framebuffer(fb) => fb.read(offset, buf),
        Object::Dma(buffer) => buffer.read(offset, buf),
        Object::System | Object::Device(_) => Err(Error::WrongKind),
        Object::Ramdisk(bytes) => {
            let src = offset.checked_add(buf.len()).and_then(|end| bytes.get(offset..end));
            buf.copy_from_slice(src.ok_or(Error::OutOfBounds)?);
            Ok(())
        }
        Object::Endpoint(_) => Err(Error::WrongKind),
    }
}

fn write_object(object: &Object, offset: usize, data: &[u8]) -> Result<(), Error> {
    match object {
        Object::SharedMemory(memory) => memory.write(offset, data),
        Object::Framebuffer(fb) => fb.write(offset, data),
        // Its capabilities never carry WRITE, so no write gets here.
        Object::Ramdisk(_) => Err(Error::NoRights),
        Object::Dma(buffer) => buffer.write(offset, data),
        Object::Endpoint(_) | Object::System | Object::Device(_) => Err(Error::WrongKind),
    }
}

fn object_size(object: &Object) -> usize {
    match object {
        Object::SharedMemory(memory) => memory.size(),
        Object::Framebuffer(fb) => fb.size(),
        Object::Ramdisk(bytes) => bytes.len(),
        Object::Dma(buffer) => buffer.size(),
        Object::Endpoint(_) | Object::System | Object::Device(_) => 0,
    }
}

/// Copies between `len` bytes at the object's `offset` and the actor's memory at `ptr`, in
/// either direction. Both ranges are checked whole before a byte moves.
fn copy(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value], to_object: bool) -> HostResult {
    let (handle, offset, ptr, len) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i32(args, 3)?);
    let rights = if to_object { Rights::WRITE } else { Rights::READ };
    let object = match memory_object(ctx, handle, rights) {
        Ok(object) => object,
        Err(code) => return i32_result(code),
    };
    let mut guest = call.guest();
    let Ok(range) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    // Offsets are unsigned, like pointers.
    let offset = offset as u32 as usize;
    if offset + range.len() > object_size(&object) {
        return i32_result(E_OUT_OF_BOUNDS);
    }
    let mut chunk = [0u8; CHUNK];
    let mut done = 0;
    while done < range.len() {
        let n = CHUNK.min(range.len() - done);
        let Some(part) = range.sub(done, n) else { break };
        if to_object {
            guest.read(part, &mut chunk)?;
            if let Err(e) = write_object(&object, offset + done, &chunk[..n]) {
                return i32_result(code(e));
            }
        } else {
            if let Err(e) = read_object(&object, offset + done, &mut chunk[..n]) {
                return i32_result(code(e));
            }
            guest.write(part, &chunk[..n])?;
        }
        done += n;
        // A copy of up to 16 MiB is long work: it gives way between steps once the slice is
        // used up (the object may change meanwhile; the actor's memory cannot).
        fiber::yield_if_expired().map_err(|_| ctx.ended())?;
    }
    i32_result(0)
}

/// `sys_cap_mem_read(handle: i64, offset: i32, buf_ptr: i32, len: i32) -> i32`
pub fn sys_cap_mem_read(ctx: &ActorContext, call: HostCall<'_>, args: &[Value]) -> HostResult {
    copy(ctx, call, args, false)
}

/// `sys_cap_mem_write(handle: i64, offset: i32, data_ptr: i32, len: i32) -> i32`
pub fn sys_cap_mem_write(ctx: &ActorContext, call: HostCall<'_>, args: &[Value]) -> HostResult {
    copy(ctx, call, args, true)
}

/// `sys_cap_mem_size(handle: i64) -> i64`
pub fn sys_cap_mem_size(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let handle = arg_i64(args, 0)?;
    let object =
        memory_object(ctx, handle, Rights::READ).or_else(|_| memory_object(ctx, handle, Rights::WRITE));
    i64_result(object.map_or_else(i64::from, |o| object_size(&o) as i64))
}

/// `sys_fb_info() -> i64`
pub fn sys_fb_info(_ctx: &ActorContext, _call: HostCall<'_>, _args: &[Value]) -> HostResult {
    let info = boot::info().and_then(|i| i.framebuffer.as_ref());
    i64_result(info.map_or(E_NOT_FOUND.into(), |fb| ((fb.width as i64) << 32) | fb.height as i64))
}

/// `sys_fb_format(buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_fb_format(_ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (ptr, len) = (arg_i32(args, 0)?, arg_i32(args, 1)?);
    let mut guest = call.guest();
    let Ok(range) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let Some(fb) = boot::info().and_then(|i| i.framebuffer.as_ref()) else { return i32_result(E_NOT_FOUND) };
    let Some(target) = range.sub(0, FB_FORMAT) else { return i32_result(E_BUFFER_TOO_SMALL) };
    let mut bytes = [0u8; FB_FORMAT];
    for (i, value) in [fb.width, fb.height, fb.pitch, u64::from(fb.bpp)].into_iter().enumerate() {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&(value as u32).to_le_bytes());
    }
    for (i, (size, shift)) in fb.channels.into_iter().enumerate() {
        bytes[16 + 2 * i] = size;
        bytes[17 + 2 * i] = shift;
    }
    guest.write(target, &bytes)?;
    i32_result(0)
}
