//! The jump into the kernel, in the protocol's x86_64 entry state: its GDT and segments, the
//! kernel's page tables, the protocol's PAT layout, NX and WP on, interrupts and the direction
//! flag clear, the requested stack holding a zero return address, other registers zero.

use core::arch::{asm, naked_asm};
use core::ops::Range;
use minimalos_loader::paging::PAGE_4K;
use minimalos_loader::protocol::HHDM_OFFSET;

use crate::cpu::{Features, read_msr, write_msr};
use crate::error::Error;
use crate::memory::{Arena, hhdm};

/// The protocol's GDT: null, then 16-, 32- and 64-bit code and data descriptors with base 0.
/// Accessed bits are preset so the CPU never writes to the table.
pub const GDT: [u64; 7] = [
    0,
    0x0000_9b00_0000_ffff, // 16-bit code, limit 0xffff, readable
    0x0000_9300_0000_ffff, // 16-bit data, limit 0xffff, writable
    0x00cf_9b00_0000_ffff, // 32-bit code, limit 4 GiB, readable
    0x00cf_9300_0000_ffff, // 32-bit data, limit 4 GiB, writable
    0x00af_9b00_0000_ffff, // 64-bit code, readable
    0x00cf_9300_0000_ffff, // 64-bit data, writable
];
/// Selector of the 64-bit code descriptor.
pub const CODE_64: u64 = 5 * 8;
/// Selector of the 64-bit data descriptor.
pub const DATA_64: u64 = 6 * 8;

/// The protocol's PAT: WB, WT, UC-, UC, WP, WC; the last two (unspecified) UC-, UC.
pub const PAT_LAYOUT: u64 = 0x0007_0105_0007_0406;
/// The PAT's MSR.
pub const IA32_PAT: u32 = 0x277;
/// The extended feature enable register's MSR.
pub const IA32_EFER: u32 = 0xc000_0080;
/// EFER.NXE: page tables may forbid instruction fetches.
pub const EFER_NXE: u64 = 1 << 11;
/// CR0.WP: read-only pages are read-only in ring 0 too.
pub const CR0_WP: u64 = 1 << 16;

/// The operand of `lgdt`.
#[repr(C, packed)]
pub struct GdtPointer {
    limit: u16,
    base: u64,
}

/// Places the GDT in loader memory (bootloader-reclaimable, as the protocol asks) and returns
/// the `lgdt` operand, which points at the GDT through the HHDM so it stays valid in the
/// kernel's address space.
pub fn gdt(arena: &mut Arena) -> Result<&'static GdtPointer, Error> {
    let table = arena.put(GDT)?;
    let pointer = arena.put(GdtPointer { limit: (size_of_val(&GDT) - 1) as u16, base: hhdm(table) })?;
    Ok(pointer)
}

/// What the jump needs.
pub struct Handoff {
    /// Physical address of the kernel's PML4.
    pub page_tables: u64,
    /// HHDM address of the top of the kernel's stack (16-byte aligned).
    pub stack_top: u64,
    /// The kernel's entry point.
    pub entry: u64,
    /// The `lgdt` operand from [`gdt`].
    pub gdt: &'static GdtPointer,
    /// What the CPU supports of the entry state (NX, PAT).
    pub features: Features,
    /// Base revision 0: the identity map stays for the kernel.
    pub keep_identity_map: bool,
}

/// The pages holding the code that switches page tables, which the kernel's tables must
/// identity-map: it keeps running at the same address across the switch, until it moves to
/// its HHDM alias and removes the identity mapping.
pub fn trampoline() -> Range<u64> {
    let start = jump as *const () as u64 & !(PAGE_4K - 1);
    // The code is far smaller than a page but may straddle a page boundary.
    start..start + 2 * PAGE_4K
}

/// Enters the kernel.
///
/// # Safety
/// Boot services must have exited and interrupts be off (`interrupts::mask_all`); the page
/// tables must map what [`jump`] requires: this code (see [`trampoline`]) identity-mapped and
/// through the HHDM, the stack, the GDT and the kernel.
pub unsafe fn enter(handoff: &Handoff) -> ! {
    let Handoff { page_tables, stack_top, entry, gdt, features, keep_identity_map } = *handoff;
    // SAFETY: per the caller, nothing else runs on this CPU any more. PAT entries 0-3 keep their reset meaning, which is all the
    // firmware's tables use; NXE only gives meaning to a bit the firmware's tables leave clear
    // unless it is already on; WP makes read-only pages binding in ring 0, and the loader
    // writes nothing more. The caller vouches for the tables `jump` switches to.
    unsafe {
        if features.pat {
            write_msr(IA32_PAT, PAT_LAYOUT);
        }
        if features.no_execute {
            write_msr(IA32_EFER, read_msr(IA32_EFER) | EFER_NXE);
        }
        asm!("mov {0}, cr0", "or {0}, {wp}", "mov cr0, {0}", out(reg) _, wp = in(reg) CR0_WP, options(nomem, nostack));
        jump(page_tables, stack_top, entry, gdt, HHDM_OFFSET, u64::from(!keep_identity_map))
    }
}

/// The protocol's segments, in code already running in the higher half with the protocol's
/// GDT loaded: CS through a far return (it cannot be moved into), then every data segment
/// register. Needs the asm operands `code` and `data` (the selectors) and uses `rax` and the
/// local label `4`. Shared by the boot CPU's [`jump`] and the APs' trampoline.
macro_rules! load_segments {
    () => {
        "push {code}\n lea rax, [rip + 4f]\n push rax\n retfq\n 4:\n mov eax, {data}\n mov ds, eax\n mov es, eax\n mov ss, eax\n mov fs, eax\n mov gs, eax"
    };
}
pub(crate) use load_segments;

/// Loads the GDT, switches to the kernel's page tables and stack, moves to the HHDM alias of
/// this code and (if `unmap_lower_half`) empties the lower half, reloads every segment
/// register, pushes a zero return address, clears the other registers and jumps to `entry`.
///
/// # Safety
/// Interrupts must be off; `page_tables` must map this code both at its current address and
/// at `hhdm_offset` above it, and map `stack_top` (writable) and the GDT `gdt` points to.
#[unsafe(naked)]
unsafe extern "sysv64" fn jump(
    page_tables: u64,
    stack_top: u64,
    entry: u64,
    gdt: *const GdtPointer,
    hhdm_offset: u64,
    unmap_lower_half: u64,
) -> ! {
    naked_asm!(
        // The GDT's base is an HHDM address: unusable until CR3 changes, and not used before
        // the far return below.
        "lgdt [rcx]",
        "mov cr3, rdi",
        "mov rsp, rsi",
        "cld",
        "lea rax, [rip + 2f]",
        "add rax, r8",
        "jmp rax",
        "2:",
        // Running in the higher half now, the identity map of this code can go, and with it
        // every lower-half entry of the PML4, as the protocol leaves the lower half to the kernel.
        "test r9, r9",
        "jz 3f",
        "mov r10, rdi",
        "add rdi, r8",
        "mov ecx, 256",
        "xor eax, eax",
        "rep stosq",
        "mov cr3, r10",
        "3:",
        load_segments!(),
        "push 0",
        "push rdx",
        "xor eax, eax",
        "xor ebx, ebx",
        "xor ecx, ecx",
        "xor edx, edx",
        "xor esi, esi",
        "xor edi, edi",
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
        code = const CODE_64,
        data = const DATA_64,
    )
}
