//! A process's capability table: slots of capabilities, reached through [`Handle`]s. The process
//! that owns a table (and its locking) is in `proc`.
//!
//! A handle is an `i64` holding the slot index in its low 32 bits and the slot's generation in
//! the next 31, so it is never negative. A slot's generation is bumped when its capability is
//! closed: a handle kept after `close` names an old generation and reaches nothing, even once the
//! slot holds a new capability. A slot whose generation would leave 31 bits is retired for good
//! rather than wrapped, so no handle can ever come back. The first capability in each slot has
//! generation 0, so a fresh table hands out 0, 1, 2… in insertion order (the boot manifest
//! promises actors their grants there).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::{Capability, Object, Rights};
use crate::boot::FramebufferInfo;
use crate::dev::{DmaBuffer, Session};
use crate::error::{Error, Rejected};
use crate::ipc::{Endpoint, SharedMemory};
use crate::mem::kmem::{Account, Charge};

pub use minimalos_abi::MAX_HANDLES;

/// Kernel memory one slot takes: itself and its place in the free list.
const SLOT_BYTES: usize = size_of::<Slot>() + size_of::<u32>();
/// Slots a table makes room for first.
const FIRST_SLOTS: usize = 8;
/// What a table's first room costs its process.
pub const FIRST_ROOM_BYTES: u64 = (FIRST_SLOTS * SLOT_BYTES) as u64;

/// Highest slot generation: keeps the handle's top bit clear.
const MAX_GENERATION: u32 = i32::MAX as u32;

/// Names a capability in one process's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Handle(i64);

impl Handle {
    /// The handle an actor passed; the table decides whether it names anything.
    pub const fn from_raw(raw: i64) -> Self {
        Self(raw)
    }

    /// The value an actor is given.
    pub const fn raw(self) -> i64 {
        self.0
    }

    fn new(index: usize, generation: u32) -> Self {
        Self((i64::from(generation) << 32) | index as i64)
    }

    /// Slot index and generation; `None` for negative values.
    fn decode(self) -> Option<(usize, u32)> {
        (self.0 >= 0).then_some(((self.0 & 0xffff_ffff) as usize, (self.0 >> 32) as u32))
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

struct Slot {
    generation: u32,
    cap: Option<Capability>,
}

/// One process's capabilities.
pub struct CapTable {
    slots: Vec<Slot>,
    /// Free slot indices. Its capacity always covers every slot, so closing never allocates.
    free: Vec<u32>,
    limit: usize,
    count: usize,
    /// What its slots cost their process, charged before each growth; `None` for a table whose
    /// memory is the kernel's.
    charge: Option<Charge>,
}

impl CapTable {
    /// An empty table that holds at most `limit` capabilities, its memory the kernel's.
    pub const fn new(limit: usize) -> Self {
        Self { slots: Vec::new(), free: Vec::new(), limit, count: 0, charge: None }
    }

    /// An empty table that holds at most `limit` capabilities, its slots charged to `account`
    /// as they are made.
    pub fn charged_to(limit: usize, account: &Arc<Account>) -> Self {
        Self { charge: Some(account.empty_charge()), ..Self::new(limit) }
    }

    /// How many capabilities it holds.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether it holds as many capabilities as it may.
    pub fn is_full(&self) -> bool {
        self.count >= self.limit
    }

    /// Stores `cap` and returns its handle; when the table is at its limit (`TooManyHandles`) or
    /// the heap is out of memory, `cap` comes back untouched.
    pub fn insert(&mut self, cap: Capability) -> Result<Handle, Rejected<Capability>> {
        if self.is_full() {
            return Err(Rejected { error: Error::TooManyHandles, value: cap });
        }
        let index = match self.free.pop() {
            Some(index) => index as usize,
            None => match self.grow() {
                Ok(index) => index,
                Err(error) => return Err(Rejected { error, value: cap }),
            },
        };
        let slot = &mut self.slots[index];
        slot.cap = Some(cap);
        self.count += 1;
        Ok(Handle::new(index, slot.generation))
    }

    /// Adds an empty slot and returns its index.
    fn grow(&mut self) -> Result<usize, Error> {
        let index = self.slots.len();
        if index > u32::MAX as usize {
            return Err(Error::TooManyHandles);
        }
        if index == self.slots.capacity() {
            self.make_room(index)?;
        }
        self.slots.push(Slot { generation: 0, cap: None });
        Ok(index)
    }

    /// Doubles the room for slots (to at most the limit's next power of two), charging it first.
    fn make_room(&mut self, len: usize) -> Result<(), Error> {
        let room = (2 * len).max(FIRST_SLOTS).min(self.limit.next_power_of_two()).max(len + 1);
        let bytes = ((room - len) * SLOT_BYTES) as u64;
        if let Some(charge) = &mut self.charge {
            charge.grow(bytes)?;
        }
        let reserved = self.slots.try_reserve_exact(room - len).is_ok()
            && self.free.try_reserve_exact(room - self.free.len()).is_ok();
        if !reserved {
            if let Some(charge) = &mut self.charge {
                charge.shrink(bytes);
            }
            return Err(Error::NoMemory);
        }
        Ok(())
    }

    /// Takes the capability `handle` names out of the table; `handle` is dead from now on.
    pub fn remove(&mut self, handle: Handle) -> Result<Capability, Error> {
        let (index, _) = self.live(handle)?;
        let slot = &mut self.slots[index];
        let cap = slot.cap.take().ok_or(Error::InvalidHandle)?;
        self.count -= 1;
        if slot.generation < MAX_GENERATION {
            slot.generation += 1;
            self.free.push(index as u32);
        }
        Ok(cap)
    }

    /// The capability `handle` names, if it has at least `rights`.
    pub fn get(&self, handle: Handle, rights: Rights) -> Result<&Capability, Error> {
        self.lookup(handle, rights, Some)
    }

    /// The endpoint `handle` names, if the capability has at least `rights`.
    pub fn endpoint(&self, handle: Handle, rights: Rights) -> Result<&Arc<Endpoint>, Error> {
        self.lookup(handle, rights, |cap| match cap.object() {
            Object::Endpoint(endpoint) => Some(endpoint),
            _ => None,
        })
    }

    /// The shared memory `handle` names, if the capability has at least `rights`.
    pub fn shared_memory(&self, handle: Handle, rights: Rights) -> Result<&Arc<SharedMemory>, Error> {
        self.lookup(handle, rights, |cap| match cap.object() {
            Object::SharedMemory(memory) => Some(memory),
            _ => None,
        })
    }

    /// The device session `handle` names, if the capability has at least `rights`.
    pub fn device(&self, handle: Handle, rights: Rights) -> Result<&Arc<Session>, Error> {
        self.lookup(handle, rights, |cap| match cap.object() {
            Object::Device(session) => Some(session),
            _ => None,
        })
    }

    /// The DMA buffer `handle` names, if the capability has at least `rights`.
    pub fn dma(&self, handle: Handle, rights: Rights) -> Result<&Arc<DmaBuffer>, Error> {
        self.lookup(handle, rights, |cap| match cap.object() {
            Object::Dma(buffer) => Some(buffer),
            _ => None,
        })
    }

    /// The framebuffer `handle` names, if the capability has at least `rights`.
    pub fn framebuffer(&self, handle: Handle, rights: Rights) -> Result<&FramebufferInfo, Error> {
        self.lookup(handle, rights, |cap| match cap.object() {
            Object::Framebuffer(info) => Some(*info),
            _ => None,
        })
    }

    /// Heap bytes the table uses, plus the size of every shared-memory object it reaches (an
    /// object shared by several processes counts in each).
    pub fn memory_bytes(&self) -> usize {
        let own = self.slots.capacity() * size_of::<Slot>() + self.free.capacity() * size_of::<u32>();
        let shared: usize = self
            .slots
            .iter()
            .filter_map(|slot| match slot.cap.as_ref()?.object() {
                Object::SharedMemory(memory) => Some(memory.size()),
                _ => None,
            })
            .sum();
        own + shared
    }

    /// Checks in this order: the handle is live (`InvalidHandle`), `pick` finds the object kind
    /// it wants (`WrongKind`), the capability has `rights` (`NoRights`).
    fn lookup<'a, T: ?Sized>(
        &'a self,
        handle: Handle,
        rights: Rights,
        pick: impl FnOnce(&'a Capability) -> Option<&'a T>,
    ) -> Result<&'a T, Error> {
        let (_, cap) = self.live(handle)?;
        let object = pick(cap).ok_or(Error::WrongKind)?;
        if cap.rights().contains(rights) { Ok(object) } else { Err(Error::NoRights) }
    }

    /// The slot index and capability of a handle this table issued and has not closed.
    fn live(&self, handle: Handle) -> Result<(usize, &Capability), Error> {
        let (index, generation) = handle.decode().ok_or(Error::InvalidHandle)?;
        match self.slots.get(index) {
            Some(Slot { generation: g, cap: Some(cap) }) if *g == generation => Ok((index, cap)),
            _ => Err(Error::InvalidHandle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};
    use proptest::prelude::*;

    /// A capability told apart from the others by its size.
    fn numbered(n: usize) -> Capability {
        Capability::shared_memory(n).unwrap()
    }

    fn size_at(table: &CapTable, handle: Handle) -> Result<usize, Error> {
        table.shared_memory(handle, Rights::empty()).map(|m| m.size())
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert,
        /// Close the n-th handle issued so far (live or not).
        CloseIssued(usize),
        /// Look up the n-th handle issued so far.
        LookupIssued(usize),
        /// Look up or close any value at all.
        LookupRaw(i64),
        CloseRaw(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Insert),
            2 => any::<usize>().prop_map(Op::CloseIssued),
            2 => any::<usize>().prop_map(Op::LookupIssued),
            1 => prop_oneof![any::<i64>(), -4i64..64, (0i64..4).prop_map(|g| g << 32)].prop_map(Op::LookupRaw),
            1 => prop_oneof![any::<i64>(), -4i64..64].prop_map(Op::CloseRaw),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Against a model: a handle reaches exactly the capability it was issued for until it is
        /// closed, and nothing afterwards; no value is ever issued twice; anything never issued
        /// (negative, malformed, guessed) is `InvalidHandle`.
        #[test]
        fn handles_cannot_be_forged_or_reused(ops in proptest::collection::vec(op(), 1..200)) {
            const LIMIT: usize = 6;
            let mut table = CapTable::new(LIMIT);
            let mut live: BTreeMap<i64, usize> = BTreeMap::new();
            let mut issued: Vec<i64> = Vec::new();
            let check = |table: &CapTable, live: &BTreeMap<i64, usize>, raw: i64| {
                let expected = live.get(&raw).copied().ok_or(Error::InvalidHandle);
                assert_eq!(size_at(table, Handle::from_raw(raw)), expected, "lookup of {raw:#x}");
            };
            let close = |table: &mut CapTable, live: &mut BTreeMap<i64, usize>, raw: i64| {
                let closed = table.remove(Handle::from_raw(raw)).map(|c| match c.object() {
                    Object::SharedMemory(m) => m.size(),
                    _ => unreachable!(),
                });
                assert_eq!(closed, live.remove(&raw).ok_or(Error::InvalidHandle), "close of {raw:#x}");
            };
            for (next, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert => match table.insert(numbered(next)) {
                        Ok(handle) => {
                            prop_assert!(live.len() < LIMIT);
                            prop_assert!(handle.raw() >= 0);
                            prop_assert!(!issued.contains(&handle.raw()), "handle {handle} issued twice");
                            issued.push(handle.raw());
                            live.insert(handle.raw(), next);
                        }
                        Err(rejected) => {
                            prop_assert_eq!(rejected.error, Error::TooManyHandles);
                            prop_assert_eq!(live.len(), LIMIT);
                            prop_assert!(matches!(rejected.value.object(), Object::SharedMemory(m) if m.size() == next));
                        }
                    },
                    Op::CloseIssued(n) if !issued.is_empty() => close(&mut table, &mut live, issued[n % issued.len()]),
                    Op::LookupIssued(n) if !issued.is_empty() => check(&table, &live, issued[n % issued.len()]),
                    Op::CloseIssued(_) | Op::LookupIssued(_) => {}
                    Op::LookupRaw(raw) => check(&table, &live, raw),
                    Op::CloseRaw(raw) => close(&mut table, &mut live, raw),
                }
                prop_assert_eq!(table.count(), live.len());
            }
            let closed: BTreeSet<i64> = issued.iter().copied().filter(|h| !live.contains_key(h)).collect();
            for raw in closed {
                prop_assert_eq!(size_at(&table, Handle::from_raw(raw)), Err(Error::InvalidHandle));
            }
        }
    }

    #[test]
    fn a_fresh_table_hands_out_0_1_2() {
        let mut table = CapTable::new(MAX_HANDLES);
        let handles: Vec<i64> = (1..=3).map(|n| table.insert(numbered(n)).unwrap().raw()).collect();
        assert_eq!(handles, [0, 1, 2]);
    }

    #[test]
    fn lookups_check_kind_then_rights() {
        let mut table = CapTable::new(MAX_HANDLES);
        let memory = table.insert(numbered(8).derive(Rights::READ).unwrap()).unwrap();
        assert_eq!(table.endpoint(memory, Rights::empty()).unwrap_err(), Error::WrongKind);
        assert_eq!(table.endpoint(memory, Rights::WRITE).unwrap_err(), Error::WrongKind);
        assert_eq!(table.shared_memory(memory, Rights::WRITE).unwrap_err(), Error::NoRights);
        assert_eq!(table.shared_memory(memory, Rights::READ).unwrap().size(), 8);
        assert_eq!(table.get(memory, Rights::READ | Rights::GRANT).unwrap_err(), Error::NoRights);
        assert_eq!(table.get(Handle::from_raw(-1), Rights::empty()).unwrap_err(), Error::InvalidHandle);
    }

    #[test]
    fn a_slot_at_its_last_generation_is_retired_not_reused() {
        let mut table = CapTable::new(MAX_HANDLES);
        let first = table.insert(numbered(1)).unwrap();
        // As if the slot had been closed and refilled 2^31 - 1 times.
        table.slots[0].generation = MAX_GENERATION;
        let last = Handle::new(0, MAX_GENERATION);
        assert!(last.raw() > 0, "the top generation still makes a positive handle");
        assert_eq!(size_at(&table, first), Err(Error::InvalidHandle));
        table.remove(last).unwrap();
        let next = table.insert(numbered(2)).unwrap();
        assert_eq!(next, Handle::new(1, 0), "slot 0 is retired");
        assert_eq!(size_at(&table, last), Err(Error::InvalidHandle));
        assert_eq!(table.count(), 1);
    }
}
