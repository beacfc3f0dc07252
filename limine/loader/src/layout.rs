//! What the kernel's address space must contain at entry, per the protocol's "Entry memory
//! layout": which physical ranges the direct maps cover, and the kernel's pages with the
//! permissions of its segments.

use alloc::vec::Vec;
use core::ops::Range;

use crate::memory_map::{Entry, EntryType};
use crate::paging::{Flags, PAGE_2M, PAGE_4K};

/// The direct maps always cover the first 4 GiB.
const LOW_MEMORY: u64 = 1 << 32;

/// Physical ranges the HHDM covers under `revision`: the first 4 GiB and every memory-map
/// entry above it, except (from revision 1 on) reserved and bad memory. Ranges are widened to
/// 2 MiB so they can use large pages, and returned sorted and disjoint.
pub fn direct_map(memory_map: &[Entry], revision: u64) -> Vec<Range<u64>> {
    let mut ranges: Vec<Range<u64>> = memory_map
        .iter()
        .filter(|e| {
            e.end() > LOW_MEMORY
                && (revision == 0 || !matches!(e.kind, EntryType::RESERVED | EntryType::BAD_MEMORY))
        })
        .map(|e| (e.base.max(LOW_MEMORY) & !(PAGE_2M - 1))..e.end().next_multiple_of(PAGE_2M))
        .collect();
    ranges.push(0..LOW_MEMORY);
    ranges.sort_unstable_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    merged
}

/// A loadable segment of the kernel: where it is linked and what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Link address of the first byte.
    pub virt: u64,
    /// Bytes in memory, bss included.
    pub mem_size: u64,
    /// `PF_W`.
    pub writable: bool,
    /// `PF_X`.
    pub executable: bool,
}

/// The kernel's pages as (page-aligned virtual range, flags), for segments sorted by address.
/// A page two segments share gets the union of their permissions, so neither loses access.
pub fn kernel_pages(segments: &[Segment]) -> Vec<(Range<u64>, Flags)> {
    let mut pages: Vec<(Range<u64>, Flags)> = Vec::with_capacity(segments.len() * 2);
    for segment in segments.iter().filter(|s| s.mem_size > 0) {
        let start = segment.virt & !(PAGE_4K - 1);
        let end = (segment.virt + segment.mem_size).next_multiple_of(PAGE_4K);
        let flags =
            Flags { writable: segment.writable, executable: segment.executable, write_combining: false };
        let mut rest = start..end;
        // Sorted segments can only share the first page of this one with the previous one.
        if let Some((last, last_flags)) = pages.last_mut()
            && last.end > start
        {
            let shared = Flags {
                writable: last_flags.writable || flags.writable,
                executable: last_flags.executable || flags.executable,
                write_combining: false,
            };
            last.end = start;
            if last.is_empty() {
                pages.pop();
            }
            pages.push((start..start + PAGE_4K, shared));
            rest.start += PAGE_4K;
        }
        if !rest.is_empty() {
            pages.push((rest, flags));
        }
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const GIB: u64 = 1 << 30;

    fn entry(base: u64, length: u64, kind: EntryType) -> Entry {
        Entry { base, length, kind }
    }

    #[test]
    fn small_machines_get_the_first_4_gib() {
        let map =
            [entry(0x1000, 128 << 20, EntryType::USABLE), entry(0xffc0_0000, 0x40_0000, EntryType::RESERVED)];
        assert_eq!(direct_map(&map, 2), vec![0..4 * GIB]);
    }

    #[test]
    fn memory_above_4_gib_is_added_but_not_reserved_ranges_from_revision_1() {
        let map = [
            entry(0x1000, 2 * GIB, EntryType::USABLE),
            entry(4 * GIB, 2 * GIB + 0x1000, EntryType::USABLE),
            entry(6 * GIB + 0x1000, 0x1000, EntryType::ACPI_NVS),
            entry(0xfd_0000_0000, 0x3_0000_0000, EntryType::RESERVED),
            entry(0x100_0000_0000, GIB, EntryType::BAD_MEMORY),
        ];
        assert_eq!(direct_map(&map, 2), vec![0..6 * GIB + PAGE_2M]);
        assert_eq!(
            direct_map(&map, 0),
            vec![0..6 * GIB + PAGE_2M, 0xfd_0000_0000..0x100_0000_0000 + GIB],
            "revision 0 maps reserved and bad memory too"
        );
    }

    #[test]
    fn unaligned_high_entries_are_widened_to_2_mib() {
        let map = [entry(8 * GIB + 0x3000, 0x1000, EntryType::BOOTLOADER_RECLAIMABLE)];
        assert_eq!(direct_map(&map, 2), vec![0..4 * GIB, 8 * GIB..8 * GIB + PAGE_2M]);
    }

    fn segment(virt: u64, mem_size: u64, writable: bool, executable: bool) -> Segment {
        Segment { virt, mem_size, writable, executable }
    }

    const BASE: u64 = 0xffff_ffff_8000_0000;
    const R: Flags = Flags { writable: false, executable: false, write_combining: false };
    const RW: Flags = Flags { writable: true, executable: false, write_combining: false };
    const RX: Flags = Flags { writable: false, executable: true, write_combining: false };
    const RWX: Flags = Flags { writable: true, executable: true, write_combining: false };

    #[test]
    fn page_aligned_segments_keep_their_permissions() {
        let pages = kernel_pages(&[
            segment(BASE, 0x210, true, false),
            segment(BASE + 0x1000, 0x829a, false, true),
            segment(BASE + 0xa000, 0x274c, false, false),
            segment(BASE + 0xd000, 0x1e8, true, false),
        ]);
        assert_eq!(
            pages,
            vec![
                (BASE..BASE + 0x1000, RW),
                (BASE + 0x1000..BASE + 0xa000, RX),
                (BASE + 0xa000..BASE + 0xd000, R),
                (BASE + 0xd000..BASE + 0xe000, RW),
            ]
        );
    }

    #[test]
    fn shared_pages_get_both_permissions() {
        let pages = kernel_pages(&[
            segment(BASE, 0x1800, false, true),
            segment(BASE + 0x1800, 0x1000, true, false),
            segment(BASE + 0x2800, 0x100, false, false),
            segment(BASE + 0x2900, 0x100, false, false),
        ]);
        assert_eq!(
            pages,
            vec![
                (BASE..BASE + 0x1000, RX),
                (BASE + 0x1000..BASE + 0x2000, RWX),
                (BASE + 0x2000..BASE + 0x3000, RW),
            ]
        );
    }
}
