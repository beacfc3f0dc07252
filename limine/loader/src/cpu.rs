//! What the CPU offers that the address space and the hand-off depend on.

use core::arch::asm;
use core::arch::x86_64::__cpuid;

use crate::error::Error;

/// CR4.LA57: 5-level paging is on.
const CR4_LA57: u64 = 1 << 12;

/// CPU features the loader adapts to.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// The NX bit (EFER.NXE) exists.
    pub no_execute: bool,
    /// 1 GiB pages exist.
    pub huge_pages: bool,
    /// The page attribute table exists.
    pub pat: bool,
    /// Width of physical addresses (MAXPHYADDR).
    pub physical_address_bits: u32,
}

/// Reads the features, and refuses a firmware running with 5-level paging: switching to the
/// kernel's 4-level tables would need paging turned off, which long mode forbids.
pub fn probe() -> Result<Features, Error> {
    let cr4: u64;
    // SAFETY: reading CR4 has no side effects; the loader runs in ring 0.
    unsafe { asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags)) };
    if cr4 & CR4_LA57 != 0 {
        return Err(Error::FiveLevelPaging);
    }
    let highest_extended = __cpuid(0x8000_0000).eax;
    let extended = if highest_extended >= 0x8000_0001 { __cpuid(0x8000_0001).edx } else { 0 };
    let physical_address_bits =
        if highest_extended >= 0x8000_0008 { __cpuid(0x8000_0008).eax & 0xff } else { 36 };
    Ok(Features {
        no_execute: extended & (1 << 20) != 0,
        huge_pages: extended & (1 << 26) != 0,
        pat: __cpuid(1).edx & (1 << 16) != 0,
        physical_address_bits,
    })
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist; the value must be valid for it.
pub unsafe fn write_msr(msr: u32, value: u64) {
    // SAFETY: the caller vouches for the MSR and the value.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack))
    };
}

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist.
pub unsafe fn read_msr(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller vouches for the MSR; reading has no side effects.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack)) };
    u64::from(high) << 32 | u64::from(low)
}
