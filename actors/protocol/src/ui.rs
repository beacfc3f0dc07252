//! The display protocol: what clients send `ui_server`, the text console on the framebuffer.
//!
//! The server receives on the endpoint the boot manifest calls [`ENDPOINT`] (`ui.req`; the
//! server holds it with `r`, each client with `w`). It understands two kinds of message:
//!
//! - a **request** (`sdk` request/reply, `Endpoint::call`) whose body is a [`Request`] and whose
//!   answer is a [`Reply`], sent once the screen shows the result;
//! - a one-way **text** message, opcode [`TEXT`], whose payload is UTF-8 text written as it is
//!   (invalid sequences show as `?`), with no reply: for streams that cannot wait for a round
//!   trip per line, such as a mirrored log. It is drawn before any later message is handled, so
//!   a request sent after it is answered only once it is on the screen.
//!
//! Text is drawn at the cursor, which starts at the top left. `\n` moves to the start of the next
//! line, `\r` to the start of this one, `\t` to the next multiple of 8 columns and backspace
//! (`\x08`) one column back (from the first column, to the last column of the line above),
//! erasing nothing, as on a terminal: back, space, back erases a cell. `ESC [ 2 J` clears the
//! screen and `ESC [ H` moves to the top left; other escape sequences are dropped whole. A line wraps at the right edge; below the last line the screen scrolls up. Other
//! control characters are ignored, and characters the font lacks show as `?`.
//!
//! A request's encoding must fit in a message (4096 bytes), so a client writes longer text in
//! pieces of at most [`MAX_TEXT`] bytes.
//!
//! ```ignore
//! use protocol::ui;
//!
//! let screen = sdk::Endpoint::from_grant(0); // granted `ui.req:w`
//! let reply: ui::Reply = screen.call(&ui::Request::Write("hello\n")).await?;
//! reply.expect("the ui server drew the line");
//! ```

use serde::{Deserialize, Serialize};

/// The manifest name of the endpoint `ui_server` receives on.
pub const ENDPOINT: &str = "ui.req";

/// Opcode of a one-way message whose payload is text to write (requests use the SDK's opcode).
pub const TEXT: u32 = 1;

/// Opcode of a one-way message of kernel log text (the kernel's log mirror sends these,
/// `sdk::sys::LOG_TEXT`): written on lines of their own, with the unfinished line of
/// [`TEXT`] drawn again after them.
pub const LOG: u32 = 2;

/// The longest text one [`Request::Write`] or [`TEXT`] message should carry, in bytes: a
/// message payload is at most 4096 bytes, and a request's encoding adds a few.
pub const MAX_TEXT: usize = 4000;

/// What a client asks the server to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request<'a> {
    /// Write the text at the cursor, interpreting the control characters listed above.
    Write(&'a str),
    /// Blank the screen and put the cursor at the top left.
    Clear,
}

/// The server's answer to a [`Request`]: `Ok` once the screen shows the result.
pub type Reply = Result<(), UiError>;

/// Why the server did not carry out a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UiError {
    /// The request's body is not an encoding of a [`Request`]; nothing was drawn.
    Malformed,
    /// The text console took the request but copying it to the framebuffer failed.
    Display,
}
