//! The records host calls read from and write into an actor's memory, beyond the message header
//! and the call route: each a type with its little-endian layout at fixed offsets, encoded and
//! decoded here only, so the kernel and the SDK cannot disagree on a byte.

use crate::{CPU_RECORD, MEM_INFO_LEN, NATIVE_IPC_LEN, PROC_NAME_LEN, PROC_RECORD, WAIT_ENTRY};

/// Where a process record's name field starts.
const NAME_AT: usize = 96;

/// Reads little-endian fields at fixed offsets.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().unwrap_or_default())
    }

    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.0[at..at + 8].try_into().unwrap_or_default())
    }
}

/// One process as `sys_proc_list` reports it ([`PROC_RECORD`] bytes; the table in
/// `docs/ABI.md` gives the offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcRecord {
    /// Its pid.
    pub pid: u64,
    /// Its state, one of the `PROC_*` numbers.
    pub state: u32,
    /// Its exit status once it exited, else `-1`.
    pub status: i32,
    /// Messages it sent.
    pub messages_sent: u64,
    /// Messages it received.
    pub messages_received: u64,
    /// CPU time it used, in ns.
    pub cpu_ns: u64,
    /// Kernel memory charged to it now, in bytes.
    pub kernel_memory: u64,
    /// Capabilities it holds.
    pub handles: u32,
    /// Its name, cut to [`PROC_NAME_LEN`] bytes, zero-padded.
    pub name: [u8; PROC_NAME_LEN],
    /// Its Wasm linear memory now, in bytes (`0` for a kernel task).
    pub linear_memory: u64,
    /// The most linear memory it may have, in bytes (`0` for a kernel task).
    pub linear_memory_limit: u64,
    /// The most capabilities it may hold.
    pub handle_limit: u32,
    /// Processes it started that are alive.
    pub children: u32,
    /// The most of those it may have.
    pub child_limit: u32,
    /// Times its supervisor restarted it.
    pub restarts: u32,
    /// The most kernel memory that may be charged to it, in bytes (`0` for a kernel task).
    pub kernel_memory_limit: u64,
    /// The CPU its task runs on or last ran on, or [`PROC_NO_CPU`](crate::PROC_NO_CPU).
    pub cpu: u32,
}

impl ProcRecord {
    /// Its bytes.
    pub fn to_bytes(&self) -> [u8; PROC_RECORD] {
        let mut out = [0u8; PROC_RECORD];
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &self.pid.to_le_bytes());
        put(8, &self.state.to_le_bytes());
        put(12, &self.status.to_le_bytes());
        put(16, &self.messages_sent.to_le_bytes());
        put(24, &self.messages_received.to_le_bytes());
        put(32, &self.cpu_ns.to_le_bytes());
        put(40, &self.kernel_memory.to_le_bytes());
        put(48, &self.handles.to_le_bytes());
        put(52, &self.handle_limit.to_le_bytes());
        put(56, &self.linear_memory.to_le_bytes());
        put(64, &self.linear_memory_limit.to_le_bytes());
        put(72, &self.kernel_memory_limit.to_le_bytes());
        put(80, &self.children.to_le_bytes());
        put(84, &self.child_limit.to_le_bytes());
        put(88, &self.restarts.to_le_bytes());
        put(92, &self.cpu.to_le_bytes());
        put(NAME_AT, &self.name);
        out
    }

    /// The record these bytes hold.
    pub fn from_bytes(bytes: &[u8; PROC_RECORD]) -> Self {
        let f = Fields(bytes);
        let mut name = [0u8; PROC_NAME_LEN];
        name.copy_from_slice(&bytes[NAME_AT..NAME_AT + PROC_NAME_LEN]);
        Self {
            pid: f.u64(0),
            state: f.u32(8),
            status: f.u32(12) as i32,
            messages_sent: f.u64(16),
            messages_received: f.u64(24),
            cpu_ns: f.u64(32),
            kernel_memory: f.u64(40),
            handles: f.u32(48),
            handle_limit: f.u32(52),
            linear_memory: f.u64(56),
            linear_memory_limit: f.u64(64),
            kernel_memory_limit: f.u64(72),
            children: f.u32(80),
            child_limit: f.u32(84),
            restarts: f.u32(88),
            cpu: f.u32(92),
            name,
        }
    }

    /// `name` cut to the record's name field, zero-padded.
    pub fn name_field(name: &str) -> [u8; PROC_NAME_LEN] {
        let mut field = [0u8; PROC_NAME_LEN];
        let shown = name.len().min(PROC_NAME_LEN);
        field[..shown].copy_from_slice(&name.as_bytes()[..shown]);
        field
    }

    /// The name field up to its padding.
    pub fn name_bytes(&self) -> &[u8] {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(PROC_NAME_LEN);
        &self.name[..end]
    }
}

/// One CPU as `sys_cpu_list` reports it ([`CPU_RECORD`] bytes; the table in `docs/ABI.md`
/// gives the offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuRecord {
    /// Time it was not halted since the kernel's clock started, in ns.
    pub busy_ns: u64,
    /// Time it spent halted with nothing to run, in ns.
    pub idle_ns: u64,
    /// Task polls it made.
    pub polls: u64,
    /// Tasks it took from other CPUs' queues.
    pub steals: u64,
    /// Live tasks whose home it is.
    pub tasks: u32,
    /// Its local APIC id.
    pub apic_id: u32,
}

impl CpuRecord {
    /// Its bytes.
    pub fn to_bytes(&self) -> [u8; CPU_RECORD] {
        let mut out = [0u8; CPU_RECORD];
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &self.busy_ns.to_le_bytes());
        put(8, &self.idle_ns.to_le_bytes());
        put(16, &self.polls.to_le_bytes());
        put(24, &self.steals.to_le_bytes());
        put(32, &self.tasks.to_le_bytes());
        put(36, &self.apic_id.to_le_bytes());
        out
    }

    /// The record these bytes hold.
    pub fn from_bytes(bytes: &[u8; CPU_RECORD]) -> Self {
        let f = Fields(bytes);
        Self {
            busy_ns: f.u64(0),
            idle_ns: f.u64(8),
            polls: f.u64(16),
            steals: f.u64(24),
            tasks: f.u32(32),
            apic_id: f.u32(36),
        }
    }
}

/// One entry of a `sys_cap_wait` list ([`WAIT_ENTRY`] bytes): the actor writes handle and
/// interest, the kernel the ready bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitEntry {
    /// The endpoint handle.
    pub handle: i64,
    /// `READABLE` and/or `WRITABLE`.
    pub interest: u32,
    /// What is ready: `READABLE`, `WRITABLE`, `READY_CLOSED`, `READY_INVALID`.
    pub ready: u32,
}

impl WaitEntry {
    /// Offset of the ready bits, the one field the kernel writes.
    pub const READY_AT: usize = 12;

    /// Its bytes.
    pub fn to_bytes(&self) -> [u8; WAIT_ENTRY] {
        let mut out = [0u8; WAIT_ENTRY];
        out[..8].copy_from_slice(&self.handle.to_le_bytes());
        out[8..12].copy_from_slice(&self.interest.to_le_bytes());
        out[Self::READY_AT..].copy_from_slice(&self.ready.to_le_bytes());
        out
    }

    /// The entry these bytes hold.
    pub fn from_bytes(bytes: &[u8; WAIT_ENTRY]) -> Self {
        let f = Fields(bytes);
        Self { handle: f.u64(0) as i64, interest: f.u32(8), ready: f.u32(Self::READY_AT) }
    }
}

/// The kernel's memory figures as `sys_mem_info` writes them ([`MEM_INFO_LEN`] bytes), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemInfo {
    /// Physical memory the kernel manages.
    pub physical_total: u64,
    /// Physical memory free.
    pub physical_free: u64,
    /// What the kernel heap spans.
    pub heap_size: u64,
    /// What is allocated from it.
    pub heap_used: u64,
    /// Kernel memory charged to actors now.
    pub charged: u64,
    /// The most that may be charged to actors in all.
    pub charge_capacity: u64,
}

impl MemInfo {
    /// Its bytes.
    pub fn to_bytes(&self) -> [u8; MEM_INFO_LEN] {
        let mut out = [0u8; MEM_INFO_LEN];
        let words = [
            self.physical_total,
            self.physical_free,
            self.heap_size,
            self.heap_used,
            self.charged,
            self.charge_capacity,
        ];
        for (slot, word) in out.as_chunks_mut::<8>().0.iter_mut().zip(words) {
            *slot = word.to_le_bytes();
        }
        out
    }

    /// The figures these bytes hold.
    pub fn from_bytes(bytes: &[u8; MEM_INFO_LEN]) -> Self {
        let f = Fields(bytes);
        Self {
            physical_total: f.u64(0),
            physical_free: f.u64(8),
            heap_size: f.u64(16),
            heap_used: f.u64(24),
            charged: f.u64(32),
            charge_capacity: f.u64(40),
        }
    }
}

/// The round-trip figures `sys_bench_ipc_native` writes ([`NATIVE_IPC_LEN`] bytes), in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IpcFigures {
    /// The fastest round trip.
    pub min: u64,
    /// The median.
    pub p50: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The slowest.
    pub max: u64,
}

impl IpcFigures {
    /// Its bytes: the five figures in order.
    pub fn to_bytes(&self) -> [u8; NATIVE_IPC_LEN] {
        let mut out = [0u8; NATIVE_IPC_LEN];
        let words = [self.min, self.p50, self.p90, self.p99, self.max];
        for (slot, word) in out.as_chunks_mut::<8>().0.iter_mut().zip(words) {
            *slot = word.to_le_bytes();
        }
        out
    }

    /// The figures these bytes hold.
    pub fn from_bytes(bytes: &[u8; NATIVE_IPC_LEN]) -> Self {
        let f = Fields(bytes);
        Self { min: f.u64(0), p50: f.u64(8), p90: f.u64(16), p99: f.u64(24), max: f.u64(32) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_record_reads_back_as_written_at_the_documented_offsets() {
        let record = ProcRecord {
            pid: 7,
            state: 3,
            status: -1,
            messages_sent: 1,
            messages_received: 2,
            cpu_ns: 3,
            kernel_memory: 4,
            handles: 5,
            name: ProcRecord::name_field("a-long-process-name"),
            linear_memory: 6,
            linear_memory_limit: 7,
            handle_limit: 8,
            children: 9,
            child_limit: 10,
            restarts: 11,
            kernel_memory_limit: 12,
            cpu: 13,
        };
        let bytes = record.to_bytes();
        assert_eq!(&bytes[..8], &7u64.to_le_bytes());
        assert_eq!(&bytes[12..16], &(-1i32).to_le_bytes());
        assert_eq!(&bytes[52..56], &8u32.to_le_bytes());
        assert_eq!(&bytes[72..80], &12u64.to_le_bytes());
        assert_eq!(&bytes[92..96], &13u32.to_le_bytes());
        assert_eq!(&bytes[96..115], b"a-long-process-name");
        assert_eq!(&bytes[115..], &[0; 45], "padding");
        let long = "x".repeat(PROC_NAME_LEN + 5);
        assert_eq!(ProcRecord::name_field(&long), [b'x'; PROC_NAME_LEN], "cut to fit");
        assert_eq!(ProcRecord::from_bytes(&bytes), record);
        assert_eq!(ProcRecord { name: ProcRecord::name_field("ps"), ..record }.name_bytes(), b"ps");
    }

    #[test]
    fn a_cpu_record_reads_back_as_written_at_the_documented_offsets() {
        let record = CpuRecord { busy_ns: 1, idle_ns: 2, polls: 3, steals: 4, tasks: 5, apic_id: 6 };
        let bytes = record.to_bytes();
        assert_eq!(&bytes[8..16], &2u64.to_le_bytes(), "idle");
        assert_eq!(&bytes[24..32], &4u64.to_le_bytes(), "steals");
        assert_eq!(&bytes[32..36], &5u32.to_le_bytes(), "tasks");
        assert_eq!(&bytes[36..], &6u32.to_le_bytes(), "the APIC id ends it");
        assert_eq!(CpuRecord::from_bytes(&bytes), record);
    }

    #[test]
    fn wait_entries_and_memory_figures_read_back_as_written() {
        let entry = WaitEntry { handle: -2, interest: 3, ready: 4 };
        let bytes = entry.to_bytes();
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        assert_eq!(WaitEntry::from_bytes(&bytes), entry);
        let info = MemInfo {
            physical_total: 1,
            physical_free: 2,
            heap_size: 3,
            heap_used: 4,
            charged: 5,
            charge_capacity: 6,
        };
        let bytes = info.to_bytes();
        assert_eq!(&bytes[32..40], &5u64.to_le_bytes());
        assert_eq!(MemInfo::from_bytes(&bytes), info);
    }

    #[test]
    fn native_ipc_figures_read_back_in_the_documented_order() {
        let figures = IpcFigures { min: 1, p50: 2, p90: 3, p99: 4, max: 5 };
        let bytes = figures.to_bytes();
        assert_eq!(&bytes[24..32], &4u64.to_le_bytes(), "p99 is the fourth word");
        assert_eq!(IpcFigures::from_bytes(&bytes), figures);
    }
}
