//! `hello.wasm`: greets the console and exits with status 0. README.md shows this file, from
//! `#![no_std]` on, as the example of an actor (a test keeps the two the same).
#![no_std]

#[sdk::main]
async fn main() {
    sdk::println!("hello from a Wasm actor");
}
