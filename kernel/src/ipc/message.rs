//! Messages: what an endpoint queues. The payload of a typical request (an opcode's arguments,
//! a few words) lives inside the message itself; only larger payloads take a heap buffer, so
//! the common send costs no allocation. The room for the message itself was charged with its
//! endpoint; a heap buffer is charged to the sender (`mem::kmem`) until the message is taken.
//! The queue that carries messages is in `endpoint`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::ops::{Deref, DerefMut};

use alloc::sync::Arc;

use super::Pid;
use crate::cap::Capability;
use crate::error::Error;
use crate::mem::kmem::{Account, Charge};

/// Largest payload a message carries, in bytes.
pub const MAX_PAYLOAD: usize = minimalos_abi::MAX_PAYLOAD;

/// Largest payload kept inside the message rather than on the heap, in bytes.
pub const INLINE_PAYLOAD: usize = 40;

/// One message on an endpoint.
#[derive(Debug)]
pub struct Message {
    /// Who sent it.
    pub sender: Pid,
    /// What the sender asks for; its meaning is agreed between sender and receiver.
    pub opcode: u32,
    /// Its bytes.
    pub payload: Payload,
    /// A capability passed along with it (already narrowed to the rights the sender gave).
    pub cap: Option<Capability>,
}

/// A message's bytes, inline up to [`INLINE_PAYLOAD`], on the heap beyond.
pub struct Payload(Repr);

enum Repr {
    Inline {
        len: u8,
        bytes: Aligned,
    },
    /// The bytes, and what they cost their sender while they are held.
    Heap {
        bytes: Box<[u8]>,
        _charge: Option<Charge>,
    },
}

/// What the heap allocator adds to every buffer (talc's chunk header, rounded up).
const HEAP_OVERHEAD: u64 = 16;

/// Inline bytes on an 8-byte boundary: a copy into them starts with whole words (`memcpy`
/// moves the bytes before the first boundary one at a time).
#[repr(align(8))]
struct Aligned([u8; INLINE_PAYLOAD]);

impl Payload {
    /// A copy of `bytes`, a heap buffer charged to `charge_to` (`None`: the kernel's own):
    /// `TooLarge` above [`MAX_PAYLOAD`], as [`Account::charge`] if the charge is refused,
    /// `NoMemory` if the heap is out.
    pub fn new(bytes: &[u8], charge_to: Option<&Arc<Account>>) -> Result<Self, Error> {
        let mut payload = Self::zeroed(bytes.len(), charge_to)?;
        payload.copy_from_slice(bytes);
        Ok(payload)
    }

    /// `len` zero bytes to fill in place (a host call copies the guest's bytes straight in),
    /// charged as [`new`](Self::new) charges.
    // Inlined, with the heap case out of line: a request of a few words is built in place.
    #[inline]
    pub fn zeroed(len: usize, charge_to: Option<&Arc<Account>>) -> Result<Self, Error> {
        if len <= INLINE_PAYLOAD {
            return Ok(Self(Repr::Inline { len: len as u8, bytes: Aligned([0; INLINE_PAYLOAD]) }));
        }
        Self::on_heap(len, charge_to)
    }

    /// As [`zeroed`](Self::zeroed), for a payload too long to keep inline.
    #[inline(never)]
    fn on_heap(len: usize, charge_to: Option<&Arc<Account>>) -> Result<Self, Error> {
        if len > MAX_PAYLOAD {
            return Err(Error::TooLarge);
        }
        let charge = charge_to.map(|account| account.charge(len as u64 + HEAP_OVERHEAD)).transpose()?;
        let mut heap = Vec::new();
        heap.try_reserve_exact(len).map_err(|_| Error::NoMemory)?;
        heap.resize(len, 0);
        Ok(Self(Repr::Heap { bytes: heap.into_boxed_slice(), _charge: charge }))
    }
}

impl Deref for Payload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, bytes } => &bytes.0[..usize::from(*len)],
            Repr::Heap { bytes, .. } => bytes,
        }
    }
}

impl DerefMut for Payload {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, bytes } => &mut bytes.0[..usize::from(*len)],
            Repr::Heap { bytes, .. } => bytes,
        }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_keep_their_bytes_inline_or_not() {
        for len in [0, 1, 8, INLINE_PAYLOAD, INLINE_PAYLOAD + 1, MAX_PAYLOAD] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let payload = Payload::new(&bytes, None).unwrap();
            assert_eq!(&*payload, &bytes[..]);
            assert_eq!(matches!(payload.0, Repr::Inline { .. }), len <= INLINE_PAYLOAD);
        }
        assert_eq!(Payload::new(&[0; MAX_PAYLOAD + 1], None).unwrap_err(), Error::TooLarge);
        assert_eq!(Payload::zeroed(MAX_PAYLOAD + 1, None).unwrap_err(), Error::TooLarge);
        let mut filled = Payload::zeroed(INLINE_PAYLOAD + 3, None).unwrap();
        filled[INLINE_PAYLOAD + 2] = 7;
        assert_eq!((filled.len(), filled[INLINE_PAYLOAD + 2]), (INLINE_PAYLOAD + 3, 7));
    }

    #[test]
    fn a_small_message_stays_small() {
        // Queues hold messages by value: keep a message within two cache lines.
        assert!(size_of::<Message>() <= 128, "Message is {} bytes", size_of::<Message>());
    }
}
