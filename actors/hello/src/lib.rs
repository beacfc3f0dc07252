//! `hello.wasm`: greets the console and exits with status 0.
#![no_std]

/// The actor's entry point, called once by the kernel.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    sdk::println!("hello from a Wasm actor");
    sdk::exit(0);
}
