//! The code an application processor runs from its startup IPI to its park loop, copied into a
//! page below 1 MiB (a startup IPI can only start a CPU there, in real mode). One AP runs it at
//! a time: `mp.rs` fills in [`Parameters`] for it, sends the IPIs and waits for
//! [`Trampoline::arrived`].
//!
//! The AP goes from real mode straight to long mode: PAE, the kernel's page tables, EFER.LME
//! (and NXE), then PE and PG in one write to CR0, and a far jump to 64-bit code through a
//! temporary GDT in the page. In 64-bit mode it takes on the entry state the protocol gives
//! the BSP (`handoff.rs`): the protocol's GDT (through the HHDM) and its segments, the PAT
//! layout, WP. It then moves to the page's HHDM alias, because the BSP removes the lower half
//! of the address space, the page's identity mapping with it, when it enters the kernel; only
//! there does it report arrival, and park, spinning on its `limine_mp_info`'s `goto_address`.

use core::arch::global_asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};
use minimalos_loader::paging::PAGE_4K;
use minimalos_loader::protocol::{HHDM_OFFSET, MpInfo};

use crate::error::Error;
use crate::handoff::{self, CODE_64, DATA_64, EFER_NXE, IA32_EFER, IA32_PAT, PAT_LAYOUT, load_segments};
use crate::memory::{self, hhdm};

/// Offset of [`Parameters`] in the page; the code comes before it.
const PARAMETERS: usize = 0xf00;
/// The page must end below 1 MiB: a startup IPI's vector is the page number, 8 bits.
const BELOW_1_MIB: u64 = 0x10_0000;

/// CR0 in long mode: protection, paging, WP as at the kernel's entry; ET is fixed at 1. CD and
/// NW, which INIT sets, stay clear so the AP caches memory.
const CR0: u32 = 1 << 0 | 1 << 4 | 1 << 16 | 1 << 31;
/// CR4: PAE, which long mode requires; INIT clears the rest, and the protocol asks no more.
const CR4: u32 = 1 << 5;
/// EFER.LME: long mode, entered when paging is turned on.
const EFER_LME: u32 = 1 << 8;

/// What the BSP leaves in the page for the AP it starts. The AP only reads it, except
/// `arrived`; the first fields are also read by the CPU itself (GDT, `lgdt` and `lidt`
/// operands, far pointer).
#[repr(C)]
struct Parameters {
    /// The GDT the AP enters long mode with: the protocol's, at an address real mode reaches.
    gdt: [u64; 7],
    /// `jmp far` operand into 64-bit code: offset (the code's identity address), selector.
    far_jump: [u32; 2],
    /// `lgdt` operand for `gdt`: limit, then the base in two halves; real mode loads 24 bits.
    gdtr: [u16; 4],
    /// `lidt` operand of an empty IDT: an exception or NMI before the kernel loads its own IDT
    /// shuts the CPU down instead of taking the real-mode vector table for long-mode gates.
    idtr: [u16; 4],
    /// The kernel's PML4, which must be below 4 GiB: real mode loads CR3 with 32 bits.
    cr3: u32,
    /// Low half of EFER: LME, and NXE when the page tables use the NX bit.
    efer: u32,
    /// Non-zero: load the protocol's PAT layout.
    set_pat: u32,
    _padding: u32,
    /// HHDM address of the protocol GDT's `lgdt` operand (`handoff::gdt`).
    protocol_gdt: u64,
    /// HHDM address of the AP's `limine_mp_info`, whose `reserved` holds its stack top.
    info: u64,
    /// Set to `info` by the AP once it runs in the HHDM and no longer reads the other fields:
    /// naming the AP, a late one cannot pass for the next.
    arrived: AtomicU64,
}

const _: () = assert!(PARAMETERS + size_of::<Parameters>() <= PAGE_4K as usize);

/// What every AP's entry state depends on.
pub struct EntryState {
    /// Physical address of the kernel's PML4.
    pub page_tables: u32,
    /// EFER.NXE on.
    pub no_execute: bool,
    /// The CPU has a PAT, to be loaded with the protocol's layout.
    pub pat: bool,
    /// The protocol GDT's `lgdt` operand.
    pub gdt: &'static handoff::GdtPointer,
}

/// The trampoline page.
pub struct Trampoline {
    page: u64,
}

impl Trampoline {
    /// Allocates the page (loader data, so bootloader-reclaimable) and copies the code into it.
    /// The caller must have the kernel's page tables identity-map [`Trampoline::page`].
    pub fn install() -> Result<Self, Error> {
        let page = memory::allocate_page_below(BELOW_1_MIB, "the AP trampoline below 1 MiB")?;
        let start = (&raw const minimalos_ap_trampoline) as usize;
        let length = (&raw const minimalos_ap_trampoline_end) as usize - start;
        assert!(length <= PARAMETERS, "the AP trampoline's code runs into its parameters");
        // SAFETY: the page was just allocated for the loader alone and is identity-mapped; the
        // source is the code between the two labels of the `global_asm!` below.
        unsafe { core::ptr::copy_nonoverlapping(start as *const u8, page as *mut u8, length) };
        Ok(Self { page })
    }

    /// The page's physical address.
    pub fn page(&self) -> u64 {
        self.page
    }

    /// The startup IPI's vector: the page number.
    pub fn vector(&self) -> u8 {
        (self.page / PAGE_4K) as u8
    }

    /// Writes what every AP needs; before the first AP starts.
    pub fn configure(&mut self, state: &EntryState) {
        let gdt = self.page + (PARAMETERS + offset_of!(Parameters, gdt)) as u64;
        let long_mode = self.page
            + ((&raw const minimalos_ap_long_mode) as usize - (&raw const minimalos_ap_trampoline) as usize)
                as u64;
        let parameters = self.parameters_mut();
        parameters.gdt = handoff::GDT;
        parameters.far_jump = [long_mode as u32, CODE_64 as u32];
        parameters.gdtr = [(size_of_val(&handoff::GDT) - 1) as u16, gdt as u16, (gdt >> 16) as u16, 0];
        parameters.idtr = [0; 4];
        parameters.cr3 = state.page_tables;
        parameters.efer = EFER_LME | if state.no_execute { EFER_NXE as u32 } else { 0 };
        parameters.set_pat = u32::from(state.pat);
        parameters.protocol_gdt = hhdm(state.gdt);
    }

    /// Readies the page for the AP that owns `info`, the next one to start: once the previous
    /// AP has parked or been reset, so no AP runs the trampoline.
    pub fn prepare(&mut self, info: *const MpInfo) {
        let parameters = self.parameters_mut();
        parameters.info = hhdm(info);
        parameters.arrived.store(0, Ordering::SeqCst);
    }

    /// The AP last prepared for has parked.
    pub fn arrived(&self) -> bool {
        let parameters = self.parameters();
        parameters.arrived.load(Ordering::Acquire) == parameters.info
    }

    /// The parameters while an AP may run the trampoline: it reads them and writes `arrived`.
    fn parameters(&self) -> &Parameters {
        // SAFETY: the page is the loader's, identity-mapped, and `Parameters` (all integers,
        // any bit pattern valid) fits at this 8-aligned offset. An AP only writes `arrived`,
        // an atomic, and the loader writes only through `parameters_mut`, which `&self` excludes.
        unsafe { &*((self.page as usize + PARAMETERS) as *const Parameters) }
    }

    /// The parameters while no AP runs the trampoline (see [`Trampoline::prepare`]).
    fn parameters_mut(&mut self) -> &mut Parameters {
        // SAFETY: as in `parameters`; no AP accesses the page meanwhile, and `&mut self` keeps
        // the loader's borrows unique.
        unsafe { &mut *((self.page as usize + PARAMETERS) as *mut Parameters) }
    }
}

unsafe extern "C" {
    /// First byte of the trampoline's code.
    static minimalos_ap_trampoline: u8;
    /// Its 64-bit part, where the far jump lands.
    static minimalos_ap_long_mode: u8;
    /// The byte after its code.
    static minimalos_ap_trampoline_end: u8;
}

// Real mode starts at offset 0 of the page with CS = page / 16: data is addressed from DS = CS
// with offsets into the page. In long mode, RIP-relative addresses work in the page and in its
// HHDM alias alike, as the code is copied whole.
global_asm!(
    ".globl minimalos_ap_trampoline",
    ".globl minimalos_ap_long_mode",
    ".globl minimalos_ap_trampoline_end",
    ".code16",
    "minimalos_ap_trampoline:",
    "cli",
    "cld",
    "mov ax, cs",
    "mov ds, ax",
    "lidt [{p} + {idtr}]",
    "lgdt [{p} + {gdtr}]",
    "mov eax, {cr4}",
    "mov cr4, eax",
    "mov eax, dword ptr [{p} + {cr3}]",
    "mov cr3, eax",
    "mov ecx, {efer_msr}",
    "mov eax, dword ptr [{p} + {efer}]",
    "xor edx, edx",
    "wrmsr",
    // Protection and paging at once: with EFER.LME set this enters long mode (compatibility
    // mode, CS still the real-mode segment); the far jump loads the 64-bit code segment.
    "mov eax, {cr0}",
    "mov cr0, eax",
    "jmp fword ptr [{p} + {far_jump}]",
    ".code64",
    "minimalos_ap_long_mode:",
    "lea rbx, [rip + minimalos_ap_trampoline]",
    "cmp dword ptr [rbx + {p} + {set_pat}], 0",
    "je 2f",
    "mov ecx, {pat_msr}",
    "mov eax, {pat_low}",
    "mov edx, {pat_high}",
    "wrmsr",
    "2:",
    // The protocol's GDT and the AP's stack, both reached through the HHDM.
    "mov rax, qword ptr [rbx + {p} + {protocol_gdt}]",
    "lgdt [rax]",
    "mov rdi, qword ptr [rbx + {p} + {info}]",
    "mov rsp, qword ptr [rdi + {reserved}]",
    "mov rax, {hhdm}",
    "lea rcx, [rip + 3f]",
    "add rax, rcx",
    "jmp rax",
    "3:",
    // In the HHDM: the segments, as `handoff::jump` loads them.
    load_segments!(),
    // Every field the AP needed is read: the BSP may start the next AP.
    "lea rbx, [rip + minimalos_ap_trampoline]",
    "mov qword ptr [rbx + {p} + {arrived}], rdi",
    "5:",
    "pause",
    "mov rax, qword ptr [rdi + {goto}]",
    "test rax, rax",
    "jz 5b",
    // Released. The BSP may have emptied the lower half since this AP parked: reloading CR3
    // drops any translation of it this CPU still holds. Then the BSP's entry state.
    "mov rcx, cr3",
    "mov cr3, rcx",
    "mov rsp, qword ptr [rdi + {reserved}]",
    "push 0",
    "push rax",
    "xor eax, eax",
    "xor ebx, ebx",
    "xor ecx, ecx",
    "xor edx, edx",
    "xor esi, esi",
    "xor ebp, ebp",
    "xor r8d, r8d",
    "xor r9d, r9d",
    "xor r10d, r10d",
    "xor r11d, r11d",
    "xor r12d, r12d",
    "xor r13d, r13d",
    "xor r14d, r14d",
    "xor r15d, r15d",
    // Pops the entry point, leaving the zero return address on top of the stack.
    "ret",
    "minimalos_ap_trampoline_end:",
    p = const PARAMETERS,
    idtr = const offset_of!(Parameters, idtr),
    gdtr = const offset_of!(Parameters, gdtr),
    far_jump = const offset_of!(Parameters, far_jump),
    cr3 = const offset_of!(Parameters, cr3),
    efer = const offset_of!(Parameters, efer),
    set_pat = const offset_of!(Parameters, set_pat),
    arrived = const offset_of!(Parameters, arrived),
    protocol_gdt = const offset_of!(Parameters, protocol_gdt),
    info = const offset_of!(Parameters, info),
    reserved = const offset_of!(MpInfo, reserved),
    goto = const offset_of!(MpInfo, goto_address),
    cr0 = const CR0,
    cr4 = const CR4,
    efer_msr = const IA32_EFER,
    pat_msr = const IA32_PAT,
    pat_low = const PAT_LAYOUT as u32,
    pat_high = const (PAT_LAYOUT >> 32) as u32,
    hhdm = const HHDM_OFFSET,
    code = const CODE_64,
    data = const DATA_64,
);
