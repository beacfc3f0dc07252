//! `shell.wasm`: the shell on the serial console. It prints a prompt, reads what is typed on
//! `console.in`, echoes it with line editing, and carries out commands that list, start and
//! kill processes, read the kernel's log, clock and memory figures, and list, read and write
//! files through the vfs actor. `help` lists them.
//!
//! Grants, in this order: `console.in:r`, `console.out:w`, `system:rw`, then optionally
//! `vfs.req:wg` (the file commands, without it they say the vfs is not available; and GRANT to
//! give programs `run` starts the vfs for their WASI file calls) and
//! `ui.req:w` (everything shown on the console is mirrored on the display). The order is
//! fixed: the display's endpoint counts as one only at grant 4, after the vfs's.
//!
//! - [`endpoints`]: the endpoints the shell names, holds and grants to the actors it starts.
//! - [`editor`]: typed bytes to lines (echo, cursor keys, history, Ctrl-C, the length limit).
//! - [`command`]: a line to a [`command::Command`].
//! - [`execute`]: carrying a command out through the `system` capability.
//! - [`start`]: what `run` gives a program; [`foreground`]: a program run until it ends, its
//!   streams shown ([`utf8`]) and fed; [`outcome`]: how a process ended, as `run` and `wait`
//!   say it.
//! - [`bench`]: the `bench` command: benchmark actors started (on the CPUs it chooses) and their
//!   figures shown.
//! - [`files`]: the file commands as requests to the vfs; [`tree`]: those that change it.
//! - [`format`]: tables, sizes and durations as text.
//! - [`session`]: typed bytes in, terminal output out: the above put together.
//! - [`terminal`]: output to `console.out`, mirrored to the display.
//!
//! All of it is plain code over the SDK, tested on the host against the kernel's own logic
//! (`sdk-host`; `cargo test -p shell`).
#![no_std]

extern crate alloc;

pub mod bench;
pub mod command;
pub mod editor;
pub mod endpoints;
pub mod execute;
pub mod files;
pub mod foreground;
pub mod format;
pub mod outcome;
pub mod session;
pub mod start;
pub mod terminal;
pub mod tree;
pub mod utf8;

use sdk::net::Network;
use sdk::{Endpoint, Error, Rights, System};

use crate::execute::{Shell, own_pid};
use crate::files::Files;
use crate::session::{Session, TYPED};
use crate::terminal::Terminal;

/// Longest line the shell takes, in bytes.
pub const MAX_LINE: usize = 256;

/// Grant numbers of the manifest line.
const CONSOLE_IN: u32 = 0;
const CONSOLE_OUT: u32 = 1;
const SYSTEM: u32 = 2;
const VFS: u32 = 3;
const UI: u32 = 4;
const NET: u32 = 5;

/// Serves the console until it goes away (then `console.in` is closed and the shell ends).
#[sdk::main]
async fn main() -> Result<(), Error> {
    // The optional grants are looked for before this actor makes any handle of its own: the
    // kernel hands out handles in order, so a missing grant's number would be the next new one.
    let (vfs, ui, net) = (optional_grant(VFS), optional_grant(UI), optional_grant(NET));
    let input = Endpoint::from_grant(CONSOLE_IN);
    let mut terminal = Terminal::new(Endpoint::from_grant(CONSOLE_OUT), ui);
    let mut shell = Shell::new(System::from_grant(SYSTEM), vfs.map(Files::new), own_pid());
    if let Some(net) = net {
        shell.set_network(Network::from(net));
    }
    let mut session = Session::with_input(shell, input.clone());
    terminal.show(&Session::greeting()).await?;
    loop {
        let message = input.recv().await?;
        if message.opcode != TYPED {
            continue;
        }
        session.shell_mut().set_console(message.sender);
        session.type_in(&message.payload, &mut terminal).await?;
    }
}

/// Grant `n` as an endpoint to send to, if the manifest line has one there.
fn optional_grant(n: u32) -> Option<Endpoint> {
    let endpoint = Endpoint::from_grant(n);
    // A copy can be made only of a capability this actor holds; the copy is closed at once.
    endpoint.derive(Rights::WRITE).is_ok().then_some(endpoint)
}
