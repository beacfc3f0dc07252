//! Heap bytes taken on each CPU, so that what an actor's interpreter allocates on its own (its
//! stacks growing, inside the engine, where the kernel cannot charge each step) is charged to
//! the actor after the fact.
//!
//! A *stretch* is a span of one CPU's work done for one actor ([`begin`] to [`end`]): the
//! kernel's allocator is wrapped in [`Metered`], which counts, in two words at the CPU's GS
//! base, the bytes allocated less those freed on that CPU while a stretch is open there. No
//! interrupt handler allocates, so the count holds only what the actor's interpreter did. Work
//! inside a stretch that is charged another way (a linear memory growing) is left out with
//! [`excluded`] or [`discount`]. A stretch ends before the CPU may go to other work (a host
//! call, the end of a time slice), and its bytes are settled then.
//!
//! [`MeteredCharge`] turns what a stretch took into a charge. Between two settlements the kernel
//! holds uncharged at most what one stretch can take, and one runs per CPU: an actor's stacks
//! at their limits, covered by the kernel's reserve (`kmem`).
//!
//! May use: `arch::cpu_local`, `mem::kmem`, `error`.

use alloc::sync::Arc;
use core::alloc::{GlobalAlloc, Layout};

use super::kmem::{Account, Charge};
use super::small_blocks::LARGEST;
use crate::arch::cpu_local::{STRETCH_OPEN, STRETCH_TAKEN};
use crate::error::Error;

/// A [`GlobalAlloc`] that counts, on each CPU while a stretch is open there, the bytes `A`
/// hands out less those it takes back (in the CPU's [`STRETCH_TAKEN`] word: a test and an add
/// an allocation).
pub struct Metered<A> {
    inner: A,
}

impl<A> Metered<A> {
    /// Counting over `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }

    /// The allocator it counts for.
    pub fn inner(&self) -> &A {
        &self.inner
    }
}

/// Counts a block of `size` bytes taken (`sign` 1) or given back (-1) in this CPU's open
/// stretch, if any. Blocks of at most [`LARGEST`] bytes are not counted: they are the host
/// calls' temporaries, which the recycled small blocks serve, while an interpreter's stack is
/// larger from its first growth (tinywasm's start at 256 slots, 1 KiB). Most such requests have
/// a size known where they are made, so the test folds away there.
#[inline]
fn count(size: usize, sign: i64) {
    if size > LARGEST && STRETCH_OPEN.get() != 0 {
        STRETCH_TAKEN.add(sign * size as i64);
    }
}

// SAFETY: every call is passed on to `inner` unchanged; the count only watches the results.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Metered<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout, passed on.
        let block = unsafe { self.inner.alloc(layout) };
        if !block.is_null() {
            count(layout.size(), 1);
        }
        block
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller's block and layout, passed on.
        unsafe { self.inner.dealloc(block, layout) };
        count(layout.size(), -1);
    }

    #[inline]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's arguments, passed on.
        let moved = unsafe { self.inner.realloc(block, layout, new_size) };
        if !moved.is_null() {
            count(layout.size(), -1);
            count(new_size, 1);
        }
        moved
    }
}

/// Opens a stretch on this CPU: from here, what the CPU allocates is the running actor's.
#[inline]
pub fn begin() {
    // Whatever a stretch left open by a fiber that never came back counted is nobody's.
    STRETCH_TAKEN.set(0);
    STRETCH_OPEN.set(1);
}

/// Closes this CPU's stretch; returns the bytes taken in it since the last [`end`] (0 if none
/// was open).
#[inline]
pub fn end() -> i64 {
    STRETCH_OPEN.set(0);
    let taken = STRETCH_TAKEN.get();
    if taken != 0 {
        STRETCH_TAKEN.set(0);
    }
    taken
}

/// Runs `work` (which allocates what is charged another way) outside this CPU's stretch, if
/// one is open.
pub fn excluded<R>(work: impl FnOnce() -> R) -> R {
    let open = STRETCH_OPEN.get();
    STRETCH_OPEN.set(0);
    let result = work();
    STRETCH_OPEN.set(open);
    result
}

/// Leaves out of this CPU's stretch, if one is open, `bytes` that are charged another way and
/// about to be allocated (by code that cannot be wrapped in [`excluded`]).
pub fn discount(bytes: i64) {
    if STRETCH_OPEN.get() != 0 {
        STRETCH_TAKEN.add(-bytes);
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
    #[inline]
    pub fn settle(&self) -> Result<(), Error> {
        // Most stretches take nothing: a test, no call, no lock.
        match end() {
            0 => Ok(()),
            taken => self.apply(taken),
        }
    }

    #[inline(never)]
    fn apply(&self, taken: i64) -> Result<(), Error> {
        let mut charge = self.0.lock();
        if taken >= 0 {
            charge.grow(taken as u64)
        } else {
            charge.shrink(taken.unsigned_abs());
            Ok(())
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
    fn a_stretch_counts_what_was_taken_less_what_was_given_back_while_open() {
        // Host builds run each thread as a CPU: only this test allocates through a `Metered`.
        let heap = Metered::new(System);
        let (small, large) =
            (Layout::from_size_align(24, 8).unwrap(), Layout::from_size_align(4096, 16).unwrap());
        // SAFETY: each block is freed or reallocated once, with the layout it has.
        unsafe {
            let a = heap.alloc(small);
            begin();
            let b = heap.alloc(large);
            let b = heap.realloc(b, large, 10_000);
            let c = excluded(|| heap.alloc(large));
            let d = heap.alloc(small);
            discount(100);
            assert_eq!(end(), 10_000 - 100, "taken while open, less what was left out and small blocks");
            heap.dealloc(d, small);
            heap.dealloc(a, small);
            heap.dealloc(c, large);
            assert_eq!(end(), 0, "nothing counts while closed");
            begin();
            heap.dealloc(b, Layout::from_size_align(10_000, 16).unwrap());
            assert_eq!(end(), -10_000);
        }
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
