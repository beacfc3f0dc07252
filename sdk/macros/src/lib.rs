//! `#[sdk::main]`: turns an actor's `async fn main` into its entry point.
//!
//! The function is kept as written, and `_start` is added: it runs `main` on the SDK's
//! executor and exits with the status its result reports. On `wasm32` `_start` is the exported
//! entry the kernel calls; elsewhere it is a plain function, so host tests can call it.
//!
//! Written on `proc_macro` alone: the transform only needs the function's name.

use proc_macro::{Delimiter, TokenStream, TokenTree};

/// Makes `async fn main()` the actor's entry point; see the crate docs.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    match entry_name(args, item.clone()) {
        Ok(name) => {
            let body = format!("::sdk::exit(::sdk::rt::Termination::report(::sdk::rt::block_on({name}())))");
            let start: TokenStream = format!(
                "#[cfg(target_arch = \"wasm32\")] #[unsafe(no_mangle)] pub extern \"C\" fn _start() {{ {body} }}
                 #[cfg(not(target_arch = \"wasm32\"))] pub fn _start() {{ {body} }}"
            )
            .parse()
            .expect("the generated entry point is valid Rust");
            item.into_iter().chain(start).collect()
        }
        Err(message) => format!("::core::compile_error!({message:?});").parse().expect("valid Rust"),
    }
}

/// The name of the `async fn` taking no arguments that `item` declares.
fn entry_name(args: TokenStream, item: TokenStream) -> Result<String, &'static str> {
    if !args.is_empty() {
        return Err("#[sdk::main] takes no arguments");
    }
    let mut tokens = item.into_iter();
    let mut is_async = false;
    for token in tokens.by_ref() {
        match token {
            TokenTree::Ident(word) if word.to_string() == "async" => is_async = true,
            TokenTree::Ident(word) if word.to_string() == "fn" => break,
            _ => {}
        }
    }
    let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(params))) = (tokens.next(), tokens.next())
    else {
        return Err("#[sdk::main] goes on `async fn main()`");
    };
    if !is_async {
        return Err("#[sdk::main] needs an `async fn`");
    }
    if params.delimiter() != Delimiter::Parenthesis || !params.stream().is_empty() {
        return Err("#[sdk::main] needs a function without parameters");
    }
    Ok(name.to_string())
}
