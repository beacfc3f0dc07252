//! `hog.wasm`: a hostile actor written with the SDK. It keeps every allocation it makes, 64 KiB
//! at a time, and logs how much it holds each MiB; once its memory limit refuses to grow, the
//! allocation fails and the SDK's panic handler logs the panic and exits with status 101. The
//! hostile boot (`tests/hostile.rs`) checks that it dies alone and the rest goes on.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

/// Bytes per allocation.
const CHUNK: usize = 64 * 1024;

/// The actor's entry point: allocate until refused.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        // `vec!` touches every byte, so the memory is really there.
        held.push(alloc::vec![0x5a; CHUNK]);
        if held.len().is_multiple_of(16) {
            sdk::println!("holding {} KiB", held.len() * CHUNK / 1024);
        }
    }
}
