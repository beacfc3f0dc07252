//! `wasi_hello.wasm`: the smallest Rust `std` program, unmodified, for `wasm32-wasip1`. Besides
//! greeting users it is what the startup-time benchmark runs, so it does nothing more than a
//! hello world would.

fn main() {
    println!("Hello from Rust std on MinimalOS!");
    // Lossy: an argument that is not UTF-8 must not make the greeting panic.
    let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    if !args.is_empty() {
        println!("args: {}", args.join(" "));
    }
}
