//! How the executor loop serves the work host calls ask of it (`wasm::requests`): a spawn
//! looks its module up in the ramdisk and starts it under the limits a child gets; the native
//! IPC benchmark runs as two kernel tasks.

use alloc::sync::Arc;

use super::native_ipc;
use crate::proc::{PROCESSES, Pid, Process};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::time::clock;
use crate::wasm::requests::{self, Request, SpawnFailure};
use crate::wasm::spawn::{Given, Source};
use crate::wasm::{self, limits::Limits};

pub use crate::wasm::requests::pending;

/// Serves the pending requests (called by the executor loop between rounds).
pub fn serve(executor: &mut Executor, disk: Option<&Ramdisk<'static>>) {
    while let Some(request) = requests::next() {
        match request {
            Request::Spawn { file, code, given, parent, reply } => {
                let bytes = match &code {
                    Some(code) => Some(Source::Bytes(code)),
                    None => disk.and_then(|d| d.get(&file)).map(Source::Ramdisk),
                };
                reply.answer(serve_spawn(executor, bytes, &file, *given, &parent))
            }
            Request::NativeIpc { round_trips, asker, reply } => {
                let (sink, who) = (reply.clone(), asker.clone());
                let report = move |result: Result<native_ipc::RoundTrips, native_ipc::PingPongError>| {
                    sink.answer(result.map(|trips| trips.figures()).map_err(|why| refused(&who, why)).ok());
                };
                let mut processes = PROCESSES.lock();
                let started = native_ipc::ping_pong(executor, &mut processes, round_trips, report);
                if let Err(e) = started {
                    refused(&asker, native_ipc::PingPongError::Start(e));
                    reply.answer(None);
                }
            }
        }
    }
}

/// Logs why the native IPC benchmark `asker` asked for failed.
fn refused(asker: &Process, why: native_ipc::PingPongError) {
    log::warn!("{}[{}]: native IPC benchmark: {why}", asker.name(), asker.pid());
}

/// Starts `bytes`, the module `file`, for `parent` (`None`: the ramdisk has no such file).
fn serve_spawn(
    executor: &mut Executor,
    bytes: Option<Source<'_>>,
    file: &str,
    given: Given,
    parent: &Arc<Process>,
) -> Result<Pid, SpawnFailure> {
    let tsc = crate::arch::cpu::rdtsc();
    let result = match bytes {
        _ if !parent.may_start_child() => Err(SpawnFailure::TooManyChildren(parent.limits().children)),
        None => Err(SpawnFailure::NoSuchFile(file.into())),
        Some(bytes) => {
            let mut processes = PROCESSES.lock();
            // A vfs path's module is named by its file, as a ramdisk module by its path.
            let name = if file.starts_with('/') { file.rsplit('/').next().unwrap_or(file) } else { file };
            let name = name.trim_end_matches(".wasm");
            let limits = Limits::for_child_of(parent);
            wasm::spawn_wasm(executor, &mut processes, name, bytes, limits, given, Some(parent))
                .map(|child| child.pid())
                .map_err(|error| SpawnFailure::Spawn { file: file.into(), error })
        }
    };
    match &result {
        Ok(pid) => {
            let micros = clock::cycles_to_nanos(crate::arch::cpu::rdtsc() - tsc, clock::tsc_hz()) / 1000;
            parent.log_about_child(
                log::Level::Info,
                format_args!("init: started {file} as pid {pid} on request in {micros} us"),
            )
        }
        Err(why) => parent.log_about_child(
            log::Level::Warn,
            format_args!("init: {}[{}] asked for {file}: {why}", parent.name(), parent.pid()),
        ),
    }
    result
}
