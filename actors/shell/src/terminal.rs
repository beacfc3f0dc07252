//! [`Terminal`]: where the shell's output goes, the `console.out` endpoint, in messages of at
//! most the kernel's payload limit.

use sdk::{Endpoint, Error, sys};

/// Opcode of the shell's output messages (the console service prints any message's payload).
const OUTPUT: u32 = 1;

/// The serial console's output endpoint.
#[derive(Debug)]
pub struct Terminal {
    out: Endpoint,
}

impl Terminal {
    /// Output to `out`, the `console.out` endpoint.
    pub const fn new(out: Endpoint) -> Terminal {
        Terminal { out }
    }

    /// Shows `bytes` as they are, waiting while the console's queue is full.
    pub async fn show(&self, bytes: &[u8]) -> Result<(), Error> {
        for piece in bytes.chunks(sys::MAX_PAYLOAD) {
            self.out.send(OUTPUT, piece, None).await?;
        }
        Ok(())
    }
}
