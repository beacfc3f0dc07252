//! The BSP's local APIC, in the mode the firmware left it (xAPIC or x2APIC): its ID, and the
//! interprocessor interrupts that start the application processors (INIT, STARTUP).

use core::arch::x86_64::__cpuid;

use crate::cpu::read_msr;
use crate::tsc::Tsc;

/// The APIC base MSR: the xAPIC's physical base, and the enable bits.
const IA32_APIC_BASE: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const APIC_X2APIC_ENABLE: u64 = 1 << 10;
const APIC_BASE_ADDRESS: u64 = 0x000f_ffff_ffff_f000;
/// x2APIC MSRs: ID, interrupt command.
const X2APIC_ID: u32 = 0x802;
const X2APIC_ICR: u32 = 0x830;
/// xAPIC registers: ID (bits 31..24), interrupt command low and high (destination, bits 31..24).
const XAPIC_ID: u64 = 0x20;
const XAPIC_ICR_LOW: u64 = 0x300;
const XAPIC_ICR_HIGH: u64 = 0x310;
/// xAPIC ICR: the previous IPI is not sent yet.
const DELIVERY_PENDING: u32 = 1 << 12;
/// How long an IPI may stay pending before the AP is given up.
const DELIVERY_TIMEOUT_US: u64 = 1_000;

/// ICR commands: INIT (level assert), and STARTUP with the vector in the low byte. The SDM's
/// startup sequence sends INIT as an edge with the assert bit; the de-assert that old APICs
/// needed is ignored by every APIC since the Pentium 4 (and x2APIC forbids it).
const INIT: u32 = 0b101 << 8 | 1 << 14;
const STARTUP: u32 = 0b110 << 8 | 1 << 14;

/// The local APIC as the firmware left it.
#[derive(Debug, Clone, Copy)]
pub enum Lapic {
    /// Memory-mapped at this physical address, identity-mapped by the firmware's page tables,
    /// which stay in use until the hand-off.
    XApic { base: u64 },
    /// Driven through MSRs.
    X2Apic,
}

impl Lapic {
    /// The BSP's local APIC; `None` if the CPU has none or the firmware disabled it.
    pub fn firmware() -> Option<Self> {
        if __cpuid(1).edx & 1 << 9 == 0 {
            return None;
        }
        // SAFETY: CPUID says there is an APIC, so its base MSR exists; reading it has no effect.
        let base = unsafe { read_msr(IA32_APIC_BASE) };
        match (base & APIC_GLOBAL_ENABLE != 0, base & APIC_X2APIC_ENABLE != 0) {
            (false, _) => None,
            (true, true) => Some(Self::X2Apic),
            (true, false) => Some(Self::XApic { base: base & APIC_BASE_ADDRESS }),
        }
    }

    /// In x2APIC mode (which the MP response reports).
    pub fn x2apic(self) -> bool {
        matches!(self, Self::X2Apic)
    }

    /// Whether an IPI can reach `apic_id`: xAPIC destinations are 8 bits, and 0xff broadcasts.
    pub fn can_address(self, apic_id: u32) -> bool {
        self.x2apic() || apic_id < 0xff
    }

    /// This CPU's APIC ID.
    pub fn id(self) -> u32 {
        match self {
            // SAFETY: x2APIC mode is on, so its ID MSR exists; reading it has no effect.
            Self::X2Apic => unsafe { read_msr(X2APIC_ID) as u32 },
            // SAFETY: reading the ID register of the enabled xAPIC at `base` (identity-mapped by
            // the firmware's page tables) has no effect.
            Self::XApic { base } => unsafe { ((base + XAPIC_ID) as *const u32).read_volatile() >> 24 },
        }
    }

    /// Sends INIT to `apic_id`: the CPU resets and waits for a startup IPI. False if the
    /// APIC did not send it in time.
    ///
    /// # Safety
    /// Boot services must have exited (the firmware no longer uses its APs); `apic_id` must
    /// not be this CPU's.
    pub unsafe fn init(self, apic_id: u32, tsc: &Tsc) -> bool {
        // SAFETY: per the caller.
        unsafe { self.send(apic_id, INIT, tsc) }
    }

    /// Sends a startup IPI to `apic_id`: a CPU waiting since INIT starts in real mode at
    /// `vector * 4 KiB`. False if the APIC did not send it in time.
    ///
    /// # Safety
    /// As for [`Lapic::init`]; the page at `vector` must hold code for it.
    pub unsafe fn startup(self, apic_id: u32, vector: u8, tsc: &Tsc) -> bool {
        // SAFETY: per the caller.
        unsafe { self.send(apic_id, STARTUP | u32::from(vector), tsc) }
    }

    /// # Safety
    /// As for [`Lapic::init`].
    unsafe fn send(self, apic_id: u32, command: u32, tsc: &Tsc) -> bool {
        match self {
            // SAFETY: x2APIC mode is on; an ICR write sends one IPI and is complete on return.
            Self::X2Apic => unsafe {
                crate::cpu::write_msr(X2APIC_ICR, u64::from(apic_id) << 32 | u64::from(command));
                true
            },
            Self::XApic { base } => {
                let low = (base + XAPIC_ICR_LOW) as *mut u32;
                // SAFETY: the registers of the enabled xAPIC at `base`, which the firmware's
                // page tables identity-map; writing the low half sends the IPI.
                unsafe {
                    ((base + XAPIC_ICR_HIGH) as *mut u32).write_volatile(apic_id << 24);
                    low.write_volatile(command);
                }
                // SAFETY: as above; reading the ICR has no effect.
                tsc.wait(DELIVERY_TIMEOUT_US, || unsafe { low.read_volatile() } & DELIVERY_PENDING == 0)
            }
        }
    }
}
