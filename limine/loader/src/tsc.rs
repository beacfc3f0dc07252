//! Delays after ExitBootServices, when the firmware's timer services are gone: the time-stamp
//! counter, its rate measured against `boot::stall` before.

use core::arch::x86_64::_rdtsc;
use uefi::boot;

/// How long the rate is measured: long enough that the stall's granularity does not matter.
const CALIBRATION_US: u64 = 10_000;

/// The time-stamp counter, with its rate.
pub struct Tsc {
    ticks_per_us: u64,
}

impl Tsc {
    /// Measures the rate; needs boot services.
    pub fn calibrate() -> Self {
        let start = now();
        boot::stall(CALIBRATION_US as usize);
        let ticks = now().wrapping_sub(start);
        // At least one tick per microsecond: a delay may run long, never come out zero.
        Self { ticks_per_us: (ticks / CALIBRATION_US).max(1) }
    }

    /// Waits `us` microseconds.
    pub fn delay(&self, us: u64) {
        self.wait(us, || false);
    }

    /// Waits until `done` returns true, for at most `us` microseconds; returns whether it did.
    pub fn wait(&self, us: u64, mut done: impl FnMut() -> bool) -> bool {
        let start = now();
        let ticks = us.saturating_mul(self.ticks_per_us);
        loop {
            if done() {
                return true;
            }
            if now().wrapping_sub(start) >= ticks {
                return done();
            }
            core::hint::spin_loop();
        }
    }
}

/// The counter.
fn now() -> u64 {
    // SAFETY: RDTSC only reads the counter; the firmware leaves it readable in ring 0.
    unsafe { _rdtsc() }
}
