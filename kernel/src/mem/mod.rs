//! Memory: physical frames, the kernel's page tables (edited through the HHDM), kernel stacks,
//! the kernel heap, the kernel memory charged to actors (`kmem`), and what each CPU allocates
//! (`meter`).
//!
//! Virtual layout (4-level paging):
//! - the HHDM, at the offset the loader chose (`0xffff_8000_0000_0000` for 4-level paging):
//!   every physical range of the memory map, 2 MiB pages;
//! - [`HEAP_BASE`]: the kernel heap, grown page by page from free frames;
//! - [`STACKS_BASE`]: kernel stacks, each with an unmapped guard page below it (fibers' stacks
//!   are mapped as they grow);
//! - [`MMIO_BASE`]: device registers, uncached;
//! - `0xffff_ffff_8000_0000`: the kernel image, mapped per section (text R-X, rodata R--,
//!   data RW-).
//!
//! [`init`] replaces the loader's page tables with the kernel's own; after
//! [`reclaim_bootloader_memory`] the loader's tables, stack and responses are gone.
//!
//! May use: nothing of the kernel but `error` and `arch::cpu_local` (per-CPU counters and
//! reserves).

pub mod frames;
pub mod heap;
pub mod kmem;
pub mod meter;
pub mod paging;
pub mod small_blocks;
pub mod stack;

use core::fmt;

/// Size of a page and of a physical frame.
pub const PAGE_SIZE: u64 = 4096;

/// Start of the kernel heap's virtual range.
pub const HEAP_BASE: u64 = 0xffff_c000_0000_0000;
/// Largest the kernel heap may grow.
pub const HEAP_MAX: u64 = 64 * 1024 * 1024 * 1024;
/// Start of the kernel stacks' virtual range.
pub const STACKS_BASE: u64 = 0xffff_e000_0000_0000;
/// Size of the range reserved for kernel stacks.
pub const STACKS_MAX: u64 = 256 * 1024 * 1024 * 1024;
/// Start of the range where device registers (and firmware tables outside the memory map) are
/// mapped, uncached.
pub const MMIO_BASE: u64 = 0xffff_f000_0000_0000;
/// Size of the MMIO range.
pub const MMIO_MAX: u64 = 64 * 1024 * 1024 * 1024;

/// Why a memory operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemError {
    /// No free physical frame is left.
    OutOfFrames,
    /// The virtual range reserved for this use is exhausted.
    OutOfVirtualSpace(&'static str),
    /// The loader's direct map overlaps the kernel's own ranges.
    HhdmTooLarge { offset: u64, top: u64 },
    /// A page the kernel needs was not mapped by the loader.
    NotMapped(u64),
    /// Mapping a page failed for a reason other than memory exhaustion.
    MapFailed(u64),
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfFrames => write!(f, "out of physical memory"),
            Self::OutOfVirtualSpace(what) => write!(f, "the virtual range for {what} is exhausted"),
            Self::HhdmTooLarge { offset, top } => {
                write!(f, "the direct map at {offset:#x} reaches {top:#x}, into the kernel heap range")
            }
            Self::NotMapped(va) => write!(f, "kernel address {va:#x} is not mapped by the loader"),
            Self::MapFailed(va) => write!(f, "cannot map {va:#x}"),
        }
    }
}

/// Physical-memory figures for the boot log and, later, `mem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// Frames the allocator manages (usable plus reclaimed).
    pub total_frames: u64,
    /// Frames not handed out.
    pub free_frames: u64,
    /// Bytes the heap spans now.
    pub heap_bytes: u64,
    /// Bytes allocated from the heap.
    pub heap_allocated: u64,
}

/// Current memory figures.
pub fn stats() -> MemoryStats {
    let (total_frames, free_frames) = frames::counts();
    MemoryStats { total_frames, free_frames, heap_bytes: heap::size(), heap_allocated: heap::allocated() }
}

impl MemoryStats {
    /// Bytes the heap can still hand out: what it has free now, plus what free frames let it
    /// grow by (an estimate: fragmentation and page tables take some).
    pub fn heap_headroom(&self) -> u64 {
        let grow = (self.free_frames * PAGE_SIZE).min(HEAP_MAX.saturating_sub(self.heap_bytes));
        self.heap_bytes.saturating_sub(self.heap_allocated) + grow
    }
}

/// Bytes the kernel heap can still hand out ([`MemoryStats::heap_headroom`]). Host builds
/// (tests, fuzzing) allocate from std's heap, whose room the kernel cannot see: unbounded.
pub fn heap_headroom() -> u64 {
    #[cfg(any(test, feature = "host"))]
    return u64::MAX;
    #[cfg(not(any(test, feature = "host")))]
    stats().heap_headroom()
}

/// Takes over memory from the loader: frames from the usable entries of `memory_map`, the
/// kernel's own page tables (HHDM at `hhdm_offset`, kernel image), then the heap.
pub fn init(memory_map: &[&limine::memory_map::Entry], hhdm_offset: u64) -> Result<(), MemError> {
    use limine::memory_map::EntryType;
    frames::init(
        hhdm_offset,
        memory_map.iter().filter(|e| e.entry_type == EntryType::USABLE).map(|e| e.base..e.base + e.length),
    );
    let top = memory_map.iter().map(|e| e.base + e.length).max().unwrap_or(0);
    if hhdm_offset.checked_add(top).is_none_or(|end| end > HEAP_BASE) {
        return Err(MemError::HhdmTooLarge { offset: hhdm_offset, top });
    }
    paging::init(hhdm_offset, memory_map.iter().map(|e| e.base..e.base + e.length))?;
    heap::init()
}

/// Gives the loader's memory (its page tables, stack and responses) to the frame allocator.
///
/// # Safety
/// 1. Nothing may read a loader response afterwards (copy what is needed first).
/// 2. The CPU must run on the kernel's own page tables and stack ([`init`], [`stack`]).
pub unsafe fn reclaim_bootloader_memory(reclaimable: impl Iterator<Item = core::ops::Range<u64>>) -> u64 {
    let mut reclaimed = 0;
    for range in reclaimable {
        reclaimed += range.end - range.start;
        frames::add_region(range);
    }
    reclaimed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_headroom_is_what_is_free_plus_what_free_frames_can_add() {
        let stats =
            MemoryStats { total_frames: 100, free_frames: 10, heap_bytes: 1 << 20, heap_allocated: 1 << 19 };
        assert_eq!(stats.heap_headroom(), (1 << 19) + 10 * PAGE_SIZE);
        let full = MemoryStats {
            free_frames: u64::MAX / PAGE_SIZE,
            heap_bytes: HEAP_MAX,
            heap_allocated: HEAP_MAX,
            ..stats
        };
        assert_eq!(full.heap_headroom(), 0, "a heap at its largest cannot grow");
    }
}
