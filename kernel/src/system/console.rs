//! The console service: a kernel process that bridges the serial port and two endpoints, so
//! actors reach the console through capabilities like everything else. Serial input arrives on
//! `console.in` as messages (opcode [`INPUT_OPCODE`], payload: the bytes typed); whatever is
//! sent to `console.out` is printed as it is (the kernel log keeps out of its unfinished lines:
//! `klog`). The boot manifest grants them by those names; the
//! service starts when a manifest first does.

use futures_util::StreamExt;
use futures_util::future::join;

use crate::arch::serial;
use crate::cap::{Capability, Handle, Rights};
use crate::error::Error;
use crate::ipc::DEFAULT_CAPACITY;
use crate::proc::{Exit, Process, ProcessTable};
use crate::task::Executor;

/// Opcode of the messages that carry typed bytes.
pub const INPUT_OPCODE: u32 = minimalos_abi::CONSOLE_INPUT;

/// Most bytes one input message carries; more typed at once go in further messages.
const INPUT_CHUNK: usize = 256;

/// The service's endpoints, with full rights, for init to derive grants from.
pub struct Console {
    /// `console.in`: actors receive typed bytes here.
    pub input: Capability,
    /// `console.out`: actors send bytes to print here.
    pub output: Capability,
}

/// Starts the console process.
pub fn start(executor: &mut Executor, processes: &mut ProcessTable) -> Result<Console, Error> {
    let input = Capability::endpoint(DEFAULT_CAPACITY, None)?;
    let output = Capability::endpoint(DEFAULT_CAPACITY, None)?;
    let process = processes.create("console");
    let to_actors = process.insert(input.derive(Rights::WRITE)?)?;
    let from_actors = process.insert(output.derive(Rights::READ)?)?;
    let me = process.clone();
    process.start(executor, async move {
        join(forward_input(&me, to_actors), print_output(&me, from_actors)).await;
        Exit::Exited(0)
    })?;
    log::debug!("init: started console service as pid {}", process.pid());
    Ok(Console { input, output })
}

/// Sends what is typed to `console.in`, waiting while its queue is full.
async fn forward_input(me: &Process, out: Handle) {
    let mut input = serial::input();
    let mut chunk = [0u8; INPUT_CHUNK];
    while let Some(first) = input.next().await {
        chunk[0] = first;
        let mut len = 1;
        while len < INPUT_CHUNK {
            let Some(byte) = serial::try_read() else { break };
            chunk[len] = byte;
            len += 1;
        }
        // Nobody reading the console any more (`Closed`) means what is typed goes nowhere.
        while let Err(Error::Full) = me.send(out, INPUT_OPCODE, &chunk[..len], None) {
            let Ok(endpoint) = me.with_caps(|caps| caps.endpoint(out, Rights::WRITE).cloned()) else {
                return;
            };
            // Closed while waiting: the next send says so.
            let _ = endpoint.writable().await;
        }
    }
}

/// Prints what actors send to `console.out`, until no actor can send any more.
async fn print_output(me: &Process, inbox: Handle) {
    while let Ok(message) = me.recv(inbox, |_| Ok(())).await {
        crate::klog::actor_output(&message.payload);
    }
}
