//! A WASI program's memory as its calls see it: little-endian integers and byte ranges at
//! pointers it passes, each checked (`EFAULT` outside the memory), and its I/O vectors.

use alloc::vec::Vec;

use super::{Errno, Fail};
use crate::wasm::guest::{Guest, GuestRange};

/// Bytes of one `iovec` / `ciovec`: a pointer and a length, `u32` each.
const IOVEC: usize = 8;
/// Most I/O vectors one call takes (POSIX's usual `IOV_MAX`); more are `EINVAL`.
pub const MAX_IOVECS: usize = 1024;

/// The calling program's memory, for one WASI call.
pub struct Memory<'g, 'c> {
    guest: &'g mut Guest<'c>,
}

impl<'g, 'c> Memory<'g, 'c> {
    /// The memory `guest` shows.
    pub fn new(guest: &'g mut Guest<'c>) -> Self {
        Self { guest }
    }

    /// The `len` bytes at `ptr`, checked.
    pub fn range(&self, ptr: i32, len: usize) -> Result<GuestRange, Fail> {
        let len = i32::try_from(len).map_err(|_| Errno::FAULT)?;
        Ok(self.guest.range(ptr, len).map_err(|_| Errno::FAULT)?)
    }

    /// Copies the bytes of `range` into a new buffer.
    pub fn bytes(&self, range: GuestRange) -> Result<Vec<u8>, Fail> {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(range.len()).map_err(|_| Errno::NOMEM)?;
        bytes.resize(range.len(), 0);
        self.guest.read(range, &mut bytes)?;
        Ok(bytes)
    }

    /// The `len` bytes at `ptr`, copied.
    pub fn read(&self, ptr: i32, len: usize) -> Result<Vec<u8>, Fail> {
        self.bytes(self.range(ptr, len)?)
    }

    /// Writes `bytes` at `ptr`.
    pub fn write(&mut self, ptr: i32, bytes: &[u8]) -> Result<(), Fail> {
        let range = self.range(ptr, bytes.len())?;
        self.write_range(range, bytes)
    }

    /// Writes the start of `bytes` into `range` (as much as fits).
    pub fn write_range(&mut self, range: GuestRange, bytes: &[u8]) -> Result<(), Fail> {
        let range = range.prefix(bytes.len());
        Ok(self.guest.write(range, bytes)?)
    }

    /// Writes the `u32` `value` at `ptr`.
    pub fn put_u32(&mut self, ptr: i32, value: u32) -> Result<(), Fail> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes the `u64` `value` at `ptr`.
    pub fn put_u64(&mut self, ptr: i32, value: u64) -> Result<(), Fail> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// The `count` I/O vectors at `ptr`, each checked against the memory.
    pub fn iovecs(&self, ptr: i32, count: i32) -> Result<Vec<GuestRange>, Fail> {
        let count = usize::try_from(count).ok().filter(|&n| n <= MAX_IOVECS).ok_or(Errno::INVAL)?;
        let list = self.read(ptr, count * IOVEC)?;
        let mut ranges = Vec::new();
        ranges.try_reserve_exact(count).map_err(|_| Errno::NOMEM)?;
        for iovec in list.as_chunks::<IOVEC>().0 {
            let [p0, p1, p2, p3, l0, l1, l2, l3] = *iovec;
            let (buf, len) = (u32::from_le_bytes([p0, p1, p2, p3]), u32::from_le_bytes([l0, l1, l2, l3]));
            ranges.push(self.range(buf as i32, len as usize)?);
        }
        // Their lengths add up to a size the call can return.
        let total: u64 = ranges.iter().map(|r| r.len() as u64).sum();
        if total > u64::from(u32::MAX) {
            return Err(Errno::INVAL.into());
        }
        Ok(ranges)
    }

    /// The bytes of the I/O vectors `ranges`, in order, up to `most` of them.
    pub fn gather(&self, ranges: &[GuestRange], most: usize) -> Result<Vec<u8>, Fail> {
        let total = ranges.iter().map(GuestRange::len).sum::<usize>().min(most);
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(total).map_err(|_| Errno::NOMEM)?;
        for range in ranges {
            let room = total - bytes.len();
            if room == 0 {
                break;
            }
            let part = self.bytes(range.prefix(room))?;
            bytes.extend_from_slice(&part);
        }
        Ok(bytes)
    }

    /// Spreads `bytes` over the I/O vectors `ranges`, in order; returns how many were placed.
    pub fn scatter(&mut self, ranges: &[GuestRange], mut bytes: &[u8]) -> Result<usize, Fail> {
        let mut placed = 0;
        for &range in ranges {
            if bytes.is_empty() {
                break;
            }
            let (now, rest) = bytes.split_at(range.len().min(bytes.len()));
            self.write_range(range, now)?;
            placed += now.len();
            bytes = rest;
        }
        Ok(placed)
    }
}
