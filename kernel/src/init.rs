//! Starts the system the boot manifest describes: the objects it declares, then each actor with
//! its grants. Every problem is logged with the manifest line it comes from; the rest goes on.

use alloc::string::String;

use crate::manifest::{self, ActorDecl};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::wasm::{self, limits::Limits};

/// Reads the manifest `path` from `disk` and starts what it lists; returns how many actors
/// started.
pub fn start_system(executor: &mut Executor, disk: &Ramdisk<'_>, path: &str) -> usize {
    let Some(text) = disk.get(path) else {
        log::warn!("init: no `{path}` in the ramdisk: no actors started");
        return 0;
    };
    let text = String::from_utf8_lossy(text);
    let (manifest, errors) = manifest::parse(&text);
    for error in &errors {
        log::error!("init: {error}");
    }
    let mut started = 0;
    for actor in &manifest.actors {
        match start_actor(executor, disk, actor) {
            Ok(pid) => {
                log::info!("init: started {} ({}) as pid {pid}", actor.name, actor.file);
                started += 1;
            }
            Err(why) => {
                log::error!("init: {path} line {}: actor {} not started: {why}", actor.line, actor.name)
            }
        }
    }
    started
}

/// Next process id; ids are never reused.
static NEXT_PID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

fn start_actor(executor: &mut Executor, disk: &Ramdisk<'_>, actor: &ActorDecl) -> Result<u64, String> {
    use alloc::format;
    let bytes = disk.get(&actor.file).ok_or_else(|| format!("no file `{}` in the ramdisk", actor.file))?;
    if !actor.grants.is_empty() {
        return Err("it lists grants, and capabilities cannot be handed to actors yet".into());
    }
    let pid = NEXT_PID.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    wasm::spawn_wasm(executor, pid, &actor.name, bytes, Limits::default())
        .map_err(|e| format!("`{}` {e}", actor.file))?;
    Ok(pid)
}
