//! The process table: every process by pid, alive or ended but not yet reaped. The kernel owns
//! one and passes it where it is needed. A process's own data is in `process`.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Exit, Limits, Pid, Process, ProcessInfo, State};
use crate::error::Error;

/// Ended processes kept listed (with how they ended) before the oldest are forgotten.
pub const KEPT_DEAD: usize = 64;

/// Pids of a table's ended processes in the order they ended (each process adds its own as it
/// ends), so the table forgets the oldest without looking at every process.
pub struct EndOrder(spin::Mutex<VecDeque<Pid>>);

impl EndOrder {
    /// No ends yet.
    const fn new() -> Self {
        Self(spin::Mutex::new(VecDeque::new()))
    }

    /// Notes that `pid` ended. Without heap for the note, the process stays listed for good.
    pub(super) fn push(&self, pid: Pid) {
        let mut ended = self.0.lock();
        if ended.try_reserve(1).is_ok() {
            ended.push_back(pid);
        }
    }
}

/// The kernel table's end order.
static END_ORDER: EndOrder = EndOrder::new();

/// Processes by pid.
pub struct ProcessTable {
    processes: BTreeMap<Pid, Arc<Process>>,
    ended: &'static EndOrder,
}

impl Default for ProcessTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self { processes: BTreeMap::new(), ended: &END_ORDER }
    }

    /// A new ready kernel process called `name` (a service no actor may end), with a pid never
    /// used before, no capabilities and the default limits; grant it some with
    /// [`Process::insert`], then run it with [`Process::start`].
    pub fn create(&mut self, name: impl Into<String>) -> Arc<Process> {
        self.insert(Process::new(name.into(), Limits::default(), None, true, self.ended))
    }

    /// A new actor's process, as [`create`](Self::create) but with `limits`, started by
    /// `parent`, and open to `sys_proc_kill`.
    pub fn create_with(
        &mut self,
        name: impl Into<String>,
        limits: Limits,
        parent: Option<&Arc<Process>>,
    ) -> Arc<Process> {
        self.insert(Process::new(name.into(), limits, parent, false, self.ended))
    }

    /// Lists `process`. The oldest ended processes beyond [`KEPT_DEAD`] are forgotten, so a
    /// loop of short-lived spawns cannot fill the kernel heap with their records.
    fn insert(&mut self, process: Process) -> Arc<Process> {
        let process = Arc::new(process);
        self.processes.insert(process.pid(), Arc::clone(&process));
        self.forget_oldest_dead();
        process
    }

    fn forget_oldest_dead(&mut self) {
        // Lock order: the table (held by the caller), then the end order.
        let mut ended = self.ended.0.lock();
        while ended.len() > KEPT_DEAD {
            if let Some(pid) = ended.pop_front() {
                self.processes.remove(&pid);
            }
        }
    }

    /// The process `pid` names (`NoSuchProcess` if there is none, or it was reaped).
    pub fn get(&self, pid: Pid) -> Result<&Arc<Process>, Error> {
        self.processes.get(&pid).ok_or(Error::NoSuchProcess)
    }

    /// The process an actor names by the raw pid `raw`, if it is in the table.
    pub fn find(&self, raw: i64) -> Option<&Arc<Process>> {
        self.processes.get(&Pid::from_raw(u64::try_from(raw).ok()?))
    }

    /// What `ps` shows, by pid.
    pub fn list(&self) -> Vec<ProcessInfo> {
        self.processes.values().map(|p| p.info()).collect()
    }

    /// Forgets the ended process `pid` and returns why it ended; a live or unknown one: `None`.
    pub fn reap(&mut self, pid: Pid) -> Option<Exit> {
        let State::Dead(exit) = self.processes.get(&pid)?.state() else { return None };
        self.processes.remove(&pid);
        Some(exit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;

    #[test]
    fn pids_only_go_up_and_only_the_dead_are_reaped() {
        let mut processes = ProcessTable::new();
        let pids: Vec<Pid> = (0..3).map(|i| processes.create(alloc::format!("p{i}")).pid()).collect();
        assert!(pids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(processes.list().iter().map(|info| info.pid).collect::<Vec<_>>(), pids);
        assert_eq!(processes.reap(pids[1]), None, "alive");
        processes.get(pids[1]).unwrap().end(Exit::Exited(3));
        assert_eq!(processes.reap(pids[1]), Some(Exit::Exited(3)));
        assert_eq!(processes.reap(pids[1]), None, "gone");
        let again = processes.create("p1");
        assert!(again.pid() > pids[2], "a pid is never handed out twice");
    }

    #[test]
    fn live_children_count_against_the_parents_limit() {
        let mut processes = ProcessTable::new();
        let parent = processes.create_with("parent", Limits { children: 2, ..Limits::default() }, None);
        let first = processes.create_with("a", Limits::default(), Some(&parent));
        assert!(parent.may_start_child());
        let second = processes.create_with("b", Limits::default(), Some(&parent));
        assert!(!parent.may_start_child(), "two of two alive");
        assert_eq!(parent.info().children, 2);
        first.end(Exit::Exited(0));
        assert!(parent.may_start_child(), "an ended child frees its place");
        second.end(Exit::Exited(0));
        second.end(Exit::Exited(0));
        assert_eq!(parent.info().children, 0, "ending twice counts once");
    }

    #[test]
    fn only_the_newest_ended_processes_stay_listed() {
        // An end order of its own: other tests end processes meanwhile.
        let mut processes =
            ProcessTable { ended: Box::leak(Box::new(EndOrder::new())), ..ProcessTable::new() };
        let alive = processes.create("alive");
        for i in 0..KEPT_DEAD + 10 {
            processes.create(alloc::format!("short{i}")).end(Exit::Exited(0));
        }
        // The last one ended after its own creation pruned the table.
        processes.create("trigger");
        let listed = processes.list();
        let dead = listed.iter().filter(|p| matches!(p.state, State::Dead(_))).count();
        assert_eq!(dead, KEPT_DEAD);
        assert!(listed.iter().any(|p| p.pid == alive.pid()), "live processes are never forgotten");
        assert!(listed.iter().any(|p| p.name == alloc::format!("short{}", KEPT_DEAD + 9)), "the newest stay");
    }
}
