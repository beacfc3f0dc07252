//! `counter_client.wasm`: adds 5 to the total of the counter behind its first grant and prints
//! the new total, or fails if the counter takes more than a second to answer.
#![no_std]

use core::time::Duration;

use counter_protocol::{Count, Total};
use sdk::rt::with_timeout;
use sdk::{Client, Error};

/// How long the counter has to answer.
const PATIENCE: Duration = Duration::from_secs(1);

#[sdk::main]
async fn main() -> Result<(), Error> {
    let counter: Client<Count, Total> = Client::from_grant(0);
    // The first `?` is the deadline's, the second the call's.
    let total = with_timeout(PATIENCE, counter.call(&Count::Add(5))).await??;
    sdk::println!("added 5: the total is {total}");
    Ok(())
}
