//! Host functions of the `system` capability: listing, starting and killing processes, and
//! reading the kernel log and memory figures (what a shell's `ps`, `run`, `kill`, `dmesg` and
//! `mem` need). The process table is in `proc`; starting modules in `system::launch` and `system::requests`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::errors::{E_INVALID_ARGUMENT, E_NO_RIGHTS, E_NOT_FOUND, E_OUT_OF_BOUNDS, E_WRONG_KIND, code};
use minimalos_abi::{
    MAX_NATIVE_TRIPS, MAX_SPAWN_GRANTS, MAX_SPAWN_NAME as MAX_NAME, MEM_INFO_LEN as MEM_INFO, MemInfo,
    NATIVE_IPC_LEN, PROC_BLOCKED, PROC_EXITED, PROC_KILLED, PROC_READY, PROC_RECORD, PROC_RUNNING,
    PROC_TRAPPED, ProcRecord,
};

use super::{HostResult, arg_i32, arg_i64, i32_result, i64_result};
use crate::cap::{Handle, Object, Rights};
use crate::proc::{Exit, PROCESSES, Process, State, Wait};
use crate::time::clock;
use crate::wasm::SpawnError;
use crate::wasm::actor::ActorContext;
use crate::wasm::engine::{HostCall, Value};
use crate::wasm::handoff;
use crate::wasm::requests;
use crate::{klog, mem};

/// Checks that the caller's `handle` is a `system` capability with `rights`.
fn require(ctx: &ActorContext, handle: i64, rights: Rights) -> Result<(), i32> {
    let kind =
        ctx.process.with_caps(|caps| caps.get(Handle::from_raw(handle), rights).map(|c| c.object().clone()));
    match kind {
        Ok(Object::System) => Ok(()),
        Ok(_) => Err(E_WRONG_KIND),
        Err(e) => Err(code(e)),
    }
}

/// The state numbers `sys_proc_list` reports.
fn state_code(state: &State) -> (u32, i32) {
    match state {
        State::Ready => (PROC_READY, -1),
        State::Running => (PROC_RUNNING, -1),
        State::Blocked(_) => (PROC_BLOCKED, -1),
        State::Dead(Exit::Exited(status)) => (PROC_EXITED, *status),
        State::Dead(Exit::Killed { .. }) => (PROC_KILLED, -1),
        State::Dead(Exit::Trapped(_)) => (PROC_TRAPPED, -1),
    }
}

/// `sys_proc_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_proc_list(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, ptr, len) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    if let Err(code) = require(ctx, handle, Rights::READ) {
        return i32_result(code);
    }
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let list = PROCESSES.lock().list();
    for (index, info) in list.iter().enumerate() {
        let Some(slot) = buffer.sub(index * PROC_RECORD, PROC_RECORD) else { break };
        let (state, status) = state_code(&info.state);
        let (linear_memory, linear_memory_limit) = info.linear_memory;
        let record = ProcRecord {
            pid: info.pid.raw(),
            state,
            status,
            messages_sent: info.stats.messages_sent,
            messages_received: info.stats.messages_received,
            cpu_ns: clock::cycles_to_nanos(info.stats.cpu_cycles, clock::tsc_hz()),
            kernel_memory: info.stats.memory_bytes,
            handles: info.handles as u32,
            name: ProcRecord::name_field(&info.name),
            linear_memory,
            linear_memory_limit,
            handle_limit: info.limits.handles as u32,
            children: info.children,
            child_limit: info.limits.children,
            restarts: info.restarts,
            kernel_memory_limit: if info.kernel { 0 } else { info.limits.kmem },
        };
        guest.write(slot, &record.to_bytes())?;
    }
    i32_result(list.len() as i32)
}

/// `sys_proc_kill(handle: i64, pid: i64) -> i32`
pub fn sys_proc_kill(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, pid) = (arg_i64(args, 0)?, arg_i64(args, 1)?);
    if let Err(code) = require(ctx, handle, Rights::WRITE) {
        return i32_result(code);
    }
    // The process is taken out of the table before it is ended: ending drops capabilities and
    // wakes tasks, which must not happen under the table's lock.
    let target: Option<Arc<Process>> = PROCESSES.lock().find(pid).cloned();
    let Some(target) = target else { return i32_result(E_NOT_FOUND) };
    if target.is_kernel() {
        return i32_result(E_NO_RIGHTS);
    }
    let ended = target.end(Exit::Killed { by: Some(ctx.process.pid()) });
    if ended && Arc::ptr_eq(&target, &ctx.process) {
        // Killed by its own hand: like `sys_exit`, not one more instruction runs.
        return Err(ctx.ended());
    }
    i32_result(if ended { 0 } else { E_NOT_FOUND })
}

/// `sys_proc_spawn(handle: i64, name_ptr: i32, name_len: i32, grants_ptr: i32, grants_count: i32,
/// err_ptr: i32, err_len: i32) -> i64`
pub fn sys_proc_spawn(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let handle = arg_i64(args, 0)?;
    let (name_ptr, name_len) = (arg_i32(args, 1)?, arg_i32(args, 2)?);
    let (grants_ptr, grants_count) = (arg_i32(args, 3)?, arg_i32(args, 4)?);
    let (err_ptr, err_len) = (arg_i32(args, 5)?, arg_i32(args, 6)?);
    if let Err(code) = require(ctx, handle, Rights::WRITE) {
        return i64_result(code.into());
    }
    let mut guest = call.guest();
    let (Ok(name), Ok(err)) = (guest.range(name_ptr, name_len), guest.range(err_ptr, err_len)) else {
        return i64_result(E_OUT_OF_BOUNDS.into());
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return i64_result(E_INVALID_ARGUMENT.into());
    }
    let mut bytes = [0u8; MAX_NAME];
    guest.read(name, &mut bytes)?;
    let Ok(file) = core::str::from_utf8(&bytes[..name.len()]) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    // The capabilities to move: copies go to the new actor; the originals leave this actor only
    // once it has started.
    let Some(count) = usize::try_from(grants_count).ok().filter(|&n| n <= MAX_SPAWN_GRANTS) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    let Ok(list) = guest.range(grants_ptr, (count * 8) as i32) else {
        return i64_result(E_OUT_OF_BOUNDS.into());
    };
    let mut raw = [0u8; MAX_SPAWN_GRANTS * 8];
    guest.read(list, &mut raw)?;
    let handles: Vec<Handle> = raw[..count * 8]
        .as_chunks::<8>()
        .0
        .iter()
        .map(|&h| Handle::from_raw(i64::from_le_bytes(h)))
        .collect();
    // A capability moves once: the same handle twice would give the child two copies of it.
    if handles.iter().enumerate().any(|(i, h)| handles[..i].contains(h)) {
        return i64_result(E_INVALID_ARGUMENT.into());
    }
    let copies = ctx.process.with_caps(|caps| {
        handles.iter().map(|&h| caps.get(h, Rights::GRANT).and_then(|cap| cap.derive(cap.rights()))).collect()
    });
    let copies: Vec<_> = match copies {
        Ok(copies) => copies,
        Err(e) => return i64_result(code(e).into()),
    };
    let spawned = {
        let _blocked = ctx.process.waiting(Wait::Kernel);
        handoff::block_on(ctx, requests::spawn(String::from(file), copies, ctx.process.clone()))
            .map_err(|_| ctx.ended())?
    };
    match spawned {
        Ok(pid) => {
            for handle in handles {
                // Only this actor changes its own table, and it was waiting: the handles are live.
                let _ = ctx.process.close(handle);
            }
            i64_result(pid.raw() as i64)
        }
        Err(failure) => {
            // The reason goes to `err`, cut to fit, NUL-terminated when there is room.
            let why = alloc::format!("{failure}");
            let shown = err.prefix(why.len());
            guest.write(shown, why.as_bytes())?;
            if let Some(end) = err.sub(shown.len(), 1) {
                guest.write(end, &[0])?;
            }
            let code = match failure {
                requests::SpawnFailure::NoSuchFile(_) => E_NOT_FOUND,
                requests::SpawnFailure::TooManyChildren(_) => super::errors::E_LIMIT,
                requests::SpawnFailure::Spawn {
                    error: SpawnError::NoHeap { .. } | SpawnError::KernelMemory { .. },
                    ..
                } => super::errors::E_NO_MEMORY,
                requests::SpawnFailure::Spawn { .. } => E_INVALID_ARGUMENT,
            };
            i64_result(code.into())
        }
    }
}

/// `sys_kernel_log(handle: i64, buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_kernel_log(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, ptr, len) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    if let Err(code) = require(ctx, handle, Rights::READ) {
        return i32_result(code);
    }
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let mut text = alloc::vec![0u8; buffer.len().min(klog::RING_BYTES)];
    let copied = klog::tail(&mut text);
    let target = buffer.prefix(copied);
    guest.write(target, &text[..copied])?;
    i32_result(copied as i32)
}

/// `sys_mem_info(handle: i64, buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_mem_info(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, ptr, len) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    if let Err(code) = require(ctx, handle, Rights::READ) {
        return i32_result(code);
    }
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let Some(target) = buffer.sub(0, MEM_INFO) else { return i32_result(super::errors::E_BUFFER_TOO_SMALL) };
    let stats = mem::stats();
    let info = MemInfo {
        physical_total: stats.total_frames * mem::PAGE_SIZE,
        physical_free: stats.free_frames * mem::PAGE_SIZE,
        heap_size: stats.heap_bytes,
        heap_used: stats.heap_allocated,
        charged: mem::kmem::POOL.charged(),
        charge_capacity: mem::kmem::POOL.capacity(),
    };
    guest.write(target, &info.to_bytes())?;
    i32_result(0)
}

/// `sys_bench_ipc_native(handle: i64, round_trips: i32, buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_bench_ipc_native(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, trips, ptr, len) =
        (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?, arg_i32(args, 3)?);
    if let Err(code) = require(ctx, handle, Rights::WRITE) {
        return i32_result(code);
    }
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let Some(target) = buffer.sub(0, NATIVE_IPC_LEN) else {
        return i32_result(super::errors::E_BUFFER_TOO_SMALL);
    };
    if !(1..=MAX_NATIVE_TRIPS).contains(&trips) {
        return i32_result(E_INVALID_ARGUMENT);
    }
    let done = {
        let _blocked = ctx.process.waiting(Wait::Kernel);
        handoff::block_on(ctx, requests::native_ipc(trips as u32, ctx.process.clone()))
            .map_err(|_| ctx.ended())?
    };
    // The loop logged why it failed.
    let Some(figures) = done else { return i32_result(super::errors::E_NO_MEMORY) };
    let bytes = figures.to_bytes();
    guest.write(target, &bytes)?;
    i32_result(0)
}
