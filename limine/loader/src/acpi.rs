//! The ACPI tables the hand-off needs: the RSDP from the UEFI configuration table, and the
//! MADT, which lists the I/O APICs (whose interrupt lines the protocol says arrive masked) and
//! the processors (which the MP request starts); `minimalos_loader::madt` reads its entries.

use uefi::system;
use uefi::table::cfg::{ACPI_GUID, ACPI2_GUID};

/// Bytes of the header every system description table starts with.
const SDT_HEADER: u64 = 36;

/// The RSDP the firmware published. Only [`rsdp`] makes one, so every address this module
/// reads is derived from the firmware's own tables.
#[derive(Debug, Clone, Copy)]
pub struct Rsdp(u64);

impl Rsdp {
    /// Its physical address.
    pub fn address(self) -> u64 {
        self.0
    }
}

/// The RSDP from the UEFI configuration table, preferring the ACPI 2.0 one.
pub fn rsdp() -> Option<Rsdp> {
    system::with_config_table(|tables| {
        [ACPI2_GUID, ACPI_GUID]
            .iter()
            .find_map(|guid| tables.iter().find(|t| t.guid == *guid))
            .map(|t| Rsdp(t.address as u64))
    })
}

/// The MADT, found through the RSDT or XSDT `rsdp` points to; `None` when the tables do not
/// have one.
pub fn madt(rsdp: Rsdp) -> Option<&'static [u8]> {
    let rsdp = rsdp.address();
    if read::<[u8; 8]>(rsdp) != *b"RSD PTR " {
        return None;
    }
    // ACPI 2.0+ RSDPs point at the XSDT (64-bit entries), ACPI 1.0 ones at the RSDT (32-bit).
    let (root, entry_size) = if read::<u8>(rsdp + 15) >= 2 {
        (read::<u64>(rsdp + 24), 8)
    } else {
        (u64::from(read::<u32>(rsdp + 16)), 4)
    };
    let madt = tables(root, entry_size).find(|&t| read::<[u8; 4]>(t) == *b"APIC")?;
    let length = read::<u32>(madt + 4) as usize;
    // SAFETY: as for `read`: the firmware reserved the table's `length` bytes for it, keeps
    // them identity-mapped, and nothing writes them while the loader runs.
    Some(unsafe { core::slice::from_raw_parts(madt as *const u8, length) })
}

/// The tables an RSDT or XSDT at `root` lists.
fn tables(root: u64, entry_size: u64) -> impl Iterator<Item = u64> {
    let length = u64::from(read::<u32>(root + 4));
    let count = length.saturating_sub(SDT_HEADER) / entry_size;
    (0..count).map(move |i| {
        let at = root + SDT_HEADER + i * entry_size;
        if entry_size == 8 { read::<u64>(at) } else { u64::from(read::<u32>(at)) }
    })
}

/// Reads a value from the firmware's ACPI tables; `address` is always derived from an [`Rsdp`].
fn read<T: Copy>(address: u64) -> T {
    // SAFETY: ACPI tables are in memory the firmware reserved for them and identity-maps;
    // they are only read, and `read_unaligned` allows any alignment.
    unsafe { (address as *const T).read_unaligned() }
}
