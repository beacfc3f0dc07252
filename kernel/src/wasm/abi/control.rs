//! Host functions of the `system` capability: listing, starting and killing processes, and
//! reading the CPUs' figures, the kernel log and memory figures (what a shell's `ps`, `cpus`,
//! `run`, `kill`, `dmesg` and `mem` need). The process table is in `proc`; starting modules in `system::launch` and `system::requests`.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::errors::{E_INVALID_ARGUMENT, E_NO_RIGHTS, E_NOT_FOUND, E_OUT_OF_BOUNDS, E_WRONG_KIND, code};
use minimalos_abi::{
    CPU_RECORD, CpuRecord, MAX_NATIVE_TRIPS, MAX_SPAWN_GRANTS, MAX_SPAWN_NAME as MAX_NAME, MAX_START_MODULE,
    MAX_START_SPEC, MEM_INFO_LEN as MEM_INFO, MemInfo, NATIVE_IPC_LEN, PROC_BLOCKED, PROC_EXITED,
    PROC_KILLED, PROC_NO_CPU, PROC_READY, PROC_RECORD, PROC_RUNNING, PROC_TRAPPED, ProcRecord, StartEntry,
};

use super::{HostError, HostResult, arg_i32, arg_i64, i32_result, i64_result};
use crate::arch::cpu_local;
use crate::cap::{Handle, Object, Rights};
use crate::mem::kmem::Charge;
use crate::proc::{Exit, PROCESSES, Process, State, Wait};
use crate::task::{Placement, executor};
use crate::time::clock;
use crate::wasm::SpawnError;
use crate::wasm::actor::ActorContext;
use crate::wasm::engine::{HostCall, Value};
use crate::wasm::guest::{Guest, GuestRange};
use crate::wasm::handoff;
use crate::wasm::requests;
use crate::wasm::spawn::Given;
use crate::wasm::wasi::{self, StartError};
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
            cpu: info.cpu.map_or(PROC_NO_CPU, |cpu| cpu as u32),
        };
        guest.write(slot, &record.to_bytes())?;
    }
    i32_result(list.len() as i32)
}

/// `sys_cpu_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32`
pub fn sys_cpu_list(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (handle, ptr, len) = (arg_i64(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    if let Err(code) = require(ctx, handle, Rights::READ) {
        return i32_result(code);
    }
    let mut guest = call.guest();
    let Ok(buffer) = guest.range(ptr, len) else { return i32_result(E_OUT_OF_BOUNDS) };
    let (since_start, hz) = (clock::now().as_nanos(), clock::tsc_hz());
    let cpus = executor::cpus();
    for (index, cpu) in cpus.iter().enumerate() {
        let Some(slot) = buffer.sub(index * CPU_RECORD, CPU_RECORD) else { break };
        let idle_ns = clock::cycles_to_nanos(cpu.idle_cycles, hz);
        let record = CpuRecord {
            busy_ns: since_start.saturating_sub(idle_ns),
            idle_ns,
            polls: cpu.polls,
            steals: cpu.steals,
            tasks: cpu.tasks as u32,
            apic_id: cpu_local::apic_id(index),
        };
        guest.write(slot, &record.to_bytes())?;
    }
    i32_result(cpus.len() as i32)
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
/// err_ptr: i32, err_len: i32) -> i64`: `sys_proc_start` with a module and grants alone.
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
    let Some(count) = usize::try_from(grants_count).ok().filter(|&n| n <= MAX_SPAWN_GRANTS) else {
        return i64_result(E_INVALID_ARGUMENT.into());
    };
    let Ok(list) = guest.range(grants_ptr, (count * 8) as i32) else {
        return i64_result(E_OUT_OF_BOUNDS.into());
    };
    let mut raw = [0u8; MAX_SPAWN_GRANTS * 8];
    guest.read(list, &mut raw)?;
    let mut spec = Vec::new();
    let mut add = |entry: StartEntry<'_>| entry.encode(|part| spec.extend_from_slice(part));
    add(StartEntry::Program(file));
    for handle in raw[..count * 8].as_chunks::<8>().0 {
        add(StartEntry::Grant(i64::from_le_bytes(*handle)));
    }
    start(ctx, &mut guest, &spec, err)
}

/// `sys_proc_start(handle: i64, spec_ptr: i32, spec_len: i32, err_ptr: i32, err_len: i32) -> i64`
pub fn sys_proc_start(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let handle = arg_i64(args, 0)?;
    let (spec_ptr, spec_len) = (arg_i32(args, 1)?, arg_i32(args, 2)?);
    let (err_ptr, err_len) = (arg_i32(args, 3)?, arg_i32(args, 4)?);
    if let Err(code) = require(ctx, handle, Rights::WRITE) {
        return i64_result(code.into());
    }
    let mut guest = call.guest();
    let (Ok(spec), Ok(err)) = (guest.range(spec_ptr, spec_len), guest.range(err_ptr, err_len)) else {
        return i64_result(E_OUT_OF_BOUNDS.into());
    };
    if spec.len() > MAX_START_SPEC {
        return i64_result(E_INVALID_ARGUMENT.into());
    }
    let mut bytes = alloc::vec![0u8; spec.len()];
    guest.read(spec, &mut bytes)?;
    start(ctx, &mut guest, &bytes, err)
}

/// A capability the spec moves, and where it goes.
enum Moved {
    /// Into the table, in order.
    Grant,
    /// To the kernel's WASI state for the program: its vfs, or a standard stream.
    Files,
    Stdin,
    Stdout,
    Stderr,
}

/// Starts what the start spec `spec` describes for `ctx`; the reason for a failure goes to
/// `err`, cut to fit, NUL-terminated when there is room.
fn start(ctx: &ActorContext, guest: &mut Guest<'_>, spec: &[u8], err: GuestRange) -> HostResult {
    let (mut program, mut given) = (None, Given::default());
    let mut moved: Vec<(Handle, Moved)> = Vec::new();
    let mut refused = None;
    for entry in StartEntry::decode(spec) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(_) => return i64_result(E_INVALID_ARGUMENT.into()),
        };
        match entry {
            StartEntry::Program(name) if program.is_none() && !name.is_empty() && name.len() <= MAX_NAME => {
                program = Some(String::from(name))
            }
            StartEntry::Program(_) => return i64_result(E_INVALID_ARGUMENT.into()),
            StartEntry::Arg(arg) => given.start.args.push(arg.to_vec()),
            StartEntry::Env(var) => given.start.env.push(var.to_vec()),
            StartEntry::Dir { writable, host, guest: name } => {
                if let Err(why) = given.start.add_dir(host, name, writable) {
                    refused.get_or_insert(why);
                }
            }
            StartEntry::Grant(h) => moved.push((Handle::from_raw(h), Moved::Grant)),
            StartEntry::Files(h) => moved.push((Handle::from_raw(h), Moved::Files)),
            StartEntry::Stdin(h) => moved.push((Handle::from_raw(h), Moved::Stdin)),
            StartEntry::Stdout(h) => moved.push((Handle::from_raw(h), Moved::Stdout)),
            StartEntry::Stderr(h) => moved.push((Handle::from_raw(h), Moved::Stderr)),
            StartEntry::Cpu(cpu)
                if given.placement == Placement::LeastLoaded && (cpu as usize) < executor::cpu_count() =>
            {
                given.placement = Placement::Pinned(cpu as usize)
            }
            StartEntry::Cpu(_) => return i64_result(E_INVALID_ARGUMENT.into()),
        }
    }
    let Some(file) = program else { return i64_result(E_INVALID_ARGUMENT.into()) };
    let grants = moved.iter().filter(|(_, to)| matches!(to, Moved::Grant)).count();
    // A capability moves once, and only one of each kind goes to the WASI state.
    let twice = moved.iter().enumerate().any(|(i, (h, to))| {
        moved[..i].iter().any(|(g, other)| g == h || (!matches!(to, Moved::Grant) && same_kind(to, other)))
    });
    if grants > MAX_SPAWN_GRANTS || twice {
        return i64_result(E_INVALID_ARGUMENT.into());
    }
    // The capabilities to move: copies go to the new actor; the originals leave this actor only
    // once it has started. The streams and the vfs must be endpoints with the right to use.
    let copies = ctx.process.with_caps(|caps| {
        moved
            .iter()
            .map(|(handle, to)| {
                let cap = caps.get(*handle, Rights::GRANT)?;
                let needed = match to {
                    Moved::Grant => None,
                    Moved::Stdin => Some(Rights::READ),
                    Moved::Files | Moved::Stdout | Moved::Stderr => Some(Rights::WRITE),
                };
                if let Some(needed) = needed {
                    caps.endpoint(*handle, needed)?;
                }
                cap.derive(cap.rights())
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let copies = match copies {
        Ok(copies) => copies,
        Err(e) => return i64_result(code(e).into()),
    };
    for ((_, to), copy) in moved.iter().zip(copies) {
        match to {
            Moved::Grant => given.grants.push(copy),
            Moved::Files => given.start.files = Some(copy),
            Moved::Stdin => given.start.stdin = Some(copy),
            Moved::Stdout => given.start.stdout = Some(copy),
            Moved::Stderr => given.start.stderr = Some(copy),
        }
    }
    let refused = refused.or_else(|| given.start.check().err());
    let spawned = match refused {
        Some(why) => Err(requests::SpawnFailure::Start { file: file.clone(), why }),
        None => match module_from_vfs(ctx, &file, &given)? {
            Err(failure) => Err(failure),
            Ok(module) => {
                let _blocked = ctx.process.waiting(Wait::Kernel);
                // The module's charge holds until the spawn has made what it needs of it.
                let (code, _charge) =
                    module.map_or((None, None), |(bytes, charge)| (Some(bytes), Some(charge)));
                handoff::block_on(ctx, requests::spawn(file, code, given, ctx.process.clone()))
                    .map_err(|_| ctx.ended())?
            }
        },
    };
    match spawned {
        Ok(pid) => {
            for (handle, _) in moved {
                // Only this actor changes its own table, and it was waiting: the handles are live.
                let _ = ctx.process.close(handle);
            }
            i64_result(pid.raw() as i64)
        }
        Err(failure) => {
            let why = alloc::format!("{failure}");
            let shown = err.prefix(why.len());
            guest.write(shown, why.as_bytes())?;
            if let Some(end) = err.sub(shown.len(), 1) {
                guest.write(end, &[0])?;
            }
            let code = match failure {
                requests::SpawnFailure::NoSuchFile(_) => E_NOT_FOUND,
                requests::SpawnFailure::Unreadable { errno: wasi::Errno::NOENT, .. } => E_NOT_FOUND,
                requests::SpawnFailure::Unreadable { errno: wasi::Errno::NOMEM, .. } => {
                    super::errors::E_NO_MEMORY
                }
                requests::SpawnFailure::TooManyChildren(_) => super::errors::E_LIMIT,
                requests::SpawnFailure::Spawn {
                    error: SpawnError::NoHeap { .. } | SpawnError::KernelMemory { .. },
                    ..
                } => super::errors::E_NO_MEMORY,
                requests::SpawnFailure::Spawn { .. }
                | requests::SpawnFailure::Start { .. }
                | requests::SpawnFailure::Unreadable { .. } => E_INVALID_ARGUMENT,
            };
            i64_result(code.into())
        }
    }
}

/// A module's bytes read from the vfs, and their charge to whoever holds them.
type ReadModule = Option<(Vec<u8>, Charge)>;

/// The module at `file` when it is a vfs path (absolute), read through the vfs `given` moves
/// to the program, and charged to the caller while it is held; `None` for a ramdisk name.
fn module_from_vfs(
    ctx: &ActorContext,
    file: &str,
    given: &Given,
) -> Result<Result<ReadModule, requests::SpawnFailure>, HostError> {
    if !file.starts_with('/') {
        return Ok(Ok(None));
    }
    let Some(files) = &given.start.files else {
        let why = StartError::DirsWithoutFiles;
        return Ok(Err(requests::SpawnFailure::Start { file: file.into(), why }));
    };
    match wasi::vfs::read_file(ctx, files, file, MAX_START_MODULE) {
        Ok(module) => Ok(Ok(Some(module))),
        Err(wasi::Fail::Errno(errno)) => {
            Ok(Err(requests::SpawnFailure::Unreadable { file: file.into(), errno }))
        }
        Err(wasi::Fail::Host(stop)) => Err(stop),
    }
}

/// Whether two capabilities go to the same place of the WASI state.
fn same_kind(a: &Moved, b: &Moved) -> bool {
    core::mem::discriminant(a) == core::mem::discriminant(b)
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
