//! Recycled small blocks in front of the general-purpose heap allocator.
//!
//! Every Wasm host call allocates and frees a few small vectors (tinywasm's argument and result
//! lists, 32 bytes per value), and the general allocator's bookkeeping (bins, boundary tags)
//! costs hundreds of instructions a time, more than such a call's own work. Freed blocks of up
//! to [`LARGEST`] bytes go on one LIFO list per size class *of the CPU that frees them* and are
//! handed out again as they are: each CPU has its own lists, which only that CPU touches, so
//! host calls on different CPUs share no cache line and take no lock (a block freed on another
//! CPU than it was taken on simply joins that CPU's list). Each list is bounded, so at most
//! [`MAX_CACHED_BYTES`] per CPU stay out of the backing allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::cpu_local::PerCpu;
use crate::per_cpu;

/// Block sizes of the classes, smallest first.
const CLASS_SIZES: [usize; 5] = [16, 32, 64, 128, 256];
/// Largest request served from a class.
pub const LARGEST: usize = CLASS_SIZES[CLASS_SIZES.len() - 1];
/// Alignment of every class block (and so the largest alignment a class serves).
const CLASS_ALIGN: usize = 16;
/// Blocks a class keeps at most.
const MAX_PER_CLASS: usize = 64;
/// Bytes one CPU's lists may hold at most.
pub const MAX_CACHED_BYTES: usize = {
    let (mut sum, mut class) = (0, 0);
    while class < CLASS_SIZES.len() {
        sum += CLASS_SIZES[class];
        class += 1;
    }
    MAX_PER_CLASS * sum
};

/// A freed block, reused as the link to the next one.
struct FreeBlock {
    next: *mut FreeBlock,
}

/// One class's freed blocks.
struct FreeList {
    head: *mut FreeBlock,
    len: usize,
}

// SAFETY: the list owns the blocks it links (nothing else refers to a freed block), and it is
// only reached through its CPU's `Lists`.
unsafe impl Send for FreeList {}

/// One CPU's lists, one per class, and the bytes they hold (which any CPU may read).
struct Lists {
    classes: Owned<[FreeList; CLASS_SIZES.len()]>,
    cached: AtomicUsize,
}

impl Lists {
    /// Takes the head block of class `class` off the running CPU's list, if it has one.
    #[inline]
    fn take_mine(per_cpu: &PerCpu<Lists>, class: usize) -> Option<*mut FreeBlock> {
        let mine = per_cpu.get();
        mine.classes.with(|lists| {
            let list = &mut lists[class];
            let block = list.head;
            if block.is_null() {
                return None;
            }
            // SAFETY: `block` heads the list, so it is a freed class block holding a link.
            list.head = unsafe { (*block).next };
            list.len -= 1;
            // A load and a store, not an atomic subtraction: only this CPU writes it.
            mine.cached.store(mine.cached.load(Ordering::Relaxed) - CLASS_SIZES[class], Ordering::Relaxed);
            Some(block)
        })
    }

    /// Puts `block`, freed, on the running CPU's list of class `class`, unless that list is full
    /// (`false`).
    ///
    /// # Safety
    /// `block` is a block of class `class` that its owner gave up.
    #[inline]
    unsafe fn keep_mine(per_cpu: &PerCpu<Lists>, class: usize, block: *mut FreeBlock) -> bool {
        let mine = per_cpu.get();
        mine.classes.with(|lists| {
            let list = &mut lists[class];
            if list.len == MAX_PER_CLASS {
                return false;
            }
            // SAFETY: the block is at least 16 bytes, 16-aligned, and no longer its owner's.
            unsafe { block.write(FreeBlock { next: list.head }) };
            list.head = block;
            list.len += 1;
            mine.cached.store(mine.cached.load(Ordering::Relaxed) + CLASS_SIZES[class], Ordering::Relaxed);
            true
        })
    }
}

/// A CPU's lists as the kernel keeps them: only their own CPU reaches them (`with_mine`), from
/// task code, never from an interrupt or exception handler (handlers never allocate), and an
/// allocation never waits or switches, so no two of their uses overlap and no lock is needed.
#[cfg(not(any(test, feature = "host")))]
struct Owned<T>(core::cell::UnsafeCell<T>);

// SAFETY: see the type's documentation: each CPU's value is used by that CPU alone, one use at
// a time.
#[cfg(not(any(test, feature = "host")))]
unsafe impl<T: Send> Sync for Owned<T> {}

#[cfg(not(any(test, feature = "host")))]
impl<T> Owned<T> {
    const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: see the type's documentation: no other use of this CPU's value overlaps.
        f(unsafe { &mut *self.0.get() })
    }
}

/// Host builds (tests, fuzzing) run every thread as CPU 0: there the lists take a lock.
#[cfg(any(test, feature = "host"))]
struct Owned<T>(spin::Mutex<T>);

#[cfg(any(test, feature = "host"))]
impl<T> Owned<T> {
    const fn new(value: T) -> Self {
        Self(spin::Mutex::new(value))
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.lock())
    }
}

/// A [`GlobalAlloc`] that recycles small blocks and passes everything else to `A`.
pub struct SmallBlocks<A> {
    backing: A,
    lists: PerCpu<Lists>,
}

impl<A> SmallBlocks<A> {
    /// Small-block recycling over `backing`.
    pub const fn new(backing: A) -> Self {
        const EMPTY: FreeList = FreeList { head: ptr::null_mut(), len: 0 };
        Self {
            backing,
            lists: per_cpu!(Lists {
                classes: Owned::new([EMPTY; CLASS_SIZES.len()]),
                cached: AtomicUsize::new(0)
            }),
        }
    }

    /// The backing allocator.
    pub fn backing(&self) -> &A {
        &self.backing
    }

    /// Bytes in freed blocks kept for reuse, on every CPU (allocated as far as the backing
    /// allocator knows).
    pub fn cached_bytes(&self) -> usize {
        self.lists.0.iter().map(|cpu| cpu.0.cached.load(Ordering::Relaxed)).sum()
    }
}

/// The class serving `layout`, if it is small enough.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > CLASS_ALIGN {
        return None;
    }
    CLASS_SIZES.iter().position(|&size| layout.size() <= size)
}

/// The layout every block of `class` has in the backing allocator.
fn class_layout(class: usize) -> Layout {
    // Cannot fail: the sizes are small multiples of the alignment, a power of two.
    Layout::from_size_align(CLASS_SIZES[class], CLASS_ALIGN).unwrap_or(Layout::new::<u128>())
}

// SAFETY: class blocks come from the backing allocator with the class layout, whose size and
// alignment cover every layout the class serves, and go back to it with that same layout; a
// block is on a list only after its owner freed it, so it is handed to one owner at a time.
// Everything else is the backing allocator's own contract.
unsafe impl<A: GlobalAlloc> GlobalAlloc for SmallBlocks<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            // SAFETY: the caller's layout, passed on unchanged.
            return unsafe { self.backing.alloc(layout) };
        };
        if let Some(block) = Lists::take_mine(&self.lists, class) {
            return block.cast();
        }
        // SAFETY: a non-zero-sized layout.
        unsafe { self.backing.alloc(class_layout(class)) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            // SAFETY: the caller's block and layout, passed on unchanged.
            return unsafe { self.backing.dealloc(block, layout) };
        };
        // SAFETY: the caller gave the block up, and `class` serves its layout.
        if unsafe { Lists::keep_mine(&self.lists, class, block.cast()) } {
            return;
        }
        // SAFETY: class blocks were allocated with the class layout.
        unsafe { self.backing.dealloc(block, class_layout(class)) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        match (class_of(layout), class_of(new_layout)) {
            // SAFETY: neither side is a class block: the backing allocator's own.
            (None, None) => unsafe { self.backing.realloc(block, layout, new_size) },
            (Some(old), Some(new)) if old == new => block,
            _ => {
                // SAFETY: as `alloc`; then both blocks are live and distinct for the copy.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicUsize, Ordering};
    use std::alloc::System;

    /// The system allocator, counting what reaches it.
    #[derive(Default)]
    struct Counting {
        allocs: AtomicUsize,
        frees: AtomicUsize,
    }

    // SAFETY: every call goes to the system allocator with the caller's own arguments, so its
    // contract is the system allocator's.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.allocs.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded from this function's contract.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            self.frees.fetch_add(1, Ordering::Relaxed);
            // SAFETY: forwarded from this function's contract.
            unsafe { System.dealloc(block, layout) }
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn a_freed_small_block_is_reused_without_the_backing_allocator() {
        let heap = SmallBlocks::new(Counting::default());
        // SAFETY: every block is freed once, with the layout it was allocated with.
        unsafe {
            let a = heap.alloc(layout(24, 8));
            heap.dealloc(a, layout(24, 8));
            assert_eq!(heap.cached_bytes(), 32);
            // Another size of the same class gets the same block back.
            let b = heap.alloc(layout(17, 4));
            assert_eq!(a, b);
            assert_eq!(heap.backing().allocs.load(Ordering::Relaxed), 1);
            assert_eq!(heap.cached_bytes(), 0);
            heap.dealloc(b, layout(17, 4));
        }
    }

    #[test]
    fn large_or_overaligned_requests_go_to_the_backing_allocator() {
        let heap = SmallBlocks::new(Counting::default());
        // SAFETY: every block is freed once, with the layout it was allocated with.
        unsafe {
            for l in [layout(LARGEST + 1, 8), layout(8, 64)] {
                let p = heap.alloc(l);
                assert_eq!(p as usize % l.align(), 0);
                heap.dealloc(p, l);
            }
        }
        assert_eq!(heap.backing().frees.load(Ordering::Relaxed), 2);
        assert_eq!(heap.cached_bytes(), 0);
    }

    #[test]
    fn the_lists_are_bounded() {
        let heap = SmallBlocks::new(Counting::default());
        let l = layout(LARGEST, 16);
        // SAFETY: a layout of non-zero size.
        let blocks: Vec<_> = (0..MAX_PER_CLASS + 10).map(|_| unsafe { heap.alloc(l) }).collect();
        for &b in &blocks {
            // SAFETY: each block once, with the layout it was allocated with.
            unsafe { heap.dealloc(b, l) };
        }
        assert_eq!(heap.backing().frees.load(Ordering::Relaxed), 10, "the overflow went back");
        assert_eq!(heap.cached_bytes(), MAX_PER_CLASS * LARGEST);
        assert!(heap.cached_bytes() <= MAX_CACHED_BYTES);
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_sizes() {
        let heap = SmallBlocks::new(Counting::default());
        // SAFETY: each access lies within the block's current size; each block is reallocated
        // or freed once, with the layout it has.
        unsafe {
            let mut p = heap.alloc(layout(8, 1));
            for i in 0..8 {
                *p.add(i) = i as u8;
            }
            let mut size = 8;
            for new_size in [16, 40, 200, 4096, 60, 300, 8] {
                p = heap.realloc(p, layout(size, 1), new_size);
                assert!(!p.is_null());
                let kept: Vec<u8> = (0..8).map(|i| *p.add(i)).collect();
                assert_eq!(kept, (0..8).collect::<Vec<u8>>(), "{size} -> {new_size}");
                size = new_size;
            }
            heap.dealloc(p, layout(size, 1));
        }
    }
}
