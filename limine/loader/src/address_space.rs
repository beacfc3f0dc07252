//! The kernel's address space at entry, built in page tables the firmware allocates: the HHDM
//! (and for base revision 0 the identity map), the framebuffer, the kernel's segments, and the
//! hand-off code and the APs' trampoline identity-mapped for the page-table switch (the
//! hand-off unmaps them itself).

use core::ops::Range;
use minimalos_loader::layout;
use minimalos_loader::memory_map::Entry;
use minimalos_loader::paging::{Flags, PAGE_4K, PageTables, TableMemory};
use minimalos_loader::protocol::HHDM_OFFSET;

use crate::cpu::Features;
use crate::error::Error;
use crate::executable::Kernel;
use crate::memory;

/// Framebuffer mappings: like the rest of the HHDM (rwx), but write-combining.
const FRAMEBUFFER: Flags = Flags { write_combining: true, ..Flags::RWX };
/// The hand-off code.
const CODE: Flags = Flags { writable: false, executable: true, write_combining: false };
/// The identity map of base revision 0 starts at the second page.
const IDENTITY_START: u64 = 0x1000;

/// The tables stay below this: the APs' trampoline loads CR3 in real mode, 32 bits wide.
const TABLES_BELOW: u64 = 1 << 32;

/// Page tables in pages from the firmware.
struct FirmwarePages;

impl TableMemory for FirmwarePages {
    fn allocate_table(&mut self) -> Option<u64> {
        memory::allocate_page_below(TABLES_BELOW, "page tables").ok()
    }

    fn table(&mut self, phys: u64) -> &mut [u64; 512] {
        // SAFETY: `phys` came from `allocate_table`: a zeroed, page-aligned page owned by the
        // page tables alone and identity-mapped; `&mut self` keeps the borrow unique.
        unsafe { &mut *(phys as *mut [u64; 512]) }
    }
}

/// What goes into the address space.
pub struct Contents<'a> {
    /// The base revision the kernel is booted with.
    pub revision: u64,
    /// The firmware's memory map, in Limine types, as it stands before the hand-off.
    pub memory_map: &'a [Entry],
    pub kernel: &'a Kernel,
    /// The framebuffer's physical range.
    pub framebuffer: Option<Range<u64>>,
    pub features: Features,
    /// The page the APs start in, if any: they turn paging on there.
    pub ap_trampoline: Option<u64>,
}

/// Builds the tables; returns the PML4's physical address.
pub fn build(contents: &Contents) -> Result<u64, Error> {
    let Contents { revision, memory_map, kernel, ref framebuffer, features, ap_trampoline } = *contents;
    let mut tables = PageTables::new(FirmwarePages, features.huge_pages, features.no_execute)?;

    let direct = layout::direct_map(memory_map, revision);
    let top = direct.last().map_or(0, |r| r.end);
    if top > 1 << features.physical_address_bits {
        return Err(Error::MemoryBeyondPhysicalAddressBits { top, bits: features.physical_address_bits });
    }
    for range in &direct {
        tables.map(HHDM_OFFSET + range.start, range.start, range.end - range.start, Flags::RWX)?;
        if revision == 0 {
            let start = range.start.max(IDENTITY_START);
            tables.map(start, start, range.end - start, Flags::RWX)?;
        }
    }
    if let Some(framebuffer) = framebuffer {
        let start = framebuffer.start & !(PAGE_4K - 1);
        let end = framebuffer.end.next_multiple_of(PAGE_4K);
        tables.map(HHDM_OFFSET + start, start, end - start, FRAMEBUFFER)?;
    }
    for (pages, flags) in layout::kernel_pages(&kernel.segments) {
        let phys = kernel.physical_base + (pages.start - kernel.virtual_base);
        tables.map(pages.start, phys, pages.end - pages.start, flags)?;
    }
    // Revision 0's identity map already covers the hand-off code, which runs from loader memory.
    if revision != 0 {
        let trampoline = crate::handoff::trampoline();
        tables.map(trampoline.start, trampoline.start, trampoline.end - trampoline.start, CODE)?;
    }
    // Mapped as revision 0's identity map would, whatever the revision: `handoff::jump` empties
    // the lower half once the APs have moved on to the page's HHDM alias. (Revision 0's map
    // starts at the second page, so it may not cover this one.)
    if let Some(page) = ap_trampoline {
        tables.map(page, page, PAGE_4K, Flags::RWX)?;
    }
    Ok(tables.root())
}
