//! WASI preview 1 (`wasi_snapshot_preview1`): the imports unmodified programs built for
//! `wasm32-wasip1` make, answered by the kernel on the program's own fiber.
//!
//! - `start`: what a program is given when it starts (arguments, environment, directories,
//!   standard streams) and the per-program state made from it ([`Wasi`]).
//! - `fds`, `rights`, `path`: the descriptor table, WASI's rights, and path resolution inside
//!   preopened directories — the logic that decides what a program can reach, tested on the
//!   host.
//! - `vfs`, `stdio`: where descriptors lead: requests to the vfs actor over IPC, made from the
//!   program's fiber as blocking calls, and the standard streams (endpoints, or the console).
//! - `memory`, `layout`: checked access to the program's memory and WASI's record layouts.
//! - `process`, `files`, `readdir`, `paths`, `poll`: the handlers, one per import, registered by name in
//!   [`HANDLERS`] like the ABI's own (`wasm::abi`).
//!
//! A program reaches only the directories it was given, through the vfs capability the kernel
//! holds for it outside its capability table; `docs/WASI.md` is the contract.
//!
//! May use: `wasm::abi` (dispatch, argument decoding), `ipc`, `cap`, `proc`, `time`, `mem`.

pub mod errno;
mod fds;
mod files;
mod layout;
mod memory;
mod path;
mod paths;
mod poll;
mod process;
mod readdir;
mod rights;
mod start;
mod stdio;
pub mod vfs;

pub use errno::Errno;
pub use start::{Start, StartError, Wasi};

use super::abi::{Handler, HostError, HostResult, Ret};
use super::actor::ActorContext;
use super::engine::{HostCall, Value};
use crate::ipc::{Endpoint, Message};
use crate::proc::Wait;
use crate::wasm::handoff;
use memory::Memory;

/// Why a WASI call did not succeed: an errno for the program, or the end of its interpreter.
#[derive(Debug)]
pub enum Fail {
    /// The call fails with this errno.
    Errno(Errno),
    /// The call stops the program (it exited, was ended, or a kernel bug was caught).
    Host(HostError),
}

impl From<Errno> for Fail {
    fn from(errno: Errno) -> Self {
        Fail::Errno(errno)
    }
}

impl From<HostError> for Fail {
    fn from(error: HostError) -> Self {
        Fail::Host(error)
    }
}

/// What a WASI handler returns: success, or why not.
pub type Answer = Result<(), Fail>;

/// A WASI call's arguments, decoded as its signature (checked at spawn) says.
#[derive(Clone, Copy)]
pub struct Args<'a>(&'a [Value]);

impl Args<'_> {
    /// Argument `index`, an `i32`.
    pub fn i32(&self, index: usize) -> Result<i32, Fail> {
        Ok(super::abi::arg_i32(self.0, index)?)
    }

    /// Argument `index`, an `i64`.
    pub fn i64(&self, index: usize) -> Result<i64, Fail> {
        Ok(super::abi::arg_i64(self.0, index)?)
    }

    /// Argument `index`, an `i64` read as WASI's unsigned 64-bit sizes and times are.
    pub fn u64(&self, index: usize) -> Result<u64, Fail> {
        Ok(self.i64(index)? as u64)
    }
}

/// The body of a WASI handler.
type Body = fn(&ActorContext, &mut Memory<'_, '_>, Args<'_>) -> Answer;

/// Runs `body` and turns its answer into the errno the import returns.
#[inline]
fn answer(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value], body: Body) -> HostResult {
    let mut guest = call.guest();
    match body(ctx, &mut Memory::new(&mut guest), Args(args)) {
        Ok(()) => Ok(Ret::I32(i32::from(Errno::SUCCESS.0))),
        Err(Fail::Errno(errno)) => Ok(Ret::I32(i32::from(errno.0))),
        Err(Fail::Host(error)) => Err(error),
    }
}

/// Queues `message` on `endpoint`, waiting while the queue is full: the inner result is the
/// endpoint's answer (`Closed` once no one receives), the outer one the program's end.
fn send_waiting(
    ctx: &ActorContext,
    endpoint: &Endpoint,
    mut message: Message,
) -> Result<Result<(), crate::error::Error>, HostError> {
    loop {
        match endpoint.send(message) {
            Ok(()) => return Ok(Ok(())),
            Err(rejected) if rejected.error == crate::error::Error::Full => {
                message = rejected.value;
                let _blocked = ctx.process.waiting(Wait::Kernel);
                if let Err(closed) = handoff::block_on(ctx, endpoint.writable()).map_err(|_| ctx.ended())? {
                    return Ok(Err(closed));
                }
            }
            Err(rejected) => return Ok(Err(rejected.error)),
        }
    }
}

/// Makes a [`Handler`] for each body, and [`HANDLERS`] of them by import name.
macro_rules! handlers {
    ($($name:ident => $body:path,)*) => {
        mod handler {
            use super::*;
            $(
                pub fn $name(ctx: &ActorContext, call: HostCall<'_>, args: &[Value]) -> HostResult {
                    answer(ctx, call, args, $body)
                }
            )*
        }

        /// The handler of every WASI function, by name.
        pub const HANDLERS: &[(&str, Handler)] = &[$((stringify!($name), handler::$name)),*];
    };
}

handlers! {
    args_get => process::args_get,
    args_sizes_get => process::args_sizes_get,
    environ_get => process::environ_get,
    environ_sizes_get => process::environ_sizes_get,
    clock_res_get => process::clock_res_get,
    clock_time_get => process::clock_time_get,
    fd_advise => files::fd_advise,
    fd_allocate => files::fd_allocate,
    fd_close => files::fd_close,
    fd_datasync => files::fd_datasync,
    fd_fdstat_get => files::fd_fdstat_get,
    fd_fdstat_set_flags => files::fd_fdstat_set_flags,
    fd_fdstat_set_rights => files::fd_fdstat_set_rights,
    fd_filestat_get => files::fd_filestat_get,
    fd_filestat_set_size => files::fd_filestat_set_size,
    fd_filestat_set_times => files::fd_filestat_set_times,
    fd_pread => files::fd_pread,
    fd_prestat_get => files::fd_prestat_get,
    fd_prestat_dir_name => files::fd_prestat_dir_name,
    fd_pwrite => files::fd_pwrite,
    fd_read => files::fd_read,
    fd_readdir => readdir::fd_readdir,
    fd_renumber => files::fd_renumber,
    fd_seek => files::fd_seek,
    fd_sync => files::fd_sync,
    fd_tell => files::fd_tell,
    fd_write => files::fd_write,
    path_create_directory => paths::path_create_directory,
    path_filestat_get => paths::path_filestat_get,
    path_filestat_set_times => paths::path_filestat_set_times,
    path_link => paths::path_link,
    path_open => paths::path_open,
    path_readlink => paths::path_readlink,
    path_remove_directory => paths::path_remove_directory,
    path_rename => paths::path_rename,
    path_symlink => paths::path_symlink,
    path_unlink_file => paths::path_unlink_file,
    poll_oneoff => poll::poll_oneoff,
    proc_exit => process::proc_exit,
    proc_raise => process::proc_raise,
    sched_yield => process::sched_yield,
    random_get => process::random_get,
    sock_accept => process::no_network,
    sock_recv => process::no_network,
    sock_send => process::no_network,
    sock_shutdown => process::no_network,
}

#[cfg(test)]
mod tests {
    use super::*;
    use minimalos_abi::WASI_FUNCTIONS;

    #[test]
    fn every_wasi_function_has_one_handler_and_no_handler_is_extra() {
        for function in WASI_FUNCTIONS {
            let handlers = HANDLERS.iter().filter(|(name, _)| *name == function.name).count();
            assert_eq!(handlers, 1, "{} has {handlers} handlers", function.name);
        }
        assert_eq!(HANDLERS.len(), WASI_FUNCTIONS.len());
    }
}
