//! Starts the system the boot manifest describes: the objects it declares, then each actor with
//! its grants (through `launch`), and hands the ones marked `restart` to the supervisor. Every
//! problem is logged with the manifest line it comes from; the rest goes on.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::launch::{System, start_logged};
use super::log_mirror;
use super::manifest::{self, Manifest};
use super::supervisor::Supervisor;
use crate::cap::{Capability, Rights};

/// Reads the manifest `path` from the ramdisk and starts what it lists; returns the supervisor
/// of the actors it marks `restart` (which holds what their grants are made from).
pub fn start_system(mut system: System<'_>, path: &str) -> Supervisor {
    let Some(text) = system.disk.get(path) else {
        log::warn!("init: no `{path}` in the ramdisk: no actors started");
        return Supervisor::default();
    };
    let text = String::from_utf8_lossy(text);
    let (manifest, errors) = manifest::parse(&text);
    for error in &errors {
        log::error!("init: {error}");
    }
    // Init holds every object with full rights while it hands out grants, then lets go (but
    // for what the supervisor keeps to restart actors with), so the objects live as long as
    // the actors' capabilities.
    let objects = create_objects(&manifest, path);
    if let Some(name) = &manifest.log_to {
        let mirrored = objects
            .get(name)
            .ok_or(crate::error::Error::InvalidHandle)
            .and_then(|endpoint| endpoint.derive(Rights::WRITE))
            .and_then(|target| log_mirror::start(system.executor, system.processes, target));
        match mirrored {
            Ok(pid) => log::debug!("init: log mirrored to `{name}` by pid {pid}"),
            Err(e) => log::error!("init: {path}: cannot mirror the log to `{name}`: {e}"),
        }
    }
    let mut supervised = Vec::new();
    for actor in &manifest.actors {
        match start_logged(&mut system, &objects, actor, 0) {
            Ok(process) if actor.restart => supervised.push((actor.clone(), process)),
            Ok(_) => {}
            Err(why) => {
                log::error!("init: {path} line {}: actor {} not started: {why}", actor.line, actor.name)
            }
        }
    }
    Supervisor::new(supervised, objects, system.console.take(), system.framebuffer)
}

/// The endpoints and shared memory the manifest declares, by name (a failure is logged).
fn create_objects(manifest: &Manifest, path: &str) -> BTreeMap<String, Capability> {
    let mut objects = BTreeMap::new();
    let endpoints = manifest.endpoints.iter().map(|e| {
        let capacity = core::num::NonZeroUsize::new(e.capacity).unwrap_or(crate::ipc::DEFAULT_CAPACITY);
        (&e.name, Capability::endpoint(capacity, None))
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
