//! CPU exceptions (vectors 0–31): their names, their error codes in words, and the report the
//! kernel prints before it stops, with a backtrace named from the kernel's own symbols.
//!
//! Page faults on a fiber's stack are handed to its owner ([`on_stack_fault`]): a missing page
//! of a growing stack is mapped and the faulting instruction runs again; a fiber running off the
//! bottom of its stack (onto its guard page) is abandoned and its task resumed, which ends that
//! actor alone.
//!
//! Every exception is fatal, #BP included: QEMU's gdbstub catches a debugger's breakpoints
//! before the guest sees them, and 0xCC is the padding between functions, so a #BP that
//! reaches the kernel most likely means a jump into the padding, where resuming runs on
//! through garbage.

use core::fmt::{self, Display};
use core::sync::atomic::{AtomicU32, Ordering};
use x86_64::registers::control::Cr2;
use x86_64::structures::idt::{DescriptorTable, PageFaultErrorCode, SelectorErrorCode};

use super::idt::InterruptFrame;
use super::{backtrace, context, cpu, serial};
use crate::{fatal, symbols};

/// Frames a report lists at most.
const BACKTRACE_FRAMES: usize = 24;

/// The direction flag, which the ABI wants clear wherever Rust code runs.
const RFLAGS_DF: u64 = 1 << 10;

/// Vector of the non-maskable interrupt.
pub const NMI: u8 = 2;
/// Vector of #DF, the double fault.
pub const DOUBLE_FAULT: u8 = 8;
/// Vector of #PF, the page fault.
pub const PAGE_FAULT: u8 = 14;
/// Vector of #MC, the machine check.
pub const MACHINE_CHECK: u8 = 18;

/// Whether the CPU pushes an error code for `vector`; the entry stubs push a 0 for the rest.
pub const fn pushes_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Whether `vector`'s error code is a segment selector (or 0 when no selector is to blame).
const fn has_selector_error_code(vector: u8) -> bool {
    matches!(vector, 10..=13)
}

/// Mnemonic and name of an exception vector, or `None` for a reserved one.
pub const fn describe(vector: u8) -> Option<(&'static str, &'static str)> {
    Some(match vector {
        0 => ("#DE", "divide error"),
        1 => ("#DB", "debug"),
        NMI => ("NMI", "non-maskable interrupt"),
        3 => ("#BP", "breakpoint"),
        4 => ("#OF", "overflow"),
        5 => ("#BR", "bound range exceeded"),
        6 => ("#UD", "invalid opcode"),
        7 => ("#NM", "device not available"),
        DOUBLE_FAULT => ("#DF", "double fault"),
        // 9 was the coprocessor segment overrun of the 386; later CPUs never raise it.
        10 => ("#TS", "invalid TSS"),
        11 => ("#NP", "segment not present"),
        12 => ("#SS", "stack-segment fault"),
        13 => ("#GP", "general protection"),
        PAGE_FAULT => ("#PF", "page fault"),
        16 => ("#MF", "x87 floating-point error"),
        17 => ("#AC", "alignment check"),
        MACHINE_CHECK => ("#MC", "machine check"),
        19 => ("#XM", "SIMD floating-point exception"),
        20 => ("#VE", "virtualization exception"),
        21 => ("#CP", "control protection"),
        28 => ("#HV", "hypervisor injection"),
        29 => ("#VC", "VMM communication"),
        30 => ("#SX", "security exception"),
        _ => return None,
    })
}

/// A vector as a report names it: `#PF page fault`, or `reserved vector` for a reserved one.
struct VectorName(u8);

impl Display for VectorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match describe(self.0) {
            Some((mnemonic, name)) => write!(f, "{mnemonic} {name}"),
            None => f.write_str("reserved vector"),
        }
    }
}

/// A page-fault error code in words, e.g. `not-present write kernel`.
struct PageFaultCause(u64);

impl Display for PageFaultCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = PageFaultErrorCode::from_bits_truncate(self.0);
        let has = |flag| code.contains(flag);
        let presence = if has(PageFaultErrorCode::PROTECTION_VIOLATION) { "present" } else { "not-present" };
        // An instruction fetch is also reported as a read, so it is named instead of "read".
        let access = if has(PageFaultErrorCode::INSTRUCTION_FETCH) {
            "instruction-fetch"
        } else if has(PageFaultErrorCode::CAUSED_BY_WRITE) {
            "write"
        } else {
            "read"
        };
        let mode = if has(PageFaultErrorCode::USER_MODE) { "user" } else { "kernel" };
        write!(f, "{presence} {access} {mode}")?;
        for (flag, word) in [
            (PageFaultErrorCode::MALFORMED_TABLE, "reserved-bit"),
            (PageFaultErrorCode::PROTECTION_KEY, "protection-key"),
            (PageFaultErrorCode::SHADOW_STACK, "shadow-stack"),
        ] {
            if has(flag) {
                write!(f, " {word}")?;
            }
        }
        Ok(())
    }
}

/// A selector error code in words, e.g. `GDT index 5` or `IDT vector 128, external`.
struct SelectorCause(u64);

impl Display for SelectorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = SelectorErrorCode::new_truncate(self.0);
        if code.is_null() {
            return f.write_str("no selector");
        }
        match code.descriptor_table() {
            DescriptorTable::Gdt => write!(f, "GDT index {}", code.index()),
            DescriptorTable::Ldt => write!(f, "LDT index {}", code.index()),
            DescriptorTable::Idt => write!(f, "IDT vector {}", code.index()),
        }?;
        // Set when the fault hit while the CPU was delivering an interrupt or an exception.
        if code.external() {
            f.write_str(", external")?;
        }
        Ok(())
    }
}

/// The full report of an exception; `cr2` is given for a page fault only.
struct Report<'a> {
    frame: &'a InterruptFrame,
    cr2: Option<u64>,
}

impl Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Report { frame, cr2 } = self;
        // The stub pushed a vector below 256.
        let vector = frame.vector as u8;
        write!(f, "\nCPU EXCEPTION {vector}: {}", VectorName(vector))?;
        if pushes_error_code(vector) {
            write!(f, ", error code {:#x}", frame.error_code)?;
            if vector == PAGE_FAULT {
                write!(f, " ({})", PageFaultCause(frame.error_code))?;
            } else if has_selector_error_code(vector) {
                write!(f, " ({})", SelectorCause(frame.error_code))?;
            }
        }
        write!(f, "\n  on CPU {}", super::cpu_local::index())?;
        if let Some(cr2) = cr2 {
            write!(f, "\n  cr2 {cr2:#018x}")?;
        }
        write!(
            f,
            "\n  rip {:#018x}  rsp {:#018x}  rflags {:#010x}  cs {:#06x}  ss {:#06x}",
            frame.rip, frame.rsp, frame.rflags, frame.cs, frame.ss
        )?;
        let r = &frame.regs;
        let lines = [
            [("rax", r.rax), ("rbx", r.rbx), ("rcx", r.rcx), ("rdx", r.rdx), ("rsi", r.rsi)],
            [("rdi", r.rdi), ("rbp", r.rbp), ("r8", r.r8), ("r9", r.r9), ("r10", r.r10)],
            [("r11", r.r11), ("r12", r.r12), ("r13", r.r13), ("r14", r.r14), ("r15", r.r15)],
        ];
        for line in lines {
            f.write_str("\n ")?;
            for (name, value) in line {
                write!(f, " {name:>3} {value:016x}")?;
            }
        }
        let mut callers = [0u64; BACKTRACE_FRAMES];
        let count = backtrace::walk(frame.rsp, &mut callers);
        f.write_str("\n  backtrace:")?;
        // A return address points after its call; the byte before it is inside the caller.
        let addresses =
            core::iter::once((frame.rip, frame.rip)).chain(callers[..count].iter().map(|&r| (r, r - 1)));
        for (index, (shown, inside)) in addresses.enumerate() {
            write!(f, "\n    #{index:<2} {shown:#018x}")?;
            if let Some(name) = symbols::describe(inside) {
                write!(f, "  {name}")?;
            }
        }
        f.write_str("\n")
    }
}

/// Exceptions taken so far; more than one means that the report, or the stop, faulted.
static DEPTH: AtomicU32 = AtomicU32::new(0);

/// What the owner of the faulting stack did about a fault on it ([`on_stack_fault`]).
pub enum StackFault {
    /// It mapped the missing page: the faulting instruction runs again.
    Committed,
    /// It abandoned the code on that stack, for the reason given: the CPU goes on at
    /// `resume_rsp` with `context::resume_saved`.
    Abandoned { resume_rsp: u64, why: &'static str },
}

/// The owner of fiber stacks, set once at boot ([`on_stack_fault`]): given the faulting
/// address, the stack pointer, and whether the fault is a page fault on a missing page, what it
/// did about it, or `None` when the fault is none of its stacks' business.
type StackFaultHandler = fn(u64, u64, bool) -> Option<StackFault>;

static STACK_FAULT: spin::Once<StackFaultHandler> = spin::Once::new();

/// Has a page or double fault ask `owner` first whether the fault is one on a fiber's stack it
/// can handle: a page to map as the stack grows, or an overflow onto its guard page (the fiber
/// is abandoned), so this module needs nothing of the scheduler or of memory management.
pub fn on_stack_fault(owner: StackFaultHandler) {
    STACK_FAULT.call_once(|| owner);
}

/// Handles exceptions (vectors 0–31), for the IDT's dispatcher: maps a page for a growing fiber
/// stack, survives a fiber's stack overflow by resuming its task (it returns, and the entry path
/// returns into that task), and reports anything else and stops the machine.
pub fn handle(frame: &mut InterruptFrame) {
    let vector = frame.vector as u8;
    if vector == NMI && cpu::stopping() {
        // Another CPU stopped the machine and asked this one to stop too.
        cpu::halt_forever();
    }
    // Read first: a nested page fault would overwrite CR2. A double fault's CR2 is that of the
    // page fault the CPU could not deliver, if that was the cause.
    let cr2 = matches!(vector, PAGE_FAULT | DOUBLE_FAULT).then(Cr2::read_raw);
    let missing = vector == PAGE_FAULT
        && !PageFaultErrorCode::from_bits_truncate(frame.error_code)
            .contains(PageFaultErrorCode::PROTECTION_VIOLATION);
    if let Some(fault) = cr2
        && let Some(owner) = STACK_FAULT.get()
    {
        match owner(fault, frame.rsp, missing) {
            Some(StackFault::Committed) => return,
            Some(StackFault::Abandoned { resume_rsp, why }) => {
                // Lock-free output: the abandoned fiber may hold the log's lock.
                serial::write_fmt_emergency(format_args!(
                    "\nfiber {why} ({}) at rip {:#x}, address {fault:#x}: its task is resumed without it\n",
                    VectorName(vector),
                    frame.rip
                ));
                frame.rip = context::resume_saved as *const () as u64;
                frame.rsp = resume_rsp;
                frame.rflags &= !RFLAGS_DF;
                return;
            }
            None => {}
        }
    }
    report_and_stop(frame, cr2)
}

fn report_and_stop(frame: &InterruptFrame, cr2: Option<u64>) -> ! {
    let vector = frame.vector as u8;
    let cr2 = cr2.filter(|_| vector == PAGE_FAULT);
    // Only this CPU's own nesting counts, so no ordering with other memory is needed.
    match DEPTH.fetch_add(1, Ordering::Relaxed) {
        0 => serial::write_fmt_emergency(format_args!("{}", Report { frame, cr2 })),
        // The report faulted: one short line, with as little code as possible between here and
        // the stop.
        1 => serial::write_fmt_emergency(format_args!(
            "\nNESTED CPU EXCEPTION {vector}: {} at rip {:#x} while reporting an exception\n",
            VectorName(vector),
            frame.rip
        )),
        // Even the short line faulted; stopping may still work.
        2 => {}
        // Stopping faults too: nothing is left that is safe to run.
        _ => cpu::halt_forever(),
    }
    fatal::stop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const ERROR_CODE_VECTORS: [u8; 10] = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30];
    const RESERVED_VECTORS: [u8; 9] = [9, 15, 22, 23, 24, 25, 26, 27, 31];

    #[test]
    fn error_code_vectors_are_exactly_the_architectural_ones() {
        for vector in 0..=u8::MAX {
            assert_eq!(pushes_error_code(vector), ERROR_CODE_VECTORS.contains(&vector), "vector {vector}");
        }
    }

    #[test]
    fn every_exception_vector_is_named_or_reserved() {
        for vector in 0..32 {
            assert_eq!(describe(vector).is_none(), RESERVED_VECTORS.contains(&vector), "vector {vector}");
        }
        assert_eq!(VectorName(14).to_string(), "#PF page fault");
        assert_eq!(VectorName(13).to_string(), "#GP general protection");
        assert_eq!(VectorName(2).to_string(), "NMI non-maskable interrupt");
        assert_eq!(VectorName(15).to_string(), "reserved vector");
    }

    #[test]
    fn page_fault_codes_read_as_words() {
        assert_eq!(PageFaultCause(0).to_string(), "not-present read kernel");
        assert_eq!(PageFaultCause(0b111).to_string(), "present write user");
        assert_eq!(PageFaultCause(0b1_0001).to_string(), "present instruction-fetch kernel");
        assert_eq!(PageFaultCause(0b1001).to_string(), "present read kernel reserved-bit");
        assert_eq!(
            PageFaultCause(0b110_0010).to_string(),
            "not-present write kernel protection-key shadow-stack"
        );
    }

    #[test]
    fn selector_codes_name_table_and_index() {
        assert_eq!(SelectorCause(0).to_string(), "no selector");
        assert_eq!(SelectorCause(5 << 3).to_string(), "GDT index 5");
        assert_eq!(SelectorCause((3 << 3) | 0b100).to_string(), "LDT index 3");
        assert_eq!(SelectorCause((128 << 3) | 0b011).to_string(), "IDT vector 128, external");
        assert_eq!(SelectorCause((128 << 3) | 0b110).to_string(), "IDT vector 128");
    }

    #[test]
    fn report_shows_cause_and_every_register() {
        let mut frame = InterruptFrame {
            vector: 14,
            error_code: 0b10,
            rip: 0xffff_ffff_8000_1234,
            cs: 8,
            ..Default::default()
        };
        frame.regs.rax = 0xaa;
        frame.regs.r15 = 0xff;
        let text = Report { frame: &frame, cr2: Some(0x7fff_ffff_f000) }.to_string();
        assert!(
            text.contains("CPU EXCEPTION 14: #PF page fault, error code 0x2 (not-present write kernel)"),
            "{text}"
        );
        assert!(text.contains("cr2 0x00007ffffffff000"), "{text}");
        assert!(text.contains("rip 0xffffffff80001234"), "{text}");
        assert!(text.contains("rax 00000000000000aa"), "{text}");
        assert!(text.contains("r15 00000000000000ff"), "{text}");
        for name in [
            "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", " r8", " r9", "r10", "r11", "r12", "r13", "r14", "rsp",
            "rflags", "cs", "ss",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }

        let frame = InterruptFrame { vector: 13, error_code: 0x42, ..Default::default() };
        let text = Report { frame: &frame, cr2: None }.to_string();
        assert!(
            text.contains("CPU EXCEPTION 13: #GP general protection, error code 0x42 (IDT vector 8)"),
            "{text}"
        );
        assert!(!text.contains("cr2"), "{text}");

        let frame = InterruptFrame { vector: 3, ..Default::default() };
        let text = Report { frame: &frame, cr2: None }.to_string();
        assert!(text.contains("CPU EXCEPTION 3: #BP breakpoint\n"), "{text}");
    }
}
