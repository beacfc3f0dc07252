//! Kernel stacks: mapped from free frames in the stacks range, each with an unmapped guard page
//! below it, so an overflow faults instead of corrupting a neighbour.
//!
//! A stack made [`on_demand`](KernelStack::on_demand) starts with its top page only; the
//! page-fault handler maps the others as the stack first reaches them ([`commit`]). Fibers'
//! stacks are made so: ten thousand idle actors each touch a few pages of their 64 KiB.
//!
//! May use: `arch::cpu_local`, and the rest of `mem`.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{MemError, PAGE_SIZE, STACKS_BASE, STACKS_MAX, frames, paging};
use crate::arch::cpu_local::PerCpu;
use crate::per_cpu;

/// Next unused address of the stacks range. Stacks are not reused yet: the range holds
/// hundreds of thousands of them.
static NEXT: AtomicU64 = AtomicU64::new(STACKS_BASE);

/// The span one last-level page table maps. An on-demand stack lies within one, so mapping its
/// top page makes every table its other pages need, and [`commit`] has only an entry to write.
const TABLE_SPAN: u64 = 2 * 1024 * 1024;

/// A frame each CPU keeps for [`commit`], for when the frame allocator is busy: its lock may be
/// held by the very code that faulted. 0: none.
static RESERVE: PerCpu<AtomicU64> = per_cpu!(AtomicU64::new(0));

/// A kernel stack; dropping it unmaps it and frees its frames.
#[derive(Debug)]
pub struct KernelStack {
    bottom: u64,
    top: u64,
}

impl KernelStack {
    /// Maps a stack of `size` bytes (rounded up to whole pages).
    pub fn new(size: u64) -> Result<Self, MemError> {
        Self::mapped(size, u64::MAX)
    }

    /// A stack of `size` bytes (rounded up to whole pages) of which only the top page is
    /// mapped now; the rest is mapped as it is first touched, by the page-fault handler through
    /// [`commit`]. (A stack too large to lie within one page table is mapped whole.)
    pub fn on_demand(size: u64) -> Result<Self, MemError> {
        Self::mapped(size, PAGE_SIZE)
    }

    /// A stack of `size` bytes whose top `mapped` bytes (at least) are mapped now.
    fn mapped(size: u64, mapped: u64) -> Result<Self, MemError> {
        let size = size.next_multiple_of(PAGE_SIZE);
        let slot = size + PAGE_SIZE;
        let lazy = mapped < size && slot <= TABLE_SPAN;
        let previous = NEXT
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| Some(place(next, slot, lazy) + slot))
            .unwrap_or_else(|next| next);
        let guard = place(previous, slot, lazy);
        if guard + slot > STACKS_BASE + STACKS_MAX {
            return Err(MemError::OutOfVirtualSpace("kernel stacks"));
        }
        let bottom = guard + PAGE_SIZE;
        let top = bottom + size;
        let mapped = if lazy { mapped.next_multiple_of(PAGE_SIZE) } else { size };
        paging::map_new(top - mapped..top, paging::KERNEL_DATA)?;
        Ok(Self { bottom, top })
    }

    /// The initial stack pointer (16-byte aligned, one past the highest byte).
    pub fn top(&self) -> u64 {
        self.top
    }

    /// Its lowest address; the unmapped guard page lies just below.
    pub fn bottom(&self) -> u64 {
        self.bottom
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        // Pages never touched were never mapped, and are skipped.
        paging::unmap_and_free(self.bottom..self.top);
    }
}

/// Where a stack slot of `slot` bytes goes when the range's next free address is `next`: there,
/// unless it must lie within one page table (`one_table`) and would cross into the next, in
/// which case at the next table's start.
fn place(next: u64, slot: u64, one_table: bool) -> u64 {
    if one_table && next / TABLE_SPAN != (next + slot - 1) / TABLE_SPAN {
        next.next_multiple_of(TABLE_SPAN)
    } else {
        next
    }
}

/// Gives this CPU a reserve frame for [`commit`] if it has none; call before running code on
/// an on-demand stack. Almost always one load and a test.
#[inline]
pub fn keep_reserve() {
    if RESERVE.get().load(Ordering::Relaxed) == 0 {
        refill_reserve();
    }
}

#[cold]
fn refill_reserve() {
    if let Ok(frame) = frames::allocate()
        && let Err(_) = RESERVE.get().compare_exchange(0, frame, Ordering::Relaxed, Ordering::Relaxed)
    {
        // SAFETY: the frame was just allocated and is used by no one.
        unsafe { frames::free(frame) };
    }
}

/// Maps a fresh zeroed frame at the page holding `va`, a missing page of an on-demand stack
/// (the caller knows which stack it is part of, and that it is not the guard page). For the
/// page-fault handler: it takes no lock the faulting code may hold, and falls back on this
/// CPU's reserve frame when the frame allocator is busy.
pub fn commit(va: u64) -> Result<(), MemError> {
    let frame = frames::try_allocate()
        .or_else(|| Some(RESERVE.get().swap(0, Ordering::Relaxed)).filter(|&frame| frame != 0))
        .ok_or(MemError::OutOfFrames)?;
    // Zeroed, so a stack never shows what the frame held before (another actor's data).
    // SAFETY: the frame was just taken from the allocator or the reserve, so nothing else uses
    // it, and the HHDM maps it.
    unsafe { core::ptr::write_bytes((frame + frames::hhdm_offset()) as *mut u8, 0, PAGE_SIZE as usize) };
    paging::map_in_fault(va & !(PAGE_SIZE - 1), frame, paging::KERNEL_DATA).inspect_err(|_| {
        // Freeing would take the allocator's lock; the frame waits in the reserve instead, or,
        // if that is full, is lost (a broken invariant of the stacks range brought us here).
        let _ = RESERVE.get().compare_exchange(0, frame, Ordering::Relaxed, Ordering::Relaxed);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_on_demand_slot_never_straddles_two_page_tables() {
        let slot = 17 * PAGE_SIZE;
        let mut next = STACKS_BASE;
        for _ in 0..1000 {
            let start = place(next, slot, true);
            assert!(start >= next && start - next < slot, "at most a slot's worth is skipped");
            assert_eq!(start / TABLE_SPAN, (start + slot - 1) / TABLE_SPAN, "slot at {start:#x}");
            next = start + slot;
        }
        let straddling = TABLE_SPAN - PAGE_SIZE;
        assert_eq!(place(straddling, slot, false), straddling, "other stacks are packed");
        assert_eq!(place(straddling, slot, true), TABLE_SPAN);
    }
}
