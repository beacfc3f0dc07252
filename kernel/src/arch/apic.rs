//! The local APICs: interrupt acknowledgement (EOI), the spurious vector, the APIC timer and
//! interrupts sent to other CPUs. x2APIC (registers as MSRs) where the CPU has it, xAPIC
//! (memory-mapped) otherwise. Every CPU reaches its own APIC at the same address (or MSRs), so
//! one [`LocalApic`] serves them all.

use core::arch::x86_64::__cpuid;
use spin::Once;
use x86_64::registers::model_specific::Msr;

use super::pit;
use crate::mem::{self, MemError};

/// Vector the APIC raises for interrupts it had to drop; such interrupts take no EOI.
pub const SPURIOUS_VECTOR: u8 = 0xff;

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
/// First x2APIC MSR; register at MMIO offset `o` is MSR `X2APIC_MSR_BASE + o / 16`.
const X2APIC_MSR_BASE: u32 = 0x800;

// Register offsets in the xAPIC MMIO page.
const REG_ID: u32 = 0x20;
const REG_EOI: u32 = 0xb0;
const REG_SPURIOUS: u32 = 0xf0;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const REG_LVT_TIMER: u32 = 0x320;
const REG_TIMER_INITIAL: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIVIDE: u32 = 0x3e0;

const SPURIOUS_APIC_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
/// ICR: the last interrupt sent is still being delivered (xAPIC only).
const ICR_SEND_PENDING: u32 = 1 << 12;
/// ICR: deliver as a non-maskable interrupt.
const ICR_NMI: u32 = 0b100 << 8;
/// ICR destination shorthand: every CPU but the sender.
const ICR_ALL_BUT_SELF: u32 = 0b11 << 18;
/// Divide configuration for "divide by 16": slow enough that a 32-bit count spans seconds.
const TIMER_DIVIDE_BY_16: u32 = 0b0011;
/// PIT ticks the timer calibration lasts: 10 ms.
const CALIBRATION_TICKS: u16 = (pit::PIT_HZ / 100) as u16;

/// How the registers are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Through MSRs.
    X2Apic,
    /// Through the MMIO page mapped at this virtual address.
    XApic(u64),
}

impl core::fmt::Display for Mode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::X2Apic => write!(f, "x2APIC"),
            Self::XApic(_) => write!(f, "xAPIC"),
        }
    }
}

/// The local APIC, as every CPU reaches its own.
#[derive(Debug)]
pub struct LocalApic {
    mode: Mode,
}

static LAPIC: Once<LocalApic> = Once::new();

/// Enables the boot CPU's local APIC (x2APIC when available) with the spurious vector set;
/// `mmio_phys` is its register page from ACPI, used in xAPIC mode.
pub fn init(mmio_phys: u64) -> Result<&'static LocalApic, MemError> {
    let x2apic = __cpuid(1).ecx & (1 << 21) != 0;
    enable(x2apic);
    let mode = if x2apic { Mode::X2Apic } else { Mode::XApic(mem::paging::map_mmio(mmio_phys, 4096)?) };
    let apic = LAPIC.call_once(|| LocalApic { mode });
    apic.write(REG_SPURIOUS, SPURIOUS_APIC_ENABLE | u32::from(SPURIOUS_VECTOR));
    Ok(apic)
}

/// As [`init`], on another CPU once the boot CPU's has run: the same mode, so the one
/// [`LocalApic`] reaches it. `None` before [`init`].
pub fn init_other_cpu() -> Option<&'static LocalApic> {
    let apic = LAPIC.get()?;
    enable(apic.mode == Mode::X2Apic);
    apic.write(REG_SPURIOUS, SPURIOUS_APIC_ENABLE | u32::from(SPURIOUS_VECTOR));
    Some(apic)
}

/// Sets this CPU's APIC enable bits.
fn enable(x2apic: bool) {
    let mut base = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC; setting the enable bits (x2APIC
    // only when CPUID reports it) keeps the base address.
    unsafe {
        let value = base.read() | APIC_BASE_ENABLE;
        base.write(if x2apic { value | APIC_BASE_X2APIC } else { value });
    }
}

/// The local APIC, once [`init`] has run.
pub fn get() -> Option<&'static LocalApic> {
    LAPIC.get()
}

impl LocalApic {
    fn read(&self, reg: u32) -> u32 {
        match self.mode {
            // SAFETY: an x2APIC register MSR, readable in x2APIC mode which `init` enabled.
            Mode::X2Apic => unsafe { Msr::new(X2APIC_MSR_BASE + reg / 16).read() as u32 },
            // SAFETY: `base` maps the APIC's register page uncached; `reg` is a register offset.
            Mode::XApic(base) => unsafe { ((base + u64::from(reg)) as *const u32).read_volatile() },
        }
    }

    fn write(&self, reg: u32, value: u32) {
        match self.mode {
            // SAFETY: as in `read`; every register this module writes is writable.
            Mode::X2Apic => unsafe { Msr::new(X2APIC_MSR_BASE + reg / 16).write(u64::from(value)) },
            // SAFETY: as in `read`.
            Mode::XApic(base) => unsafe { ((base + u64::from(reg)) as *mut u32).write_volatile(value) },
        }
    }

    /// How the registers are reached.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// This APIC's id (what the I/O APIC addresses interrupts to).
    pub fn id(&self) -> u32 {
        match self.mode {
            Mode::X2Apic => self.read(REG_ID),
            Mode::XApic(_) => self.read(REG_ID) >> 24,
        }
    }

    /// Signals the end of the interrupt being handled.
    pub fn eoi(&self) {
        self.write(REG_EOI, 0);
    }

    /// Measures the timer's rate (after divide-by-16) against the PIT, in ticks per second.
    pub fn calibrate_timer(&self) -> u64 {
        self.write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
        self.write(REG_LVT_TIMER, LVT_MASKED);
        self.write(REG_TIMER_INITIAL, u32::MAX);
        let (start, end) = pit::measure(CALIBRATION_TICKS, || self.read(REG_TIMER_CURRENT));
        self.write(REG_TIMER_INITIAL, 0);
        pit::rate(u64::from(start - end), CALIBRATION_TICKS)
    }

    /// Sends `vector` to the CPU whose APIC id is `apic_id` (fixed delivery, physical
    /// destination). Call with interrupts off: an interrupt handler's own send between the two
    /// xAPIC register writes would redirect this one.
    pub fn send_ipi(&self, apic_id: u32, vector: u8) {
        match self.mode {
            Mode::X2Apic => {
                // SAFETY: the x2APIC ICR MSR, writable in x2APIC mode; one write sends.
                unsafe {
                    Msr::new(X2APIC_MSR_BASE + REG_ICR_LOW / 16)
                        .write(u64::from(apic_id) << 32 | u64::from(vector))
                }
            }
            Mode::XApic(_) => {
                // Bounded: delivery takes microseconds; a stuck APIC must not hang the sender.
                for _ in 0..100_000 {
                    if self.read(REG_ICR_LOW) & ICR_SEND_PENDING == 0 {
                        break;
                    }
                    core::hint::spin_loop();
                }
                self.write(REG_ICR_HIGH, apic_id << 24);
                self.write(REG_ICR_LOW, u32::from(vector));
            }
        }
    }

    /// Sends a non-maskable interrupt to every other CPU: even one stuck with interrupts off
    /// takes it.
    pub fn send_nmi_to_others(&self) {
        match self.mode {
            // SAFETY: the x2APIC ICR MSR, writable in x2APIC mode; one write sends.
            Mode::X2Apic => unsafe {
                Msr::new(X2APIC_MSR_BASE + REG_ICR_LOW / 16).write(u64::from(ICR_ALL_BUT_SELF | ICR_NMI))
            },
            Mode::XApic(_) => self.write(REG_ICR_LOW, ICR_ALL_BUT_SELF | ICR_NMI),
        }
    }

    /// Stops this CPU's timer (a halted CPU with nothing to run needs no ticks).
    pub fn stop_timer(&self) {
        self.write(REG_TIMER_INITIAL, 0);
    }

    /// Starts the timer raising `vector` every `ticks` (at the calibrated rate).
    pub fn start_periodic_timer(&self, vector: u8, ticks: u32) {
        self.write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
        self.write(REG_LVT_TIMER, LVT_TIMER_PERIODIC | u32::from(vector));
        self.write(REG_TIMER_INITIAL, ticks.max(1));
    }
}
