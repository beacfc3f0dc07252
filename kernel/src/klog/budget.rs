//! How many log lines one source may write: a burst, then a steady rate, like Linux's
//! `printk_ratelimit`. Lines about what actors ask for (starts, ends) are written by the kernel
//! on their behalf, synchronously, to a serial port that takes tens of microseconds a line under
//! emulation and milliseconds on hardware: without a budget, an actor that starts and ends
//! children in a loop floods the console and holds the CPU in the kernel's name.

use spin::Mutex;

/// Lines written at once before the budget runs low.
pub const BURST: u32 = 64;
/// Then one more line per this many nanoseconds (10 a second).
pub const REFILL_NS: u64 = 100_000_000;

/// One source's budget of log lines; see the module documentation.
pub struct LineBudget(Mutex<Bucket>);

struct Bucket {
    /// Lines it may write now.
    tokens: u32,
    /// When the last token was added (ns since boot).
    refilled_at: u64,
    /// Lines left out since the last one written.
    left_out: u64,
}

impl LineBudget {
    /// A full budget.
    pub const fn new() -> Self {
        Self(Mutex::new(Bucket { tokens: BURST, refilled_at: 0, left_out: 0 }))
    }

    /// Whether a line may be written at `now` (ns since boot): `Some(n)`, with `n` the lines
    /// left out before it (to be said first), or `None` when this one is left out too.
    pub fn take(&self, now: u64) -> Option<u64> {
        let mut bucket = self.0.lock();
        let earned = now.saturating_sub(bucket.refilled_at) / REFILL_NS;
        if earned > 0 {
            bucket.tokens = u64::from(bucket.tokens).saturating_add(earned).min(u64::from(BURST)) as u32;
            bucket.refilled_at = now;
        }
        if bucket.tokens == 0 {
            bucket.left_out += 1;
            return None;
        }
        bucket.tokens -= 1;
        Some(core::mem::take(&mut bucket.left_out))
    }
}

impl Default for LineBudget {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_ten_a_second_and_the_left_out_are_counted() {
        let budget = LineBudget::new();
        let start = 5 * REFILL_NS;
        for _ in 0..BURST {
            assert_eq!(budget.take(start), Some(0));
        }
        for _ in 0..7 {
            assert_eq!(budget.take(start + 1), None);
        }
        assert_eq!(budget.take(start + REFILL_NS / 2), None, "half a refill earns nothing");
        assert_eq!(budget.take(start + REFILL_NS), Some(8), "the next line says how many were left out");
        assert_eq!(budget.take(start + REFILL_NS), None);
        assert_eq!(budget.take(start + 4 * REFILL_NS), Some(1));
        assert_eq!(budget.take(start + 4 * REFILL_NS), Some(0));
        assert_eq!(budget.take(start + 4 * REFILL_NS), Some(0));
        assert_eq!(budget.take(start + 4 * REFILL_NS), None);
    }

    #[test]
    fn a_long_quiet_refills_the_burst_and_no_more() {
        let budget = LineBudget::new();
        for _ in 0..BURST {
            budget.take(0);
        }
        let later = 1000 * REFILL_NS;
        for _ in 0..BURST {
            assert_eq!(budget.take(later), Some(0));
        }
        assert_eq!(budget.take(later), None);
    }
}
