//! ACPI tables, read once at boot for what the kernel needs: the interrupt controllers (MADT).

use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use alloc::vec::Vec;
use core::ptr::NonNull;

use super::ioapic::LineMode;
use crate::mem::paging;

/// Gives the `acpi` crate access to table memory: through the direct map when it covers the
/// table, else through a new uncached mapping (firmware may put tables outside the memory map).
#[derive(Clone, Copy, Debug)]
struct TableAccess;

impl AcpiHandler for TableAccess {
    unsafe fn map_physical_region<T>(
        &self,
        physical_address: usize,
        size: usize,
    ) -> PhysicalMapping<Self, T> {
        let virt = paging::phys_to_virt(physical_address as u64, size as u64)
            .unwrap_or_else(|e| panic!("cannot map ACPI table at {physical_address:#x}: {e}"));
        let virt = NonNull::new(virt as *mut T).expect("mapped tables are never at address 0");
        // SAFETY: `virt` maps `size` bytes from `physical_address` for the kernel's lifetime.
        unsafe { PhysicalMapping::new(physical_address, virt, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {
        // Mappings are kept: the tables are read once, at boot.
    }
}

/// An ISA interrupt the firmware wired to a different line or mode than the ISA default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceOverride {
    /// ISA IRQ number.
    pub irq: u8,
    /// The global system interrupt it arrives on.
    pub gsi: u32,
    /// MPS INTI flags: polarity in bits 0–1, trigger mode in bits 2–3.
    pub flags: u16,
}

/// An I/O APIC as the MADT describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoApicInfo {
    /// Physical address of its registers.
    pub address: u64,
    /// First global system interrupt it serves.
    pub gsi_base: u32,
}

/// The interrupt controllers of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptModel {
    /// Physical address of the local APICs' registers.
    pub local_apic: u64,
    /// The I/O APICs.
    pub io_apics: Vec<IoApicInfo>,
    /// ISA interrupts that are not wired the default way.
    pub overrides: Vec<SourceOverride>,
}

/// Why the ACPI tables could not be used.
#[derive(Debug)]
pub struct AcpiError(pub acpi::AcpiError);

impl core::fmt::Display for AcpiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ACPI tables unusable: {:?}", self.0)
    }
}

/// Reads the MADT through the RSDP at physical address `rsdp`.
pub fn interrupt_model(rsdp: u64) -> Result<InterruptModel, AcpiError> {
    // SAFETY: `rsdp` is the RSDP address the firmware reported through the loader.
    let tables = unsafe { AcpiTables::from_rsdp(TableAccess, rsdp as usize) }.map_err(AcpiError)?;
    let madt = tables.find_table::<Madt>().map_err(AcpiError)?;
    let mut model = InterruptModel {
        local_apic: u64::from(madt.get().local_apic_address),
        io_apics: Vec::new(),
        overrides: Vec::new(),
    };
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::IoApic(e) => model.io_apics.push(IoApicInfo {
                address: u64::from(e.io_apic_address),
                gsi_base: e.global_system_interrupt_base,
            }),
            MadtEntry::InterruptSourceOverride(e) if e.bus == 0 => model.overrides.push(SourceOverride {
                irq: e.irq,
                gsi: e.global_system_interrupt,
                flags: e.flags,
            }),
            MadtEntry::LocalApicAddressOverride(e) => model.local_apic = e.local_apic_address,
            _ => {}
        }
    }
    Ok(model)
}

/// Where ISA IRQ `irq` arrives and how it signals, given the firmware's overrides.
pub fn isa_route(irq: u8, overrides: &[SourceOverride]) -> (u32, LineMode) {
    let isa_default = LineMode { active_low: false, level: false };
    let Some(o) = overrides.iter().find(|o| o.irq == irq) else { return (u32::from(irq), isa_default) };
    let mode = LineMode {
        // 0b00: the bus's default (ISA: active high); 0b11: active low.
        active_low: o.flags & 0b11 == 0b11,
        // 0b00: the bus's default (ISA: edge); 0b11: level.
        level: (o.flags >> 2) & 0b11 == 0b11,
    };
    (o.gsi, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isa_irqs_follow_overrides_and_default_to_edge_high() {
        let overrides =
            [SourceOverride { irq: 0, gsi: 2, flags: 0 }, SourceOverride { irq: 9, gsi: 9, flags: 0b1111 }];
        assert_eq!(isa_route(4, &overrides), (4, LineMode { active_low: false, level: false }));
        assert_eq!(isa_route(0, &overrides), (2, LineMode { active_low: false, level: false }));
        assert_eq!(isa_route(9, &overrides), (9, LineMode { active_low: true, level: true }));
    }
}
