//! Kernel-native IPC: two processes ping-pong sequence numbers through a pair of endpoints,
//! and the round trip is timed. `ktest=sched` runs it at boot (wired in `startup`), and the
//! `system` capability's `sys_bench_ipc_native` on request (served in `requests`): the floor of
//! the Wasm figure, without the interpreter.
//!
//! One message is in flight at a time, so any loss, duplicate or reordering shows as a wrong
//! sequence number (or, for a loss, as a report that never comes).

use alloc::sync::Arc;
use alloc::vec::Vec;
use minimalos_abi::IpcFigures;

use crate::arch::cpu;
use crate::cap::{Capability, Handle, Rights};
use crate::error::Error;
use crate::ipc::DEFAULT_CAPACITY;
use crate::proc::{Exit, Pid, Process, ProcessTable};
use crate::task::{Executor, Placement};
use crate::time::clock;

/// Opcode of a ping (the payload is its sequence number).
const PING: u32 = 1;
/// Opcode of the echo.
const PONG: u32 = 2;

/// Why a native ping-pong has no figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingPongError {
    /// Its tasks could not be started.
    Start(Error),
    /// The heap had no room for a sample per round trip.
    NoMemoryForSamples,
    /// A round trip's echo carried another sequence number (a lost, duplicated or reordered
    /// message), or none.
    WrongEcho { round_trip: u64, carried: Option<u64> },
    /// A round trip's send or receive failed.
    Failed { round_trip: u64, error: Error },
    /// Its tasks ended before it finished.
    Unfinished,
}

impl core::fmt::Display for PingPongError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Start(e) => write!(f, "cannot start the native tasks: {e}"),
            Self::NoMemoryForSamples => write!(f, "no memory for the samples"),
            Self::WrongEcho { round_trip, carried } => {
                write!(f, "round trip {round_trip} came back as {carried:?}")
            }
            Self::Failed { round_trip, error } => write!(f, "round trip {round_trip}: {error}"),
            Self::Unfinished => write!(f, "its tasks ended before it finished"),
        }
    }
}

/// Round-trip figures of a native ping-pong, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTrips {
    /// Round trips made.
    pub count: usize,
    /// Fastest, median, 90th and 99th percentile, slowest.
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl RoundTrips {
    /// The figures `sys_bench_ipc_native` reports.
    pub fn figures(&self) -> IpcFigures {
        IpcFigures { min: self.min, p50: self.p50, p90: self.p90, p99: self.p99, max: self.max }
    }
}

/// Spawns processes `ipc-ping` and `ipc-pong` into `processes`, both kept on the boot CPU (the
/// figure is the same-CPU round trip whatever the CPU count); ping sends `round_trips` 8-byte
/// sequence numbers, pong checks and echoes each, and ping hands `report` the figures, or what
/// went wrong (a lost, duplicated or reordered message).
pub fn ping_pong(
    executor: &mut Executor,
    processes: &mut ProcessTable,
    round_trips: u32,
    report: impl FnOnce(Result<RoundTrips, PingPongError>) + 'static,
) -> Result<(), Error> {
    let forth = Capability::endpoint(DEFAULT_CAPACITY, None)?;
    let back = Capability::endpoint(DEFAULT_CAPACITY, None)?;
    let ping = processes.create("ipc-ping");
    let pong = processes.create("ipc-pong");
    let (ping_out, ping_in) =
        (ping.insert(forth.derive(Rights::WRITE)?)?, ping.insert(back.derive(Rights::READ)?)?);
    let (pong_in, pong_out) =
        (pong.insert(forth.derive(Rights::READ)?)?, pong.insert(back.derive(Rights::WRITE)?)?);
    let peer = pong.pid();
    let me = Arc::clone(&ping);
    let mut report = Report(Some(report));
    let ping_body = async move {
        let result = run_ping(&me, ping_out, ping_in, peer, round_trips).await;
        let exit = if result.is_ok() { Exit::Exited(0) } else { Exit::Exited(1) };
        report.send(result);
        exit
    };
    ping.start_on(executor, ping_body, Placement::Pinned(0))?;
    let me = Arc::clone(&pong);
    // Without pong, ping's wait must end: ending pong closes its side.
    let pong_body = async move { run_pong(&me, pong_in, pong_out).await };
    pong.start_on(executor, pong_body, Placement::Pinned(0)).inspect_err(|_| {
        pong.end(Exit::Killed { by: None });
    })?;
    Ok(())
}

/// Hands the figures to whoever asked, once. Dropped unsent (ping's task ended before it got
/// there), it sends an error, so the caller never waits for a report that cannot come.
struct Report<F: FnOnce(Result<RoundTrips, PingPongError>)>(Option<F>);

impl<F: FnOnce(Result<RoundTrips, PingPongError>)> Report<F> {
    fn send(&mut self, result: Result<RoundTrips, PingPongError>) {
        if let Some(report) = self.0.take() {
            report(result);
        }
    }
}

impl<F: FnOnce(Result<RoundTrips, PingPongError>)> Drop for Report<F> {
    fn drop(&mut self) {
        self.send(Err(PingPongError::Unfinished));
    }
}

/// The `ktest ipc:` log line for `result`.
pub fn log_report(result: Result<RoundTrips, PingPongError>) {
    match result {
        Ok(t) => log::info!(
            "ktest ipc: {} round trips, none lost; rt p50 {} ns p99 {} ns min {} ns max {} ns",
            t.count,
            t.p50,
            t.p99,
            t.min,
            t.max
        ),
        Err(why) => log::error!("ktest ipc: FAILED: {why}"),
    }
}

async fn run_ping(
    me: &Process,
    out: Handle,
    inbox: Handle,
    peer: Pid,
    round_trips: u32,
) -> Result<RoundTrips, PingPongError> {
    let mut samples = Vec::new();
    samples.try_reserve_exact(round_trips as usize).map_err(|_| PingPongError::NoMemoryForSamples)?;
    for seq in 0..u64::from(round_trips) {
        let start = cpu::rdtsc();
        let echo = match me.send(out, PING, &seq.to_le_bytes(), None) {
            Ok(()) => me.recv(inbox, |_| Ok(())).await,
            Err(e) => Err(e),
        };
        let cycles = cpu::rdtsc().wrapping_sub(start);
        match echo {
            Ok(m) if m.sender == peer && m.opcode == PONG && sequence(&m.payload) == Some(seq) => {
                samples.push(cycles)
            }
            Ok(m) => {
                return Err(PingPongError::WrongEcho { round_trip: seq, carried: sequence(&m.payload) });
            }
            Err(error) => return Err(PingPongError::Failed { round_trip: seq, error }),
        }
    }
    samples.sort_unstable();
    let ns = |pct| clock::cycles_to_nanos(percentile(&samples, pct), clock::tsc_hz());
    Ok(RoundTrips { count: samples.len(), min: ns(0), p50: ns(50), p90: ns(90), p99: ns(99), max: ns(100) })
}

async fn run_pong(me: &Process, inbox: Handle, out: Handle) -> Exit {
    for expected in 0u64.. {
        let ping = match me.recv(inbox, |_| Ok(())).await {
            Ok(m) if m.opcode == PING && sequence(&m.payload) == Some(expected) => m,
            Ok(m) => return failed(format_args!("ping {expected} arrived as {:?}", sequence(&m.payload))),
            // Ping is done and gone.
            Err(Error::Closed) => break,
            Err(e) => return failed(format_args!("waiting for ping {expected}: {e}")),
        };
        if let Err(e) = me.send(out, PONG, &ping.payload, None) {
            return failed(format_args!("echoing ping {expected}: {e}"));
        }
    }
    Exit::Exited(0)
}

fn failed(why: core::fmt::Arguments<'_>) -> Exit {
    log::error!("ipc-pong: {why}");
    Exit::Exited(1)
}

/// The sequence number an 8-byte payload carries.
fn sequence(payload: &[u8]) -> Option<u64> {
    payload.try_into().ok().map(u64::from_le_bytes)
}

/// The `pct`th percentile of sorted `samples` (nearest rank; 0 is the minimum, 100 the
/// maximum), 0 if there are none.
fn percentile(sorted: &[u64], pct: usize) -> u64 {
    match sorted.len() {
        0 => 0,
        n => sorted[(n - 1) * pct.min(100) / 100],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::State;
    use crate::task::executor::tests::serial;
    use alloc::rc::Rc;
    use core::cell::RefCell;

    #[test]
    fn the_caller_hears_of_a_benchmark_whose_tasks_ended_early() {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        let report = Rc::new(RefCell::new(None));
        let sink = report.clone();
        ping_pong(&mut executor, &mut processes, 1_000_000, move |r| *sink.borrow_mut() = Some(r)).unwrap();
        // A few polls, then the benchmark is cut short.
        let polls = core::cell::Cell::new(0);
        executor.run_ready(|_| {
            polls.set(polls.get() + 1);
            polls.get() > 10
        });
        let ping = processes.list().into_iter().find(|info| info.name == "ipc-ping").unwrap();
        processes.get(ping.pid).unwrap().end(Exit::Killed { by: None });
        for _ in 0..100 {
            executor.run_ready(|_| false);
        }
        assert!(executor.is_empty());
        let report = report.borrow_mut().take().expect("a report, not silence");
        assert_eq!(report, Err(PingPongError::Unfinished));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples: Vec<u64> = (1..=100).collect();
        assert_eq!([0, 50, 99, 100].map(|p| percentile(&samples, p)), [1, 50, 99, 100]);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }

    #[test]
    fn ping_pong_completes_and_both_sides_exit_cleanly() {
        let _turn = serial();
        let mut executor = Executor::new();
        let mut processes = ProcessTable::new();
        let report = Rc::new(RefCell::new(None));
        let sink = report.clone();
        ping_pong(&mut executor, &mut processes, 500, move |r| *sink.borrow_mut() = Some(r)).unwrap();
        for _ in 0..10_000 {
            if executor.is_empty() {
                break;
            }
            executor.run_ready(|_| false);
        }
        assert!(executor.is_empty(), "both processes ran to the end");
        let figures = report.borrow_mut().take().expect("a report").expect("no message lost");
        assert_eq!(figures.count, 500);
        assert!(figures.min <= figures.p50 && figures.p50 <= figures.p90 && figures.p90 <= figures.p99);
        assert!(figures.p99 <= figures.max);
        let infos = processes.list();
        assert!(
            infos.iter().all(|info| processes.get(info.pid).unwrap().is_kernel()),
            "no actor may end them"
        );
        assert_eq!(infos.len(), 2);
        for info in infos {
            assert_eq!(info.state, State::Dead(Exit::Exited(0)), "{}", info.name);
            assert_eq!((info.stats.messages_sent, info.stats.messages_received), (500, 500), "{}", info.name);
            assert_eq!(info.handles, 0, "a dead process holds nothing");
        }
    }
}
