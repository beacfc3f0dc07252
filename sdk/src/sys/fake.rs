//! An in-process kernel that serves the imports of [`super`] on the host, so the SDK's runtime
//! is tested against the documented semantics: endpoints are bounded queues that count their
//! readers and writers, handles carry rights and are never reused, a message carries at most
//! one capability, and the clock moves only when a call waits for it (`sys_sleep_ns`, or a
//! `sys_cap_wait` that nothing can satisfy before its deadline).
//!
//! The `system` object ([`grant_system`]) serves a small process table: this actor, and one
//! process per module started from the fake ramdisk ([`add_module`]); a kernel log that holds
//! what [`kernel_print`] and `sys_log` wrote; and the fixed memory figures [`MEMORY`].
//!
//! Each thread has its own kernel; a test starts with [`reset`]. This actor is the only one, so
//! a call that would block with nothing able to wake it panics instead of hanging the test.
//!
//! Host pointers do not fit the ABI's `i32`, so [`ptr`] and [`ptr_mut`] register the slice and
//! return a token that the next call taking it consumes. A read-only slice is copied at once;
//! a writable one is written through its pointer, which the `unsafe` calls' contract covers.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::string::String;
use std::vec::Vec;
use std::{format, println, vec};

use super::*;

/// The pid of the actor under test, the sender of every message.
pub const PID: i64 = 1;
/// The clock after [`reset`]: a little after boot, so that deadline `0` is in the past.
pub const BOOT_NS: i64 = 1_000_000;

/// The name the actor under test has in the process table.
pub const NAME: &str = "actor";
/// What `sys_mem_info` reports: managed, free, heap span, heap allocated (bytes).
pub const MEMORY: MemInfo = MemInfo {
    physical_total: 512 << 20,
    physical_free: 300 << 20,
    heap_size: 8 << 20,
    heap_used: 3 << 20,
    charged: 1 << 20,
    charge_capacity: 448 << 20,
};
/// What `sys_bench_ipc_native` reports (it runs no kernel tasks): min, p50, p90, p99, max ns.
pub const NATIVE_IPC: [u64; 5] = [1800, 2000, 2100, 2400, 9000];

/// Capability table size, as the kernel's.
const MAX_HANDLES: usize = 1024;
/// Largest endpoint capacity.
const MAX_CAPACITY: i32 = 4096;
/// First pointer token; far from small numbers, so a raw offset passed by mistake is refused.
const TOKEN_BASE: i32 = 0x4000_0000;

/// One `sys_cap_wait` call as the kernel saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitCall {
    /// `(handle, interest)` of each entry, in order.
    pub entries: Vec<(i64, u32)>,
    /// The deadline argument.
    pub deadline: i64,
}

struct Cap {
    object: usize,
    rights: i32,
}

struct Message {
    opcode: u32,
    payload: Vec<u8>,
    cap: Option<Cap>,
}

struct Endpoint {
    capacity: usize,
    queue: VecDeque<Message>,
    /// Live capabilities, wherever they are (a table or a queued message), in all and with
    /// READ or WRITE: the `E_CLOSED` rules count capabilities, not handles.
    refs: usize,
    readers: usize,
    writers: usize,
}

enum Object {
    Endpoint(Endpoint),
    Memory(Vec<u8>),
    System,
}

/// A process of the fake process table.
struct Process {
    pid: u64,
    name: String,
    state: u32,
    status: i32,
}

enum Region {
    Read(Vec<u8>),
    Write(*mut u8, usize),
}

struct Kernel {
    clock: i64,
    objects: Vec<Object>,
    handles: HashMap<i64, Cap>,
    next_handle: i64,
    regions: HashMap<i32, Region>,
    next_token: i32,
    framebuffer: Option<[u8; FB_FORMAT_LEN]>,
    waits: Vec<WaitCall>,
    logs: Vec<String>,
    processes: Vec<Process>,
    /// Ramdisk files that can be spawned, with the reason the kernel refuses each (if it does).
    modules: HashMap<String, Option<String>>,
    kernel_log: String,
}

std::thread_local! {
    static KERNEL: RefCell<Kernel> = RefCell::new(Kernel::new());
}

/// Starts this thread over with a fresh kernel: no handles, the clock at [`BOOT_NS`].
pub fn reset() {
    KERNEL.set(Kernel::new());
}

/// Every `sys_cap_wait` call since [`reset`].
pub fn wait_calls() -> Vec<WaitCall> {
    KERNEL.with_borrow(|k| k.waits.clone())
}

/// Every line logged since [`reset`].
pub fn logs() -> Vec<String> {
    KERNEL.with_borrow(|k| k.logs.clone())
}

/// How many handles are open in this actor's table.
pub fn open_handles() -> usize {
    KERNEL.with_borrow(|k| k.handles.len())
}

/// Grants this actor a zeroed shared-memory object of `size` bytes with `rights`.
pub fn grant_shm(size: usize, rights: i32) -> i64 {
    KERNEL.with_borrow_mut(|k| {
        k.objects.push(Object::Memory(vec![0; size]));
        let cap = k.new_cap(k.objects.len() - 1, rights);
        k.install(cap).expect("the table has room for a grant")
    })
}

/// Gives the machine a `width` × `height` framebuffer (32 bpp, `0x00RRGGBB`) and grants this
/// actor READ and WRITE on it.
pub fn grant_framebuffer(width: u32, height: u32) -> i64 {
    let mut format = [0; FB_FORMAT_LEN];
    for (i, word) in [width, height, width * 4, 32].into_iter().enumerate() {
        format[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    format[16..22].copy_from_slice(&[8, 16, 8, 8, 8, 0]);
    KERNEL.with_borrow_mut(|k| k.framebuffer = Some(format));
    grant_shm(width as usize * 4 * height as usize, RIGHT_READ | RIGHT_WRITE)
}

/// Grants this actor the `system` object with `rights`.
pub fn grant_system(rights: i32) -> i64 {
    KERNEL.with_borrow_mut(|k| {
        k.objects.push(Object::System);
        let cap = k.new_cap(k.objects.len() - 1, rights);
        k.install(cap).expect("the table has room for a grant")
    })
}

/// Puts `file` in the fake ramdisk: `sys_proc_spawn` starts it, or, with a `refusal`, refuses
/// it for that reason as the kernel refuses a bad module.
pub fn add_module(file: &str, refusal: Option<&str>) {
    KERNEL.with_borrow_mut(|k| k.modules.insert(file.into(), refusal.map(String::from)));
}

/// Appends `text` to the kernel log that `sys_kernel_log` reads.
pub fn kernel_print(text: &str) {
    KERNEL.with_borrow_mut(|k| k.print(text));
}

/// Registers `bytes` for the next call that reads them; see the module docs.
pub fn ptr(bytes: &[u8]) -> i32 {
    KERNEL.with_borrow_mut(|k| k.register(Region::Read(bytes.to_vec())))
}

/// Registers `bytes` for the next call that writes them; see the module docs.
pub fn ptr_mut(bytes: &mut [u8]) -> i32 {
    KERNEL.with_borrow_mut(|k| k.register(Region::Write(bytes.as_mut_ptr(), bytes.len())))
}

/// Runs one call on this thread's kernel, turning an error into its code.
fn call(f: impl FnOnce(&mut Kernel) -> Result<i64, i32>) -> i64 {
    KERNEL.with_borrow_mut(f).unwrap_or_else(i64::from)
}

/// [`call`] for the imports that return `i32`; their results always fit.
fn call32(f: impl FnOnce(&mut Kernel) -> Result<i64, i32>) -> i32 {
    call(f) as i32
}

/// Logs `len` bytes of UTF-8 at `ptr` as one console line.
pub fn sys_log(ptr: i32, len: i32) {
    KERNEL.with_borrow_mut(|k| match k.read(ptr, len) {
        Ok(bytes) => {
            let line = String::from_utf8_lossy(&bytes).into_owned();
            println!("actor[{PID}]: {line}");
            k.print(&format!("{NAME}[{PID}]: {line}\n"));
            k.logs.push(line);
        }
        Err(_) => println!("warning: actor[{PID}] logged a range outside its memory"),
    })
}

/// Ends the actor; on the host the test thread panics with the status.
pub fn sys_exit(code: i32) {
    panic!("actor exited with status {code}");
}

/// Lets every other runnable task run once; there are none here.
pub fn sys_yield() {}

/// Nanoseconds since boot on the fake clock.
pub fn sys_clock_ns() -> i64 {
    KERNEL.with_borrow(|k| k.clock)
}

/// The fake TSC frequency: 1 GHz, so cycles equal nanoseconds.
pub fn sys_tsc_hz() -> i64 {
    1_000_000_000
}

/// Advances the fake clock by `ns`.
pub fn sys_sleep_ns(ns: i64) -> i32 {
    call32(|k| {
        if ns < 0 {
            return Err(E_INVALID_ARGUMENT);
        }
        k.clock += ns;
        Ok(0)
    })
}

/// Queues a message on endpoint `handle`, moving `cap` (or `-1`) with it; never blocks.
pub fn sys_cap_send(handle: i64, opcode: i32, payload_ptr: i32, payload_len: i32, cap: i64) -> i32 {
    call32(|k| k.send(handle, opcode, payload_ptr, payload_len, cap))
}

/// Takes the oldest message; panics where the kernel would block forever.
///
/// # Safety
/// `buf_ptr` comes from [`ptr_mut`] on a slice that is still live and unborrowed.
pub unsafe fn sys_cap_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64 {
    call(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.recv(handle, buf, true)
    })
}

/// As [`sys_cap_recv`], but `E_EMPTY` instead of blocking.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_cap_try_recv(handle: i64, buf_ptr: i32, buf_len: i32) -> i64 {
    call(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.recv(handle, buf, false)
    })
}

/// Sends the request in the buffer after its route, then receives the answer over it;
/// everything that could refuse the receive is checked before anything is sent.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_cap_call(buf_ptr: i32, buf_len: i32) -> i64 {
    call(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        let route = buf.first_chunk().map(CallRoute::from_bytes).ok_or(E_INVALID_ARGUMENT)?;
        let message = &mut buf[CALL_ROUTE..];
        let request = MessageHeader::read(message).ok_or(E_INVALID_ARGUMENT)?;
        let payload = message[RECV_HEADER..].get(..request.len as usize).ok_or(E_INVALID_ARGUMENT)?.to_vec();
        k.endpoint(route.reply, RIGHT_READ)?;
        k.send_bytes(route.handle, request.opcode as i32, payload, request.cap)?;
        k.recv(route.reply, message, true)
    })
}

/// Reports the ready entries; with none, moves the clock to the deadline (or panics without one:
/// nothing else could ever make an entry ready). A negative deadline is none, as `-1` is.
///
/// # Safety
/// As [`sys_cap_recv`], for `count` 16-byte entries at `entries_ptr`.
pub unsafe fn sys_cap_wait(entries_ptr: i32, count: i32, deadline_ns: i64) -> i32 {
    call32(|k| {
        if !(1..=MAX_WAIT_ENTRIES as i32).contains(&count) {
            return Err(E_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded from this function's contract.
        let list = unsafe { k.out(entries_ptr, count * WAIT_ENTRY as i32) }?;
        let entries: Vec<(i64, u32)> = list
            .chunks_exact(WAIT_ENTRY)
            .map(|entry| WaitEntry::from_bytes(entry.try_into().expect("16-byte entries")))
            .map(|entry| (entry.handle, entry.interest))
            .collect();
        // An entry interested in nothing (or in unknown bits) could never become ready.
        if entries.iter().any(|&(_, interest)| interest == 0 || interest & !(READABLE | WRITABLE) != 0) {
            return Err(E_INVALID_ARGUMENT);
        }
        let mut ready_count = 0;
        for (entry, &(handle, interest)) in list.chunks_exact_mut(WAIT_ENTRY).zip(&entries) {
            let ready = k.readiness(handle, interest);
            entry[WaitEntry::READY_AT..].copy_from_slice(&ready.to_le_bytes());
            ready_count += i64::from(ready != 0);
        }
        k.waits.push(WaitCall { entries, deadline: deadline_ns });
        if ready_count == 0 {
            assert!(deadline_ns >= 0, "sys_cap_wait would block forever: no other actor here");
            k.clock = k.clock.max(deadline_ns);
        }
        Ok(ready_count)
    })
}

/// Creates an endpoint of `capacity` messages; returns a handle with every right.
pub fn sys_endpoint_create(capacity: i32) -> i64 {
    call(|k| {
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(E_INVALID_ARGUMENT);
        }
        k.room()?;
        k.objects.push(Object::Endpoint(Endpoint {
            capacity: capacity as usize,
            queue: VecDeque::new(),
            refs: 0,
            readers: 0,
            writers: 0,
        }));
        let cap = k.new_cap(k.objects.len() - 1, RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT);
        k.install(cap)
    })
}

/// Returns a new handle to the same object with `rights`, a subset of the handle's own.
pub fn sys_cap_derive(handle: i64, rights: i32) -> i64 {
    call(|k| {
        let cap = k.cap(handle)?;
        if rights & !(RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT) != 0 {
            return Err(E_INVALID_ARGUMENT);
        }
        if rights & !cap.rights != 0 {
            return Err(E_NO_RIGHTS);
        }
        let object = cap.object;
        k.room()?;
        let cap = k.new_cap(object, rights);
        k.install(cap)
    })
}

/// Closes the handle.
pub fn sys_cap_close(handle: i64) -> i32 {
    call32(|k| {
        let cap = k.handles.remove(&handle).ok_or(E_INVALID_HANDLE)?;
        k.release(cap);
        Ok(0)
    })
}

/// Copies `len` bytes at `offset` of a memory object into the actor's memory.
///
/// # Safety
/// As [`sys_cap_recv`], for `len` bytes at `buf_ptr`.
pub unsafe fn sys_cap_mem_read(handle: i64, offset: i32, buf_ptr: i32, len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, len) }?;
        let range = k.mem_range(handle, RIGHT_READ, offset, len)?;
        let bytes = buf.get_mut(..range.len()).ok_or(E_OUT_OF_BOUNDS)?;
        bytes.copy_from_slice(&k.memory_mut(handle)[range]);
        Ok(0)
    })
}

/// Copies `len` bytes of the actor's memory to `offset` of a memory object.
pub fn sys_cap_mem_write(handle: i64, offset: i32, data_ptr: i32, len: i32) -> i32 {
    call32(|k| {
        let data = k.read(data_ptr, len)?;
        let range = k.mem_range(handle, RIGHT_WRITE, offset, len)?;
        k.memory_mut(handle)[range].copy_from_slice(&data);
        Ok(0)
    })
}

/// Size in bytes of a memory object.
pub fn sys_cap_mem_size(handle: i64) -> i64 {
    call(|k| {
        let cap = k.cap(handle)?;
        let Object::Memory(bytes) = &k.objects[cap.object] else { return Err(E_WRONG_KIND) };
        if cap.rights & (RIGHT_READ | RIGHT_WRITE) == 0 {
            return Err(E_NO_RIGHTS);
        }
        Ok(bytes.len() as i64)
    })
}

/// The framebuffer's size as `(width << 32) | height`.
pub fn sys_fb_info() -> i64 {
    call(|k| {
        let format = k.framebuffer.ok_or(E_NOT_FOUND)?;
        let word = |i: usize| i64::from(u32::from_le_bytes(format[i..i + 4].try_into().expect("4 bytes")));
        Ok(word(0) << 32 | word(4))
    })
}

/// Writes the framebuffer's 24-byte format into the buffer.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_fb_format(buf_ptr: i32, buf_len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        let format = k.framebuffer.ok_or(E_NOT_FOUND)?;
        buf.get_mut(..FB_FORMAT_LEN).ok_or(E_BUFFER_TOO_SMALL)?.copy_from_slice(&format);
        Ok(0)
    })
}

/// Writes one record per process that fits; returns how many processes there are. Statistics
/// are made up from the pid, so that every field of a record differs from the others.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_proc_list(handle: i64, buf_ptr: i32, buf_len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.system(handle, RIGHT_READ)?;
        for (process, slot) in k.processes.iter().zip(buf.chunks_exact_mut(PROC_RECORD)) {
            let pid = process.pid;
            let record = ProcRecord {
                pid,
                state: process.state,
                status: process.status,
                messages_sent: pid * 10,
                messages_received: pid * 10 + 1,
                cpu_ns: pid * 1_000_000,
                kernel_memory: pid * 4096,
                handles: pid as u32 + 2,
                name: ProcRecord::name_field(&process.name),
                linear_memory: pid * 65536,
                linear_memory_limit: pid * 65536 * 4,
                handle_limit: 1024,
                children: pid as u32 + 3,
                child_limit: 128,
                restarts: pid as u32 + 4,
                kernel_memory_limit: pid << 20,
            };
            slot.copy_from_slice(&record.to_bytes());
        }
        Ok(k.processes.len() as i64)
    })
}

/// Ends process `pid`; on the host, killing this actor panics as [`sys_exit`] does.
pub fn sys_proc_kill(handle: i64, pid: i64) -> i32 {
    let result = call32(|k| {
        k.system(handle, RIGHT_WRITE)?;
        let live = |p: &&mut Process| p.pid as i64 == pid && p.state <= PROC_BLOCKED;
        let process = k.processes.iter_mut().find(|p| live(p)).ok_or(E_NOT_FOUND)?;
        process.state = PROC_KILLED;
        Ok(0)
    });
    assert!(result != 0 || pid != PID, "actor killed itself");
    result
}

/// Starts a module of the fake ramdisk as a new process, or writes why it cannot.
///
/// # Safety
/// As [`sys_cap_recv`], for the `err_len` bytes at `err_ptr`.
pub unsafe fn sys_proc_spawn(
    handle: i64,
    name_ptr: i32,
    name_len: i32,
    grants_ptr: i32,
    grants_count: i32,
    err_ptr: i32,
    err_len: i32,
) -> i64 {
    call(|k| {
        let name = k.read(name_ptr, name_len)?;
        // The fake kernel runs no modules, so grants are only checked for their range.
        let count = usize::try_from(grants_count)
            .ok()
            .filter(|&n| n <= MAX_SPAWN_GRANTS)
            .ok_or(E_INVALID_ARGUMENT)?;
        if count > 0 {
            k.read(grants_ptr, (count * 8) as i32)?;
        }
        // SAFETY: forwarded from this function's contract.
        let err = unsafe { k.out(err_ptr, err_len) }?;
        k.system(handle, RIGHT_WRITE)?;
        if name.is_empty() || name.len() > MAX_SPAWN_NAME {
            return Err(E_INVALID_ARGUMENT);
        }
        let file = String::from_utf8(name).map_err(|_| E_INVALID_ARGUMENT)?;
        let (code, why) = match k.modules.get(&file) {
            None => (E_NOT_FOUND, format!("no file `{file}` in the ramdisk")),
            Some(Some(refusal)) => (E_INVALID_ARGUMENT, format!("`{file}` {refusal}")),
            Some(None) => {
                let pid = k.processes.last().map_or(PID as u64, |p| p.pid) + 1;
                let name = file.trim_end_matches(".wasm").into();
                k.processes.push(Process { pid, name, state: PROC_READY, status: -1 });
                return Ok(pid as i64);
            }
        };
        // The reason, cut to fit, NUL-terminated when there is room, as the kernel writes it.
        let shown = why.len().min(err.len());
        err[..shown].copy_from_slice(&why.as_bytes()[..shown]);
        if let Some(end) = err.get_mut(shown) {
            *end = 0;
        }
        Err(code)
    })
}

/// Copies the newest kernel log text, from a line boundary; returns how many bytes.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_kernel_log(handle: i64, buf_ptr: i32, buf_len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.system(handle, RIGHT_READ)?;
        let log = k.kernel_log.as_bytes();
        let mut tail = &log[log.len() - log.len().min(buf.len())..];
        if tail.len() < log.len() {
            // Cut after the first line break, as the kernel does when older text is left out.
            tail = tail.iter().position(|&b| b == b'\n').map_or(&[][..], |i| &tail[i + 1..]);
        }
        buf[..tail.len()].copy_from_slice(tail);
        Ok(tail.len() as i64)
    })
}

/// Writes [`MEMORY`] as the kernel's 48 bytes of memory figures.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_mem_info(handle: i64, buf_ptr: i32, buf_len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.system(handle, RIGHT_READ)?;
        let out = buf.get_mut(..MEM_INFO_LEN).ok_or(E_BUFFER_TOO_SMALL)?;
        out.copy_from_slice(&MEMORY.to_bytes());
        Ok(0)
    })
}

/// Checks the arguments as the kernel does and writes [`NATIVE_IPC`] as the figures.
///
/// # Safety
/// As [`sys_cap_recv`].
pub unsafe fn sys_bench_ipc_native(handle: i64, round_trips: i32, buf_ptr: i32, buf_len: i32) -> i32 {
    call32(|k| {
        // SAFETY: forwarded from this function's contract.
        let buf = unsafe { k.out(buf_ptr, buf_len) }?;
        k.system(handle, RIGHT_WRITE)?;
        let out = buf.get_mut(..NATIVE_IPC_LEN).ok_or(E_BUFFER_TOO_SMALL)?;
        if !(1..=MAX_NATIVE_TRIPS).contains(&round_trips) {
            return Err(E_INVALID_ARGUMENT);
        }
        for (slot, value) in out.chunks_exact_mut(8).zip(NATIVE_IPC) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        Ok(0)
    })
}

/// The receive header of `message` with `cap` in the cap field.
fn header(message: &Message, cap: i64) -> [u8; RECV_HEADER] {
    MessageHeader { opcode: message.opcode, len: message.payload.len() as u32, cap }.to_bytes()
}

mod kernel;
