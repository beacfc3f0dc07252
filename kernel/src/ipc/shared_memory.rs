//! Shared memory: a zeroed buffer that processes holding a capability copy bytes into and out of.
//!
//! It lives on the kernel heap, not in frames of its own. Actors never map it: they are Wasm
//! modules confined to their linear memory, so the only way in is a copy through [`read`] and
//! [`write`], which check bounds here and rights at the capability lookup (`cap::table`: READ to
//! read, WRITE to write). With no mapping there is nothing to align to pages, the memory goes
//! back to the heap with the last capability, and the logic runs in host tests.
//!
//! [`read`]: SharedMemory::read
//! [`write`]: SharedMemory::write

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;
use spin::Mutex;

use crate::error::Error;

/// Largest shared-memory object, in bytes.
pub const MAX_SHARED_MEMORY: usize = 16 * 1024 * 1024;

/// A buffer shared by capability.
pub struct SharedMemory {
    bytes: Mutex<Box<[u8]>>,
    size: usize,
}

impl SharedMemory {
    /// A zeroed object of `size` bytes: `TooLarge` above [`MAX_SHARED_MEMORY`], `NoMemory` if
    /// the heap is out.
    pub(crate) fn new(size: usize) -> Result<Arc<Self>, Error> {
        if size > MAX_SHARED_MEMORY {
            return Err(Error::TooLarge);
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(size).map_err(|_| Error::NoMemory)?;
        bytes.resize(size, 0);
        Ok(Arc::new(Self { bytes: Mutex::new(bytes.into_boxed_slice()), size }))
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Copies `buf.len()` bytes from `offset` into `buf`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let range = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.bytes.lock()[range]);
        Ok(())
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), Error> {
        let range = self.range(offset, data.len())?;
        self.bytes.lock()[range].copy_from_slice(data);
        Ok(())
    }

    /// `offset..offset + len` if it lies inside the object; the sum cannot overflow unnoticed.
    fn range(&self, offset: usize, len: usize) -> Result<Range<usize>, Error> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(offset..end),
            _ => Err(Error::OutOfBounds),
        }
    }
}

impl fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedMemory({} bytes)", self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn starts_zeroed_and_keeps_what_is_written() {
        let memory = SharedMemory::new(64).unwrap();
        let mut buf = [0xff; 64];
        memory.read(0, &mut buf).unwrap();
        assert_eq!(buf, [0; 64]);
        memory.write(60, b"tail").unwrap();
        let mut tail = [0; 4];
        memory.read(60, &mut tail).unwrap();
        assert_eq!(&tail, b"tail");
        assert_eq!(SharedMemory::new(MAX_SHARED_MEMORY + 1).err(), Some(Error::TooLarge));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// An access succeeds exactly when it lies inside the object, even near `usize::MAX`.
        #[test]
        fn accesses_are_bounded(
            size in 0usize..64,
            offset in prop_oneof![0usize..80, Just(usize::MAX), (usize::MAX - 8)..=usize::MAX],
            len in 0usize..80,
        ) {
            let memory = SharedMemory::new(size).unwrap();
            let inside = offset.checked_add(len).is_some_and(|end| end <= size);
            let mut buf = alloc::vec![0; len];
            prop_assert_eq!(memory.read(offset, &mut buf).is_ok(), inside);
            prop_assert_eq!(memory.write(offset, &buf).is_ok(), inside);
            if !inside {
                prop_assert_eq!(memory.read(offset, &mut buf), Err(Error::OutOfBounds));
            }
        }
    }
}
