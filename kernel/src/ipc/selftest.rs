//! The IPC check for `ktest`: two processes ping-pong sequence numbers through a pair of
//! endpoints, and the round trip is timed. The boot-time wiring is in `ktest`/`startup`.
//!
//! One message is in flight at a time, so any loss, duplicate or reordering shows as a wrong
//! sequence number (or, for a loss, as a report that never comes).

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::cpu;
use crate::cap::{Capability, Handle, Rights};
use crate::error::Error;
use crate::ipc::DEFAULT_CAPACITY;
use crate::proc::{Exit, Pid, Process, ProcessTable};
use crate::task::Executor;
use crate::time::clock;

/// Opcode of a ping (the payload is its sequence number).
const PING: u32 = 1;
/// Opcode of the echo.
const PONG: u32 = 2;

/// Spawns processes `ipc-ping` and `ipc-pong` into `processes`; ping sends `round_trips`
/// 8-byte sequence numbers, pong checks and echoes each, and ping logs one line:
/// `ktest ipc: <n> round trips, none lost; rt p50 <x> ns p99 <y> ns min <a> ns max <b> ns`.
/// A failure is logged as `ktest ipc: FAILED ...` instead.
pub fn ping_pong(
    executor: &mut Executor,
    processes: &mut ProcessTable,
    round_trips: u32,
) -> Result<(), Error> {
    let forth = Capability::endpoint(DEFAULT_CAPACITY)?;
    let back = Capability::endpoint(DEFAULT_CAPACITY)?;
    let ping = processes.create("ipc-ping");
    let pong = processes.create("ipc-pong");
    let (ping_out, ping_in) =
        (ping.insert(forth.derive(Rights::WRITE)?)?, ping.insert(back.derive(Rights::READ)?)?);
    let (pong_in, pong_out) =
        (pong.insert(forth.derive(Rights::READ)?)?, pong.insert(back.derive(Rights::WRITE)?)?);
    let peer = pong.pid();
    let me = Arc::clone(&ping);
    ping.start(executor, async move { run_ping(&me, ping_out, ping_in, peer, round_trips).await })?;
    let me = Arc::clone(&pong);
    // Without pong, ping's wait must end: ending pong closes its side.
    pong.start(executor, async move { run_pong(&me, pong_in, pong_out).await }).inspect_err(|_| {
        pong.end(Exit::Killed { by: None });
    })?;
    Ok(())
}

async fn run_ping(me: &Process, out: Handle, inbox: Handle, peer: Pid, round_trips: u32) -> Exit {
    let mut samples = Vec::with_capacity(round_trips as usize);
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
            Ok(m) => return failed(format_args!("round trip {seq} came back as {:?}", sequence(&m.payload))),
            Err(e) => return failed(format_args!("round trip {seq}: {e}")),
        }
    }
    samples.sort_unstable();
    let ns = |pct| clock::cycles_to_nanos(percentile(&samples, pct), clock::tsc_hz());
    log::info!(
        "ktest ipc: {} round trips, none lost; rt p50 {} ns p99 {} ns min {} ns max {} ns",
        samples.len(),
        ns(50),
        ns(99),
        ns(0),
        ns(100)
    );
    Exit::Exited(0)
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
    log::error!("ktest ipc: FAILED: {why}");
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
        ping_pong(&mut executor, &mut processes, 500).unwrap();
        for _ in 0..10_000 {
            if executor.is_empty() {
                break;
            }
            executor.run_ready(|_| false);
        }
        assert!(executor.is_empty(), "both processes ran to the end");
        let infos = processes.list();
        assert_eq!(infos.len(), 2);
        for info in infos {
            assert_eq!(info.state, State::Dead(Exit::Exited(0)), "{}", info.name);
            assert_eq!((info.stats.messages_sent, info.stats.messages_received), (500, 500), "{}", info.name);
            assert_eq!(info.handles, 0, "a dead process holds nothing");
        }
    }
}
