//! DMA buffers: pages a device may read and write, whose physical addresses only the kernel
//! knows. A driver names them by handle and offset; the kernel turns a checked (buffer, offset,
//! length) into an address where the device will look for one — a virtqueue descriptor
//! ([`DmaBuffer::set_descriptor`]) or an address register (`session`).
//!
//! What keeps a device inside its driver's buffers: every address it is given lies in a page of
//! a live buffer, and the buffer is kept alive (pinned) by whatever gave the address out — a
//! descriptor table pins every buffer its entries ever named, a device session pins the rings
//! it was given — until the device can no longer use it (a reset, or bus mastering switched
//! off when the session ends). Only then do the frames go back to the allocator.

use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

use crate::error::Error;
use crate::mem::kmem::{Account, Charge};
use crate::mem::{PAGE_SIZE, frames};
use minimalos_abi::{MAX_DMA_BUFFER, VIRTQ_DESC, VIRTQ_DESC_F_INDIRECT};

/// What a buffer holds, which decides who may write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bytes for the device: the driver writes them freely.
    Data,
    /// A virtqueue descriptor table: written only by [`DmaBuffer::set_descriptor`].
    Descriptors,
}

/// A buffer of whole pages for a device.
pub struct DmaBuffer {
    /// Physical address of each page, in order (not necessarily next to each other).
    pages: Vec<u64>,
    size: usize,
    kind: Kind,
    /// For a descriptor table: every buffer its entries ever named, so none is freed while
    /// the device may still follow an entry to it.
    pins: Mutex<Pins>,
    /// Its pages and bookkeeping, charged to the driver that made it.
    _charge: Charge,
}

/// Buffers kept alive, sorted by address, and what their list costs the driver.
pub struct Pins {
    list: Vec<Arc<DmaBuffer>>,
    charge: Charge,
}

impl Pins {
    /// None yet, the list charged to `account` as it grows.
    pub fn new(account: &Arc<Account>) -> Self {
        Self { list: Vec::new(), charge: account.empty_charge() }
    }

    /// Keeps `buffer` alive until [`clear`](Self::clear) or the drop; once each.
    pub fn pin(&mut self, buffer: &Arc<DmaBuffer>) -> Result<(), Error> {
        let Err(at) = self.list.binary_search_by_key(&Arc::as_ptr(buffer), Arc::as_ptr) else {
            return Ok(());
        };
        if self.list.len() == self.list.capacity() {
            let more = self.list.capacity().max(4);
            self.charge.grow((more * core::mem::size_of::<usize>()) as u64)?;
            self.list.try_reserve_exact(more).map_err(|_| Error::NoMemory)?;
        }
        self.list.insert(at, Arc::clone(buffer));
        Ok(())
    }

    /// Lets every buffer go (the device can no longer reach them).
    pub fn clear(&mut self) {
        self.list.clear();
    }
}

impl DmaBuffer {
    /// A zeroed buffer of `size` bytes (rounded up to whole pages) charged to `account`:
    /// `TooLarge` above [`MAX_DMA_BUFFER`] or for 0 bytes, as
    /// [`Account::charge`] when the charge is refused, `NoMemory` when frames run out.
    pub fn new(size: usize, kind: Kind, account: &Arc<Account>) -> Result<Arc<Self>, Error> {
        if size == 0 || size > MAX_DMA_BUFFER {
            return Err(Error::TooLarge);
        }
        let count = size.div_ceil(PAGE_SIZE as usize);
        let overhead = (core::mem::size_of::<Self>() + count * 8) as u64;
        let charge = account.charge(count as u64 * PAGE_SIZE + overhead)?;
        let mut pages = Vec::new();
        pages.try_reserve_exact(count).map_err(|_| Error::NoMemory)?;
        let pins = Mutex::new(Pins::new(account));
        let mut buffer = Self { pages, size, kind, pins, _charge: charge };
        for _ in 0..count {
            // A failure drops `buffer`, which frees the pages taken so far.
            buffer.pages.push(frames::allocate_zeroed().map_err(|_| Error::NoMemory)?);
        }
        Ok(Arc::new(buffer))
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// What it holds.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The physical address of `len` bytes at `offset`: `OutOfBounds` unless they lie within
    /// the buffer and within one of its pages, and `len` is at least 1.
    pub fn device_address(&self, offset: usize, len: usize) -> Result<u64, Error> {
        let page = PAGE_SIZE as usize;
        let end = offset.checked_add(len).ok_or(Error::OutOfBounds)?;
        if len == 0 || end > self.size || offset / page != (end - 1) / page {
            return Err(Error::OutOfBounds);
        }
        Ok(self.pages[offset / page] + (offset % page) as u64)
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        self.each_page(offset, buf.len(), |virt, at, n| {
            // SAFETY: `virt` maps `n` bytes of one of this buffer's pages through the HHDM; the
            // pages live as long as `self`. The device may write them meanwhile: the copy then
            // sees some mix of old and new bytes, which is what the driver asked for.
            unsafe { core::ptr::copy_nonoverlapping(virt as *const u8, buf[at..at + n].as_mut_ptr(), n) }
        })
    }

    /// Copies `data` to `offset`: `Denied` for a descriptor table, which only the kernel writes.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), Error> {
        if self.kind == Kind::Descriptors {
            return Err(Error::Denied);
        }
        self.write_bytes(offset, data)
    }

    fn write_bytes(&self, offset: usize, data: &[u8]) -> Result<(), Error> {
        self.each_page(offset, data.len(), |virt, at, n| {
            // SAFETY: as in `read`; the bytes are the buffer's own, nothing else in the kernel
            // holds a reference to them.
            unsafe { core::ptr::copy_nonoverlapping(data[at..at + n].as_ptr(), virt as *mut u8, n) }
        })
    }

    /// Calls `f(virtual address, offset into the caller's bytes, length)` for each piece of
    /// `len` bytes at `offset` that lies in one page; `OutOfBounds` if they leave the buffer.
    fn each_page(
        &self,
        offset: usize,
        len: usize,
        mut f: impl FnMut(u64, usize, usize),
    ) -> Result<(), Error> {
        if offset.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(Error::OutOfBounds);
        }
        let (page, hhdm) = (PAGE_SIZE as usize, frames::hhdm_offset());
        let mut done = 0;
        while done < len {
            let at = offset + done;
            let n = (page - at % page).min(len - done);
            f(hhdm + self.pages[at / page] + (at % page) as u64, done, n);
            done += n;
        }
        Ok(())
    }

    /// Sets descriptor `index` of this table to `len` bytes at `offset` of `target`, with
    /// `flags` and `next`, and pins `target` for the table's life. `WrongKind` unless this is
    /// a descriptor table and `target` data; `Denied` for an indirect descriptor;
    /// `OutOfBounds` for an entry past the table or a range `device_address` refuses.
    pub fn set_descriptor(
        &self,
        index: usize,
        target: &Arc<DmaBuffer>,
        offset: usize,
        len: usize,
        flags: u16,
        next: u16,
    ) -> Result<(), Error> {
        if self.kind != Kind::Descriptors || target.kind != Kind::Data {
            return Err(Error::WrongKind);
        }
        if flags & VIRTQ_DESC_F_INDIRECT != 0 {
            return Err(Error::Denied);
        }
        let at = index
            .checked_mul(VIRTQ_DESC)
            .filter(|at| at + VIRTQ_DESC <= self.size)
            .ok_or(Error::OutOfBounds)?;
        let address = target.device_address(offset, len)?;
        let len = u32::try_from(len).map_err(|_| Error::OutOfBounds)?;
        // The pin comes first: the device may follow the entry the moment it is written.
        self.pins.lock().pin(target)?;
        let mut entry = [0u8; VIRTQ_DESC];
        entry[..8].copy_from_slice(&address.to_le_bytes());
        entry[8..12].copy_from_slice(&len.to_le_bytes());
        entry[12..14].copy_from_slice(&flags.to_le_bytes());
        entry[14..].copy_from_slice(&next.to_le_bytes());
        self.write_bytes(at, &entry)
    }

    /// Descriptors the table holds (0 for a data buffer).
    pub fn descriptors(&self) -> usize {
        match self.kind {
            Kind::Descriptors => self.size / VIRTQ_DESC,
            Kind::Data => 0,
        }
    }
}

impl Drop for DmaBuffer {
    fn drop(&mut self) {
        for &page in &self.pages {
            // SAFETY: the page came from `frames::allocate_zeroed` in `new` and is freed once,
            // here. No device can reach it any more: whatever gave its address to a device
            // pinned this buffer until the device could no longer use it (module docs).
            unsafe { frames::free(page) };
        }
    }
}
