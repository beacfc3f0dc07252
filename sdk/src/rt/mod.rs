//! The async runtime inside an actor: tasks on a single-threaded executor, futures for
//! messages and time, and one blocking kernel call whenever every task waits.
//!
//! - [`executor`](block_on): [`block_on`], [`spawn`], [`JoinHandle`].
//! - reactor: what suspended tasks wait for; parks the actor in one `sys_cap_wait`.
//! - [`time`](Instant): [`Instant`], [`sleep`], [`sleep_until`], [`Ticker`], [`with_timeout`].
//! - [`select`]: the first of two futures; [`join`] and friends (from `futures-util`) wait for
//!   all. Both take futures as written.
//!
//! `#[sdk::main]` runs an actor's `async fn main` with [`block_on`].
//!
//! ```
//! use core::time::Duration;
//! use sdk::rt::{block_on, join, sleep, spawn};
//! # // On the host the calls go to the kernel's logic (`sdk-host`).
//! # let _kernel = sdk_host::Kernel::start();
//!
//! let ticks = block_on(async {
//!     let ticker = spawn(async {
//!         sleep(Duration::from_millis(10)).await;
//!         1
//!     });
//!     let (ticks, ()) = join(ticker, sleep(Duration::from_millis(5))).await;
//!     ticks
//! });
//! assert_eq!(ticks, 1);
//! ```

mod executor;
mod local;
pub(crate) mod reactor;
mod select;
mod time;

use core::fmt::Display;

pub use executor::{JoinHandle, block_on, spawn};
pub use futures_util::future::{join, join3, join4};
pub use select::{Either, select};
pub use time::{Instant, Ticker, TimedOut, sleep, sleep_until, wall_clock_ns, with_deadline, with_timeout};

/// What `main` may return under `#[sdk::main]`: `()`, or a `Result` whose error is logged.
pub trait Termination {
    /// The actor's exit status: 0 for success, 1 for an error (after logging it as one).
    fn report(self) -> i32;
}

impl Termination for () {
    fn report(self) -> i32 {
        0
    }
}

impl<E: Display> Termination for Result<(), E> {
    fn report(self) -> i32 {
        match self {
            Ok(()) => 0,
            Err(error) => {
                crate::error!("main failed: {error}");
                1
            }
        }
    }
}
