//! An async actor on its own: a server task answers sums over request/reply while the main
//! task calls it, with a timer in between. Build it with
//! `cargo build -p sdk --example pingpong --release --target wasm32-unknown-unknown`.
#![no_std]

use core::time::Duration;

use sdk::rt::{Instant, sleep, spawn};
use sdk::{Endpoint, Error};

#[sdk::main]
async fn main() -> Result<(), Error> {
    let requests = Endpoint::create(8)?;
    let for_clients = requests.derive(sdk::Rights::WRITE)?;
    spawn(async move {
        while let Ok(request) = requests.recv_request::<(u32, u32)>().await {
            let (a, b) = request.body;
            let _ = request.reply(&(a + b));
        }
    });
    let start = Instant::now();
    for round in 0..3u32 {
        let sum: u32 = for_clients.call(&(round, 40u32)).await?;
        sdk::println!("{round} + 40 = {sum}");
        sleep(Duration::from_millis(5)).await;
    }
    sdk::println!("three calls in {} us", start.elapsed().as_micros());
    Ok(())
}
