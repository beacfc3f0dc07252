//! The tasks waiting on one side of an endpoint. Unlike a single `AtomicWaker`, it keeps every
//! waiter, so several tasks can wait on one endpoint and none is forgotten. The endpoint (in
//! `endpoint`) decides when to wake them, and does so only after releasing its lock.

use alloc::collections::VecDeque;
use core::task::Waker;

use crate::error::Error;

/// Waiters in the order they arrived, each under a key its future keeps.
pub(super) struct WaitList {
    waiters: VecDeque<(u64, Waker)>,
    next_key: u64,
}

impl WaitList {
    /// An empty list.
    pub(super) const fn new() -> Self {
        Self { waiters: VecDeque::new(), next_key: 0 }
    }

    /// How many tasks wait.
    pub(super) fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Waits with `waker`: refreshes the waker under `key` if it is still listed, or lists it
    /// anew (after a wake took it) and stores the new key.
    pub(super) fn register(&mut self, key: &mut Option<u64>, waker: &Waker) -> Result<(), Error> {
        if let Some(entry) = key.and_then(|k| self.waiters.iter_mut().find(|(listed, _)| *listed == k)) {
            entry.1.clone_from(waker);
            return Ok(());
        }
        // The list only grows past its high-water mark here; a failed growth is an error the
        // waiter sees, not a kernel panic.
        self.waiters.try_reserve(1).map_err(|_| Error::NoMemory)?;
        let k = self.next_key;
        self.next_key += 1;
        self.waiters.push_back((k, waker.clone()));
        *key = Some(k);
        Ok(())
    }

    /// Stops waiting under `key` (a no-op once a wake took it).
    pub(super) fn remove(&mut self, key: u64) {
        if let Some(i) = self.waiters.iter().position(|(listed, _)| *listed == key) {
            self.waiters.remove(i);
        }
    }

    /// Takes the longest-waiting waker off the list.
    pub(super) fn pop(&mut self) -> Option<Waker> {
        self.waiters.pop_front().map(|(_, waker)| waker)
    }
}
