//! Arbitrary bytes as a Wasm module through the whole spawn path: parsing, validation against
//! the host ABI, instantiation, running in fuel slices, being killed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    minimalos_fuzz::run_actor(bytes, Vec::new());
});
