//! I/O APICs: route device interrupt lines (global system interrupts) to vectors on a CPU.

use crate::mem::{self, MemError};

/// Register select and data window offsets in the I/O APIC's MMIO page.
const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const REG_VERSION: u32 = 0x01;
const REG_REDIRECTION: u32 = 0x10;

const ENTRY_ACTIVE_LOW: u32 = 1 << 13;
const ENTRY_LEVEL: u32 = 1 << 15;
const ENTRY_MASKED: u32 = 1 << 16;

/// One I/O APIC.
#[derive(Debug)]
pub struct IoApic {
    base: u64,
    gsi_base: u32,
    lines: u32,
}

/// How an interrupt line signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMode {
    /// Asserted when low.
    pub active_low: bool,
    /// Level-triggered rather than edge-triggered.
    pub level: bool,
}

impl IoApic {
    /// Maps the I/O APIC at `phys` serving interrupts from `gsi_base`, with every line masked.
    pub fn new(phys: u64, gsi_base: u32) -> Result<Self, MemError> {
        let base = mem::paging::map_mmio(phys, 4096)?;
        let mut apic = Self { base, gsi_base, lines: 0 };
        apic.lines = ((apic.read(REG_VERSION) >> 16) & 0xff) + 1;
        for line in 0..apic.lines {
            apic.write_entry(line, ENTRY_MASKED, 0);
        }
        Ok(apic)
    }

    fn read(&self, reg: u32) -> u32 {
        // SAFETY: `base` maps this I/O APIC's registers uncached; selecting then reading the
        // window is its access protocol, and only the boot CPU, with interrupts off or in this
        // module, drives it.
        unsafe {
            ((self.base + IOREGSEL) as *mut u32).write_volatile(reg);
            ((self.base + IOWIN) as *const u32).read_volatile()
        }
    }

    fn write(&self, reg: u32, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            ((self.base + IOREGSEL) as *mut u32).write_volatile(reg);
            ((self.base + IOWIN) as *mut u32).write_volatile(value);
        }
    }

    fn write_entry(&self, line: u32, low: u32, high: u32) {
        // The high half (destination) first, so the entry never points at a stale CPU unmasked.
        self.write(REG_REDIRECTION + 2 * line + 1, high);
        self.write(REG_REDIRECTION + 2 * line, low);
    }

    /// Whether this I/O APIC serves `gsi`.
    pub fn serves(&self, gsi: u32) -> bool {
        gsi.checked_sub(self.gsi_base).is_some_and(|line| line < self.lines)
    }

    /// Delivers `gsi` as `vector` to the local APIC `apic_id` (fixed delivery, physical mode).
    pub fn route(&self, gsi: u32, mode: LineMode, vector: u8, apic_id: u8) {
        let line = gsi - self.gsi_base;
        let mut low = u32::from(vector);
        if mode.active_low {
            low |= ENTRY_ACTIVE_LOW;
        }
        if mode.level {
            low |= ENTRY_LEVEL;
        }
        self.write_entry(line, low, u32::from(apic_id) << 24);
    }
}
