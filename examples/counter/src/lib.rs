//! `counter.wasm`: keeps a running total for its clients (`counter_protocol`), answering each
//! request with the total after it, until no client can reach it any more. Every ten seconds in
//! which it was called, it says how often. docs/SDK.md walks through it.
#![no_std]

use core::time::Duration;

use counter_protocol::{Count, Total};
use sdk::rt::{Either, Ticker, select};
use sdk::{Error, Mailbox};

/// How often the counter reports how busy it was (when it was).
const REPORT_EVERY: Duration = Duration::from_secs(10);

#[sdk::main]
async fn main() -> Result<(), Error> {
    serve(Mailbox::from_grant(0)).await
}

/// Answers the requests that arrive in `requests` until no client can send any more.
pub async fn serve(requests: Mailbox<Count, Total>) -> Result<(), Error> {
    let mut total: Total = 0;
    let mut calls = 0u32;
    let mut report = Ticker::every(REPORT_EVERY);
    loop {
        match select(requests.next(), report.next()).await {
            Either::Left(next) => {
                let Some(request) = next? else {
                    return Ok(());
                };
                total = apply(total, request.body);
                calls += 1;
                // A client that left before its answer is no reason to stop serving the others.
                request.reply(&total);
            }
            Either::Right(()) if calls > 0 => {
                sdk::println!("{calls} calls in the last {} s; the total is {total}", REPORT_EVERY.as_secs());
                calls = 0;
            }
            Either::Right(()) => {}
        }
    }
}

/// The total after `request`.
fn apply(total: Total, request: Count) -> Total {
    match request {
        Count::Add(n) => total.saturating_add(n),
        Count::Get => total,
    }
}

#[cfg(test)]
mod tests {
    use sdk::rt::{block_on, spawn};
    use sdk::{Client, Endpoint, Rights};

    use super::*;

    #[test]
    fn the_total_saturates() {
        assert_eq!(apply(Total::MAX - 1, Count::Add(5)), Total::MAX);
        assert_eq!(apply(7, Count::Get), 7);
    }

    #[test]
    fn clients_see_the_running_total_until_none_is_left() {
        let _kernel = sdk_host::Kernel::start();
        let (totals, served) = block_on(async {
            let requests = Endpoint::create(4).unwrap();
            let counter: Client<Count, Total> = Client::new(requests.derive(Rights::WRITE).unwrap());
            let service = spawn(serve(Mailbox::new(requests.derive(Rights::READ).unwrap())));
            drop(requests);
            let totals = [counter.call(&Count::Add(2)).await, counter.call(&Count::Add(3)).await];
            drop(counter);
            (totals, service.await)
        });
        assert_eq!(totals, [Ok(2), Ok(5)]);
        assert_eq!(served, Ok(()), "the last client gone ends the service, without an error");
    }
}
