//! `ui_server.wasm`: the text console on the framebuffer. It owns the framebuffer capability
//! and draws what its clients send on the `ui.req` endpoint; `protocol::ui` is the protocol.
//!
//! Manifest line: `actor ui_server grant=framebuffer:rw grant=ui.req:r` (grant 0 the display,
//! grant 1 the requests).
//!
//! Layers, each plain Rust tested on the host against a fake display:
//! - [`pixel`]: colours packed for the display's format (16, 24 or 32 bits, any channel layout);
//! - [`glyphs`]: the bitmap font's characters as cells of pixels in that format;
//! - [`screen`]: character cells in a frame kept in the actor's memory, a ring of cell rows a
//!   scroll turns; what changed reaches the framebuffer in one or two host calls;
//! - [`grid`]: the text and cursor: control characters, wrapping, scrolling;
//! - [`console`]: the grid kept on the screen, redrawing only cells that changed;
//! - [`server`]: one message of the protocol, carried out and answered.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod console;
mod glyphs;
mod grid;
mod pixel;
mod screen;
mod server;

use core::fmt;

use sdk::{Endpoint, Error, Framebuffer};

use crate::console::Console;
use crate::pixel::Unsupported;
use crate::screen::Screen;

/// Why the server stopped.
enum Stop {
    /// A kernel call failed: no framebuffer, or the endpoint is not one.
    Kernel(Error),
    /// The framebuffer's format is not one the renderer draws.
    Format(Unsupported),
}

#[sdk::main]
async fn main() -> Result<(), Stop> {
    let format = Framebuffer::format().map_err(Stop::Kernel)?;
    let screen = Screen::new(Framebuffer::from_grant(0), format).map_err(Stop::Format)?;
    let mut console = Console::new(screen).map_err(Stop::Kernel)?;
    let (columns, rows) = console.size();
    sdk::println!(
        "{columns}x{rows} text console on a {}x{} {}-bit framebuffer",
        format.width,
        format.height,
        format.bpp
    );
    let requests = Endpoint::from_grant(1);
    loop {
        match requests.recv().await {
            Ok(message) => server::handle(&mut console, message),
            // Nobody holds the endpoint's write end any more, so nothing can be drawn again.
            Err(Error::Closed) => return Ok(()),
            Err(error) => return Err(Stop::Kernel(error)),
        }
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Kernel(error) => write!(f, "{error}"),
            Stop::Format(unsupported) => write!(f, "the framebuffer has {unsupported}"),
        }
    }
}
