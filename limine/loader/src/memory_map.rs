//! The memory-map response's entries: the firmware's map translated to Limine types, with the
//! loader's own placements (kernel, modules, framebuffer) laid over it, then sorted, trimmed
//! and merged into the shape the protocol guarantees.
//!
//! It runs after ExitBootServices, so it allocates nothing: it works in a caller-sized slice.

use core::fmt;
use uefi::boot::MemoryType;

/// Bytes per page.
pub const PAGE_SIZE: u64 = 4096;

/// The protocol never reports the first page as usable.
const FIRST_USABLE: u64 = 0x1000;

/// `LIMINE_MEMMAP_*`.
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryType(pub u64);

impl EntryType {
    /// Free for the kernel.
    pub const USABLE: Self = Self(0);
    /// Never to be used.
    pub const RESERVED: Self = Self(1);
    /// ACPI tables, free once parsed.
    pub const ACPI_RECLAIMABLE: Self = Self(2);
    /// ACPI non-volatile storage.
    pub const ACPI_NVS: Self = Self(3);
    /// Memory with errors.
    pub const BAD_MEMORY: Self = Self(4);
    /// The loader's memory (page tables, stack, responses), free once the kernel is done with it.
    pub const BOOTLOADER_RECLAIMABLE: Self = Self(5);
    /// The kernel image, the kernel file and the modules.
    pub const EXECUTABLE_AND_MODULES: Self = Self(6);
    /// The framebuffer.
    pub const FRAMEBUFFER: Self = Self(7);
}

/// `struct limine_memmap_entry`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Physical address of the first byte.
    pub base: u64,
    /// Size in bytes.
    pub length: u64,
    /// What the memory is.
    pub kind: EntryType,
}

impl Entry {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.base + self.length
    }
}

/// The output slice was too small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyEntries;

impl fmt::Display for TooManyEntries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the memory map has more entries than room was reserved for")
    }
}

/// The Limine type of firmware memory, as it stands once boot services have exited. The
/// loader's own allocations (`LOADER_*`) are bootloader-reclaimable unless an overlay says
/// otherwise; runtime-services and unknown memory stay reserved.
pub fn translate(ty: MemoryType) -> EntryType {
    match ty {
        MemoryType::CONVENTIONAL | MemoryType::BOOT_SERVICES_CODE | MemoryType::BOOT_SERVICES_DATA => {
            EntryType::USABLE
        }
        MemoryType::LOADER_CODE | MemoryType::LOADER_DATA => EntryType::BOOTLOADER_RECLAIMABLE,
        MemoryType::ACPI_RECLAIM => EntryType::ACPI_RECLAIMABLE,
        MemoryType::ACPI_NON_VOLATILE => EntryType::ACPI_NVS,
        MemoryType::UNUSABLE => EntryType::BAD_MEMORY,
        _ => EntryType::RESERVED,
    }
}

/// Builds the map into `out` and returns how many entries it holds: `firmware` entries (in any
/// order, non-overlapping), then each of `overlays` replacing whatever lies under it, widened
/// to whole pages. The result is sorted, has no usable memory below 0x1000, no empty or
/// overlapping entries, and no two adjacent entries of the same type.
pub fn build(
    firmware: impl IntoIterator<Item = Entry>,
    overlays: &[Entry],
    out: &mut [Entry],
) -> Result<usize, TooManyEntries> {
    let mut len = 0;
    for entry in firmware {
        push(out, &mut len, entry)?;
    }
    for overlay in overlays {
        let base = overlay.base & !(PAGE_SIZE - 1);
        let end = overlay.end().next_multiple_of(PAGE_SIZE);
        carve(out, &mut len, base, end)?;
        push(out, &mut len, Entry { base, length: end - base, kind: overlay.kind })?;
    }
    for entry in &mut out[..len] {
        if entry.kind == EntryType::USABLE && entry.base < FIRST_USABLE {
            let cut = entry.length.min(FIRST_USABLE - entry.base);
            entry.base += cut;
            entry.length -= cut;
        }
    }

    let entries = &mut out[..len];
    entries.sort_unstable_by_key(|e| (e.base, e.length));
    let mut kept = 0;
    for i in 0..len {
        let entry = out[i];
        if entry.length == 0 {
            continue;
        }
        if kept > 0 && out[kept - 1].kind == entry.kind && out[kept - 1].end() == entry.base {
            out[kept - 1].length += entry.length;
        } else {
            out[kept] = entry;
            kept += 1;
        }
    }
    Ok(kept)
}

fn push(out: &mut [Entry], len: &mut usize, entry: Entry) -> Result<(), TooManyEntries> {
    if entry.length == 0 {
        return Ok(());
    }
    *out.get_mut(*len).ok_or(TooManyEntries)? = entry;
    *len += 1;
    Ok(())
}

/// Removes `base..end` from every entry, splitting the one that contains it.
fn carve(out: &mut [Entry], len: &mut usize, base: u64, end: u64) -> Result<(), TooManyEntries> {
    for i in 0..*len {
        let entry = out[i];
        if entry.end() <= base || entry.base >= end {
            continue;
        }
        if entry.base < base {
            out[i].length = base - entry.base;
            if entry.end() > end {
                push(out, len, Entry { base: end, length: entry.end() - end, kind: entry.kind })?;
            }
        } else if entry.end() > end {
            out[i] = Entry { base: end, length: entry.end() - end, kind: entry.kind };
        } else {
            out[i].length = 0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const MIB: u64 = 1024 * 1024;

    fn e(base: u64, length: u64, kind: EntryType) -> Entry {
        Entry { base, length, kind }
    }

    fn run(firmware: &[Entry], overlays: &[Entry]) -> Vec<Entry> {
        let mut out = vec![e(0, 0, EntryType::RESERVED); firmware.len() + 2 * overlays.len()];
        let n = build(firmware.iter().copied(), overlays, &mut out).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn translates_firmware_types() {
        assert_eq!(translate(MemoryType::CONVENTIONAL), EntryType::USABLE);
        assert_eq!(translate(MemoryType::BOOT_SERVICES_DATA), EntryType::USABLE);
        assert_eq!(translate(MemoryType::LOADER_CODE), EntryType::BOOTLOADER_RECLAIMABLE);
        assert_eq!(translate(MemoryType::LOADER_DATA), EntryType::BOOTLOADER_RECLAIMABLE);
        assert_eq!(translate(MemoryType::ACPI_RECLAIM), EntryType::ACPI_RECLAIMABLE);
        assert_eq!(translate(MemoryType::ACPI_NON_VOLATILE), EntryType::ACPI_NVS);
        assert_eq!(translate(MemoryType::UNUSABLE), EntryType::BAD_MEMORY);
        assert_eq!(translate(MemoryType::RUNTIME_SERVICES_DATA), EntryType::RESERVED);
        assert_eq!(translate(MemoryType::MMIO), EntryType::RESERVED);
        assert_eq!(translate(MemoryType::custom(0x8000_0001)), EntryType::RESERVED);
    }

    #[test]
    fn sorts_and_merges_adjacent_entries_of_one_type() {
        let map = run(
            &[
                e(2 * MIB, MIB, EntryType::USABLE),
                e(0x1000, MIB - 0x1000, EntryType::USABLE),
                e(MIB, MIB, EntryType::USABLE),
                e(3 * MIB, MIB, EntryType::ACPI_NVS),
                e(5 * MIB, MIB, EntryType::USABLE),
            ],
            &[],
        );
        assert_eq!(
            map,
            vec![
                e(0x1000, 3 * MIB - 0x1000, EntryType::USABLE),
                e(3 * MIB, MIB, EntryType::ACPI_NVS),
                e(5 * MIB, MIB, EntryType::USABLE),
            ]
        );
    }

    #[test]
    fn the_first_page_is_never_usable() {
        let map = run(&[e(0, 0xa0000, EntryType::USABLE), e(0xf0000, 0x10000, EntryType::RESERVED)], &[]);
        assert_eq!(
            map,
            vec![e(0x1000, 0x9f000, EntryType::USABLE), e(0xf0000, 0x10000, EntryType::RESERVED)]
        );
        assert_eq!(run(&[e(0, 0x1000, EntryType::USABLE)], &[]), vec![]);
    }

    #[test]
    fn overlays_split_and_replace_what_they_cover() {
        let map = run(
            &[e(MIB, 8 * MIB, EntryType::BOOTLOADER_RECLAIMABLE), e(9 * MIB, MIB, EntryType::USABLE)],
            &[
                e(2 * MIB, MIB, EntryType::EXECUTABLE_AND_MODULES),
                e(4 * MIB, 0x3000, EntryType::EXECUTABLE_AND_MODULES),
                e(8 * MIB + 0x800, 2 * MIB - 0x1000, EntryType::FRAMEBUFFER),
            ],
        );
        assert_eq!(
            map,
            vec![
                e(MIB, MIB, EntryType::BOOTLOADER_RECLAIMABLE),
                e(2 * MIB, MIB, EntryType::EXECUTABLE_AND_MODULES),
                e(3 * MIB, MIB, EntryType::BOOTLOADER_RECLAIMABLE),
                e(4 * MIB, 0x3000, EntryType::EXECUTABLE_AND_MODULES),
                e(4 * MIB + 0x3000, 4 * MIB - 0x3000, EntryType::BOOTLOADER_RECLAIMABLE),
                e(8 * MIB, 2 * MIB, EntryType::FRAMEBUFFER),
            ]
        );
    }

    #[test]
    fn overlays_outside_the_firmware_map_are_added() {
        let map =
            run(&[e(0x1000, MIB, EntryType::USABLE)], &[e(0x8000_0000, 0x30_0000, EntryType::FRAMEBUFFER)]);
        assert_eq!(map[1], e(0x8000_0000, 0x30_0000, EntryType::FRAMEBUFFER));
    }

    #[test]
    fn every_entry_is_page_aligned_sorted_and_disjoint() {
        let map = run(
            &[
                e(0, 0x9f000, EntryType::USABLE),
                e(0x100000, 0x7ef00000, EntryType::USABLE),
                e(0x7f000000, 0x1000000, EntryType::BOOTLOADER_RECLAIMABLE),
            ],
            &[
                e(0x7f001000, 0x2000, EntryType::EXECUTABLE_AND_MODULES),
                e(0x7f800123, 0x10, EntryType::EXECUTABLE_AND_MODULES),
            ],
        );
        for pair in map.windows(2) {
            assert!(pair[0].end() <= pair[1].base, "{pair:?}");
            assert!(pair[0].kind != pair[1].kind || pair[0].end() != pair[1].base, "{pair:?}");
        }
        assert!(map.iter().all(|e| e.base % PAGE_SIZE == 0 && e.length % PAGE_SIZE == 0));
    }

    #[test]
    fn reports_overflow_instead_of_writing_past_the_slice() {
        let mut out = [e(0, 0, EntryType::USABLE); 1];
        let firmware = [e(0x1000, 0x1000, EntryType::USABLE), e(0x3000, 0x1000, EntryType::USABLE)];
        assert_eq!(build(firmware, &[], &mut out), Err(TooManyEntries));
    }
}
