//! The wall clock: the RTC's time at boot plus the monotonic clock since, in nanoseconds since
//! 1970-01-01 UTC (WASI's realtime clock, the vfs's timestamps). It does not follow the RTC
//! after boot: it moves exactly as the monotonic clock does, and never backwards.

use core::sync::atomic::{AtomicU64, Ordering};

use super::clock;

/// Nanoseconds since 1970 at the monotonic clock's zero (0: unknown, the clock starts at 1970).
static AT_ZERO: AtomicU64 = AtomicU64::new(0);

/// Sets the wall clock from the RTC's reading `unix_seconds`, taken now.
pub fn set(unix_seconds: u64) {
    let now = clock::now().as_nanos();
    AT_ZERO.store(unix_seconds.saturating_mul(1_000_000_000).saturating_sub(now), Ordering::Relaxed);
}

/// Nanoseconds since 1970-01-01 UTC.
pub fn now_ns() -> u64 {
    AT_ZERO.load(Ordering::Relaxed).saturating_add(clock::now().as_nanos())
}
