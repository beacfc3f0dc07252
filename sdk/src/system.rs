//! [`System`]: the `system` kernel object (`docs/ABI.md`, "Processes and kernel state"): the
//! process table, the CPUs, starting and killing actors, the kernel log and the memory figures.
//! READ on the capability lists and reads; WRITE starts and kills.
//!
//! ```ignore
//! let system = sdk::System::from_grant(0); // granted `system:rw`
//! let pid = system.spawn("hello.wasm")?;
//! for process in system.processes()? {
//!     sdk::println!("{} {} {}", process.pid, process.name, process.state);
//! }
//! ```

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::{Capability, Error, Program, sys};

/// A process id, as the kernel numbers processes (and messages name their sender).
pub type Pid = u64;

/// Room for the reason a spawn failed; a longer one is cut.
const SPAWN_REASON_MAX: usize = 512;

/// Records the first listing (of processes or CPUs) makes room for; more cost one retry.
const FIRST_LISTING: usize = 16;

/// A capability on the `system` object; closed when dropped.
#[derive(Debug)]
pub struct System(Capability);

/// Where a process is in its life, from [`System::processes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProcState {
    /// Ready to run.
    Ready,
    /// Running now.
    Running,
    /// Waiting for something (a message, a deadline).
    Blocked,
    /// Ended by `sys_exit` (or by returning from `_start`) with this status.
    Exited(i32),
    /// Ended by the kernel or by another process.
    Killed,
    /// Ended by a trap.
    Trapped,
    /// A state number this SDK does not know yet.
    Unknown(u32),
}

/// One row of the process table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its pid.
    pub pid: Pid,
    /// Its name, cut by the kernel to 64 bytes (`sys::PROC_NAME_LEN`).
    pub name: String,
    /// Whether it runs, waits or has ended, and how.
    pub state: ProcState,
    /// The CPU (index from 0) its task runs on or last ran on; `None` before it starts and once
    /// it ended.
    pub cpu: Option<u32>,
    /// Messages it sent.
    pub messages_sent: u64,
    /// Messages it received.
    pub messages_received: u64,
    /// CPU time it used, in nanoseconds.
    pub cpu_ns: u64,
    /// Kernel memory charged to it now, in bytes.
    pub memory_bytes: u64,
    /// The most kernel memory that may be charged to it, in bytes (0 for a kernel task).
    pub memory_limit: u64,
    /// Capabilities it holds.
    pub handles: u32,
    /// How many capabilities it may hold.
    pub handle_limit: u32,
    /// Its Wasm linear memory now, in bytes (0 for a kernel task).
    pub linear_memory: u64,
    /// The most linear memory it may have, in bytes (0 for a kernel task).
    pub linear_memory_limit: u64,
    /// Processes it started that are alive.
    pub children: u32,
    /// How many of those it may have.
    pub child_limit: u32,
    /// Times its supervisor started it again.
    pub restarts: u32,
}

/// The kernel's memory figures, in bytes, as the ABI crate lays them out.
pub use crate::sys::MemInfo as MemoryInfo;

/// One CPU's figures, from [`System::cpus`], as the ABI crate lays them out.
pub use crate::sys::CpuRecord as CpuInfo;

/// Why [`System::spawn`] started nothing.
#[derive(Debug)]
pub struct SpawnError {
    /// The call's error: `NotFound` (no such file), `InvalidArgument` (the kernel refused the
    /// module or the name), or a capability problem.
    pub code: Error,
    /// The kernel's explanation, empty when it gave none.
    pub reason: String,
    /// The capabilities that were to move to the new actor; still this actor's.
    pub grants: Vec<Capability>,
}

impl System {
    /// The `n`-th grant of this actor's manifest line (counting from 0), as the system object.
    pub const fn from_grant(n: u32) -> System {
        System(Capability::from_grant(n))
    }

    /// Every process, by pid, ended ones included with how they ended (needs READ).
    pub fn processes(&self) -> Result<Vec<ProcessInfo>, Error> {
        listing(
            |buf| {
                // SAFETY: the kernel writes at most `buf.len()` bytes, all inside `buf`, which
                // nothing else borrows during the call.
                unsafe { sys::sys_proc_list(self.0.raw(), sys::ptr_mut(buf), buf.len() as i32) }
            },
            ProcessInfo::decode,
        )
    }

    /// Every CPU the kernel runs on, by index (needs READ).
    pub fn cpus(&self) -> Result<Vec<CpuInfo>, Error> {
        listing(
            |buf| {
                // SAFETY: as in `processes`.
                unsafe { sys::sys_cpu_list(self.0.raw(), sys::ptr_mut(buf), buf.len() as i32) }
            },
            CpuInfo::from_bytes,
        )
    }

    /// Ends the live process `pid` (needs WRITE); `Error::NotFound` if there is none.
    pub fn kill(&self, pid: Pid) -> Result<(), Error> {
        let pid = i64::try_from(pid).map_err(|_| Error::NotFound)?;
        Error::check(sys::sys_proc_kill(self.0.raw(), pid).into()).map(drop)
    }

    /// Starts the ramdisk module `file` (say `hello.wasm`) as a new actor with no
    /// capabilities, and returns its pid (needs WRITE).
    pub fn spawn(&self, file: &str) -> Result<Pid, SpawnError> {
        self.spawn_with(file, Vec::new())
    }

    /// As [`spawn`](Self::spawn), moving `grants` (each with GRANT; at most 16) to the new
    /// actor, where they are handles 0, 1, 2… in order.
    pub fn spawn_with(&self, file: &str, grants: Vec<Capability>) -> Result<Pid, SpawnError> {
        self.start(grants.into_iter().fold(Program::new(file), Program::grant))
    }

    /// Starts `program` (needs WRITE) and returns its pid; its capabilities move to it.
    pub fn start(&self, program: Program) -> Result<Pid, SpawnError> {
        let (spec, moved) = program.into_parts();
        let mut reason = [0u8; SPAWN_REASON_MAX];
        // SAFETY: the kernel only reads the spec and writes at most `SPAWN_REASON_MAX` bytes,
        // all inside `reason`, which nothing else borrows during the call.
        let result = unsafe {
            sys::sys_proc_start(
                self.0.raw(),
                sys::ptr(&spec),
                spec.len() as i32,
                sys::ptr_mut(&mut reason),
                SPAWN_REASON_MAX as i32,
            )
        };
        match Error::check(result) {
            Ok(pid) => {
                // The kernel moved them: their handles are gone from this actor's table.
                for cap in moved {
                    cap.into_raw();
                }
                Ok(pid as Pid)
            }
            Err(code) => {
                let end = reason.iter().position(|&b| b == 0).unwrap_or(reason.len());
                let reason = String::from_utf8_lossy(&reason[..end]).into_owned();
                Err(SpawnError { code, reason, grants: moved })
            }
        }
    }

    /// The newest kernel log text the kernel keeps, starting at a line (needs READ).
    pub fn kernel_log(&self) -> Result<String, Error> {
        let mut buf = vec![0u8; sys::KERNEL_LOG_MAX];
        let len = buf.len() as i32;
        // SAFETY: the kernel writes at most `len` bytes, all inside `buf`.
        let copied = unsafe { sys::sys_kernel_log(self.0.raw(), sys::ptr_mut(&mut buf), len) };
        let copied = (Error::check(copied.into())? as usize).min(buf.len());
        Ok(String::from_utf8_lossy(&buf[..copied]).into_owned())
    }

    /// The kernel's memory figures (needs READ).
    pub fn memory(&self) -> Result<MemoryInfo, Error> {
        let mut raw = [0u8; sys::MEM_INFO_LEN];
        let len = raw.len() as i32;
        // SAFETY: the kernel writes at most `len` bytes, all inside `raw`.
        Error::check(unsafe { sys::sys_mem_info(self.0.raw(), sys::ptr_mut(&mut raw), len) }.into())?;
        Ok(MemoryInfo::from_bytes(&raw))
    }

    /// Runs the kernel's native IPC benchmark for `round_trips` and returns its round-trip
    /// figures in ns (needs WRITE). The whole actor waits until it is done.
    pub fn bench_ipc_native(&self, round_trips: u32) -> Result<sys::IpcFigures, Error> {
        let mut raw = [0u8; sys::NATIVE_IPC_LEN];
        let (len, trips) = (raw.len() as i32, i32::try_from(round_trips).unwrap_or(i32::MAX));
        // SAFETY: the kernel writes at most `len` bytes, all inside `raw`.
        let result = unsafe { sys::sys_bench_ipc_native(self.0.raw(), trips, sys::ptr_mut(&mut raw), len) };
        Error::check(result.into())?;
        Ok(sys::IpcFigures::from_bytes(&raw))
    }
}

/// What a listing call writes, `N` bytes a record, read whole: `call` fills the buffer it is
/// given and returns how many records there are, or an error code.
fn listing<const N: usize, T>(
    call: impl Fn(&mut [u8]) -> i32,
    decode: impl Fn(&[u8; N]) -> T,
) -> Result<Vec<T>, Error> {
    let mut room = FIRST_LISTING;
    loop {
        let mut buf = vec![0u8; room * N];
        let count = Error::check(call(&mut buf).into())? as usize;
        if count <= room {
            return Ok(buf.as_chunks::<N>().0.iter().take(count).map(decode).collect());
        }
        // Processes may start before the retry; leave them some room.
        room = count + FIRST_LISTING;
    }
}

impl From<Capability> for System {
    /// Treats a capability (say, one received in a message) as the system object; calls on
    /// it fail with `Error::WrongKind` if it is not.
    fn from(cap: Capability) -> System {
        System(cap)
    }
}

impl ProcState {
    /// The state a record's state number and status field stand for.
    pub const fn from_raw(state: u32, status: i32) -> ProcState {
        match state {
            sys::PROC_READY => ProcState::Ready,
            sys::PROC_RUNNING => ProcState::Running,
            sys::PROC_BLOCKED => ProcState::Blocked,
            sys::PROC_EXITED => ProcState::Exited(status),
            sys::PROC_KILLED => ProcState::Killed,
            sys::PROC_TRAPPED => ProcState::Trapped,
            other => ProcState::Unknown(other),
        }
    }

    /// Whether the process has not ended (an unknown state counts as alive).
    pub const fn is_live(self) -> bool {
        !matches!(self, ProcState::Exited(_) | ProcState::Killed | ProcState::Trapped)
    }
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcState::Ready => f.pad("ready"),
            ProcState::Running => f.pad("running"),
            ProcState::Blocked => f.pad("blocked"),
            // Formatted first, so that width and alignment apply to the whole text.
            ProcState::Exited(status) => f.pad(&alloc::format!("exited {status}")),
            ProcState::Killed => f.pad("killed"),
            ProcState::Trapped => f.pad("trapped"),
            ProcState::Unknown(state) => f.pad(&alloc::format!("state {state}")),
        }
    }
}

impl ProcessInfo {
    /// The process a `sys_proc_list` record describes.
    fn decode(bytes: &[u8; sys::PROC_RECORD]) -> ProcessInfo {
        let record = sys::ProcRecord::from_bytes(bytes);
        ProcessInfo {
            pid: record.pid,
            name: String::from_utf8_lossy(record.name_bytes()).into_owned(),
            state: ProcState::from_raw(record.state, record.status),
            cpu: (record.cpu != sys::PROC_NO_CPU).then_some(record.cpu),
            messages_sent: record.messages_sent,
            messages_received: record.messages_received,
            cpu_ns: record.cpu_ns,
            memory_bytes: record.kernel_memory,
            memory_limit: record.kernel_memory_limit,
            handles: record.handles,
            linear_memory: record.linear_memory,
            linear_memory_limit: record.linear_memory_limit,
            handle_limit: record.handle_limit,
            children: record.children,
            child_limit: record.child_limit,
            restarts: record.restarts,
        }
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() { self.code.fmt(f) } else { f.write_str(&self.reason) }
    }
}

impl core::error::Error for SpawnError {}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::ToString;
    use sdk_host::{BROKEN, HELLO, Kernel, SPINNER};

    use super::*;
    use crate::{Endpoint, Rights};

    /// A kernel whose actor holds `system` with every right.
    fn system() -> (Kernel, System) {
        let kernel = Kernel::start();
        let system = System(Capability::from_raw(kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE)));
        (kernel, system)
    }

    #[test]
    fn the_process_table_lists_this_actor_with_every_field() {
        let (kernel, system) = system();
        let table = system.processes().unwrap();
        assert_eq!(table.len(), 1, "{table:?}");
        let me = &table[0];
        assert_eq!((me.pid, me.name.as_str(), me.state), (kernel.pid(), sdk_host::NAME, ProcState::Running));
        assert_eq!(me.cpu, Some(0), "the host kernel's one CPU");
        assert_eq!((me.messages_sent, me.messages_received, me.restarts), (0, 0, 0));
        assert_eq!((me.handles, me.handle_limit, me.children, me.child_limit), (1, 1024, 0, 128));
        assert_eq!(me.linear_memory, 64 * 65536, "the hosted module's memory");
        assert!(me.linear_memory_limit >= me.linear_memory);
        assert!(0 < me.memory_bytes && me.memory_bytes <= me.memory_limit, "{me:?}");
    }

    #[test]
    fn the_cpus_are_listed_with_their_figures() {
        let (_kernel, system) = system();
        let before = crate::rt::Instant::now().as_nanos() as u64;
        let cpus = system.cpus().unwrap();
        let after = crate::rt::Instant::now().as_nanos() as u64;
        assert_eq!(cpus.len(), 1, "the host kernel's one CPU: {cpus:?}");
        let cpu = cpus[0];
        let total = cpu.busy_ns + cpu.idle_ns;
        assert!(before <= total && total <= after, "busy and idle add up to the clock: {cpu:?}");
        assert!(cpu.tasks >= 1 && cpu.polls >= 1, "this actor's task, polled: {cpu:?}");
        assert_eq!((cpu.steals, cpu.apic_id), (0, 0), "nothing to steal from: {cpu:?}");
    }

    #[test]
    fn a_listing_longer_than_the_first_buffer_is_read_whole() {
        let (kernel, system) = system();
        let long = format!("{}.wasm", "a-module-with-a-long-name-".repeat(3));
        kernel.add_module(&long, SPINNER);
        for _ in 0..FIRST_LISTING * 2 {
            system.spawn(&long).unwrap();
        }
        let table = system.processes().unwrap();
        assert_eq!(table.len(), FIRST_LISTING * 2 + 1);
        assert!(table.windows(2).all(|pair| pair[0].pid < pair[1].pid), "by pid");
        assert_eq!(table[1].name, long[..sys::PROC_NAME_LEN], "cut to 64 bytes");
        assert!(table[1].state.is_live());
    }

    #[test]
    fn spawn_returns_the_pid_or_the_kernels_reason() {
        let (kernel, system) = system();
        kernel.add_module("hello.wasm", HELLO);
        kernel.add_module("broken.wasm", BROKEN);
        let pid = system.spawn("hello.wasm").unwrap();
        assert!(system.processes().unwrap().iter().any(|p| p.pid == pid && p.name == "hello"));

        let missing = system.spawn("nothing.wasm").unwrap_err();
        assert_eq!(missing.code, Error::NotFound);
        assert_eq!(missing.to_string(), "no file `nothing.wasm` in the ramdisk");
        let refused = system.spawn("broken.wasm").unwrap_err();
        assert_eq!(refused.code, Error::InvalidArgument);
        assert_eq!(refused.reason, "`broken.wasm` imports unknown function `env.nope`");

        let nameless = system.spawn("").unwrap_err();
        assert_eq!(
            (nameless.code, nameless.to_string()),
            (Error::InvalidArgument, "invalid argument".into())
        );
        let long = "x".repeat(sys::MAX_SPAWN_NAME + 1);
        assert_eq!(system.spawn(&long).unwrap_err().code, Error::InvalidArgument);
    }

    #[test]
    fn kill_ends_a_live_process_once() {
        let (kernel, system) = system();
        kernel.add_module("spinner.wasm", SPINNER);
        let pid = system.spawn("spinner.wasm").unwrap();
        system.kill(pid).unwrap();
        let ended = system.processes().unwrap().into_iter().find(|p| p.pid == pid).unwrap();
        assert_eq!((ended.state, ended.cpu), (ProcState::Killed, None), "an ended process runs nowhere");
        assert!(!ended.state.is_live());
        assert_eq!(system.kill(pid), Err(Error::NotFound), "already dead");
        assert_eq!(system.kill(999_999), Err(Error::NotFound));
        assert_eq!(system.kill(u64::MAX), Err(Error::NotFound), "not a pid the kernel can name");
    }

    #[test]
    fn the_kernel_log_and_memory_figures_are_read() {
        let (kernel, system) = system();
        kernel.print("MinimalOS banner\n");
        crate::log("hi");
        let log = system.kernel_log().unwrap();
        let lines: Vec<&str> = log.lines().rev().take(2).collect();
        assert_eq!(lines[1], "MinimalOS banner", "{log}");
        assert_eq!(lines[0], format!("actor[{}]: hi", kernel.pid()), "output, not a log line: {log}");
        let memory = system.memory().unwrap();
        assert!(memory.charged <= memory.charge_capacity, "{memory:?}");
        assert!(memory.heap_used <= memory.heap_size, "{memory:?}");
        let sys::IpcFigures { min, p50, p90, p99, max } = system.bench_ipc_native(100).unwrap();
        assert!(
            0 < min && min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
            "{min} {p50} {p90} {p99} {max}"
        );
        assert_eq!(system.bench_ipc_native(0), Err(Error::InvalidArgument));
    }

    #[test]
    fn a_long_kernel_log_is_cut_at_a_line_boundary() {
        let (kernel, system) = system();
        let line = "0123456789abcdef0123456789abcde\n";
        for _ in 0..sys::KERNEL_LOG_MAX / line.len() + 10 {
            kernel.print(line);
        }
        let log = system.kernel_log().unwrap();
        // The oldest kept byte may start a line; the kernel cannot tell once the byte before it
        // is overwritten, so it drops that line too.
        assert!(
            log.len() <= sys::KERNEL_LOG_MAX && log.len() >= sys::KERNEL_LOG_MAX - line.len(),
            "{}",
            log.len()
        );
        assert!(log.starts_with("0123") && log.ends_with("cde\n"), "whole lines only");
    }

    #[test]
    fn rights_and_kind_are_checked() {
        let kernel = Kernel::start();
        let reader = System(Capability::from_raw(kernel.grant_system(sys::RIGHT_READ)));
        kernel.add_module("hello.wasm", HELLO);
        assert!(reader.processes().is_ok() && reader.cpus().is_ok());
        assert_eq!(reader.kill(kernel.pid()), Err(Error::NoRights));
        assert_eq!(reader.spawn("hello.wasm").unwrap_err().code, Error::NoRights);
        assert_eq!(reader.bench_ipc_native(10), Err(Error::NoRights));

        let endpoint = Endpoint::create(1).unwrap().capability(Rights::READ | Rights::WRITE).unwrap();
        let not_system = System::from(endpoint);
        assert_eq!(not_system.processes(), Err(Error::WrongKind));
        assert_eq!(not_system.memory(), Err(Error::WrongKind));
        assert_eq!(not_system.cpus(), Err(Error::WrongKind));
        assert_eq!(System::from_grant(77).kernel_log(), Err(Error::InvalidHandle));
    }

    #[test]
    fn states_read_and_print_as_documented() {
        let states = [(0, "ready"), (1, "running"), (2, "blocked"), (4, "killed"), (5, "trapped")];
        for (raw, text) in states {
            assert_eq!(ProcState::from_raw(raw, -1).to_string(), text);
        }
        assert_eq!(ProcState::from_raw(3, 7), ProcState::Exited(7));
        assert_eq!(alloc::format!("[{:<9}]", ProcState::Exited(7)), "[exited 7 ]");
        assert_eq!(ProcState::from_raw(9, -1), ProcState::Unknown(9));
        assert!(ProcState::Unknown(9).is_live() && ProcState::Blocked.is_live());
    }
}
