//! `shell.wasm`: the shell on the serial console. It prints a prompt, reads what is typed on
//! `console.in`, echoes it with line editing, and carries out commands that list, start and
//! kill processes and read the kernel's log, clock and memory figures. `help` lists them.
//!
//! Grants, in this order: `console.in:r`, `console.out:w`, `system:rw`.
//!
//! - [`editor`]: typed bytes to lines (echo, backspace, Ctrl-C, the length limit).
//! - [`command`]: a line to a [`command::Command`].
//! - [`execute`]: carrying a command out through the `system` capability.
//! - [`format`]: tables, sizes and durations as text.
//! - [`session`]: typed bytes in, terminal output out: the above put together.
//! - [`terminal`]: output to `console.out`.
//!
//! Everything but the last is plain code over the SDK, tested on the host against its fake
//! kernel (`cargo test -p shell`).
#![no_std]

extern crate alloc;

pub mod command;
pub mod editor;
pub mod execute;
pub mod format;
pub mod session;
pub mod terminal;

use sdk::{Endpoint, Error, System};

use crate::execute::{Shell, own_pid};
use crate::session::Session;
use crate::terminal::Terminal;

/// Longest line the shell takes, in bytes.
pub const MAX_LINE: usize = 256;

/// Opcode of the console service's messages of typed bytes.
const TYPED: u32 = 1;

/// Grant numbers of the manifest line.
const CONSOLE_IN: u32 = 0;
const CONSOLE_OUT: u32 = 1;
const SYSTEM: u32 = 2;

/// Serves the console until it goes away (then `console.in` is closed and the shell ends).
#[sdk::main]
async fn main() -> Result<(), Error> {
    let input = Endpoint::from_grant(CONSOLE_IN);
    let terminal = Terminal::new(Endpoint::from_grant(CONSOLE_OUT));
    let mut session = Session::new(Shell::new(System::from_grant(SYSTEM), own_pid()));
    terminal.show(&Session::greeting()).await?;
    loop {
        let message = input.recv().await?;
        if message.opcode != TYPED {
            continue;
        }
        session.shell_mut().set_console(message.sender);
        terminal.show(&session.type_in(&message.payload)).await?;
    }
}
