//! The IDT and the interrupt entry path: a stub per vector funnels into one routine that saves
//! the interrupted context as an [`InterruptFrame`] and hands it to [`dispatch`].
//!
//! Stable Rust has no `extern "x86-interrupt"`, so the entry path is written in assembly, as
//! naked functions. Any vector, exception or hardware interrupt, can use it: list the vector
//! in `entry_stubs!`, and give it an arm in `dispatch`.

use core::mem::{offset_of, size_of};
use x86_64::VirtAddr;
use x86_64::instructions::tables::{DescriptorTablePointer, lidt};
use x86_64::structures::idt::{Entry, HandlerFunc};

use super::exceptions::{self, pushes_error_code};
use super::{apic, gdt, irq, pic};

/// General-purpose registers of the interrupted code, in the order the entry path leaves them.
///
/// `x86_64-unknown-none` builds without SSE, so these are all the registers kernel code uses.
#[repr(C)]
#[cfg_attr(test, derive(Default))]
pub struct SavedRegisters {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
}

/// The interrupted context, exactly as the entry path builds it on the stack (lowest address
/// first).
#[repr(C)]
#[cfg_attr(test, derive(Default))]
pub struct InterruptFrame {
    /// Pushed by `common_entry`.
    pub regs: SavedRegisters,
    /// Pushed by the vector's stub.
    pub vector: u64,
    /// Pushed by the CPU for some exceptions, or a 0 pushed by the stub for all other vectors.
    pub error_code: u64,
    /// The faulting instruction (faults) or the next one (traps, interrupts); pushed by the CPU
    /// like every field below.
    pub rip: u64,
    /// Code segment of the interrupted code.
    pub cs: u64,
    /// Flags of the interrupted code.
    pub rflags: u64,
    /// Stack pointer of the interrupted code.
    pub rsp: u64,
    /// Stack segment of the interrupted code.
    pub ss: u64,
}

// The assembly below hard-codes this layout.
const _: () = {
    assert!(offset_of!(InterruptFrame, vector) == 15 * 8);
    assert!(offset_of!(InterruptFrame, ss) == 21 * 8);
    // In long mode the CPU aligns RSP to 16 bytes before pushing its part of the frame, so a
    // frame of whole 16-byte units leaves RSP aligned for the call into Rust, as the ABI wants.
    assert!(size_of::<InterruptFrame>().is_multiple_of(16));
};

/// An entry stub: not callable from Rust; only the CPU jumps to it, through the IDT.
type Stub = unsafe extern "sysv64" fn();

/// Defines an entry stub for each listed vector; evaluates to their `(vector, stub)` pairs.
macro_rules! entry_stubs {
    ($($vector:literal),* $(,)?) => {
        [$({
            #[unsafe(naked)]
            #[unsafe(export_name = concat!("interrupt_entry_", $vector))]
            unsafe extern "sysv64" fn stub() {
                core::arch::naked_asm!(
                    // Only some exceptions make the CPU push an error code; a stand-in 0 for
                    // every other vector gives all of them the same frame.
                    ".if {cpu_pushes_error_code} == 0",
                    "push 0",
                    ".endif",
                    "push {vector}",
                    "jmp {common}",
                    cpu_pushes_error_code = const pushes_error_code($vector) as u8,
                    vector = const $vector,
                    common = sym common_entry,
                );
            }
            ($vector, stub as Stub)
        }),*]
    };
}

/// One stub per CPU exception vector, reserved ones included.
const EXCEPTION_STUBS: [(u8, Stub); 32] = entry_stubs![
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
    29, 30, 31,
];

/// One stub per device vector: the remapped 8259s (spurious only, they are masked), the local
/// APIC timer, COM1, the wake-up IPI, the vectors MSI-X entries are bound to, and the APIC's
/// spurious vector (see `irq`).
const DEVICE_STUBS: [(u8, Stub); 36] = entry_stubs![
    32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 64, 65, 66, 67, 68, 69, 70,
    71, 72, 73, 74, 75, 76, 77, 78, 79, 255
];

// `entry_stubs!` takes literals; keep them in step with the names the handlers use.
const _: () = assert!(
    pic::PIC_VECTOR_BASE == 32
        && irq::TIMER_VECTOR == 48
        && irq::SERIAL_VECTOR == 49
        && irq::WAKE_VECTOR == 50
        && irq::MESSAGE_VECTORS.start == 64
        && irq::MESSAGE_VECTORS.end == 80
        && apic::SPURIOUS_VECTOR == 255
);

/// Completes the frame the stubs began, calls [`dispatch`], and returns to the interrupted code.
#[unsafe(naked)]
unsafe extern "sysv64" fn common_entry() {
    core::arch::naked_asm!(
        "push rax",
        "push rbx",
        "push rcx",
        "push rdx",
        "push rsi",
        "push rdi",
        "push rbp",
        "push r8",
        "push r9",
        "push r10",
        "push r11",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        // The ABI promises a clear direction flag at every call; the interrupted code may have
        // set it, and an interrupt gate does not clear it.
        "cld",
        "mov rdi, rsp",
        "call {dispatch}",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop r11",
        "pop r10",
        "pop r9",
        "pop r8",
        "pop rbp",
        "pop rdi",
        "pop rsi",
        "pop rdx",
        "pop rcx",
        "pop rbx",
        "pop rax",
        // Drop the vector and error code: `iretq` expects RSP at the CPU's part of the frame.
        "add rsp, 16",
        "iretq",
        dispatch = sym dispatch,
    );
}

/// Routes every interrupt and exception by vector; only `common_entry` calls it.
extern "sysv64" fn dispatch(frame: &mut InterruptFrame) {
    match frame.vector {
        0..=31 => exceptions::handle(frame),
        // Only the vectors in `EXCEPTION_STUBS` and `DEVICE_STUBS` have present gates.
        vector => irq::handle(vector as u8),
    }
}

/// Gates in an IDT: one per vector.
const GATES: usize = 256;

/// The IDT itself. The crate's `InterruptDescriptorTable` keeps the reserved vectors' gates
/// private, but those vectors must report too, so the kernel lays out the table from the
/// crate's gate type.
#[repr(C, align(16))]
struct Idt([Entry<HandlerFunc>; GATES]);

static IDT: spin::Once<Idt> = spin::Once::new();

/// The IST slot a vector's gate switches to, for the vectors that must not trust the current
/// stack (see `gdt`).
fn ist_index(vector: u8) -> Option<u16> {
    match vector {
        exceptions::NMI => Some(gdt::NMI_IST_INDEX),
        exceptions::DOUBLE_FAULT => Some(gdt::DOUBLE_FAULT_IST_INDEX),
        exceptions::MACHINE_CHECK => Some(gdt::MACHINE_CHECK_IST_INDEX),
        exceptions::PAGE_FAULT => Some(gdt::PAGE_FAULT_IST_INDEX),
        32.. => Some(gdt::DEVICE_IST_INDEX),
        _ => None,
    }
}

fn build() -> Idt {
    let mut idt = Idt([const { Entry::missing() }; GATES]);
    for (vector, stub) in EXCEPTION_STUBS.into_iter().chain(DEVICE_STUBS) {
        let gate = &mut idt.0[usize::from(vector)];
        // SAFETY: `stub` comes from `entry_stubs!`: it builds an `InterruptFrame` for exactly
        // the frame the CPU pushes for `vector`, and restores everything before `iretq`. The
        // gate takes the current CS, which `gdt::init` made the kernel code segment.
        let options = unsafe { gate.set_handler_addr(VirtAddr::from_ptr(stub as *const ())) };
        if let Some(index) = ist_index(vector) {
            // SAFETY: `gdt::init` filled this IST slot with a stack that no other vector uses.
            unsafe { options.set_stack_index(index) };
        }
    }
    idt
}

/// Loads the IDT with a gate for each of the 32 exception vectors and each device vector.
/// Call after [`gdt::init`].
pub fn init() {
    let idt = IDT.call_once(build);
    let pointer =
        DescriptorTablePointer { limit: (size_of::<Idt>() - 1) as u16, base: VirtAddr::from_ptr(idt) };
    // SAFETY: the table lives in a `'static` `Once` and never changes after `build`; each of
    // its present gates points at a stub that handles its vector's frame.
    unsafe { lidt(&pointer) };
}
