//! x86_64 4-level page tables, built in table memory the caller provides, using the largest
//! page size that alignment allows.

use core::fmt;

/// A 4 KiB page.
pub const PAGE_4K: u64 = 1 << 12;
/// A 2 MiB page.
pub const PAGE_2M: u64 = 1 << 21;
/// A 1 GiB page.
pub const PAGE_1G: u64 = 1 << 30;

const PRESENT: u64 = 1 << 0;
const WRITABLE: u64 = 1 << 1;
const WRITE_THROUGH: u64 = 1 << 3;
/// In a directory entry: this entry maps a large page instead of pointing to a table.
const LARGE: u64 = 1 << 7;
/// The PAT index bit of a 4 KiB entry.
const PAT_4K: u64 = 1 << 7;
/// The PAT index bit of a 2 MiB or 1 GiB entry.
const PAT_LARGE: u64 = 1 << 12;
const NO_EXECUTE: u64 = 1 << 63;
const ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// How a range is mapped. Supervisor-only and, unless `write_combining`, write-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// Writes allowed.
    pub writable: bool,
    /// Instruction fetches allowed (when the CPU can forbid them at all).
    pub executable: bool,
    /// PAT entry 5, which the protocol's PAT layout makes write-combining.
    pub write_combining: bool,
}

impl Flags {
    /// Read, write and execute, write-back: the protocol's HHDM and identity maps.
    pub const RWX: Self = Self { writable: true, executable: true, write_combining: false };
}

/// Where page tables live: the loader allocates pages, host tests use a vector.
pub trait TableMemory {
    /// A zeroed 4 KiB page for a table, by physical address; `None` when memory ran out.
    fn allocate_table(&mut self) -> Option<u64>;
    /// The table at `phys`, which [`TableMemory::allocate_table`] returned.
    fn table(&mut self, phys: u64) -> &mut [u64; 512];
}

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingError {
    /// No memory for another table.
    OutOfMemory,
    /// An address or length that is not a multiple of 4 KiB, or a non-canonical address.
    BadRange { virt: u64, phys: u64, length: u64 },
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfMemory => write!(f, "out of memory for page tables"),
            Self::BadRange { virt, phys, length } => {
                write!(f, "cannot map {length:#x} bytes at {virt:#x} to {phys:#x}")
            }
        }
    }
}

/// A 4-level address space under construction.
pub struct PageTables<M> {
    memory: M,
    root: u64,
    huge_pages: bool,
    no_execute: bool,
}

impl<M: TableMemory> PageTables<M> {
    /// An empty address space. `huge_pages`: the CPU has 1 GiB pages; `no_execute`: EFER.NXE
    /// will be set, so non-executable mappings can say so.
    pub fn new(mut memory: M, huge_pages: bool, no_execute: bool) -> Result<Self, PagingError> {
        let root = memory.allocate_table().ok_or(PagingError::OutOfMemory)?;
        Ok(Self { memory, root, huge_pages, no_execute })
    }

    /// Physical address of the PML4, for CR3.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Maps `length` bytes at `virt` to `phys`, replacing earlier mappings of the same pages.
    pub fn map(&mut self, virt: u64, phys: u64, length: u64, flags: Flags) -> Result<(), PagingError> {
        let bad = PagingError::BadRange { virt, phys, length };
        if !(virt | phys | length).is_multiple_of(PAGE_4K) || !canonical(virt) {
            return Err(bad);
        }
        let end = virt.checked_add(length).ok_or(bad)?;
        if length > 0 && !canonical(end - 1) {
            return Err(bad);
        }
        let (mut virt, mut phys, mut left) = (virt, phys, length);
        while left > 0 {
            let mut mapped = None;
            for (size, level) in [(PAGE_1G, 3), (PAGE_2M, 2), (PAGE_4K, 1)] {
                if (size == PAGE_1G && !self.huge_pages) || !(virt | phys).is_multiple_of(size) || left < size
                {
                    continue;
                }
                if self.map_page(virt, phys, level, flags)? {
                    mapped = Some(size);
                    break;
                }
            }
            // 4 KiB pages always fit, so some size was mapped.
            let size = mapped.unwrap_or(PAGE_4K);
            virt = virt.wrapping_add(size);
            phys += size;
            left -= size;
        }
        Ok(())
    }

    /// Maps one page at `level` (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). Returns false, changing
    /// nothing visible, when a large page cannot go there because a table already does.
    fn map_page(&mut self, virt: u64, phys: u64, level: u32, flags: Flags) -> Result<bool, PagingError> {
        let mut table = self.root;
        for parent in (level + 1..=4).rev() {
            let index = table_index(virt, parent);
            let entry = self.memory.table(table)[index];
            table = if entry & PRESENT == 0 {
                let child = self.memory.allocate_table().ok_or(PagingError::OutOfMemory)?;
                self.memory.table(table)[index] = child | PRESENT | WRITABLE;
                child
            } else if parent <= 3 && entry & LARGE != 0 {
                self.split(table, index, parent)?
            } else {
                entry & ADDRESS
            };
        }
        let leaf = phys | self.leaf_bits(level, flags);
        let slot = &mut self.memory.table(table)[table_index(virt, level)];
        if level > 1 && *slot & PRESENT != 0 && *slot & LARGE == 0 {
            return Ok(false);
        }
        *slot = leaf;
        Ok(true)
    }

    /// Replaces the large page in `table[index]` (at `level`) by a table of pages one level
    /// down mapping the same memory the same way; returns the new table.
    fn split(&mut self, table: u64, index: usize, level: u32) -> Result<u64, PagingError> {
        let entry = self.memory.table(table)[index];
        let child_size = if level == 3 { PAGE_2M } else { PAGE_4K };
        let base = entry & ADDRESS & !(child_size * 512 - 1);
        let mut bits = entry & !ADDRESS;
        if level == 2 {
            // 4 KiB entries keep the PAT bit where 2 MiB entries have the large-page bit.
            let pat = bits & PAT_LARGE != 0;
            bits &= !(LARGE | PAT_LARGE);
            if pat {
                bits |= PAT_4K;
            }
        }
        let child = self.memory.allocate_table().ok_or(PagingError::OutOfMemory)?;
        let entries = self.memory.table(child);
        for (i, slot) in entries.iter_mut().enumerate() {
            *slot = (base + i as u64 * child_size) | bits;
        }
        self.memory.table(table)[index] = child | PRESENT | WRITABLE;
        Ok(child)
    }

    fn leaf_bits(&self, level: u32, flags: Flags) -> u64 {
        let mut bits = PRESENT;
        if flags.writable {
            bits |= WRITABLE;
        }
        if !flags.executable && self.no_execute {
            bits |= NO_EXECUTE;
        }
        if flags.write_combining {
            // PAT index 5 = PAT bit + PWT.
            bits |= WRITE_THROUGH | if level == 1 { PAT_4K } else { PAT_LARGE };
        }
        if level > 1 {
            bits |= LARGE;
        }
        bits
    }
}

fn table_index(virt: u64, level: u32) -> usize {
    ((virt >> (12 + 9 * (level - 1))) & 511) as usize
}

/// Bits 63..47 all equal, as 4-level paging requires.
fn canonical(virt: u64) -> bool {
    let top = virt >> 47;
    top == 0 || top == 0x1_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    /// Tables in a vector; table `i` pretends to live at physical `(i + 1) * 4 KiB`.
    #[derive(Default)]
    struct VecMemory(Vec<Box<[u64; 512]>>);

    impl TableMemory for VecMemory {
        fn allocate_table(&mut self) -> Option<u64> {
            (self.0.len() < 64).then(|| {
                self.0.push(Box::new([0; 512]));
                self.0.len() as u64 * PAGE_4K
            })
        }
        fn table(&mut self, phys: u64) -> &mut [u64; 512] {
            &mut self.0[(phys / PAGE_4K - 1) as usize]
        }
    }

    /// What the CPU would see at `virt`: physical address, page size and leaf entry.
    fn walk(tables: &mut PageTables<VecMemory>, virt: u64) -> Option<(u64, u64, u64)> {
        let mut table = tables.root();
        for level in (1..=4).rev() {
            let entry = tables.memory.table(table)[table_index(virt, level)];
            if entry & PRESENT == 0 {
                return None;
            }
            let size = 1u64 << (12 + 9 * (level - 1));
            if level == 1 || (level <= 3 && entry & LARGE != 0) {
                let frame = entry & ADDRESS & !(size - 1);
                return Some((frame + (virt & (size - 1)), size, entry));
            }
            table = entry & ADDRESS;
        }
        None
    }

    const DATA: Flags = Flags { writable: true, executable: false, write_combining: false };
    const HHDM: u64 = 0xffff_8000_0000_0000;

    #[test]
    fn uses_the_largest_aligned_pages() {
        let mut pt = PageTables::new(VecMemory::default(), true, true).unwrap();
        pt.map(HHDM, 0, 4 * PAGE_1G, Flags::RWX).unwrap();
        pt.map(HHDM + 5 * PAGE_1G + PAGE_4K, 5 * PAGE_1G + PAGE_4K, PAGE_2M + PAGE_4K, Flags::RWX).unwrap();
        assert_eq!(walk(&mut pt, HHDM + 0x1234_5678).map(|w| (w.0, w.1)), Some((0x1234_5678, PAGE_1G)));
        let (phys, size, _) = walk(&mut pt, HHDM + 5 * PAGE_1G + PAGE_2M + 0x10).unwrap();
        assert_eq!((phys, size), (5 * PAGE_1G + PAGE_2M + 0x10, PAGE_4K), "unaligned start: small pages");
        assert!(walk(&mut pt, HHDM + 5 * PAGE_1G).is_none());
        assert!(walk(&mut pt, HHDM + 5 * PAGE_1G + 2 * PAGE_2M + PAGE_4K).is_none());
    }

    #[test]
    fn falls_back_to_2m_pages_without_1g_support() {
        let mut pt = PageTables::new(VecMemory::default(), false, true).unwrap();
        pt.map(HHDM, 0, PAGE_1G, Flags::RWX).unwrap();
        assert_eq!(walk(&mut pt, HHDM + PAGE_1G - 1).map(|w| w.1), Some(PAGE_2M));
    }

    #[test]
    fn permissions_reach_the_leaf() {
        let mut pt = PageTables::new(VecMemory::default(), true, true).unwrap();
        let kernel = 0xffff_ffff_8000_0000;
        let text = Flags { writable: false, executable: true, write_combining: false };
        pt.map(kernel, 0x20_0000, PAGE_4K, DATA).unwrap();
        pt.map(kernel + PAGE_4K, 0x20_1000, PAGE_4K, text).unwrap();
        let (_, _, data) = walk(&mut pt, kernel).unwrap();
        assert!(data & WRITABLE != 0 && data & NO_EXECUTE != 0);
        let (phys, _, code) = walk(&mut pt, kernel + PAGE_4K + 8).unwrap();
        assert_eq!(phys, 0x20_1008);
        assert!(code & WRITABLE == 0 && code & NO_EXECUTE == 0);

        let mut no_nx = PageTables::new(VecMemory::default(), true, false).unwrap();
        no_nx.map(kernel, 0, PAGE_4K, DATA).unwrap();
        assert_eq!(walk(&mut no_nx, kernel).unwrap().2 & NO_EXECUTE, 0);
    }

    #[test]
    fn a_small_mapping_inside_a_large_page_splits_it() {
        let mut pt = PageTables::new(VecMemory::default(), true, true).unwrap();
        pt.map(HHDM, 0, 4 * PAGE_1G, Flags::RWX).unwrap();
        let fb = 0xc000_0000 + 0x3000;
        let wc = Flags { writable: true, executable: false, write_combining: true };
        pt.map(HHDM + fb, fb, 2 * PAGE_4K, wc).unwrap();

        let (phys, size, entry) = walk(&mut pt, HHDM + fb + 0x1010).unwrap();
        assert_eq!((phys, size), (fb + 0x1010, PAGE_4K));
        assert_eq!(entry & (PAT_4K | WRITE_THROUGH | NO_EXECUTE), PAT_4K | WRITE_THROUGH | NO_EXECUTE);
        // The rest of the old 1 GiB page still maps the same memory, now in smaller pages.
        assert_eq!(walk(&mut pt, HHDM + fb + 2 * PAGE_4K).map(|w| (w.0, w.1)), Some((fb + 0x2000, PAGE_4K)));
        assert_eq!(walk(&mut pt, HHDM + fb - PAGE_4K).map(|w| w.0), Some(fb - PAGE_4K));
        assert_eq!(
            walk(&mut pt, HHDM + 0xc000_0000 + PAGE_2M).map(|w| (w.0, w.1)),
            Some((0xc020_0000, PAGE_2M))
        );
        assert_eq!(walk(&mut pt, HHDM + 0x8000_0000).map(|w| w.1), Some(PAGE_1G));
    }

    #[test]
    fn a_large_page_over_existing_tables_uses_small_pages() {
        let mut pt = PageTables::new(VecMemory::default(), true, true).unwrap();
        pt.map(HHDM + PAGE_4K, PAGE_4K, PAGE_4K, DATA).unwrap();
        pt.map(HHDM, 0, PAGE_1G, Flags::RWX).unwrap();
        assert_eq!(walk(&mut pt, HHDM + PAGE_4K).map(|w| (w.0, w.1)), Some((PAGE_4K, PAGE_4K)));
        assert_eq!(walk(&mut pt, HHDM + PAGE_1G - 1).map(|w| (w.0, w.1)), Some((PAGE_1G - 1, PAGE_2M)));
        let (_, _, entry) = walk(&mut pt, HHDM + PAGE_4K).unwrap();
        assert_eq!(entry & NO_EXECUTE, 0, "the later mapping replaced the earlier one");
    }

    #[test]
    fn rejects_unaligned_and_non_canonical_ranges() {
        let mut pt = PageTables::new(VecMemory::default(), true, true).unwrap();
        assert!(pt.map(0x1001, 0, PAGE_4K, DATA).is_err());
        assert!(pt.map(0x0000_8000_0000_0000, 0, PAGE_4K, DATA).is_err());
        assert!(pt.map(0x0000_7fff_ffff_f000, 0, 2 * PAGE_4K, DATA).is_err());
    }

    #[test]
    fn running_out_of_table_memory_is_an_error() {
        let mut pt = PageTables::new(VecMemory::default(), false, true).unwrap();
        assert_eq!(pt.map(HHDM, 0, 64 * PAGE_1G, Flags::RWX), Err(PagingError::OutOfMemory));
    }
}
