//! Time: [`Instant`] on the kernel's monotonic clock, and [`sleep`] / [`sleep_until`], which
//! suspend the calling task (the reactor folds the nearest deadline into its single wait).

use core::future::poll_fn;
use core::ops::{Add, Sub};
use core::task::Poll;
use core::time::Duration;

use super::reactor::{Registration, Source};
use crate::sys;

/// A point on the monotonic clock, in nanoseconds since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant(sys::sys_clock_ns())
    }

    /// Nanoseconds since boot.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// Time since `self`.
    pub fn elapsed(self) -> Duration {
        Instant::now().duration_since(self)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates: a deadline too far away to represent is never reached.
    fn add(self, duration: Duration) -> Instant {
        let ns = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
        Instant(self.0.saturating_add(ns))
    }
}

impl Sub for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

/// Suspends the calling task for at least `duration`.
pub async fn sleep(duration: Duration) {
    sleep_until(Instant::now() + duration).await;
}

/// Suspends the calling task until the clock reaches `deadline`.
pub async fn sleep_until(deadline: Instant) {
    let mut registration = Registration::new();
    poll_fn(|cx| {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        registration.arm(Source::Deadline(deadline.0), cx.waker());
        Poll::Pending
    })
    .await;
}
