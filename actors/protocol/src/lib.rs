//! The message protocols of the system actors: one module per server, holding the request and
//! reply types its clients send with `sdk` request/reply (`Endpoint::call`), and the stress
//! check's raw messages. Both sides depend on this crate, so a protocol is defined once.
#![no_std]

extern crate alloc;

pub mod net;
pub mod stress;
pub mod ui;
pub mod vfs;
