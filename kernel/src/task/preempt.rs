//! Time slices: long-running work asks [`should_yield`] and gives way with [`yield_now`].
//!
//! The executor starts a slice at every poll. The timer interrupt calls [`on_tick`], which marks
//! the slice expired once it has run for the slice length (2 ms unless the `slice_us=` boot
//! option says otherwise). Nothing is forced: a task that never asks delays the others, and
//! Wasm actors ask between fuel slices.

use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::task::{Context, Poll};

/// TSC value when the current poll began (0: no task is running).
static SLICE_START: AtomicU64 = AtomicU64::new(0);
/// Slice length in TSC cycles (0 until the clock is calibrated: slices never expire).
static SLICE_CYCLES: AtomicU64 = AtomicU64::new(0);
static EXPIRED: AtomicBool = AtomicBool::new(false);

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
    EXPIRED.store(false, Ordering::Relaxed);
    SLICE_START.store(now.max(1), Ordering::Relaxed);
}

/// Called by the executor as a poll returns.
pub(super) fn end_slice() {
    SLICE_START.store(0, Ordering::Relaxed);
}

/// Called from the timer interrupt at TSC `now`: marks the running task's slice expired once
/// it has lasted the slice length.
pub fn on_tick(now: u64) {
    let start = SLICE_START.load(Ordering::Relaxed);
    let length = SLICE_CYCLES.load(Ordering::Relaxed);
    if start != 0 && length != 0 && now.wrapping_sub(start) >= length {
        EXPIRED.store(true, Ordering::Relaxed);
    }
}

/// Whether the running task has used up its slice and should give way.
pub fn should_yield() -> bool {
    EXPIRED.load(Ordering::Relaxed)
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
