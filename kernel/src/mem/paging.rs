//! The kernel's page tables: built once from the memory map, then edited through the HHDM.
//!
//! The loader's tables are only read, to find where it put the kernel image; the kernel then
//! runs on tables it owns, so the loader's memory can be reclaimed.

use core::ops::Range;
use spin::Mutex;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr3};
use x86_64::registers::model_specific::{Efer, EferFlags};
use x86_64::structures::paging::mapper::{MapToError, Translate};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size2MiB,
    Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

use core::sync::atomic::{AtomicU64, Ordering};

use super::{MMIO_BASE, MMIO_MAX, MemError, PAGE_SIZE, frames};

/// Granularity of the direct map.
const HUGE_PAGE: u64 = 2 * 1024 * 1024;

/// Flags for kernel data: present, writable, never executed.
pub const KERNEL_DATA: Flags = Flags::PRESENT.union(Flags::WRITABLE).union(Flags::NO_EXECUTE);

static KERNEL_SPACE: Mutex<Option<OffsetPageTable<'static>>> = Mutex::new(None);

/// Page-table frames come straight from the frame allocator (`map_to` zeroes new tables).
struct TableFrames;

// SAFETY: every frame returned comes from `frames::allocate`, so it is unused and unaliased.
unsafe impl FrameAllocator<Size4KiB> for TableFrames {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        frames::allocate().ok().map(|f| PhysFrame::containing_address(PhysAddr::new(f)))
    }
}

fn map_error<S: x86_64::structures::paging::PageSize>(va: u64, e: MapToError<S>) -> MemError {
    match e {
        MapToError::FrameAllocationFailed => MemError::OutOfFrames,
        _ => MemError::MapFailed(va),
    }
}

/// Builds the kernel's page tables and switches to them.
pub fn init(hhdm_offset: u64, physical: impl Iterator<Item = Range<u64>>) -> Result<(), MemError> {
    let hhdm = VirtAddr::new(hhdm_offset);
    let (loader_root, _) = Cr3::read();
    // SAFETY: CR3 holds the loader's live PML4, which its HHDM maps at `hhdm_offset`; it is only
    // read here.
    let loader = unsafe {
        OffsetPageTable::new(&mut *(hhdm + loader_root.start_address().as_u64()).as_mut_ptr(), hhdm)
    };

    let root = frames::allocate_zeroed()?;
    // SAFETY: `root` is a fresh zeroed frame, reachable through the HHDM, used only as this PML4.
    let mut space = unsafe { OffsetPageTable::new(&mut *(hhdm + root).as_mut_ptr::<PageTable>(), hhdm) };

    // The direct map: every range of the memory map, in 2 MiB pages. Neighbouring entries often
    // share a huge page, so already-mapped ones are skipped.
    for range in physical {
        let mut chunk = range.start & !(HUGE_PAGE - 1);
        while chunk < range.end {
            let page = Page::<Size2MiB>::containing_address(hhdm + chunk);
            if space.translate_page(page).is_err() {
                let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(chunk));
                // SAFETY: the direct map aliases physical memory at a fixed offset; nothing else
                // lives in the HHDM range (checked against HEAP_BASE by the caller).
                unsafe { space.map_to(page, frame, KERNEL_DATA, &mut TableFrames) }
                    .map_err(|e| map_error(hhdm.as_u64() + chunk, e))?
                    .ignore();
            }
            chunk += HUGE_PAGE;
        }
    }

    for (section, flags) in kernel_sections() {
        for va in section.step_by(PAGE_SIZE as usize) {
            let phys = loader.translate_addr(VirtAddr::new(va)).ok_or(MemError::NotMapped(va))?;
            let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
            let frame = PhysFrame::containing_address(phys);
            // SAFETY: maps the kernel image where it is linked, onto the frames the loader put it in.
            unsafe { space.map_to(page, frame, flags, &mut TableFrames) }
                .map_err(|e| map_error(va, e))?
                .ignore();
        }
    }

    // SAFETY: NXE makes NO_EXECUTE valid in entries (every x86_64 CPU has it); WP makes ring 0
    // honour read-only pages. Neither changes what the current tables allow the kernel to do.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
        Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT));
    }
    // The protocol puts the boot stack in the HHDM; a loader that did otherwise would leave us
    // without a stack after the switch, so check rather than triple-fault.
    let stack_probe = VirtAddr::from_ptr(&hhdm);
    if space.translate_addr(stack_probe).is_none() {
        return Err(MemError::NotMapped(stack_probe.as_u64()));
    }
    let (_, cr3_flags) = Cr3::read();
    // SAFETY: the new tables map everything the kernel touches from here on: its image at the
    // same addresses, all physical memory (and so the boot stack, checked just above) at the
    // same HHDM offset.
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(root)), cr3_flags) };
    *KERNEL_SPACE.lock() = Some(space);
    Ok(())
}

/// The kernel image's sections and the page flags each gets.
fn kernel_sections() -> [(Range<u64>, Flags); 4] {
    unsafe extern "C" {
        static __kernel_start: u8;
        static __text_start: u8;
        static __rodata_start: u8;
        static __data_start: u8;
        static __kernel_end: u8;
    }
    let addr = |s: &u8| s as *const u8 as u64;
    // SAFETY: linker-script symbols; only their addresses are taken.
    let [start, text, rodata, data, end] =
        unsafe { [&__kernel_start, &__text_start, &__rodata_start, &__data_start, &__kernel_end].map(addr) };
    [
        (start..text, KERNEL_DATA),
        (text..rodata, Flags::PRESENT),
        (rodata..data, Flags::PRESENT | Flags::NO_EXECUTE),
        (data..end, KERNEL_DATA),
    ]
}

/// Maps `range` (page-aligned) to fresh frames with `flags`; on failure nothing stays mapped.
pub fn map_new(range: Range<u64>, flags: Flags) -> Result<(), MemError> {
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MemError::MapFailed(range.start))?;
    let mut va = range.start;
    while va < range.end {
        let mapped = frames::allocate().and_then(|frame| {
            let page = Page::<Size4KiB>::containing_address(VirtAddr::new(va));
            let phys = PhysFrame::containing_address(PhysAddr::new(frame));
            // SAFETY: `range` is reserved for the caller (heap or stack area) and unmapped; the
            // frame is fresh.
            match unsafe { space.map_to(page, phys, flags, &mut TableFrames) } {
                // No `invlpg`: the page was not present, and x86 never caches a translation (or
                // a paging-structure entry) that is not present, so no stale entry can exist.
                // Under emulation each `invlpg` is costly, and the heap and stacks map pages by
                // the dozen.
                Ok(flush) => {
                    flush.ignore();
                    Ok(())
                }
                Err(e) => {
                    // SAFETY: the frame was never mapped.
                    unsafe { frames::free(frame) };
                    Err(map_error(va, e))
                }
            }
        });
        if let Err(e) = mapped {
            unmap_and_free_in(space, range.start..va);
            return Err(e);
        }
        va += PAGE_SIZE;
    }
    Ok(())
}

/// Bits of a page-table entry that hold the next table's (or the frame's) physical address.
const ENTRY_ADDRESS: u64 = 0x000f_ffff_ffff_f000;

/// Maps the page holding `va` to `frame` with `flags` without taking the page-table lock: for
/// the page-fault handler, which may have interrupted that lock's holder on its own CPU. Every
/// table above the page must exist already (see `stack::KernelStack::on_demand`), and the page
/// must be unmapped; otherwise nothing changes and the error says so.
pub fn map_in_fault(va: u64, frame: u64, flags: Flags) -> Result<(), MemError> {
    let hhdm = frames::hhdm_offset();
    // SAFETY: `index` < 512 and `table` is the physical address of a page table, which the HHDM
    // maps; page tables are never freed. Entries are read and written as atomic words, whole:
    // the CPU itself writes accessed and dirty bits into live entries this way, so the other
    // CPUs' edits of the same table (each of its own entries, under the lock) are used to it.
    let entry =
        |table: u64, index: u64| unsafe { &*((hhdm + table) as *const AtomicU64).add(index as usize) };
    let mut table = Cr3::read().0.start_address().as_u64();
    // The PML4, page-directory-pointer and page-directory levels, by the address bits each uses.
    for shift in [39, 30, 21] {
        let next = entry(table, (va >> shift) & 0x1ff).load(Ordering::Acquire);
        if next & Flags::PRESENT.bits() == 0 || next & Flags::HUGE_PAGE.bits() != 0 {
            return Err(MemError::NotMapped(va));
        }
        table = next & ENTRY_ADDRESS;
    }
    // No `invlpg`, as in `map_new`: the page was not present, so no CPU caches it.
    entry(table, (va >> 12) & 0x1ff)
        .compare_exchange(0, (frame & ENTRY_ADDRESS) | flags.bits(), Ordering::Release, Ordering::Relaxed)
        .map(drop)
        .map_err(|_| MemError::MapFailed(va))
}

/// Unmaps `range` (page-aligned, mapped by [`map_new`]) and frees its frames.
pub fn unmap_and_free(range: Range<u64>) {
    if let Some(space) = KERNEL_SPACE.lock().as_mut() {
        unmap_and_free_in(space, range);
    }
}

fn unmap_and_free_in(space: &mut OffsetPageTable<'static>, range: Range<u64>) {
    for va in range.step_by(PAGE_SIZE as usize) {
        if let Ok((frame, flush)) = space.unmap(Page::<Size4KiB>::containing_address(VirtAddr::new(va))) {
            flush.flush();
            // SAFETY: the page was mapped by `map_new` to a frame it allocated; now unmapped,
            // nothing reaches the frame.
            unsafe { frames::free(frame.start_address().as_u64()) };
        }
    }
}

/// Next free address of the MMIO range; mappings there are never taken down.
static NEXT_MMIO: AtomicU64 = AtomicU64::new(MMIO_BASE);

/// Maps `len` bytes of device registers at physical `phys`, uncached; returns the virtual
/// address of `phys`.
pub fn map_mmio(phys: u64, len: u64) -> Result<u64, MemError> {
    let first = phys & !(PAGE_SIZE - 1);
    let pages = (phys + len.max(1)).next_multiple_of(PAGE_SIZE) - first;
    let start = NEXT_MMIO.fetch_add(pages, Ordering::Relaxed);
    if start + pages > MMIO_BASE + MMIO_MAX {
        return Err(MemError::OutOfVirtualSpace("device registers"));
    }
    let flags = KERNEL_DATA | Flags::NO_CACHE | Flags::WRITE_THROUGH;
    let mut guard = KERNEL_SPACE.lock();
    let space = guard.as_mut().ok_or(MemError::MapFailed(start))?;
    for offset in (0..pages).step_by(PAGE_SIZE as usize) {
        let page = Page::<Size4KiB>::containing_address(VirtAddr::new(start + offset));
        let frame = PhysFrame::containing_address(PhysAddr::new(first + offset));
        // SAFETY: the MMIO range is reserved for these mappings, and `start` was just claimed;
        // device memory is not handed out by the frame allocator, so nothing else aliases it
        // except, harmlessly, the direct map.
        unsafe { space.map_to(page, frame, flags, &mut TableFrames) }
            .map_err(|e| map_error(start + offset, e))?
            .flush();
    }
    Ok(start + (phys - first))
}

/// A virtual address for `len` bytes of physical memory at `phys`: in the direct map when it
/// covers them, else a new uncached mapping.
pub fn phys_to_virt(phys: u64, len: u64) -> Result<u64, MemError> {
    let hhdm = frames::hhdm_offset();
    let covered = {
        let guard = KERNEL_SPACE.lock();
        let space = guard.as_ref().ok_or(MemError::NotMapped(phys))?;
        let last = phys + len.max(1) - 1;
        (phys & !(PAGE_SIZE - 1)..=last)
            .step_by(PAGE_SIZE as usize)
            .chain(core::iter::once(last))
            .all(|p| space.translate_addr(VirtAddr::new(hhdm + p)).is_some())
    };
    if covered { Ok(hhdm + phys) } else { map_mmio(phys, len) }
}
