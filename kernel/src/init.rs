//! Starts the system the boot manifest describes: the objects it declares, then each actor with
//! its grants. Every problem is logged with the manifest line it comes from; the rest goes on.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::arch::cpu;
use crate::boot::FramebufferInfo;
use crate::cap::{Capability, Rights};
use crate::manifest::{self, ActorDecl, GrantRights, Manifest, ObjectRef};
use crate::mem;
use crate::proc::{Pid, ProcessTable};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::time::clock;
use crate::wasm::{self, limits::Limits};
use crate::{console, log_mirror};

/// What actors are started with: the kernel objects and devices the manifest can grant.
pub struct System<'a> {
    /// The executor the actors run on.
    pub executor: &'a mut Executor,
    /// The process table they go into.
    pub processes: &'a mut ProcessTable,
    /// The ramdisk their modules come from.
    pub disk: &'a Ramdisk<'static>,
    /// The boot framebuffer, if there is one.
    pub framebuffer: Option<&'static FramebufferInfo>,
    /// The console service, once a grant needed it.
    pub console: Option<console::Console>,
}

/// Reads the manifest `path` from the ramdisk and starts what it lists; returns how many actors
/// started.
pub fn start_system(mut system: System<'_>, path: &str) -> usize {
    let Some(text) = system.disk.get(path) else {
        log::warn!("init: no `{path}` in the ramdisk: no actors started");
        return 0;
    };
    let text = String::from_utf8_lossy(text);
    let (manifest, errors) = manifest::parse(&text);
    for error in &errors {
        log::error!("init: {error}");
    }
    // Init holds every object with full rights while it hands out grants, then lets go, so
    // the objects live exactly as long as the actors' capabilities.
    let objects = create_objects(&manifest, path);
    if let Some(name) = &manifest.log_to {
        let mirrored = objects
            .get(name)
            .ok_or(crate::error::Error::InvalidHandle)
            .and_then(|endpoint| endpoint.derive(Rights::WRITE))
            .and_then(|target| log_mirror::start(system.executor, system.processes, target));
        match mirrored {
            Ok(pid) => log::info!("init: log mirrored to `{name}` by pid {pid}"),
            Err(e) => log::error!("init: {path}: cannot mirror the log to `{name}`: {e}"),
        }
    }
    let mut started = 0;
    for actor in &manifest.actors {
        let (tsc, heap) = (cpu::rdtsc(), mem::heap::allocated());
        match start_actor(&mut system, &objects, actor) {
            Ok(pid) => {
                let micros = clock::cycles_to_nanos(cpu::rdtsc() - tsc, clock::tsc_hz()) / 1000;
                let heap_kib = mem::heap::allocated().saturating_sub(heap) / 1024;
                let stack_kib = Limits::default().fiber_stack / 1024;
                log::info!(
                    "init: started {} ({}) as pid {pid} in {micros} us, {} KiB kernel memory (heap {heap_kib} KiB, stack {stack_kib} KiB)",
                    actor.name,
                    actor.file,
                    heap_kib + stack_kib
                );
                started += 1;
            }
            Err(why) => {
                log::error!("init: {path} line {}: actor {} not started: {why}", actor.line, actor.name)
            }
        }
    }
    started
}

/// The endpoints and shared memory the manifest declares, by name (a failure is logged).
fn create_objects(manifest: &Manifest, path: &str) -> BTreeMap<String, Capability> {
    let mut objects = BTreeMap::new();
    let endpoints = manifest.endpoints.iter().map(|e| {
        let capacity = core::num::NonZeroUsize::new(e.capacity).unwrap_or(crate::ipc::DEFAULT_CAPACITY);
        (&e.name, Capability::endpoint(capacity))
    });
    let shared = manifest.shared_memory.iter().map(|s| (&s.name, Capability::shared_memory(s.size)));
    for (name, created) in endpoints.chain(shared) {
        match created {
            Ok(cap) => {
                objects.insert(name.clone(), cap);
            }
            Err(e) => log::error!("init: {path}: cannot create `{name}`: {e}"),
        }
    }
    objects
}

fn rights(grant: GrantRights) -> Rights {
    let mut rights = Rights::empty();
    rights.set(Rights::READ, grant.read);
    rights.set(Rights::WRITE, grant.write);
    rights.set(Rights::GRANT, grant.grant);
    rights
}

fn start_actor(
    system: &mut System<'_>,
    objects: &BTreeMap<String, Capability>,
    actor: &ActorDecl,
) -> Result<Pid, String> {
    let bytes =
        system.disk.get(&actor.file).ok_or_else(|| format!("no file `{}` in the ramdisk", actor.file))?;
    let mut grants = Vec::with_capacity(actor.grants.len());
    for grant in &actor.grants {
        let rights = rights(grant.rights);
        let derived = match &grant.object {
            ObjectRef::Endpoint(name) | ObjectRef::SharedMemory(name) => {
                objects.get(name).ok_or_else(|| format!("`{name}` could not be created"))?.derive(rights)
            }
            ObjectRef::Framebuffer => {
                let fb = system.framebuffer.ok_or("the machine has no framebuffer to grant")?;
                Capability::framebuffer(fb).derive(rights)
            }
            ObjectRef::Ramdisk => Capability::ramdisk(system.disk.bytes()).derive(rights),
            ObjectRef::System => Capability::system().derive(rights),
            ObjectRef::ConsoleIn | ObjectRef::ConsoleOut => {
                if system.console.is_none() {
                    let console = console::start(system.executor, system.processes)
                        .map_err(|e| format!("the console service cannot start: {e}"))?;
                    system.console = Some(console);
                }
                let console = system.console.as_ref().ok_or("no console service")?;
                match grant.object {
                    ObjectRef::ConsoleIn => console.input.derive(rights),
                    _ => console.output.derive(rights),
                }
            }
        };
        grants.push(derived.map_err(|e| format!("grant {:?}: {e}", grant.object))?);
    }
    let defaults = Limits::default();
    let limits = Limits { memory_pages: actor.memory_pages.unwrap_or(defaults.memory_pages), ..defaults };
    wasm::spawn_wasm(system.executor, system.processes, &actor.name, bytes, limits, grants)
        .map_err(|e| format!("`{}` {e}", actor.file))
}

/// A request from an actor to start a module of the ramdisk; the executor loop serves it.
struct SpawnRequest {
    file: String,
    grants: Vec<Capability>,
    reply: alloc::sync::Arc<SpawnReply>,
}

/// Why a module asked for could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnFailure {
    /// The ramdisk has no such file.
    NoSuchFile(String),
    /// The module was refused, for this reason.
    Refused(String),
}

impl core::fmt::Display for SpawnFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoSuchFile(file) => write!(f, "no file `{file}` in the ramdisk"),
            Self::Refused(why) => f.write_str(why),
        }
    }
}

/// Where the executor loop leaves the answer to a [`SpawnRequest`].
#[derive(Default)]
struct SpawnReply {
    result: spin::Mutex<Option<Result<Pid, SpawnFailure>>>,
    waker: futures_util::task::AtomicWaker,
}

/// Requests not served yet. Actors cannot spawn from inside a poll (the executor is busy
/// polling them), so the loop serves these between rounds.
static SPAWN_REQUESTS: spin::Mutex<alloc::collections::VecDeque<SpawnRequest>> =
    spin::Mutex::new(alloc::collections::VecDeque::new());

/// Starts the ramdisk module `file` as a new actor holding `grants` (at handles 0, 1, 2…), once
/// the executor loop gets to it; the reason is returned when it cannot start.
pub async fn spawn_from_actor(file: String, grants: Vec<Capability>) -> Result<Pid, SpawnFailure> {
    let reply = alloc::sync::Arc::new(SpawnReply::default());
    SPAWN_REQUESTS.lock().push_back(SpawnRequest { file, grants, reply: reply.clone() });
    core::future::poll_fn(|cx| {
        reply.waker.register(cx.waker());
        match reply.result.lock().take() {
            Some(result) => core::task::Poll::Ready(result),
            None => core::task::Poll::Pending,
        }
    })
    .await
}

/// Whether an actor waits for a spawn.
pub fn spawn_requested() -> bool {
    !SPAWN_REQUESTS.lock().is_empty()
}

/// Serves the pending spawn requests (called by the executor loop between rounds).
pub fn serve_spawn_requests(executor: &mut Executor, disk: Option<&Ramdisk<'static>>) {
    loop {
        let Some(mut request) = SPAWN_REQUESTS.lock().pop_front() else { return };
        let result = match disk.and_then(|d| d.get(&request.file)) {
            None => Err(SpawnFailure::NoSuchFile(request.file.clone())),
            Some(bytes) => {
                let mut processes = crate::proc::PROCESSES.lock();
                let name = request.file.trim_end_matches(".wasm");
                let grants = core::mem::take(&mut request.grants);
                wasm::spawn_wasm(executor, &mut processes, name, bytes, Limits::default(), grants)
                    .map_err(|e| SpawnFailure::Refused(format!("`{}` {e}", request.file)))
            }
        };
        match &result {
            Ok(pid) => log::info!("init: started {} as pid {pid} on request", request.file),
            Err(why) => log::warn!("init: refused to start {why}"),
        }
        *request.reply.result.lock() = Some(result);
        request.reply.waker.wake();
    }
}
