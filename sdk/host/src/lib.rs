//! Runs SDK code on the host against the kernel itself: the SDK's and the actors' host tests.
//!
//! A build for another target than `wasm32` resolves the SDK's imports (`sdk::sys`) to this
//! crate's functions of the same names. [`Kernel::start`] starts the kernel's logic, built for
//! the host (feature `host`, as `fuzz/` builds it), with one actor, `actor`: a Wasm module that
//! imports every host function of the ABI and re-exports it. Each import the native code calls
//! becomes a call of that export on the actor's fiber, so the kernel's own handler runs it,
//! with the kernel's checks, capability table, endpoints, process table, spawn path and log;
//! the executor runs until the call returns. Nothing here answers a call by itself.
//!
//! Host pointers do not fit the ABI's `i32`: `sdk::sys::ptr` lends the slice to the next call,
//! which gets it copied into the actor's memory (and, if writable, copied back after it).
//!
//! One kernel runs per process: tests take turns, each holding its [`Kernel`]. A call that
//! waits for what nothing can bring (no task ready, no timer set) panics rather than hanging
//! the test; one that ends the actor (`sys_exit`, a kill) panics with how it ended.

mod imports;
mod server;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant as HostInstant};

use kernel::boot::FramebufferInfo;
use kernel::cap::{Capability, Rights};
use kernel::proc::{Exit, PROCESSES, Process, ProcessTable, State};
use kernel::ramdisk::Ramdisk;
use kernel::system::requests;
use kernel::task::{Executor, preempt};
use kernel::time::{self, clock, timer};
use kernel::wasm::engine::Value;
use kernel::wasm::limits::Limits;
use kernel::wasm::spawn::Source;
use kernel::{arch::cpu, klog};
use minimalos_abi::{HOST_FUNCTIONS, WAIT_ENTRY, WaitEntry};

use server::{Answer, Call, Lent, Mailbox};

/// The hosted actor's name in the process table.
pub const NAME: &str = "actor";

/// A module for [`Kernel::add_module`] that logs `hello` and ends.
pub const HELLO: &str = r#"(module (import "env" "sys_log" (func $log (param i32 i32)))
    (memory (export "memory") 1) (data (i32.const 0) "hello")
    (func (export "_start") (call $log (i32.const 0) (i32.const 5))))"#;
/// A module that computes until it is killed.
pub const SPINNER: &str =
    r#"(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))"#;
/// A module the kernel refuses: it imports `env.nope`, which the ABI lacks.
pub const BROKEN: &str =
    r#"(module (import "env" "nope" (func)) (memory (export "memory") 1) (func (export "_start")))"#;

/// Where lent buffers start in the actor's memory: not at 0, so a raw offset passed by
/// mistake is unlikely to name one.
const LENT_START: usize = 4096;
/// Wasm pages of the actor's memory: room for 4 MiB of buffers in one call.
const MEMORY_PAGES: usize = 64;

/// One `sys_cap_wait` call as the actor made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitCall {
    /// `(handle, interest)` of each entry, in order.
    pub entries: Vec<(i64, u32)>,
    /// The deadline argument.
    pub deadline: i64,
}

/// The kernel of this process, with its actor; tests take turns holding it.
pub struct Kernel {
    _turn: MutexGuard<'static, ()>,
}

/// A buffer lent to the next call that the call may write.
struct Writable {
    host: *mut u8,
    len: usize,
}

struct Hosted {
    executor: Executor,
    process: Arc<Process>,
    mailbox: Rc<Mailbox>,
    /// Ramdisk files `sys_proc_spawn` may start, and the archive made of them.
    files: Vec<(String, Vec<u8>)>,
    disk: Option<Ramdisk<'static>>,
    lent: Vec<Lent>,
    writable: Vec<Writable>,
    waits: Vec<WaitCall>,
    /// The kernel log's length when the kernel started.
    log_start: usize,
}

static TURN: Mutex<()> = Mutex::new(());

std::thread_local! {
    static HOSTED: RefCell<Option<Hosted>> = const { RefCell::new(None) };
}

impl Kernel {
    /// Waits for this process's kernel, then starts it afresh with the actor holding nothing.
    pub fn start() -> Self {
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        start_clock_and_log();
        let mut executor = Executor::new();
        let module = wat::parse_str(trampoline()).expect("the hosted module is valid Wasm text");
        let limits = Limits { memory_pages: MEMORY_PAGES as u32, ..Limits::default() };
        let loaded = kernel::wasm::spawn::load(
            &mut PROCESSES.lock(),
            NAME,
            Source::Bytes(&module),
            limits,
            Default::default(),
            None,
        )
        .expect("the kernel loads the hosted module");
        let mailbox = Rc::new(Mailbox::default());
        let process =
            loaded.start(&mut executor, server::serve(mailbox.clone())).expect("the kernel starts the actor");
        let log_start = klog::read_from(usize::MAX, &mut []).1;
        let hosted = Hosted {
            executor,
            process,
            mailbox,
            files: Vec::new(),
            disk: None,
            lent: Vec::new(),
            writable: Vec::new(),
            waits: Vec::new(),
            log_start,
        };
        HOSTED.set(Some(hosted));
        Self { _turn: turn }
    }

    /// The actor's pid.
    pub fn pid(&self) -> u64 {
        with(|hosted| hosted.process.pid().raw())
    }

    /// Grants the actor the `system` object with `rights` (the ABI's bits); returns its handle.
    pub fn grant_system(&self, rights: i32) -> i64 {
        let system = Capability::system().derive(rights_of(rights)).expect("fewer rights than all");
        self.grant(system)
    }

    /// Grants the actor a zeroed shared-memory object of `size` bytes with `rights`.
    pub fn grant_shm(&self, size: usize, rights: i32) -> i64 {
        let memory = Capability::shared_memory(size).and_then(|m| m.derive(rights_of(rights)));
        self.grant(memory.expect("a shared memory of that size"))
    }

    /// Grants the actor a `width` × `height` framebuffer of 32-bit `0x00RRGGBB` pixels in host
    /// memory. The host kernel has no boot framebuffer, so `sys_fb_info` and `sys_fb_format`
    /// answer `E_NOT_FOUND`, as on a machine without a display.
    pub fn grant_framebuffer(&self, width: u64, height: u64) -> i64 {
        // The kernel keeps a framebuffer for ever; so does this process.
        let pixels: &'static mut [u32] = vec![0; (width * height) as usize].leak();
        let info = FramebufferInfo {
            address: pixels.as_mut_ptr() as u64,
            width,
            height,
            pitch: width * 4,
            bpp: 32,
            channels: [(8, 16), (8, 8), (8, 0)],
        };
        self.grant(Capability::framebuffer(Box::leak(Box::new(info))))
    }

    fn grant(&self, cap: Capability) -> i64 {
        with(|hosted| hosted.process.insert(cap).expect("the actor's table has room").raw())
    }

    /// Puts the module `wat` (Wasm text) in the ramdisk as `file`, for `sys_proc_spawn`.
    pub fn add_module(&self, file: &str, wat: &str) {
        let bytes = wat::parse_str(wat).expect("the module text is valid");
        with(|hosted| {
            hosted.files.push((file.into(), bytes));
            let mut archive = tar::Builder::new(Vec::new());
            for (name, bytes) in &hosted.files {
                let mut header = tar::Header::new_ustar();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                archive.append_data(&mut header, name, &bytes[..]).expect("a tar entry in memory");
            }
            // The kernel keeps its ramdisk for ever; so does this process (a few kilobytes a test).
            let archive: &'static [u8] = archive.into_inner().expect("an archive in memory").leak();
            hosted.disk = Some(Ramdisk::new(archive).expect("a ustar archive"));
        });
    }

    /// Appends `text` to the kernel log, as the kernel prints.
    pub fn print(&self, text: &str) {
        klog::print(format_args!("{text}"));
    }

    /// What the actor printed and logged since the kernel started, line by line as the kernel
    /// shows it (escaped, cut at its limit), without the time and the `NAME[PID]: ` every line
    /// starts with: its output (`sys_log`) as the text alone, its log lines (`sys_log_level`)
    /// after their level, `[ERROR] text`.
    pub fn logs(&self) -> Vec<String> {
        let (start, me) = with(|h| (h.log_start, format!("{NAME}[{}]: ", h.process.pid())));
        let mut text = vec![0; klog::RING_BYTES];
        let (len, _) = klog::read_from(start, &mut text);
        let level = |line: &str| {
            let (level, rest) = line.strip_prefix('[')?.split_once("] ")?;
            Some((format!("[{level}] "), rest.strip_prefix(&me)?.to_owned()))
        };
        String::from_utf8_lossy(&text[..len])
            .lines()
            .filter_map(|line| match line.strip_prefix(&me) {
                Some(output) => Some(output.to_owned()),
                None => level(without_time(line)).map(|(level, text)| level + &text),
            })
            .collect()
    }

    /// Makes the kernel log at `level` and above (`log=` on its command line: `error` to
    /// `trace`), for every kernel of this process: a test that asks for more than `info` had
    /// better run in a test binary of its own.
    pub fn set_log_level(&self, level: &str) {
        log::set_max_level(level.parse().unwrap_or_else(|_| panic!("no log level `{level}`")));
    }

    /// Every `sys_cap_wait` call the actor made, in order.
    pub fn wait_calls(&self) -> Vec<WaitCall> {
        with(|hosted| hosted.waits.clone())
    }

    /// How many capabilities the actor holds.
    pub fn open_handles(&self) -> usize {
        with(|hosted| hosted.process.with_caps(|table| table.count()))
    }

    /// How the actor ended, if it has.
    pub fn exit(&self) -> Option<Exit> {
        with(|hosted| match hosted.process.state() {
            State::Dead(exit) => Some(exit),
            _ => None,
        })
    }
}

impl Drop for Kernel {
    /// Ends every process, drops every task (their waits unwind), and empties the table.
    fn drop(&mut self) {
        let Some(mut hosted) = HOSTED.take() else { return };
        let table = std::mem::take(&mut *PROCESSES.lock());
        for info in table.list() {
            if let Ok(process) = table.get(info.pid) {
                process.end(Exit::Killed { by: None });
            }
        }
        // A request left queued would be served by the next kernel, for a process gone.
        requests::serve(&mut hosted.executor, None);
        drop(hosted);
        *PROCESSES.lock() = ProcessTable::new();
    }
}

/// Runs `f` on the running kernel.
fn with<R>(f: impl FnOnce(&mut Hosted) -> R) -> R {
    HOSTED.with_borrow_mut(|hosted| f(hosted.as_mut().expect("no kernel: start one with `Kernel::start()`")))
}

/// The kernel's rights for the ABI's bits.
fn rights_of(bits: i32) -> Rights {
    Rights::from_bits_truncate(bits as u8)
}

/// Starts the kernel's clock (the TSC measured against the host's clock), its log and its
/// time slices of 2 ms, once per process.
fn start_clock_and_log() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let (tsc, host) = (cpu::rdtsc(), HostInstant::now());
        std::thread::sleep(Duration::from_millis(20));
        let cycles = cpu::rdtsc().wrapping_sub(tsc);
        let hz = (u128::from(cycles) * 1_000_000_000 / host.elapsed().as_nanos().max(1)) as u64;
        clock::start(hz);
        klog::init(log::LevelFilter::Info);
        // The timer interrupt: time slices end, so an actor that computes for ever gives way.
        preempt::set_slice_cycles(hz / 500);
        std::thread::spawn(|| {
            loop {
                preempt::on_tick(cpu::rdtsc());
                std::thread::sleep(Duration::from_micros(200));
            }
        });
    });
}

/// The hosted module: every host function imported and exported again, and a memory.
fn trampoline() -> String {
    let mut text = String::from("(module\n");
    for function in HOST_FUNCTIONS {
        let params: String = function.params.iter().map(|(_, ty)| format!(" {}", ty.name())).collect();
        let results: String = function.results.iter().map(|ty| format!(" {}", ty.name())).collect();
        let name = function.name;
        let _ = writeln!(
            text,
            "(import \"env\" \"{name}\" (func ${name} (param{params}) (result{results})))\n(export \"{name}\" (func ${name}))"
        );
    }
    let _ = write!(text, "(memory (export \"memory\") {MEMORY_PAGES})\n(func (export \"_start\")))");
    text
}

/// Copies `bytes` into the actor's memory for the next call; see the crate documentation.
fn lend(bytes: &[u8], host: *mut u8, writable: bool) -> i32 {
    with(|hosted| {
        let end = hosted.lent.last().map_or(LENT_START, |last| last.offset + last.bytes.len());
        let offset = end.next_multiple_of(8);
        assert!(
            offset + bytes.len() <= MEMORY_PAGES * 65536,
            "one call was lent more than the actor's {MEMORY_PAGES} pages of memory hold"
        );
        hosted.lent.push(Lent { offset, bytes: bytes.to_vec(), writable });
        if writable {
            hosted.writable.push(Writable { host, len: bytes.len() });
        }
        offset as i32
    })
}

/// Makes the host call `name` with `args` on the actor, running the kernel until it returns.
fn call(name: &'static str, args: Vec<Value>) -> Vec<Value> {
    let answer = with(|hosted| {
        let lent = std::mem::take(&mut hosted.lent);
        if name == "sys_cap_wait" {
            hosted.waits.push(wait_call(&args, &lent));
        }
        hosted.mailbox.post(Call { name, args, lent });
        hosted.run_until_answered(name)
    });
    let writable = with(|hosted| std::mem::take(&mut hosted.writable));
    match answer {
        Answer::Returned { results, written } => {
            for (buffer, bytes) in writable.iter().zip(written) {
                // SAFETY: `sdk_host_lend`'s caller keeps the buffer live and unborrowed until
                // this call returns; `bytes` has the length it was lent with.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.host, buffer.len.min(bytes.len()))
                };
            }
            results
        }
        Answer::Ended => {
            let exit = with(|hosted| hosted.process.state());
            match exit {
                State::Dead(exit) => panic!("the actor {exit}"),
                other => panic!("the actor's call {name} ended it, yet its process is {other:?}"),
            }
        }
    }
}

/// The wait a `sys_cap_wait(entries_ptr, count, deadline)` asks for, read from its buffer.
fn wait_call(args: &[Value], lent: &[Lent]) -> WaitCall {
    let (ptr, count, deadline) = match args {
        [Value::I32(ptr), Value::I32(count), Value::I64(deadline)] => (*ptr, *count, *deadline),
        _ => return WaitCall { entries: Vec::new(), deadline: -1 },
    };
    let buffer = lent.iter().find(|lent| lent.offset == ptr as usize).map_or(&[][..], |lent| &lent.bytes[..]);
    let entries = buffer
        .as_chunks::<WAIT_ENTRY>()
        .0
        .iter()
        .take(count.max(0) as usize)
        .map(|bytes| {
            let entry = WaitEntry::from_bytes(bytes);
            (entry.handle, entry.interest)
        })
        .collect();
    WaitCall { entries, deadline }
}

impl Hosted {
    /// Runs the executor loop (timers, requests, tasks) until the posted call has its answer.
    fn run_until_answered(&mut self, name: &str) -> Answer {
        loop {
            if let Some(answer) = self.mailbox.take_answer() {
                return answer;
            }
            timer::fire_expired(time::now());
            requests::serve(&mut self.executor, self.disk.as_ref());
            self.executor.run_ready(|tsc| requests::pending() || timer::due(clock::instant_at(tsc)));
            if self.executor.has_ready() || requests::pending() {
                continue;
            }
            match timer::next_deadline() {
                Some(deadline) => std::thread::sleep(deadline.saturating_duration_since(time::now())),
                None if self.mailbox.has_answer() => {}
                None => panic!(
                    "the actor waits in {name} for what nothing can bring: no task is ready and no timer is set"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// A kernel log line without the time it starts with (`[    1.234567] `).
pub fn without_time(line: &str) -> &str {
    line.strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .filter(|(time, _)| time.trim_start().chars().all(|c| c.is_ascii_digit() || c == '.'))
        .map_or(line, |(_, rest)| rest)
}
