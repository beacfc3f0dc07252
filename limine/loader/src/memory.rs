//! Memory the loader takes from the firmware. All of it is loader-data memory, which the memory
//! map reports as bootloader-reclaimable unless an overlay (kernel, modules) says otherwise.
//!
//! UEFI identity-maps memory, so a physical address is also a usable pointer until the hand-off.

use core::mem::{align_of, size_of};
use core::ptr::NonNull;
use minimalos_loader::memory_map::PAGE_SIZE;
use minimalos_loader::protocol::HHDM_OFFSET;
use uefi::boot::{self, AllocateType, MemoryType};

use crate::error::Error;

/// Arena chunks: enough for every response of a typical boot in one allocation.
const CHUNK: u64 = 16 * PAGE_SIZE;

/// `bytes` of zeroed pages aligned to `align` (a power of two, at least a page); returns the
/// physical address.
pub fn allocate(bytes: u64, align: u64, what: &'static str) -> Result<u64, Error> {
    let pages = bytes.div_ceil(PAGE_SIZE).max(1);
    let slack = align / PAGE_SIZE - 1;
    let out_of_memory = Error::OutOfMemory { what, bytes };
    let base = boot::allocate_pages(AllocateType::AnyPages, MemoryType::LOADER_DATA, (pages + slack) as usize)
        .map_err(|_| out_of_memory)?
        .as_ptr() as u64;
    let aligned = base.next_multiple_of(align);
    let head = (aligned - base) / PAGE_SIZE;
    // Freeing the unaligned ends can only fail if the firmware lost track of its own
    // allocation; they then stay loader memory, reclaimable by the kernel, so nothing is lost.
    for (start, count) in [(base, head), (aligned + pages * PAGE_SIZE, slack - head)] {
        if let Some(start) = NonNull::new(start as *mut u8)
            && count > 0
        {
            // SAFETY: these pages are the unused ends of the allocation made above.
            let _ = unsafe { boot::free_pages(start, count as usize) };
        }
    }
    // SAFETY: `aligned..aligned + pages * PAGE_SIZE` was just allocated for the loader alone and
    // is identity-mapped.
    unsafe { core::ptr::write_bytes(aligned as *mut u8, 0, (pages * PAGE_SIZE) as usize) };
    Ok(aligned)
}

/// One zeroed page that ends below `limit`; returns the physical address. For what a CPU must
/// reach with 32-bit or real-mode addresses.
pub fn allocate_page_below(limit: u64, what: &'static str) -> Result<u64, Error> {
    let out_of_memory = Error::OutOfMemory { what, bytes: PAGE_SIZE };
    let page = boot::allocate_pages(AllocateType::MaxAddress(limit - 1), MemoryType::LOADER_DATA, 1)
        .map_err(|_| out_of_memory)?
        .as_ptr() as u64;
    // SAFETY: the page was just allocated for the loader alone and is identity-mapped.
    unsafe { core::ptr::write_bytes(page as *mut u8, 0, PAGE_SIZE as usize) };
    Ok(page)
}

/// The HHDM address of something in loader memory.
pub fn hhdm<T: ?Sized>(ptr: *const T) -> u64 {
    ptr.cast::<u8>() as u64 + HHDM_OFFSET
}

/// Bump allocation of small objects (responses, strings, pointer arrays, the GDT) in
/// page chunks; nothing is freed, the kernel reclaims it all.
pub struct Arena {
    next: u64,
    end: u64,
}

impl Arena {
    /// An arena with no memory yet.
    pub const fn new() -> Self {
        Self { next: 0, end: 0 }
    }

    fn reserve(&mut self, bytes: u64, align: u64) -> Result<u64, Error> {
        let start = self.next.next_multiple_of(align);
        if self.next == 0 || start + bytes > self.end {
            let size = bytes.next_multiple_of(PAGE_SIZE).max(CHUNK);
            self.next = allocate(size, PAGE_SIZE, "boot responses")?;
            self.end = self.next + size;
            return self.reserve(bytes, align);
        }
        self.next = start + bytes;
        Ok(start)
    }

    /// Moves `value` into the arena.
    pub fn put<T>(&mut self, value: T) -> Result<&'static mut T, Error> {
        let at = self.reserve(size_of::<T>() as u64, align_of::<T>() as u64)? as *mut T;
        // SAFETY: `at` is fresh, aligned arena memory for one `T`, never handed out again.
        unsafe {
            at.write(value);
            Ok(&mut *at)
        }
    }

    /// `len` copies of `fill`.
    pub fn slice<T: Copy>(&mut self, len: usize, fill: T) -> Result<&'static mut [T], Error> {
        let at = self.reserve((size_of::<T>() * len) as u64, align_of::<T>() as u64)? as *mut T;
        // SAFETY: `at` is fresh, aligned arena memory for `len` values of `T`, never handed out
        // again; every element is written before the slice is made.
        unsafe {
            for i in 0..len {
                at.add(i).write(fill);
            }
            Ok(core::slice::from_raw_parts_mut(at, len))
        }
    }

    /// A NUL-terminated copy of `text`; returns its HHDM address.
    pub fn c_string(&mut self, text: &str) -> Result<u64, Error> {
        let bytes = self.slice(text.len() + 1, 0u8)?;
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(hhdm(bytes.as_ptr()))
    }
}
