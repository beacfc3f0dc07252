//! `stress_sender.wasm`: one sender of `stress.wasm`'s check. Grants: `out:w` (the checker's
//! inbox), `control:r` (its number first, then the order to stop).
//!
//! It sends its number and a count 0, 1, 2, … (opcode `DATA`), waiting whenever the inbox is
//! full, until the order to stop arrives; then it says how many it sent (opcode `DONE`) and
//! ends. The layouts are `stress.wasm`'s.
#![no_std]

use sdk::{Endpoint, Error};

/// Opcodes, as `stress.wasm` numbers them.
const DATA: u32 = 1;
const DONE: u32 = 2;
const ID: u32 = 3;
const STOP: u32 = 4;

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
        out.send(DATA, &record(id, sent), None).await.map_err(|e| e.error)?;
        sent += 1;
    }
    out.send(DONE, &record(id, sent), None).await.map_err(|e| e.error)
}

/// A message's payload: the sender's number, then a count, little-endian.
fn record(id: u32, count: u64) -> [u8; 12] {
    let mut bytes = [0; 12];
    bytes[..4].copy_from_slice(&id.to_le_bytes());
    bytes[4..].copy_from_slice(&count.to_le_bytes());
    bytes
}
