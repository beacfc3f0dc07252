//! [`SharedMem`]: a shared-memory object, read and written by copy at an offset.

use crate::{Capability, Error, Rights};

/// A capability on a shared-memory object; closed when dropped.
#[derive(Debug)]
pub struct SharedMem(Capability);

impl SharedMem {
    /// The `n`-th grant of this actor's manifest line (counting from 0), as shared memory.
    pub const fn from_grant(n: u32) -> SharedMem {
        SharedMem(Capability::from_grant(n))
    }

    /// Another handle to this object with `rights`, a subset of this one's.
    pub fn derive(&self, rights: Rights) -> Result<SharedMem, Error> {
        self.0.derive(rights).map(SharedMem)
    }

    /// The capability, for sending it in a message.
    pub fn into_capability(self) -> Capability {
        self.0
    }

    /// Size of the object in bytes.
    pub fn size(&self) -> Result<u64, Error> {
        self.0.mem_size()
    }

    /// Fills `buf` from the object's bytes at `offset` (needs READ).
    pub fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        self.0.mem_read(offset, buf)
    }

    /// Copies `data` to the object at `offset` (needs WRITE).
    pub fn write(&self, offset: u32, data: &[u8]) -> Result<(), Error> {
        self.0.mem_write(offset, data)
    }
}

impl From<Capability> for SharedMem {
    /// Treats a capability (say, one received in a message) as shared memory.
    fn from(cap: Capability) -> SharedMem {
        SharedMem(cap)
    }
}
