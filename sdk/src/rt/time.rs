//! Time: [`Instant`] on the kernel's monotonic clock; [`sleep`] / [`sleep_until`], which
//! suspend the calling task (the reactor folds the nearest deadline into its single wait);
//! [`with_timeout`] and [`Ticker`], built on them.

use core::future::{Future, poll_fn};
use core::ops::{Add, Sub};
use core::task::Poll;
use core::time::Duration;

use super::reactor::{Registration, Source};
use super::select::{Either, select};
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

/// Nanoseconds since 1970-01-01 UTC on the kernel's wall clock (the RTC at boot plus the
/// monotonic clock since: it never goes backwards).
pub fn wall_clock_ns() -> i64 {
    sys::sys_clock_wall_ns()
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

/// `future` did not finish in time (see [`with_timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimedOut;

impl core::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timed out")
    }
}

impl From<TimedOut> for crate::Error {
    fn from(_: TimedOut) -> crate::Error {
        crate::Error::TimedOut
    }
}

/// Runs `future` for at most `duration`: its output, or [`TimedOut`] (and `future` dropped).
pub async fn with_timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, TimedOut> {
    with_deadline(Instant::now() + duration, future).await
}

/// Runs `future` until the clock reaches `deadline`: its output, or [`TimedOut`].
pub async fn with_deadline<F: Future>(deadline: Instant, future: F) -> Result<F::Output, TimedOut> {
    match select(future, sleep_until(deadline)).await {
        Either::Left(out) => Ok(out),
        Either::Right(()) => Err(TimedOut),
    }
}

/// Ticks at a fixed period: the `n`-th tick is due `n` periods after the ticker was made, so
/// the work done between ticks does not make them drift. A task that falls behind gets one
/// tick at once and the next a period later, not a burst of every tick it missed.
#[derive(Debug)]
pub struct Ticker {
    period: Duration,
    next: Instant,
}

impl Ticker {
    /// Ticks every `period`, the first one `period` from now.
    pub fn every(period: Duration) -> Ticker {
        Ticker { period, next: Instant::now() + period }
    }

    /// Waits for the next tick.
    pub async fn next(&mut self) {
        sleep_until(self.next).await;
        let now = Instant::now();
        self.next = self.next + self.period;
        if self.next <= now {
            // Behind by a whole period or more: the schedule resumes from now.
            self.next = now + self.period;
        }
    }
}
