//! The tasks waiting on one side of an endpoint. Unlike a single `AtomicWaker`, it keeps every
//! waiter, so several tasks can wait on one endpoint and none is forgotten. The endpoint (in
//! `endpoint`) decides when to wake them, and does so only after releasing its lock.

use alloc::collections::VecDeque;
use core::task::Waker;

use crate::error::Error;

/// Waiters in the order they arrived, each under a key its future keeps.
pub(super) struct WaitList {
    /// The longest-waiting waiter, if it came to an empty list: one waiter at a time (a
    /// request/reply pair) is the common case, and takes no trip through `rest`.
    first: Option<(u64, Waker)>,
    /// The waiters behind `first`, in the order they came.
    rest: VecDeque<(u64, Waker)>,
    next_key: u64,
}

impl WaitList {
    /// An empty list.
    pub(super) const fn new() -> Self {
        Self { first: None, rest: VecDeque::new(), next_key: 0 }
    }

    /// How many tasks wait.
    pub(super) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Waits with `waker`: refreshes the waker under `key` if it is still listed, or lists it
    /// anew (after a wake took it) and stores the new key.
    // Forced inline: a blocking receive lists itself on every wait (this and `remove` with only
    // the hint: 116 instructions more of a Wasm round trip's 3078, measured).
    #[inline(always)]
    pub(super) fn register(&mut self, key: &mut Option<u64>, waker: &Waker) -> Result<(), Error> {
        if let Some(entry) = key.and_then(|k| self.entry(k)) {
            entry.1.clone_from(waker);
            return Ok(());
        }
        let k = self.next_key;
        // Into `first` only while nobody waits behind it, so it is always the oldest.
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some((k, waker.clone()));
        } else {
            // The list only grows past its high-water mark here; a failed growth is an error
            // the waiter sees, not a kernel panic.
            self.rest.try_reserve(1).map_err(|_| Error::NoMemory)?;
            self.rest.push_back((k, waker.clone()));
        }
        self.next_key += 1;
        *key = Some(k);
        Ok(())
    }

    /// Stops waiting under `key` (a no-op once a wake took it).
    // Inlined: a receive woken by a send ends here with its key already taken off, and the
    // look at `first` is all that runs then.
    #[inline(always)]
    pub(super) fn remove(&mut self, key: u64) {
        match &self.first {
            Some((listed, _)) if *listed == key => self.first = None,
            _ if self.rest.is_empty() => {}
            _ => self.remove_from_rest(key),
        }
    }

    fn remove_from_rest(&mut self, key: u64) {
        if let Some(i) = self.rest.iter().position(|(listed, _)| *listed == key) {
            self.rest.remove(i);
        }
    }

    /// Takes the longest-waiting waiter off the list.
    pub(super) fn pop(&mut self) -> Option<Waker> {
        self.first.take().or_else(|| self.rest.pop_front()).map(|(_, waker)| waker)
    }

    /// The waiter listed under `key`, if it still is.
    fn entry(&mut self, key: u64) -> Option<&mut (u64, Waker)> {
        match &mut self.first {
            Some(entry) if entry.0 == key => Some(entry),
            _ => self.rest.iter_mut().find(|(listed, _)| *listed == key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_leave_in_the_order_they_came_whichever_place_holds_them() {
        let wakers: alloc::vec::Vec<Waker> = (0..4).map(|_| Waker::noop().clone()).collect();
        let mut list = WaitList::new();
        let mut keys = [None; 4];
        for (key, waker) in keys.iter_mut().zip(&wakers).take(3) {
            list.register(key, waker).unwrap();
        }
        assert_eq!(list.len(), 3);
        // The first leaves early; the next to come queues behind the others, not in its place.
        list.remove(keys[0].unwrap());
        list.register(&mut keys[3], &wakers[3]).unwrap();
        let front = |list: &WaitList| list.first.as_ref().or(list.rest.front()).map(|(k, _)| *k);
        let mut order = alloc::vec::Vec::new();
        while let Some(k) = front(&list) {
            order.push(k);
            list.pop();
        }
        assert_eq!(order, [keys[1].unwrap(), keys[2].unwrap(), keys[3].unwrap()]);
        // Refreshing a listed waiter keeps its key and its place.
        let mut key = None;
        list.register(&mut key, &wakers[0]).unwrap();
        let listed = key;
        list.register(&mut key, &wakers[0]).unwrap();
        assert_eq!((key, list.len()), (listed, 1));
        list.remove(listed.unwrap());
        assert_eq!(list.len(), 0);
    }
}
