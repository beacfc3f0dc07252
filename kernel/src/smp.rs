//! The other CPUs: started from the loader's MP response, each moves to the kernel's page
//! tables and a stack of its own, takes the next CPU index and its own GDT, TSS and IST
//! stacks, and waits until the boot CPU has set up interrupts ([`release`]); then it starts
//! its local APIC timer and runs its executor loop (`startup`).
//!
//! The boot CPU waits (at most [`ARRIVAL_TIMEOUT_MS`]) until every started CPU runs on kernel
//! memory only, because the loader's memory (their first stack, page tables and GDT) is
//! reclaimed next. A CPU that misses the wait is abandoned: if it ever arrives, it halts.

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use limine::mp::Cpu;

use crate::arch::cpu_local::{self, MAX_CPUS};
use crate::arch::{self, cpu, irq};
use crate::mem::stack::KernelStack;
use crate::{boot, time};

/// Each other CPU's executor stack (the boot CPU's is `startup::KERNEL_STACK_SIZE` too).
const STACK_SIZE: u64 = 256 * 1024;

/// How long the boot CPU waits for the others to arrive.
pub const ARRIVAL_TIMEOUT_MS: u64 = 1000;

/// What a starting CPU finds through its MP entry's `extra` field. Static, so it is mapped in
/// the loader's page tables too, which the CPU runs on when it reads it.
struct Start {
    page_tables: AtomicU64,
    stack_top: AtomicU64,
    apic_id: AtomicU32,
    /// [`WAITING`], then [`ARRIVED`] (set by the CPU) or [`ABANDONED`] (set by the boot CPU).
    state: AtomicU8,
}

const WAITING: u8 = 0;
const ARRIVED: u8 = 1;
const ABANDONED: u8 = 2;

static STARTS: [Start; MAX_CPUS] = [const {
    Start {
        page_tables: AtomicU64::new(0),
        stack_top: AtomicU64::new(0),
        apic_id: AtomicU32::new(0),
        state: AtomicU8::new(WAITING),
    }
}; MAX_CPUS];

/// CPUs that claimed their arrival, and CPUs that then finished their setup.
static CLAIMED: AtomicUsize = AtomicUsize::new(0);
static READY: AtomicUsize = AtomicUsize::new(0);
/// Set once the boot CPU has interrupts set up: the others may start their timers and loops.
static RELEASED: AtomicBool = AtomicBool::new(false);
/// The next CPU index to give out (the boot CPU is 0).
static NEXT_INDEX: AtomicUsize = AtomicUsize::new(1);

/// The executor loop each other CPU runs once released; set by `startup`, which owns it.
static RUN: spin::Once<fn() -> !> = spin::Once::new();

/// Starts every CPU the loader parked (up to [`MAX_CPUS`] in all) and waits until each runs on
/// kernel memory; they will run `run` once [`release`]d. Returns how many CPUs run, this one
/// included. Call on the boot CPU, with the clock calibrated, before the loader's memory is
/// reclaimed.
pub fn start_others(run: fn() -> !) -> usize {
    RUN.call_once(|| run);
    let Some(mp) = boot::cpus() else {
        log::info!("smp: the loader started no other CPUs (no MP response)");
        return 1;
    };
    let bsp = mp.bsp_lapic_id();
    cpu_local::set_apic_id(0, bsp);
    let root = cpu::page_table_root();
    let mut started = 0;
    for entry in mp.cpus().iter().filter(|c| c.lapic_id != bsp) {
        if started + 1 == MAX_CPUS {
            log::warn!("smp: the kernel runs on at most {MAX_CPUS} CPUs; the others stay parked");
            break;
        }
        let stack = match KernelStack::new(STACK_SIZE) {
            Ok(stack) => stack,
            Err(e) => {
                log::warn!("smp: no stack for the CPU with APIC id {}: {e}", entry.lapic_id);
                break;
            }
        };
        let start = &STARTS[started];
        start.page_tables.store(root, Ordering::Relaxed);
        start.stack_top.store(stack.top(), Ordering::Relaxed);
        start.apic_id.store(entry.lapic_id, Ordering::Relaxed);
        // The stack lives as long as the kernel.
        core::mem::forget(stack);
        entry.extra.store(start as *const Start as u64, Ordering::Release);
        entry.goto_address.write(enter);
        started += 1;
    }
    let deadline =
        cpu::rdtsc() + time::clock::duration_to_cycles(core::time::Duration::from_millis(ARRIVAL_TIMEOUT_MS));
    while CLAIMED.load(Ordering::Acquire) < started && cpu::rdtsc() < deadline {
        core::hint::spin_loop();
    }
    let abandoned = STARTS[..started]
        .iter()
        .filter(|s| s.state.compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_ok())
        .count();
    if abandoned > 0 {
        log::warn!(
            "smp: {abandoned} CPU(s) did not start within {ARRIVAL_TIMEOUT_MS} ms and are left halted"
        );
    }
    // Those that claimed their arrival finish their setup in microseconds.
    while READY.load(Ordering::Acquire) < CLAIMED.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    1 + READY.load(Ordering::Acquire)
}

/// Memory every CPU may read to size an emulated TLB (`cpu::size_emulated_tlb`): 16 MiB of
/// physical memory from 1 MiB up, through the HHDM, or less on a smaller machine.
fn tlb_working_set() -> core::ops::Range<u64> {
    const FROM: u64 = 1 << 20;
    const SPAN: u64 = 16 << 20;
    let (total_frames, _) = crate::mem::frames::counts();
    let span = SPAN.min((total_frames * crate::mem::PAGE_SIZE).saturating_sub(FROM) / 2);
    let base = crate::mem::frames::hhdm_offset() + FROM;
    base..base + span
}

/// Lets the other CPUs start their timers and executor loops: call once interrupts are set up.
pub fn release() {
    RELEASED.store(true, Ordering::Release);
}

/// Where the loader sends each other CPU, on the loader's page tables and stack.
unsafe extern "C" fn enter(entry: &Cpu) -> ! {
    let start = entry.extra.load(Ordering::Acquire) as *const Start;
    // SAFETY: `extra` is the address of this CPU's entry in `STARTS` (set before the goto
    // address), which the loader's tables map as part of the kernel image.
    let start = unsafe { &*start };
    let (root, top) = (start.page_tables.load(Ordering::Relaxed), start.stack_top.load(Ordering::Relaxed));
    // SAFETY: `root` is the kernel's page tables, which map the kernel and `top`, a fresh
    // kernel stack used by this CPU alone and never freed.
    unsafe { cpu::enter_kernel_space(root, top, on_kernel_stack, start as *const Start as u64) }
}

/// The rest of a CPU's start, on its kernel stack and the kernel's page tables.
extern "C" fn on_kernel_stack(start: u64) -> ! {
    // SAFETY: `enter` passes the address of this CPU's `STARTS` entry.
    let start = unsafe { &*(start as *const Start) };
    if start.state.compare_exchange(WAITING, ARRIVED, Ordering::AcqRel, Ordering::Acquire).is_err() {
        // Too late: the boot CPU went on without it.
        cpu::halt_forever();
    }
    CLAIMED.fetch_add(1, Ordering::AcqRel);
    let index = NEXT_INDEX.fetch_add(1, Ordering::AcqRel);
    arch::init_other_cpu(index);
    cpu_local::set_apic_id(index, start.apic_id.load(Ordering::Relaxed));
    let top = start.stack_top.load(Ordering::Relaxed);
    arch::backtrace::set_main_stack(top - STACK_SIZE..top);
    cpu::size_emulated_tlb(tlb_working_set());
    READY.fetch_add(1, Ordering::AcqRel);
    while !RELEASED.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    irq::init_other_cpu();
    match RUN.get() {
        Some(run) => run(),
        None => cpu::halt_forever(),
    }
}
