//! Built-in kernel checks, chosen with the `ktest=` boot option. Each reports on the console in
//! lines starting with `ktest`, which the boot tests read; none runs in a normal boot.

use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;
use core::time::Duration;
use futures_util::StreamExt;

use crate::arch::serial;
use crate::task::fiber::{Fiber, Resumed};
use crate::task::{self, Executor, Placement};
use crate::time::{self, sleep};

/// How long each CPU-bound task of the `sched` check spins.
const SPIN_FOR: Duration = Duration::from_millis(300);
/// Round trips of the kernel-native IPC check (`ipc::selftest`), part of `sched`.
pub const IPC_ROUND_TRIPS: u32 = 100_000;

/// The sleep the `sched` check times.
const SLEEP_FOR: Duration = Duration::from_millis(10);

/// Reads an unmapped address; the page-fault report must follow and stop the machine.
// Never inlined: the boot test checks that the report's backtrace names this function.
#[inline(never)]
pub fn fault() {
    log::info!("ktest fault: reading an unmapped address; a page-fault report must follow");
    // Just below the top of the lower canonical half: nothing maps it.
    let unmapped = 0x0000_7fff_ffff_f000 as *const u64;
    // SAFETY: deliberately invalid: this read must fault, and the fault handler reports and
    // stops the machine.
    let value = unsafe { unmapped.read_volatile() };
    log::error!("ktest fault: read {value:#x} from an unmapped address without a fault");
}

/// Spawns the stack-overflow check: a task runs a fiber that recurses until it hits the guard
/// page below its stack; the fault handler must abandon the fiber and resume the task, which
/// logs `ktest overflow: fiber abandoned`, and a second task (on another CPU, if there is one)
/// must still run afterwards and log `ktest overflow: the kernel went on`.
pub fn spawn_overflow(executor: &mut Executor) -> Result<(), task::SpawnError> {
    executor.spawn("ktest-overflow", async {
        let fiber = Fiber::new(OVERFLOW_STACK, || {
            core::hint::black_box(descend(0));
        });
        let Ok(mut fiber) = fiber else {
            log::error!("ktest overflow: FAILED: no memory for the fiber");
            return;
        };
        log::info!("ktest overflow: running a fiber that recurses without end");
        let outcome = core::future::poll_fn(|cx| match fiber.resume(cx.waker()) {
            ended @ (Resumed::Overflowed | Resumed::OutOfMemory | Resumed::Finished) => Poll::Ready(ended),
            Resumed::Yielded | Resumed::Blocked => Poll::Pending,
        })
        .await;
        match outcome {
            Resumed::Overflowed => log::info!("ktest overflow: fiber abandoned"),
            other => log::error!("ktest overflow: FAILED: the fiber ended as {other:?}"),
        }
        OVERFLOW_CHECKED.store(true, Ordering::Release);
    })?;
    executor.spawn("ktest-after-overflow", async {
        // Another CPU may run this task while the boot CPU has not started the first one yet.
        for _ in 0..OVERFLOW_WAITS {
            sleep(Duration::from_millis(20)).await;
            if OVERFLOW_CHECKED.load(Ordering::Acquire) {
                log::info!("ktest overflow: the kernel went on");
                return;
            }
        }
        log::error!("ktest overflow: FAILED: the overflowing fiber's task never ended");
    })?;
    Ok(())
}

/// Set once the overflow check's first task has its outcome.
static OVERFLOW_CHECKED: AtomicBool = AtomicBool::new(false);
/// How many 20 ms naps the second task waits for it: ten seconds.
const OVERFLOW_WAITS: u32 = 500;

/// Stack of the overflowing fiber: small, so it overflows soon.
const OVERFLOW_STACK: u64 = 16 * 1024;

/// Recurses until the stack runs out, with a frame the optimiser cannot remove.
fn descend(depth: u64) -> u64 {
    let frame = core::hint::black_box([depth; 32]);
    if core::hint::black_box(depth) == u64::MAX {
        return frame[0];
    }
    descend(depth + 1).wrapping_add(frame[31])
}

/// Spawns the scheduling checks: a timed sleep, two CPU-bound tasks that must share the boot
/// CPU (both kept on it) through time slices, and an echo of each line typed on the serial
/// console.
pub fn spawn_sched(executor: &mut Executor) -> Result<(), task::SpawnError> {
    executor.spawn("ktest-sleep", async {
        let start = time::now();
        sleep(SLEEP_FOR).await;
        let took = time::now().saturating_duration_since(start);
        log::info!("ktest sleep: asked {} us, slept {} us", SLEEP_FOR.as_micros(), took.as_micros());
    })?;
    for name in ["ktest-spin-a", "ktest-spin-b"] {
        let spin = async move {
            let end = time::now().saturating_add(SPIN_FOR);
            let (mut iterations, mut slices) = (0u64, 1u64);
            while time::now() < end {
                iterations += 1;
                if task::should_yield() {
                    slices += 1;
                    task::yield_now().await;
                }
            }
            log::info!("ktest spin: {name} ran {iterations} iterations in {slices} slices");
        };
        executor.spawn_counted(name, spin, Arc::default(), Placement::Pinned(0))?;
    }
    executor.spawn("ktest-input", async {
        let mut input = serial::input();
        let mut line = String::new();
        while let Some(byte) = input.next().await {
            match byte {
                b'\r' | b'\n' if !line.is_empty() => {
                    log::info!("ktest input: {line}");
                    line.clear();
                }
                b'\r' | b'\n' => {}
                _ => line.push(char::from(byte)),
            }
        }
        log::warn!("ktest input: the serial input stream ended");
    })?;
    Ok(())
}
