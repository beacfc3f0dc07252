//! How a process ended, as `run` and `wait` say it: `NAME exited with status N`, `NAME was
//! killed`, `NAME trapped: REASON`. The process table keeps an ended process with its state
//! (the last 64 of them); a trap's reason is only in the kernel's log line about it, read back
//! while the log still holds it.

use alloc::format;
use alloc::string::String;
use core::time::Duration;

use sdk::rt::Ticker;
use sdk::{Error, Pid, ProcState, ProcessInfo, System};

/// How often the process table is read while waiting for a process to end: the kernel tells
/// no one when a process ends, so the shell looks.
pub const CHECK_PERIOD: Duration = Duration::from_millis(50);

/// Level and text of the kernel's line about a trap (`kernel/src/proc`: `NAME[PID] trapped:
/// REASON`, logged as an error).
const TRAP_LINE: &str = "[ERROR] ";

/// The row of process `pid` in the process table, if it is listed.
pub fn find(system: &System, pid: Pid) -> Result<Option<ProcessInfo>, Error> {
    Ok(system.processes()?.into_iter().find(|process| process.pid == pid))
}

/// The line saying how `process` ended, or `None` while it lives.
pub fn end_line(system: &System, process: &ProcessInfo) -> Option<String> {
    let name = &process.name;
    Some(match process.state {
        ProcState::Exited(status) => format!("{name} exited with status {status}\n"),
        ProcState::Killed => format!("{name} was killed\n"),
        ProcState::Trapped => {
            let log = system.kernel_log().unwrap_or_default();
            match trap_reason(&log, name, process.pid) {
                Some(reason) => format!("{name} trapped: {reason}\n"),
                None => format!("{name} trapped\n"),
            }
        }
        ProcState::Unknown(state) => format!("{name} ended (state {state})\n"),
        ProcState::Ready | ProcState::Running | ProcState::Blocked => return None,
    })
}

/// `wait PID`: waits for process `pid` to end and says how it did. `me` is the shell's own
/// pid, which would never end while it waits. Ctrl-C (the session drops this future) stops
/// the wait, not the process.
pub async fn wait(system: &System, pid: Pid, me: Option<Pid>) -> String {
    if me == Some(pid) {
        return format!("wait: {pid} is this shell\n");
    }
    let mut ticker = Ticker::every(CHECK_PERIOD);
    loop {
        match find(system, pid) {
            Ok(Some(process)) => {
                if let Some(line) = end_line(system, &process) {
                    return line;
                }
            }
            Ok(None) => return format!("wait: no process has pid {pid} (ps lists them)\n"),
            Err(error) => return format!("wait: {error}\n"),
        }
        ticker.next().await;
    }
}

/// The reason in the kernel's log line about process `name[pid]` trapping, the newest one.
/// Only a line the kernel wrote counts: one starts with the time and the level, where an
/// actor's own line has its name, so no actor's output can pass for it.
fn trap_reason<'a>(log: &'a str, name: &str, pid: Pid) -> Option<&'a str> {
    let about = format!("{name}[{pid}] trapped: ");
    log.lines().rev().find_map(|line| {
        let (_time, rest) = line.strip_prefix('[')?.split_once("] ")?;
        rest.strip_prefix(TRAP_LINE)?.strip_prefix(about.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trap_reason_comes_from_the_kernels_own_line() {
        let log = "[    1.000001] [INFO ] init: started t.wasm as pid 7 on request\n\
                   t[7]: [    1.1] [ERROR] t[7] trapped: forged\n\
                   [    1.000002] [ERROR] u[7] trapped: another name\n\
                   [    1.000003] [ERROR] t[7] trapped: integer division by zero\n\
                   [    1.000004] [ERROR] ev[8]: t[7] trapped: logged by another actor\n";
        assert_eq!(trap_reason(log, "t", 7), Some("integer division by zero"));
        assert_eq!(trap_reason(log, "t", 8), None);
        assert_eq!(trap_reason("", "t", 7), None);
    }
}
