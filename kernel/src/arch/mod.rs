//! x86_64 glue: everything here touches hardware registers, ports or descriptor tables.
//! The rest of the kernel reaches the machine only through these modules.
//!
//! May use: `mem` (device registers and stacks are mapped through it). It knows nothing of
//! the scheduler or the clock: `startup` hooks them in (`irq::on_tick`,
//! `backtrace::set_fiber_stack`, `exceptions::on_stack_fault`).

pub mod acpi;
pub mod apic;
pub mod backtrace;
pub mod context;
pub mod cpu;
pub mod cpu_local;
pub mod exceptions;
// Only the kernel is soft-float; a host build's floats are the host's own.
#[cfg(target_os = "none")]
pub mod float;
pub mod gdt;
pub mod idt;
pub mod ioapic;
pub mod irq;
pub mod pic;
pub mod pit;
pub mod qemu;
pub mod rtc;
pub mod serial;

/// Installs the boot CPU's descriptor tables, so that every CPU exception gets a report, gives
/// it CPU index 0, and enables the SSE unit the float arithmetic runs on. Call once, early,
/// with interrupts off.
pub fn init() {
    // The IDT's gates take the code selector that `gdt::init` loads.
    gdt::init();
    cpu_local::install(0);
    idt::init();
    #[cfg(target_os = "none")]
    float::init();
}

/// As [`init`], on another CPU, which becomes CPU `index`: its own GDT, TSS and IST stacks
/// (from the heap), the shared IDT, SSE. Interrupts stay off.
pub fn init_other_cpu(index: usize) {
    // The heap's per-CPU lists ask for the index, and the GDT's tables come from the heap; the
    // segment reload may zero the GS base, hence once more after it.
    cpu_local::set_base(index);
    gdt::init_other_cpu();
    cpu_local::install(index);
    idt::init();
    #[cfg(target_os = "none")]
    float::init();
}
