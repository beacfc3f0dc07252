//! Kernel stacks: mapped from free frames in the stacks range, each with an unmapped guard page
//! below it, so an overflow faults instead of corrupting a neighbour.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{MemError, PAGE_SIZE, STACKS_BASE, STACKS_MAX, paging};

/// Next unused address of the stacks range. Stacks are not reused yet: the range holds
/// hundreds of thousands of them.
static NEXT: AtomicU64 = AtomicU64::new(STACKS_BASE);

/// A kernel stack; dropping it unmaps it and frees its frames.
#[derive(Debug)]
pub struct KernelStack {
    bottom: u64,
    top: u64,
}

impl KernelStack {
    /// Maps a stack of `size` bytes (rounded up to whole pages).
    pub fn new(size: u64) -> Result<Self, MemError> {
        let size = size.next_multiple_of(PAGE_SIZE);
        let slot = size + PAGE_SIZE;
        let guard = NEXT.fetch_add(slot, Ordering::Relaxed);
        if guard + slot > STACKS_BASE + STACKS_MAX {
            return Err(MemError::OutOfVirtualSpace("kernel stacks"));
        }
        let bottom = guard + PAGE_SIZE;
        paging::map_new(bottom..bottom + size, paging::KERNEL_DATA)?;
        Ok(Self { bottom, top: bottom + size })
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
        paging::unmap_and_free(self.bottom..self.top);
    }
}
