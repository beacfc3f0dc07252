//! The process table: every process by pid, alive or ended but not yet reaped. The kernel owns
//! one and passes it where it is needed. A process's own data is in `process`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Exit, Pid, Process, ProcessInfo, State};
use crate::error::Error;

/// Processes by pid.
#[derive(Default)]
pub struct ProcessTable {
    processes: BTreeMap<Pid, Arc<Process>>,
}

impl ProcessTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self { processes: BTreeMap::new() }
    }

    /// A new ready process called `name`, with a pid never used before and no capabilities;
    /// grant it some with [`Process::insert`], then run it with [`Process::start`].
    pub fn create(&mut self, name: impl Into<String>) -> Arc<Process> {
        let process = Arc::new(Process::new(name.into()));
        self.processes.insert(process.pid(), Arc::clone(&process));
        process
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
}
