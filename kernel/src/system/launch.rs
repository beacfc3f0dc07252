//! Starting one actor of the boot manifest with its grants: what init does for each actor line
//! at boot, and the supervisor for each restart. The objects grants are made from are passed
//! in; the manifest itself is `init`'s.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::console;
use super::interrupts;
use super::manifest::{ActorDecl, DeviceMatch, GrantRights, ObjectRef};
use crate::arch::cpu;
use crate::boot::FramebufferInfo;
use crate::cap::{Capability, Rights};
use crate::dev;
use crate::error::Error;
use crate::mem;
use crate::proc::{Process, ProcessTable};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::time::clock;
use crate::wasm::{self, limits::Limits};

/// Why an actor of the manifest could not be started.
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchError {
    /// The ramdisk has no such file.
    NoFile(String),
    /// A grant names an object whose creation failed (reported when it was made).
    NotCreated(String),
    /// A grant of the framebuffer on a machine without one.
    NoFramebuffer,
    /// A grant of a device the machine does not have.
    NoDevice(DeviceMatch),
    /// The interrupt service, which a device grant needs, could not start.
    Interrupts(Error),
    /// The console service, which a grant needs, could not start.
    Console(Error),
    /// A grant's capability could not be made.
    Grant { object: ObjectRef, error: Error },
    /// The module could not be started.
    Spawn { file: String, error: wasm::SpawnError },
}

impl core::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoFile(file) => write!(f, "no file `{file}` in the ramdisk"),
            Self::NotCreated(name) => write!(f, "`{name}` could not be created"),
            Self::NoFramebuffer => write!(f, "the machine has no framebuffer to grant"),
            Self::NoDevice(device) => write!(f, "the machine has no PCI device {device}"),
            Self::Interrupts(e) => write!(f, "the interrupt service cannot start: {e}"),
            Self::Console(e) => write!(f, "the console service cannot start: {e}"),
            Self::Grant { object, error } => write!(f, "grant {object:?}: {error}"),
            Self::Spawn { file, error } => write!(f, "`{file}` {error}"),
        }
    }
}

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

/// Starts `actor` as [`start_actor`] does and logs it: the time it took and the kernel memory it
/// cost, and which restart it is (0: its first start).
pub fn start_logged(
    system: &mut System<'_>,
    objects: &BTreeMap<String, Capability>,
    actor: &ActorDecl,
    restart: u32,
) -> Result<Arc<Process>, LaunchError> {
    let (tsc, heap) = (cpu::rdtsc(), mem::heap::allocated());
    let process = start_actor(system, objects, actor)?;
    process.set_restarts(restart);
    let micros = clock::cycles_to_nanos(cpu::rdtsc() - tsc, clock::tsc_hz()) / 1000;
    let heap_kib = mem::heap::allocated().saturating_sub(heap) / 1024;
    let charged_kib = process.account().used() / 1024;
    let again = if restart > 0 { format!(", restart {restart}") } else { String::new() };
    log::info!(
        "init: started {} ({}) as pid {} in {micros} us, {charged_kib} KiB kernel memory charged (heap {heap_kib} KiB){again}",
        actor.name,
        actor.file,
        process.pid(),
    );
    for (handle, grant) in actor.grants.iter().enumerate() {
        let letters = minimalos_abi::RightsLetters(i32::from(rights(grant.rights).bits()));
        log::debug!(
            "init: {}[{}] holds handle {handle}: {:?} ({letters})",
            actor.name,
            process.pid(),
            grant.object
        );
    }
    Ok(process)
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
) -> Result<Arc<Process>, LaunchError> {
    let bytes = system.disk.get(&actor.file).ok_or_else(|| LaunchError::NoFile(actor.file.clone()))?;
    let mut grants = Vec::with_capacity(actor.grants.len());
    for grant in &actor.grants {
        let rights = rights(grant.rights);
        let derived = match &grant.object {
            ObjectRef::Endpoint(name) | ObjectRef::SharedMemory(name) => {
                objects.get(name).ok_or_else(|| LaunchError::NotCreated(name.clone()))?.derive(rights)
            }
            ObjectRef::Framebuffer => {
                let fb = system.framebuffer.ok_or(LaunchError::NoFramebuffer)?;
                Capability::framebuffer(fb).derive(rights)
            }
            ObjectRef::Ramdisk => Capability::ramdisk(system.disk.bytes()).derive(rights),
            ObjectRef::System => Capability::system().derive(rights),
            ObjectRef::Device(wanted) => {
                let functions = dev::pci::functions();
                let class = |f: &dev::pci::Function| [f.class[0], f.class[1]];
                let index = functions
                    .iter()
                    .position(|f| wanted.matches(f.vendor, f.device, class(f)))
                    .ok_or(LaunchError::NoDevice(*wanted))?;
                interrupts::start(system.executor, system.processes).map_err(LaunchError::Interrupts)?;
                dev::Session::claim(index).map(Capability::device).and_then(|cap| cap.derive(rights))
            }
            ObjectRef::ConsoleIn | ObjectRef::ConsoleOut => {
                let console = match system.console.take() {
                    Some(console) => console,
                    None => {
                        console::start(system.executor, system.processes).map_err(LaunchError::Console)?
                    }
                };
                let console = system.console.insert(console);
                match grant.object {
                    ObjectRef::ConsoleIn => console.input.derive(rights),
                    _ => console.output.derive(rights),
                }
            }
        };
        grants.push(derived.map_err(|error| LaunchError::Grant { object: grant.object.clone(), error })?);
    }
    let given = wasm::spawn::Given::grants(grants);
    let source = wasm::spawn::Source::Ramdisk(bytes);
    wasm::spawn_wasm(system.executor, system.processes, &actor.name, source, limits(actor), given, None)
        .map_err(|error| LaunchError::Spawn { file: actor.file.clone(), error })
}

/// The limits of `actor`: those its line sets, the defaults for the rest.
fn limits(actor: &ActorDecl) -> Limits {
    let (set, defaults) = (actor.limits, Limits::default());
    Limits {
        memory_pages: set.memory_pages.unwrap_or(defaults.memory_pages),
        process: crate::proc::Limits {
            handles: set.handles.unwrap_or(defaults.process.handles),
            children: set.children.unwrap_or(defaults.process.children),
            queue: set.queue.unwrap_or(defaults.process.queue),
            kmem: set.kmem_kib.map_or(defaults.process.kmem, |kib| kib as u64 * 1024),
        },
        ..defaults
    }
}
