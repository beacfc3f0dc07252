//! The log mirror: a kernel process that copies the kernel log, as it grows, to an endpoint the
//! boot manifest names (`log ENDPOINT`), so an actor (the UI) can show it. Messages are
//! one-way, opcode [`TEXT_OPCODE`], payload UTF-8 text.
//!
//! It reads the `dmesg` ring from task context on a timer: the log itself, which interrupt
//! handlers may use, never sends messages or takes an endpoint's lock.

use core::time::Duration;

use crate::cap::{Capability, Handle};
use crate::error::Error;
use crate::ipc::MAX_PAYLOAD;
use crate::klog;
use crate::proc::{Exit, Pid, Process, ProcessTable};
use crate::task::Executor;

/// Opcode of the messages carrying log text.
pub const TEXT_OPCODE: u32 = minimalos_abi::LOG_TEXT;

/// How often the mirror looks for new log text.
const PERIOD: Duration = Duration::from_millis(50);

/// Starts the mirror, sending to the endpoint `target` (which needs WRITE); it starts at the
/// beginning of the log, so the boot messages are mirrored too.
pub fn start(
    executor: &mut Executor,
    processes: &mut ProcessTable,
    target: Capability,
) -> Result<Pid, Error> {
    let process = processes.create("log-mirror");
    let out = process.insert(target)?;
    let me = process.clone();
    process.start(executor, async move { mirror(&me, out).await })?;
    Ok(process.pid())
}

async fn mirror(me: &Process, out: Handle) -> Exit {
    let mut position = 0;
    let mut chunk = [0u8; MAX_PAYLOAD];
    loop {
        let (len, next) = klog::read_from(position, &mut chunk);
        if len == 0 {
            me.sleep(PERIOD).await;
            continue;
        }
        match me.send(out, TEXT_OPCODE, &chunk[..len], None) {
            Ok(()) => position = next,
            // A busy reader: try the same text again later (the ring keeps 32 KiB).
            Err(Error::Full) => me.sleep(PERIOD).await,
            // Nobody reads it any more.
            Err(_) => return Exit::Exited(0),
        }
    }
}
