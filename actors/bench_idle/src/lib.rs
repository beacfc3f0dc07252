//! `bench_idle.wasm`: the smallest live actor, which the shell's `bench spawn` starts many
//! copies of to measure what one actor costs. It holds no capabilities and sleeps until killed.
#![no_std]

/// Long enough that no copy wakes during a measurement: with 10,000 of them alive, even one
/// wake-up each per ten seconds would be a thousand a second.
const NAP_NS: i64 = 3_600_000_000_000;

/// The actor's entry point: sleep forever.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    loop {
        sdk::sys::sys_sleep_ns(NAP_NS);
    }
}
