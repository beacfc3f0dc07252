//! Time: a monotonic clock from the TSC, calibrated at boot against the PIT.
//!
//! [`Instant`] counts nanoseconds since the clock was calibrated. Sleeping (`sleep`,
//! `sleep_until`) is in [`timer`]; the wall clock, from the RTC at boot, in [`wall`].
//!
//! May use: `arch` (the TSC and the PIT).

pub mod clock;
pub mod timer;
pub mod wall;

pub use clock::{Instant, now};
pub use timer::{sleep, sleep_until};
