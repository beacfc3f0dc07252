//! `ui_check.wasm`: a client of `ui_server` for the boot test. Writes a few lines on the display,
//! one of them as one-way text, and logs `done` once the server has answered the request sent
//! after them all, which it handles only after drawing everything before it.
//!
//! Manifest line: `actor ui_check grant=ui.req:w`.
#![no_std]

use core::fmt;

use protocol::ui::{self, UiError};
use sdk::{Endpoint, Error};

/// The first line; the boot test looks for it on the screen.
const TITLE: &str = "MinimalOS ui check\n";

/// Why the check failed.
enum Failure {
    /// A kernel call failed.
    Kernel(Error),
    /// The server answered with an error.
    Refused(UiError),
}

#[sdk::main]
async fn main() -> Result<(), Failure> {
    let screen = Endpoint::from_grant(0);
    write(&screen, TITLE).await?;
    screen.send(ui::TEXT, b"one-way text from ui_check\n", None).await.map_err(|e| e.error)?;
    write(&screen, "acknowledged by ui_server\n").await?;
    sdk::println!("done");
    Ok(())
}

/// Asks the server behind `screen` to write `text` and waits until it is drawn.
async fn write(screen: &Endpoint, text: &str) -> Result<(), Failure> {
    let reply: ui::Reply = screen.call(&ui::Request::Write(text)).await?;
    reply.map_err(Failure::Refused)
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Kernel(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Kernel(error) => write!(f, "{error}"),
            Failure::Refused(refused) => write!(f, "ui_server answered {refused:?}"),
        }
    }
}
