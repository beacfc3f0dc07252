//! CPU instructions the rest of the kernel needs by name.

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads a counter; it is available on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Runs `f` with this CPU's interrupts masked (then restores them as they were), so an
/// interrupt handler cannot find what `f` changes half done. Host builds (tests, fuzzing) have
/// no interrupts to mask and run `f` as it is.
#[inline]
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(any(test, feature = "host")))]
    return x86_64::instructions::interrupts::without_interrupts(f);
    #[cfg(any(test, feature = "host"))]
    f()
}

/// Whether the TSC ticks at a constant rate in every power state (CPUID 0x8000_0007, EDX bit 8).
pub fn has_invariant_tsc() -> bool {
    core::arch::x86_64::__cpuid(0x8000_0000).eax >= 0x8000_0007
        && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
}

/// Set once one CPU stops the machine: the others' NMI handlers halt.
static STOPPING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Stops every other CPU (by NMI, which reaches a CPU with interrupts off): after a fatal
/// error, nothing else may run or print. Returns whether this CPU is the first to stop the
/// machine (a second fatal error on another CPU only halts that one).
pub fn stop_other_cpus() -> bool {
    if STOPPING.swap(true, core::sync::atomic::Ordering::SeqCst) {
        return false;
    }
    if let Some(lapic) = super::apic::get() {
        lapic.send_nmi_to_others();
    }
    true
}

/// Whether a CPU is stopping the machine (see [`stop_other_cpus`]).
pub fn stopping() -> bool {
    STOPPING.load(core::sync::atomic::Ordering::SeqCst)
}

/// Stops this CPU for good: interrupts off, then `hlt` forever (an NMI only re-enters the loop).
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}

/// Switches to the page tables at physical address `cr3` and the stack whose top is `top`, and
/// calls `next(arg)` there; the old stack is abandoned. How a CPU started on the loader's
/// tables and stack moves to the kernel's (the boot CPU passes the tables it already runs on).
///
/// # Safety
/// `cr3` must be a PML4 that maps this code (the kernel image) and `top`; `top` must be the
/// 16-byte-aligned top of a mapped, writable stack that nothing else uses and that lives for as
/// long as `next` runs.
pub unsafe fn enter_kernel_space(cr3: u64, top: u64, next: extern "C" fn(u64) -> !, arg: u64) -> ! {
    // SAFETY: by the caller's promise both the tables and the stack are valid; a zero RBP ends
    // backtraces here, and `call` leaves RSP ≡ 8 (mod 16) at entry as the SysV ABI expects.
    unsafe {
        core::arch::asm!(
            "mov cr3, {cr3}",
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {next}",
            "ud2",
            cr3 = in(reg) cr3,
            top = in(reg) top,
            next = in(reg) next,
            in("rdi") arg,
            options(noreturn),
        )
    }
}

/// The physical address of the page tables this CPU runs on (CR3, flags included).
pub fn page_table_root() -> u64 {
    let (frame, flags) = x86_64::registers::control::Cr3::read_raw();
    frame.start_address().as_u64() | u64::from(flags)
}

/// Whether this CPU is QEMU's TCG emulator (CPUID's hypervisor leaf says `TCGTCGTCGTCG`).
pub fn is_qemu_tcg() -> bool {
    use core::arch::x86_64::__cpuid;
    const HYPERVISOR_PRESENT: u32 = 1 << 31;
    if __cpuid(1).ecx & HYPERVISOR_PRESENT == 0 {
        return false;
    }
    let leaf = __cpuid(0x4000_0000);
    let vendor = [leaf.ebx, leaf.ecx, leaf.edx].map(u32::to_le_bytes);
    vendor.as_flattened() == b"TCGTCGTCGTCG"
}

/// Under QEMU's TCG only (nothing on hardware or other hypervisors): has the emulator size this
/// CPU's software TLB for a kernel's working set, by reading one byte from each page of
/// `pages` (mapped, readable memory) and flushing, a few times. TCG resizes a CPU's TLB only at
/// full flushes, from the use it saw since the last one; a CPU started on a small working set
/// keeps a 64-entry TLB for good, and then runs the same instructions about twice as slowly as
/// the boot CPU, whose boot touched and flushed plenty (measured: a Wasm round trip 2.3x as
/// long on any other CPU, with the same instruction count under icount).
pub fn size_emulated_tlb(pages: core::ops::Range<u64>) {
    /// Doublings from TCG's default 256 entries to 4096 and beyond.
    const ROUNDS: usize = 6;
    if !is_qemu_tcg() {
        return;
    }
    for _ in 0..ROUNDS {
        for page in pages.clone().step_by(4096) {
            // SAFETY: the caller vouches that every page of the range is mapped and readable;
            // a volatile read has no other effect.
            unsafe { core::ptr::read_volatile(page as *const u8) };
        }
        // SAFETY: reloading CR3 with its own value only flushes this CPU's TLB.
        unsafe {
            core::arch::asm!("mov cr3, {}", in(reg) page_table_root(), options(nostack, preserves_flags))
        };
    }
}
