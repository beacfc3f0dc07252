//! `stress_sender.wasm`: one sender of `stress.wasm`'s check. Grants: `out:w` (the checker's
//! inbox), `control:r` (its number first, then the order to stop).
//!
//! It sends its number and a count 0, 1, 2, … (opcode `DATA`), waiting whenever the inbox is
//! full, until the order to stop arrives; then it says how many it sent (opcode `DONE`) and
//! ends. The messages are `protocol::stress`'s.
#![no_std]

use protocol::stress::{DATA, DONE, ID, Record, STOP};
use sdk::{Endpoint, Error};

#[sdk::main]
async fn main() -> Result<(), Error> {
    let (out, control) = (Endpoint::from_grant(0), Endpoint::from_grant(1));
    let first = control.recv().await?;
    let id = match (first.opcode, <[u8; 4]>::try_from(first.payload.as_slice())) {
        (ID, Ok(bytes)) => u32::from_le_bytes(bytes),
        _ => return Err(Error::InvalidArgument),
    };
    let mut sent = 0u64;
    loop {
        match control.try_recv() {
            Ok(order) if order.opcode == STOP => break,
            Ok(_) => return Err(Error::InvalidArgument),
            Err(Error::Empty) => {}
            Err(error) => return Err(error),
        }
        out.send(DATA, &Record { sender: id, count: sent }.to_bytes(), None).await.map_err(|e| e.error)?;
        sent += 1;
    }
    out.send(DONE, &Record { sender: id, count: sent }.to_bytes(), None).await.map_err(|e| e.error)
}
