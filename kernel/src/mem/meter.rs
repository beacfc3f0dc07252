//! Heap bytes taken on each CPU, so that what an actor's interpreter allocates on its own (its
//! stacks growing, inside the engine, where the kernel cannot charge each step) is charged to
//! the actor after the fact.
//!
//! The kernel's allocator is wrapped in [`Metered`], which keeps one count per CPU of the bytes
//! its allocations took less those its frees gave back. Interrupt handlers never allocate, so a
//! CPU's count moves only with the code that CPU runs. A *stretch* is a span of one CPU's work
//! done for one actor ([`begin`] to [`end`]): between the two, the change of the count is what
//! the actor's interpreter took. Work inside a stretch that is charged another way (a linear
//! memory growing) is left out with [`excluded`] or [`discount`]. A stretch ends before the CPU
//! may go to other work (a host call, the end of a time slice), and its bytes are settled then.
//!
//! [`MeteredCharge`] turns what a stretch took into a charge. Between two settlements the kernel
//! holds uncharged at most what one stretch can take, and one runs per CPU: an actor's stacks
//! at their limits, covered by the kernel's reserve (`kmem`).
//!
//! May use: `arch::cpu_local`, `mem::kmem`, `error`.

use alloc::sync::Arc;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use super::kmem::{Account, Charge};
use crate::arch::cpu_local::PerCpu;
use crate::error::Error;
use crate::per_cpu;

/// A [`GlobalAlloc`] that counts, per CPU, the bytes `A` hands out less those it takes back.
pub struct Metered<A> {
    inner: A,
    taken: PerCpu<AtomicI64>,
}

impl<A> Metered<A> {
    /// Counting over `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner, taken: per_cpu!(AtomicI64::new(0)) }
    }

    /// The allocator it counts for.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Bytes taken net by the allocations and frees made on this CPU so far.
    #[inline]
    pub fn taken_here(&self) -> i64 {
        self.taken.get().load(Ordering::Relaxed)
    }

    #[inline]
    fn add(&self, bytes: i64) {
        // Only this CPU writes its count and no interrupt handler allocates: no atomic
        // read-modify-write is needed.
        let count = self.taken.get();
        count.store(count.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on to `inner` unchanged; the count only watches the results.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Metered<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, passed on.
        let block = unsafe { self.inner.alloc(layout) };
        if !block.is_null() {
            self.add(layout.size() as i64);
        }
        block
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller's block and layout, passed on.
        unsafe { self.inner.dealloc(block, layout) };
        self.add(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's arguments, passed on.
        let moved = unsafe { self.inner.realloc(block, layout, new_size) };
        if !moved.is_null() {
            self.add(new_size as i64 - layout.size() as i64);
        }
        moved
    }
}

/// Per CPU: whether a stretch is open, and the count it started from.
struct Stretch {
    open: AtomicBool,
    start: AtomicI64,
}

static STRETCHES: PerCpu<Stretch> =
    per_cpu!(Stretch { open: AtomicBool::new(false), start: AtomicI64::new(0) });

/// Opens a stretch on this CPU that already owes `owed` bytes.
fn open(owed: i64) {
    let stretch = STRETCHES.get();
    stretch.start.store(super::heap::taken_here().wrapping_sub(owed), Ordering::Relaxed);
    stretch.open.store(true, Ordering::Relaxed);
}

/// Opens a stretch on this CPU: from here, what the CPU allocates is the running actor's.
#[inline]
pub fn begin() {
    open(0);
}

/// Closes this CPU's stretch; returns the bytes taken in it (0 if none was open).
#[inline]
pub fn end() -> i64 {
    let stretch = STRETCHES.get();
    // Only this CPU touches its record: no atomic exchange is needed.
    if !stretch.open.load(Ordering::Relaxed) {
        return 0;
    }
    stretch.open.store(false, Ordering::Relaxed);
    super::heap::taken_here().wrapping_sub(stretch.start.load(Ordering::Relaxed))
}

/// Runs `work` (which allocates what is charged another way) outside this CPU's stretch, if
/// one is open.
pub fn excluded<R>(work: impl FnOnce() -> R) -> R {
    let before = super::heap::taken_here();
    let result = work();
    discount(super::heap::taken_here().wrapping_sub(before));
    result
}

/// Leaves out of this CPU's stretch, if one is open, `bytes` that are charged another way and
/// about to be allocated (by code that cannot be wrapped in [`excluded`]).
pub fn discount(bytes: i64) {
    let stretch = STRETCHES.get();
    if stretch.open.load(Ordering::Relaxed) {
        stretch.start.store(stretch.start.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
    }
}

/// A charge that follows what an actor's stretches took: grown when they took more, shrunk
/// when they gave back.
pub struct MeteredCharge(spin::Mutex<Charge>);

impl MeteredCharge {
    /// A charge of nothing yet to `account`.
    pub fn new(account: &Arc<Account>) -> Arc<Self> {
        Arc::new(Self(spin::Mutex::new(account.empty_charge())))
    }

    /// Bytes it holds.
    pub fn bytes(&self) -> u64 {
        self.0.lock().bytes()
    }

    /// Closes this CPU's stretch and charges what it took: `Err` (and nothing charged) when the
    /// account refuses; the actor should then stop.
    pub fn settle(&self) -> Result<(), Error> {
        self.apply(end())
    }

    fn apply(&self, taken: i64) -> Result<(), Error> {
        // Most stretches take nothing: no lock then.
        match taken {
            0 => Ok(()),
            1.. => self.0.lock().grow(taken as u64),
            ..0 => {
                self.0.lock().shrink(taken.unsigned_abs());
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::kmem::{Pool, Tier};
    use alloc::boxed::Box;
    use std::alloc::System;

    #[test]
    fn the_count_is_what_was_taken_less_what_was_given_back() {
        let heap = Metered::new(System);
        let (small, large) =
            (Layout::from_size_align(24, 8).unwrap(), Layout::from_size_align(4096, 16).unwrap());
        // SAFETY: each block is freed or reallocated once, with the layout it has.
        unsafe {
            let a = heap.alloc(small);
            let b = heap.alloc(large);
            assert_eq!(heap.taken_here(), 24 + 4096);
            let b = heap.realloc(b, large, 10_000);
            assert_eq!(heap.taken_here(), 24 + 10_000);
            heap.dealloc(a, small);
            heap.dealloc(b, Layout::from_size_align(10_000, 16).unwrap());
        }
        assert_eq!(heap.taken_here(), 0);
    }

    #[test]
    fn a_metered_charge_grows_shrinks_and_refuses_past_the_limit() {
        let pool: &'static Pool = Box::leak(Box::new(Pool::new(10_000, 0)));
        let account = Account::new(pool, Tier::Spawned, 1000);
        let charge = MeteredCharge::new(&account);
        charge.apply(600).unwrap();
        charge.apply(-100).unwrap();
        assert_eq!((charge.bytes(), account.used()), (500, 500));
        assert_eq!(charge.apply(501), Err(Error::KernelMemoryLimit));
        assert_eq!(charge.bytes(), 500, "a refused settlement charges nothing");
        charge.apply(-5000).unwrap();
        assert_eq!((charge.bytes(), account.used()), (0, 0), "it never gives back more than it holds");
    }
}
