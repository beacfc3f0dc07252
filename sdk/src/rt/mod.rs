//! The async runtime inside an actor: tasks on a single-threaded executor, futures for
//! messages and time, and one blocking kernel call whenever every task waits.
//!
//! - [`executor`](block_on): [`block_on`], [`spawn`], [`JoinHandle`].
//! - reactor: what suspended tasks wait for; parks the actor in one `sys_cap_wait`.
//! - [`time`](Instant): [`Instant`], [`sleep`], [`sleep_until`].
//!
//! Combinators come from `futures-util`: [`join`], [`select`] and friends.
//!
//! ```
//! use core::time::Duration;
//! use sdk::rt::{block_on, join, sleep, spawn};
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
mod time;

pub use executor::{JoinHandle, block_on, spawn};
pub use futures_util::future::{Either, join, join3, join4, select};
pub use time::{Instant, sleep, sleep_until};
