//! Owned handles: [`Capability`] closes its handle when dropped, [`Rights`] are what it allows.
//! The typed wrappers ([`Endpoint`](crate::Endpoint), [`SharedMem`](crate::SharedMem),
//! [`Framebuffer`](crate::Framebuffer)) are built on it.

use core::ops::BitOr;

use crate::{Error, sys};

/// What a capability allows; combine with `|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rights(u32);

impl Rights {
    /// Receive from an endpoint, read memory.
    pub const READ: Rights = Rights(sys::RIGHT_READ as u32);
    /// Send to an endpoint, write memory.
    pub const WRITE: Rights = Rights(sys::RIGHT_WRITE as u32);
    /// Move the capability to another actor in a message.
    pub const GRANT: Rights = Rights(sys::RIGHT_GRANT as u32);

    /// The rights whose bits are set in `bits`; unknown bits are kept, and the kernel refuses them.
    pub const fn from_bits(bits: u32) -> Rights {
        Rights(bits)
    }

    /// The ABI's bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every right of `other` is also in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Rights {
    type Output = Rights;

    fn bitor(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

/// A handle in this actor's capability table, of any kind; closed when dropped.
#[derive(Debug)]
pub struct Capability {
    handle: i64,
}

impl Capability {
    /// The `n`-th grant of this actor's manifest line (counting from 0).
    pub const fn from_grant(n: u32) -> Capability {
        Capability { handle: n as i64 }
    }

    /// Takes ownership of a handle the kernel just returned.
    pub(crate) const fn from_raw(handle: i64) -> Capability {
        Capability { handle }
    }

    /// The raw handle, still owned by `self`.
    pub const fn raw(&self) -> i64 {
        self.handle
    }

    /// Gives up ownership without closing: the handle has moved elsewhere (sent in a message).
    pub(crate) fn into_raw(self) -> i64 {
        let handle = self.handle;
        core::mem::forget(self);
        handle
    }

    /// A new handle to the same object with `rights`, which must be a subset of this one's.
    pub fn derive(&self, rights: Rights) -> Result<Capability, Error> {
        Error::check(sys::sys_cap_derive(self.handle, rights.0 as i32)).map(Capability::from_raw)
    }

    /// Copies object bytes at `offset` into `buf` (shared memory or framebuffer; needs READ).
    pub(crate) fn mem_read(&self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        let len = buf.len() as i32;
        // SAFETY: the kernel writes at most `len` bytes, all inside `buf`, which we borrow
        // mutably for the call.
        let result = unsafe { sys::sys_cap_mem_read(self.handle, offset as i32, sys::ptr_mut(buf), len) };
        Error::check(result.into()).map(drop)
    }

    /// Copies `data` to `offset` of the object (needs WRITE).
    pub(crate) fn mem_write(&self, offset: u32, data: &[u8]) -> Result<(), Error> {
        let result = sys::sys_cap_mem_write(self.handle, offset as i32, sys::ptr(data), data.len() as i32);
        Error::check(result.into()).map(drop)
    }

    /// Size of the object in bytes (needs READ or WRITE).
    pub(crate) fn mem_size(&self) -> Result<u64, Error> {
        Error::check(sys::sys_cap_mem_size(self.handle)).map(|size| size as u64)
    }
}

impl Drop for Capability {
    fn drop(&mut self) {
        // The only failure is an already-invalid handle, and then there is nothing to release.
        sys::sys_cap_close(self.handle);
    }
}
