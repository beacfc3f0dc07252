//! Starts the system the boot manifest describes: the objects it declares, then each actor with
//! its grants. Every problem is logged with the manifest line it comes from; the rest goes on.

use alloc::string::String;

use crate::arch::cpu;
use crate::manifest::{self, ActorDecl};
use crate::mem;
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::time::clock;
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
        let (tsc, heap) = (cpu::rdtsc(), mem::heap::allocated());
        match start_actor(executor, disk, actor) {
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
