//! Supervision: the actors the boot manifest marks `restart` are started again, with the same
//! grants, after they end. The executor loop calls [`Supervisor::tick`]; starting is `init`'s.
//!
//! Policy: the first restart waits [`FIRST_DELAY`], and each further one twice as long as the
//! one before (at most [`MAX_DELAY`]) while the actor keeps ending within [`QUICK`] of its start;
//! an instance that lived longer resets the delay. After [`GIVE_UP_AFTER`] quick ends in a row
//! the actor is left ended, with a log line that says so.
//!
//! The supervisor holds, with full rights, the objects the supervised actors' grants are made
//! from, so an endpoint a restarted server reads from stays open while it is down: clients'
//! messages wait in its queue instead of failing with `E_CLOSED`. Once it gives an actor up,
//! it lets go of reading the endpoints only that actor read, so their clients get `E_CLOSED`
//! instead of waiting for ever.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use super::console::Console;
use super::launch::{self, System};
use super::manifest::{ActorDecl, ObjectRef};
use crate::boot::FramebufferInfo;
use crate::cap::{Capability, Rights};
use crate::proc::{self, PROCESSES, Process, State};
use crate::ramdisk::Ramdisk;
use crate::task::Executor;
use crate::time::Instant;

/// Delay before the first restart.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
/// Longest delay between restarts.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// An instance that ends sooner than this after its start has crashed "quickly".
pub const QUICK: Duration = Duration::from_secs(1);
/// Quick ends in a row after which the actor is not restarted again.
pub const GIVE_UP_AFTER: u32 = 5;

/// The earliest pending restart, in ns since boot (`u64::MAX`: none), for the executor loop to
/// check without the supervisor.
static NEXT_RESTART: AtomicU64 = AtomicU64::new(u64::MAX);

/// Whether a restart is due at `now` (cheap: no lock).
pub fn due(now: Instant) -> bool {
    NEXT_RESTART.load(Ordering::Relaxed) <= now.as_nanos()
}

/// One supervised actor.
struct Supervised {
    decl: ActorDecl,
    /// The running instance, or the last one.
    process: Arc<Process>,
    started: Instant,
    restarts: u32,
    quick_ends: u32,
    /// When to start it again, once its instance has ended.
    restart_at: Option<Instant>,
    given_up: bool,
}

/// The supervised actors and what their grants are made from.
#[derive(Default)]
pub struct Supervisor {
    actors: Vec<Supervised>,
    objects: BTreeMap<String, Capability>,
    console: Option<Console>,
    framebuffer: Option<&'static FramebufferInfo>,
    /// `proc::ended()` when the supervisor last looked.
    seen_ends: u64,
}

impl Supervisor {
    /// Supervises `actors` (each with its running instance). Of `objects` it keeps only those
    /// their grants name; of the console, only if one of them is granted an end of it.
    pub fn new(
        actors: Vec<(ActorDecl, Arc<Process>)>,
        mut objects: BTreeMap<String, Capability>,
        console: Option<Console>,
        framebuffer: Option<&'static FramebufferInfo>,
    ) -> Self {
        let named = |name: &String| {
            actors.iter().flat_map(|(decl, _)| &decl.grants).any(|g| match &g.object {
                ObjectRef::Endpoint(n) | ObjectRef::SharedMemory(n) => n == name,
                _ => false,
            })
        };
        objects.retain(|name, _| named(name));
        let uses_console = actors
            .iter()
            .flat_map(|(decl, _)| &decl.grants)
            .any(|g| matches!(g.object, ObjectRef::ConsoleIn | ObjectRef::ConsoleOut));
        let now = crate::time::now();
        let actors = actors
            .into_iter()
            .map(|(decl, process)| Supervised {
                decl,
                process,
                started: now,
                restarts: 0,
                quick_ends: 0,
                restart_at: None,
                given_up: false,
            })
            .collect();
        Self {
            actors,
            objects,
            console: console.filter(|_| uses_console),
            framebuffer,
            seen_ends: proc::ended(),
        }
    }

    /// Notices supervised actors that ended and schedules their restart; starts those whose
    /// time has come. Cheap when nothing ended and nothing is due.
    pub fn tick(&mut self, executor: &mut Executor, disk: Option<&Ramdisk<'static>>, now: Instant) {
        let ends = proc::ended();
        if ends != self.seen_ends {
            self.seen_ends = ends;
            for actor in &mut self.actors {
                if actor.restart_at.is_none() && !actor.given_up {
                    schedule(actor, now);
                }
            }
            self.close_given_up();
        }
        if !self.actors.iter().any(|a| a.restart_at.is_some_and(|at| at <= now)) {
            return;
        }
        let Some(disk) = disk else { return };
        let mut processes = PROCESSES.lock();
        let mut system = System {
            executor,
            processes: &mut processes,
            disk,
            framebuffer: self.framebuffer,
            console: self.console.take(),
        };
        for actor in &mut self.actors {
            if actor.restart_at.is_none_or(|at| at > now) {
                continue;
            }
            actor.restart_at = None;
            actor.restarts += 1;
            match launch::start_logged(&mut system, &self.objects, &actor.decl, actor.restarts) {
                Ok(process) => {
                    actor.process = process;
                    actor.started = now;
                }
                Err(why) => {
                    log::error!("supervisor: {} could not be restarted: {why}", actor.decl.name);
                    actor.given_up = true;
                }
            }
        }
        self.console = system.console.take();
        drop(processes);
        self.close_given_up();
        self.publish_next();
    }

    /// Closes the endpoints that only given-up actors read from. The supervisor kept them open
    /// for a restart that will not come, so their clients would wait for ever; it keeps a copy
    /// without READ, from which writers' grants are still made (their sends get `E_CLOSED`).
    fn close_given_up(&mut self) {
        let reads = |actor: &Supervised, name: &str| {
            actor
                .decl
                .grants
                .iter()
                .any(|g| g.rights.read && matches!(&g.object, ObjectRef::Endpoint(n) if n == name))
        };
        for (name, object) in &mut self.objects {
            let readers = || self.actors.iter().filter(|a| reads(a, name));
            let orphaned = readers().any(|a| a.given_up) && readers().all(|a| a.given_up);
            if orphaned && object.rights().contains(Rights::READ) {
                match object.derive(object.rights() - Rights::READ) {
                    Ok(writer) => {
                        *object = writer;
                        log::warn!("supervisor: `{name}` closed: nobody is left to read it");
                    }
                    Err(e) => log::error!("supervisor: cannot close `{name}`: {e}"),
                }
            }
        }
    }

    fn publish_next(&self) {
        let next = self.actors.iter().filter_map(|a| a.restart_at).min();
        NEXT_RESTART.store(next.map_or(u64::MAX, Instant::as_nanos), Ordering::Relaxed);
    }
}

/// If `actor`'s instance has ended, decides when it starts again, or that it does not.
fn schedule(actor: &mut Supervised, now: Instant) {
    let State::Dead(exit) = actor.process.state() else { return };
    let (name, pid) = (&actor.decl.name, actor.process.pid());
    let lived = now.saturating_duration_since(actor.started);
    actor.quick_ends = if lived < QUICK { actor.quick_ends + 1 } else { 0 };
    if actor.quick_ends >= GIVE_UP_AFTER {
        log::error!(
            "supervisor: {name}[{pid}] {exit}, within {} ms of its start for the {GIVE_UP_AFTER}th time in a row; not restarting it again",
            QUICK.as_millis()
        );
        actor.given_up = true;
        return;
    }
    let delay = delay_after(actor.quick_ends);
    log::warn!(
        "supervisor: {name}[{pid}] {exit}; restarting it in {} ms (restart {})",
        delay.as_millis(),
        actor.restarts + 1
    );
    let at = now.saturating_add(delay);
    actor.restart_at = Some(at);
    let next = NEXT_RESTART.load(Ordering::Relaxed).min(at.as_nanos());
    NEXT_RESTART.store(next, Ordering::Relaxed);
}

/// The delay before a restart after `quick_ends` quick ends in a row (0: the instance had run a
/// while).
fn delay_after(quick_ends: u32) -> Duration {
    let doublings = quick_ends.saturating_sub(1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giving_up_on_a_server_closes_what_only_it_read() {
        let (manifest, errors) = crate::system::manifest::parse(
            "endpoint req\nendpoint shared\nactor server restart grant=req:r grant=shared:r\n\
             actor other restart grant=shared:r\nactor client restart grant=req:w grant=shared:w\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let mut processes = crate::proc::ProcessTable::new();
        let objects: BTreeMap<String, Capability> = ["req", "shared"]
            .into_iter()
            .map(|name| (name.into(), Capability::endpoint(crate::ipc::DEFAULT_CAPACITY, None).unwrap()))
            .collect();
        let actors =
            manifest.actors.iter().map(|decl| (decl.clone(), processes.create(decl.name.as_str()))).collect();
        let mut supervisor = Supervisor::new(actors, objects, None, None);
        let client = processes.create("client-instance");
        let [req, shared] = ["req", "shared"]
            .map(|name| client.insert(supervisor.objects[name].derive(Rights::WRITE).unwrap()).unwrap());
        supervisor.close_given_up();
        assert_eq!(client.send(req, 1, b"", None), Ok(()), "open while the server may come back");

        supervisor.actors[0].given_up = true;
        supervisor.close_given_up();
        assert_eq!(client.send(req, 1, b"", None), Err(crate::error::Error::Closed), "nobody will read it");
        assert_eq!(client.send(shared, 1, b"", None), Ok(()), "another reader is still supervised");
        assert!(supervisor.objects["req"].derive(Rights::WRITE).is_ok(), "writers' grants can still be made");
    }

    #[test]
    fn delays_double_while_the_actor_keeps_crashing_and_are_capped() {
        assert_eq!(delay_after(0), FIRST_DELAY);
        assert_eq!(delay_after(1), FIRST_DELAY);
        assert_eq!(delay_after(2), FIRST_DELAY * 2);
        assert_eq!(delay_after(4), FIRST_DELAY * 8);
        assert_eq!(delay_after(40), MAX_DELAY);
    }
}
