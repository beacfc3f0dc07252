//! MSI-X: where a function keeps its table of interrupt messages and its pending bits. Each
//! table entry is an address and data the device writes to raise an interrupt, which only the
//! kernel may choose; so the kernel needs to know which bytes of which BAR hold the table.

use super::{Address, ConfigSpace};

/// What a function's MSI-X capability says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msix {
    /// Entries in the table (1 to 2048).
    pub entries: u16,
    /// The BAR (0 to 5) and byte offset of the table, 16 bytes an entry.
    pub table: (u8, u32),
    /// The BAR and byte offset of the pending-bit array, a bit an entry.
    pub pending: (u8, u32),
}

impl Msix {
    /// Reads the MSI-X capability at `offset`; `None` if it names a BAR that cannot exist.
    pub fn read(config: &mut impl ConfigSpace, address: Address, offset: u8) -> Option<Self> {
        let control = config.read(address, offset) >> 16;
        let table = config.read(address, offset + 4);
        let pending = config.read(address, offset + 8);
        let locate = |register: u32| {
            let bar = (register & 0b111) as u8;
            (bar < 6).then_some((bar, register & !0b111))
        };
        Some(Self { entries: (control & 0x7ff) as u16 + 1, table: locate(table)?, pending: locate(pending)? })
    }
}
