//! `counter_bench.wasm`: times calls to the counter behind its first grant, one by one, and
//! reports every round trip as the series `counter.call` (`sdk::bench::report`), which
//! `make bench` turns into CSV rows, a histogram and a plot (`actors/bench.msh` starts it).
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use counter_protocol::{Count, Total};
use sdk::rt::Instant;
use sdk::{Client, Error};

/// Calls timed.
const CALLS: usize = 1000;

#[sdk::main]
async fn main() -> Result<(), Error> {
    let counter: Client<Count, Total> = Client::from_grant(0);
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let start = Instant::now();
        counter.call(&Count::Get).await?;
        samples.push(start.elapsed().as_nanos() as u64);
    }
    sdk::bench::report("counter.call", &samples);
    Ok(())
}
