//! Time slices: long-running work asks [`should_yield`] and gives way with [`yield_now`].
//!
//! The executor starts a slice at every poll. Each CPU's timer interrupt calls [`on_tick`],
//! which marks that CPU's slice expired once it has run for the slice length (2 ms unless the
//! `slice_us=` boot option says otherwise), and marks the CPU stalled at half of it, so an idle
//! CPU may take the tasks waiting behind the poll. Nothing is forced: a task that never asks
//! delays the others, and Wasm actors ask between fuel slices.

use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context, Poll};

use crate::arch::cpu_local::PerCpu;
use crate::per_cpu;

/// A CPU's current slice.
struct Slice {
    /// TSC value when the current poll began (0: no task is running).
    start: AtomicU64,
    expired: AtomicBool,
    /// The poll has lasted half a slice: an idle CPU may take the tasks waiting behind it.
    stalled: AtomicBool,
}

static SLICES: PerCpu<Slice> = per_cpu!(Slice {
    start: AtomicU64::new(0),
    expired: AtomicBool::new(false),
    stalled: AtomicBool::new(false),
});
/// Slice length in TSC cycles (0 until the clock is calibrated: slices never expire).
static SLICE_CYCLES: AtomicU64 = AtomicU64::new(0);

/// Sets the slice length.
pub fn set_slice_cycles(cycles: u64) {
    SLICE_CYCLES.store(cycles, Ordering::Relaxed);
}

/// The slice length in TSC cycles (0: slices never expire).
pub fn slice_cycles() -> u64 {
    SLICE_CYCLES.load(Ordering::Relaxed)
}

/// Called by the executor as a poll begins at TSC `now`.
pub(super) fn begin_slice(now: u64) {
    let slice = SLICES.get();
    slice.expired.store(false, Ordering::Relaxed);
    slice.stalled.store(false, Ordering::Relaxed);
    slice.start.store(now.max(1), Ordering::Relaxed);
}

/// Called by the executor as a poll returns.
pub(super) fn end_slice() {
    SLICES.get().start.store(0, Ordering::Relaxed);
}

/// Called from this CPU's timer interrupt at TSC `now`: marks the running task's slice expired
/// once it has lasted the slice length, and the CPU stalled once it has lasted half of it.
pub fn on_tick(now: u64) {
    let slice = SLICES.get();
    let start = slice.start.load(Ordering::Relaxed);
    let length = SLICE_CYCLES.load(Ordering::Relaxed);
    if start == 0 || length == 0 {
        return;
    }
    let age = now.wrapping_sub(start);
    if age >= length / 2 {
        slice.stalled.store(true, Ordering::Relaxed);
        super::wake::offer_waiting();
    }
    if age >= length {
        slice.expired.store(true, Ordering::Relaxed);
    }
}

/// Whether CPU `cpu`'s current poll has lasted half a slice.
pub(super) fn is_stalled(cpu: usize) -> bool {
    SLICES.of(cpu).stalled.load(Ordering::Relaxed)
}

/// Whether the running task has used up its slice and should give way.
#[inline]
pub fn should_yield() -> bool {
    SLICES.get().expired.load(Ordering::Relaxed)
}

/// Gives way to the other runnable tasks once, behind the tasks woken by events.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        super::wake::defer(cx.waker());
        Poll::Pending
    }
}
