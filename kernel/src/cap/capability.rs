//! A capability: one kernel object and the rights its holder has to it. New capabilities are
//! made only here, with every right; further copies come only from [`Capability::derive`], which
//! keeps or drops rights and never adds one. Per-process storage is in `table`; what the objects
//! do is in `ipc`.

use alloc::sync::Arc;
use core::fmt;
use core::num::NonZeroUsize;

use super::Rights;
use crate::boot::FramebufferInfo;
use crate::dev::{DmaBuffer, Session};
use crate::error::Error;
use crate::ipc::{Endpoint, SharedMemory};
use crate::mem::kmem::Account;

/// The object a capability refers to.
#[derive(Clone)]
pub enum Object {
    /// A message queue between processes.
    Endpoint(Arc<Endpoint>),
    /// A buffer processes copy in and out of.
    SharedMemory(Arc<SharedMemory>),
    /// The boot framebuffer (described in the boot-info snapshot, which lives forever).
    Framebuffer(&'static FramebufferInfo),
    /// The boot ramdisk's bytes (`ramdisk.tar`, which the kernel never frees or changes).
    Ramdisk(&'static [u8]),
    /// The right to manage processes and read kernel state: READ lists processes, reads the
    /// log and memory figures; WRITE starts and kills processes.
    System,
    /// A driver's hold on a device: READ reads its registers, WRITE writes them, makes DMA
    /// buffers and binds interrupts.
    Device(Arc<Session>),
    /// Pages a device may reach: READ and WRITE copy in and out (a descriptor table is
    /// written only through `sys_dma_desc_set`).
    Dma(Arc<DmaBuffer>),
}

/// An object and the rights to it. Dropping it gives the rights up: the last receiving or
/// sending capability of an endpoint closes that side.
pub struct Capability {
    object: Object,
    rights: Rights,
}

impl Capability {
    /// The only constructor: endpoints count their receiving and sending capabilities.
    fn new(object: Object, rights: Rights) -> Self {
        if let Object::Endpoint(endpoint) = &object {
            endpoint.attach(rights);
        }
        Self { object, rights }
    }

    /// A new endpoint that queues up to `capacity` messages, with every right, charged to
    /// `charge_to` (`None`: the kernel's own).
    pub fn endpoint(capacity: NonZeroUsize, charge_to: Option<&Arc<Account>>) -> Result<Self, Error> {
        Ok(Self::new(Object::Endpoint(Endpoint::new(capacity, charge_to)?), Rights::all()))
    }

    /// A new zeroed shared-memory object of `size` bytes, with every right.
    pub fn shared_memory(size: usize) -> Result<Self, Error> {
        Ok(Self::new(Object::SharedMemory(SharedMemory::new(size)?), Rights::all()))
    }

    /// The framebuffer `info` describes, with every right.
    pub fn framebuffer(info: &'static FramebufferInfo) -> Self {
        Self::new(Object::Framebuffer(info), Rights::all())
    }

    /// The boot ramdisk, read-only: its capability has READ and GRANT only, and derive can
    /// never add WRITE.
    pub fn ramdisk(bytes: &'static [u8]) -> Self {
        Self::new(Object::Ramdisk(bytes), Rights::READ | Rights::GRANT)
    }

    /// A device session, with every right.
    pub fn device(session: Arc<Session>) -> Self {
        Self::new(Object::Device(session), Rights::all())
    }

    /// A DMA buffer, with every right.
    pub fn dma(buffer: Arc<DmaBuffer>) -> Self {
        Self::new(Object::Dma(buffer), Rights::all())
    }

    /// Process management and kernel state, with every right.
    pub fn system() -> Self {
        Self::new(Object::System, Rights::all())
    }

    /// What it refers to.
    pub fn object(&self) -> &Object {
        &self.object
    }

    /// What it allows.
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// Whether it can receive from an endpoint: such a capability never travels in a message.
    pub fn receives(&self) -> bool {
        matches!(self.object, Object::Endpoint(_)) && self.rights.contains(Rights::READ)
    }

    /// A copy with `rights`, which must be among this capability's own (`NoRights` otherwise).
    pub fn derive(&self, rights: Rights) -> Result<Self, Error> {
        if !self.rights.contains(rights) {
            return Err(Error::NoRights);
        }
        Ok(Self::new(self.object.clone(), rights))
    }
}

impl Drop for Capability {
    fn drop(&mut self) {
        if let Object::Endpoint(endpoint) = &self.object {
            // The messages the last receiver orphans are dropped here, after the endpoint's
            // lock. Their capabilities never receive (see `Endpoint::send`), so dropping them
            // orphans no further queue.
            drop(endpoint.detach(self.rights));
        }
    }
}

impl fmt::Debug for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.object {
            Object::Endpoint(_) => "Endpoint",
            Object::SharedMemory(_) => "SharedMemory",
            Object::Framebuffer(_) => "Framebuffer",
            Object::Ramdisk(_) => "Ramdisk",
            Object::System => "System",
            Object::Device(_) => "Device",
            Object::Dma(_) => "Dma",
        };
        f.debug_struct("Capability").field("object", &kind).field("rights", &self.rights).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rights() -> impl Strategy<Value = Rights> {
        (0u8..8).prop_map(Rights::from_bits_truncate)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// However long the chain of derivations, no copy holds a right its source lacked.
        #[test]
        fn derive_never_widens(start in rights(), asks in proptest::collection::vec(rights(), 1..8)) {
            let mut cap = Capability::shared_memory(1).unwrap().derive(start).unwrap();
            for ask in asks {
                match cap.derive(ask) {
                    Ok(copy) => {
                        prop_assert!(cap.rights().contains(ask));
                        prop_assert_eq!(copy.rights(), ask);
                        cap = copy;
                    }
                    Err(e) => {
                        prop_assert_eq!(e, Error::NoRights);
                        prop_assert!(!cap.rights().contains(ask));
                    }
                }
                prop_assert!(start.contains(cap.rights()));
            }
        }
    }
}
