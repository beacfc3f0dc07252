//! The GDT and the TSS: the kernel's own code and data segments, and the known-good stacks the
//! CPU switches to for the exceptions that may strike while the current stack is unusable.
//!
//! In long mode segmentation is almost gone: bases and limits are ignored (FS and GS bases come
//! from MSRs), but the CPU still checks that CS is a 64-bit code segment, and the only way to
//! give it an interrupt stack table is a TSS described in the GDT. The loader's GDT may live in
//! memory the kernel later reuses, so the kernel brings its own. Each CPU has its own TSS and
//! IST stacks, and so its own GDT (the TSS descriptor marks one TSS busy).

use alloc::boxed::Box;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, FS, GS, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// IST slot (as `set_stack_index` counts, from 0) for the double-fault handler.
pub const DOUBLE_FAULT_IST_INDEX: u16 = 0;
/// IST slot for the non-maskable-interrupt handler.
pub const NMI_IST_INDEX: u16 = 1;
/// IST slot for the machine-check handler.
pub const MACHINE_CHECK_IST_INDEX: u16 = 2;
/// IST slot for the page-fault handler.
pub const PAGE_FAULT_IST_INDEX: u16 = 3;
/// IST slot shared by every device interrupt.
pub const DEVICE_IST_INDEX: u16 = 4;

/// IST stacks each CPU has: one per slot above.
const IST_STACKS: usize = 5;

/// Bytes in each IST stack: room for a full exception report with formatting.
const IST_STACK_SIZE: usize = 20 * 1024;

/// Memory the CPU uses as a stack; Rust code never reads or writes it.
#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_SIZE]);

/// One CPU's IST stacks, by slot.
type IstStacks = [IstStack; IST_STACKS];

// An IST switch always resets RSP to the top of its stack, so two vectors sharing one stack
// would overwrite the frame of the handler they interrupted if one could arrive while the
// other is handled. Hence one stack each for the double fault, the NMI and the machine check,
// which may strike during one another's handling (an NMI or a machine check during a double-
// fault report, a machine check during an NMI) and during a page fault or a device interrupt.
//
// - A double fault is often the CPU failing to push a frame on an overflowed or corrupt stack;
//   without a stack of its own that becomes a triple fault and a silent reset.
// - An NMI cannot be masked, so it may arrive while the current stack is nearly full or corrupt.
// - A machine check reports failing hardware, which may include the memory of the current stack.
// - A page fault is how a fiber's stack grows (`mem::stack`): the CPU could not push its frame on
//   the page that is missing.
// - Device interrupts share one stack: their gates clear IF and their handlers never set it,
//   so they never nest. They must not land on a fiber's stack either, where the page below the
//   stack pointer may be missing: a fault while the CPU delivers an interrupt would leave that
//   interrupt acknowledged but never handled.
//
// `static mut` because the CPU writes them; Rust only ever takes their address (`&raw`), which
// needs no `unsafe`.
static mut BOOT_CPU_STACKS: IstStacks = [const { IstStack([0; IST_STACK_SIZE]) }; IST_STACKS];

/// Selectors of the segments in [`GDT`].
struct Selectors {
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

static TSS: spin::Once<TaskStateSegment> = spin::Once::new();
static GDT: spin::Once<(GlobalDescriptorTable, Selectors)> = spin::Once::new();

/// A TSS whose IST slots point at the tops of `stacks`.
fn build_tss(stacks: *const IstStacks) -> TaskStateSegment {
    let mut tss = TaskStateSegment::new();
    // The privilege stack table (RSP0) stays empty: the kernel and everything it runs live in
    // ring 0, and the CPU reads RSP0 only when an interrupt raises the privilege level.
    for slot in 0..IST_STACKS {
        // x86 stacks grow down: each slot gets the address just past its stack's end.
        tss.interrupt_stack_table[slot] =
            VirtAddr::from_ptr(stacks) + ((slot + 1) * size_of::<IstStack>()) as u64;
    }
    tss
}

fn build_gdt(tss: &'static TaskStateSegment) -> (GlobalDescriptorTable, Selectors) {
    let mut gdt = GlobalDescriptorTable::new();
    // No user segments: nothing runs outside ring 0.
    let code = gdt.append(Descriptor::kernel_code_segment());
    let data = gdt.append(Descriptor::kernel_data_segment());
    // A TSS descriptor holds a 64-bit base and so takes two GDT slots.
    let tss = gdt.append(Descriptor::tss_segment(tss));
    (gdt, Selectors { code, data, tss })
}

/// Loads the boot CPU's GDT and TSS and points every segment register at them.
///
/// Call once, early, with interrupts off (as the kernel is entered): until CS is reloaded the
/// CPU runs on a selector that indexes a table it no longer has.
pub fn init() {
    let tss = TSS.call_once(|| build_tss(&raw const BOOT_CPU_STACKS));
    let (gdt, selectors) = GDT.call_once(|| build_gdt(tss));
    load(gdt, selectors);
}

/// As [`init`], for any other CPU: a TSS (and so IST stacks) and a GDT of its own, because a
/// TSS in use is marked busy in its descriptor and its IST stacks are this CPU's alone. They
/// live as long as the kernel.
pub fn init_other_cpu() {
    // Zeroed in place: five 20 KiB stacks would not fit through the current stack.
    // SAFETY: an all-zero `IstStacks` is a valid value (it is plain bytes).
    let stacks: &'static IstStacks = Box::leak(unsafe { Box::new_zeroed().assume_init() });
    let tss = Box::leak(Box::new(build_tss(stacks)));
    let (gdt, selectors) = Box::leak(Box::new(build_gdt(tss)));
    load(gdt, selectors);
}

fn load(gdt: &'static GlobalDescriptorTable, selectors: &Selectors) {
    // `lgdt` only tells the CPU where the table is; each segment register keeps the descriptor
    // it cached from the loader's GDT until it is loaded again.
    gdt.load();

    // SAFETY: the selectors come from the GDT just loaded, which is `'static` and never changes:
    // `code` is a 64-bit ring-0 code segment, `data` a writable ring-0 data segment, null is
    // valid for DS, ES, FS and GS in long mode, and `tss` describes a `'static` TSS whose IST
    // entries point at stacks reserved for this CPU alone.
    unsafe {
        // CS cannot be the target of `mov`; the crate reloads it with a far return.
        CS::set_reg(selectors.code);
        // SS is still checked by `iretq` (and later `sysret`), so it gets a real data segment.
        SS::set_reg(selectors.data);
        // The CPU ignores DS and ES in long mode and takes the FS/GS bases from MSRs; null drops
        // the last selectors that index the loader's table.
        // Loading GS may zero its base on some CPUs: `cpu_local::install` comes after.
        DS::set_reg(SegmentSelector::NULL);
        ES::set_reg(SegmentSelector::NULL);
        FS::set_reg(SegmentSelector::NULL);
        GS::set_reg(SegmentSelector::NULL);
        // `ltr` makes the TSS (and so the IST) live, and marks its descriptor busy: a second
        // `ltr` with the same selector raises #GP, hence one TSS per CPU.
        load_tss(selectors.tss);
    }
}
