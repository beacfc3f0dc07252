//! What the fuzz targets that run actors share: starting a module with grants on a fresh
//! executor, letting it run for a bounded number of rounds with time slices enforced, then
//! killing it and checking it unwinds.

use std::sync::Once;
use std::time::Duration;

use kernel::arch::cpu;
use kernel::cap::Capability;
use kernel::proc::{Exit, ProcessTable};
use kernel::task::{Executor, preempt};
use kernel::wasm::limits::Limits;
use kernel::wasm::spawn::{Given, Source};
use kernel::wasm::spawn_wasm;

/// Executor rounds an actor gets before it is killed.
const ROUNDS: usize = 64;

/// Starts a thread that plays the timer interrupt, so an actor in an endless loop gives way.
fn start_ticker() {
    static TICKER: Once = Once::new();
    TICKER.call_once(|| {
        // A slice of about 50 µs of TSC time, so endless loops end their polls quickly.
        preempt::set_slice_cycles(150_000);
        std::thread::spawn(|| {
            loop {
                preempt::on_tick(cpu::rdtsc());
                std::thread::sleep(Duration::from_micros(20));
            }
        });
    });
}

/// Spawns `bytes` as an actor holding `grants`; if it starts, runs it for a while, then kills
/// it and runs the executor until its task is gone. Panics only on a kernel bug: a module the
/// kernel accepted must never make it panic, and a killed actor must unwind.
pub fn run_actor(bytes: &[u8], grants: Vec<Capability>) {
    start_ticker();
    let mut executor = Executor::new();
    let mut processes = ProcessTable::new();
    // Smaller than the default, so a module cannot make one run allocate gigabytes.
    let limits = Limits { memory_pages: 32, ..Limits::default() };
    let Ok(process) = spawn_wasm(
        &mut executor,
        &mut processes,
        "fuzz",
        Source::Bytes(bytes),
        limits,
        Given::grants(grants),
        None,
    ) else {
        return;
    };
    for _ in 0..ROUNDS {
        if executor.is_empty() {
            break;
        }
        executor.run_ready(|_| false);
        kernel::system::requests::serve(&mut executor, None);
    }
    process.end(Exit::Killed { by: None });
    for _ in 0..ROUNDS {
        if executor.is_empty() {
            return;
        }
        executor.run_ready(|_| false);
    }
    panic!("a killed actor's task did not end");
}
