//! The TSC clock: cycles to nanoseconds, with the TSC frequency measured at boot.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use crate::arch::{cpu, pit};

/// TSC frequency in Hz (0 until calibrated).
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// TSC value taken as time zero.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per cycle in 32.32 fixed point: reading the clock is then a multiply and a
/// shift, not a 128-bit division (a software routine that costs more than the TSC read).
static NS_PER_CYCLE_FX: AtomicU64 = AtomicU64::new(0);

/// PIT ticks per calibration run: 10 ms.
const CALIBRATION_TICKS: u16 = (pit::PIT_HZ / 100) as u16;
/// Calibration runs; the median is kept, so one run disturbed by the host does not skew it.
const CALIBRATION_RUNS: usize = 5;

/// A point in time, in nanoseconds since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// Nanoseconds since boot.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// From nanoseconds since boot.
    pub fn from_nanos(ns: u64) -> Self {
        Self(ns)
    }

    /// Time from `earlier` to `self` (zero if `earlier` is later).
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the far future.
    pub fn saturating_add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
    }
}

/// Measures the TSC against the PIT and starts the clock; returns the TSC frequency in Hz.
pub fn calibrate() -> u64 {
    let mut runs = [0u64; CALIBRATION_RUNS];
    for run in &mut runs {
        let (start, end) = pit::measure(CALIBRATION_TICKS, cpu::rdtsc);
        *run = pit::rate(end.wrapping_sub(start), CALIBRATION_TICKS);
    }
    runs.sort_unstable();
    let hz = runs[CALIBRATION_RUNS / 2];
    start(hz);
    hz
}

/// Starts the clock at zero now, for a TSC of `hz` (measured by [`calibrate`], or by the host
/// process that runs the kernel's logic in tests).
pub fn start(hz: u64) {
    EPOCH.store(cpu::rdtsc(), Ordering::Relaxed);
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_PER_CYCLE_FX.store(nanos_per_cycle_fixed(hz), Ordering::Relaxed);
}

/// `10⁹ / hz` in 32.32 fixed point (0 for a zero or absurdly slow rate).
fn nanos_per_cycle_fixed(hz: u64) -> u64 {
    match hz {
        0 => 0,
        hz => u64::try_from((1_000_000_000u128 << 32) / u128::from(hz)).unwrap_or(0),
    }
}

/// `cycles` in nanoseconds at the 32.32 rate `fixed`: rounded down, and within two
/// nanoseconds per second of the exact quotient for TSCs up to 8 GHz.
fn fixed_cycles_to_nanos(cycles: u64, fixed: u64) -> u64 {
    u64::try_from((u128::from(cycles) * u128::from(fixed)) >> 32).unwrap_or(u64::MAX)
}

/// The TSC frequency in Hz (0 before [`calibrate`]).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// The current time (zero before [`calibrate`]).
pub fn now() -> Instant {
    instant_at(cpu::rdtsc())
}

/// The time at TSC value `tsc`.
pub fn instant_at(tsc: u64) -> Instant {
    let cycles = tsc.saturating_sub(EPOCH.load(Ordering::Relaxed));
    Instant(fixed_cycles_to_nanos(cycles, NS_PER_CYCLE_FX.load(Ordering::Relaxed)))
}

/// TSC cycles in `d` (0 before [`calibrate`]).
pub fn duration_to_cycles(d: Duration) -> u64 {
    let cycles = d.as_nanos() * u128::from(tsc_hz()) / 1_000_000_000;
    u64::try_from(cycles).unwrap_or(u64::MAX)
}

/// `cycles` of a `hz` clock in nanoseconds (0 when `hz` is unknown).
pub fn cycles_to_nanos(cycles: u64, hz: u64) -> u64 {
    if hz == 0 {
        return 0;
    }
    u64::try_from(u128::from(cycles) * 1_000_000_000 / u128::from(hz)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_conversions_do_not_overflow() {
        assert_eq!(cycles_to_nanos(3_000_000_000, 3_000_000_000), 1_000_000_000);
        // Ten years of a 5 GHz TSC still converts.
        let ten_years = 5_000_000_000u64 * 3600 * 24 * 3650;
        assert_eq!(cycles_to_nanos(ten_years, 5_000_000_000), 3600 * 24 * 3650 * 1_000_000_000);
        assert_eq!(cycles_to_nanos(123, 0), 0);
    }

    #[test]
    fn the_fixed_point_rate_matches_the_exact_conversion() {
        for hz in [1_000_000, 2_599_123_456, 3_000_000_000, 5_000_000_000] {
            let fixed = nanos_per_cycle_fixed(hz);
            for cycles in [0, 1, 12_345, hz, hz * 3600, hz * 3600 * 24 * 365] {
                let (exact, fast) = (cycles_to_nanos(cycles, hz), fixed_cycles_to_nanos(cycles, fixed));
                // Rounded down, and off by under two nanoseconds per second up to 8 GHz.
                let tolerance = exact / 500_000_000 + 1;
                assert!(exact - fast <= tolerance && fast <= exact, "{hz} Hz, {cycles}: {exact} vs {fast}");
            }
        }
        assert_eq!(nanos_per_cycle_fixed(0), 0);
    }

    #[test]
    fn instants_saturate() {
        let a = Instant::from_nanos(10);
        assert_eq!(Instant::from_nanos(5).saturating_duration_since(a), Duration::ZERO);
        assert_eq!(a.saturating_add(Duration::MAX), Instant::from_nanos(u64::MAX));
    }
}
