//! The reactor: what suspended tasks wait for (an endpoint to become readable or writable, a
//! deadline to pass) and the one blocking call that waits for all of it.
//!
//! When no task can run, the executor calls [`park`]: every handle a task waits on goes into a
//! single `sys_cap_wait` list (interests merged per handle) with the nearest deadline, so the
//! actor blocks in exactly one call. Afterwards exactly the tasks whose handle became ready, or
//! whose deadline passed, are woken; the others stay registered.

use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::poll_fn;
use core::task::{Poll, Waker};

use super::local::actor_local;
use crate::sys;

/// When there are more handles than one wait takes, how long the blocking wait on the first
/// [`sys::MAX_WAIT_ENTRIES`] may last before the others are looked at again.
const OVERFLOW_POLL_NS: i64 = 1_000_000;

/// What a registration waits for.
pub(crate) enum Source {
    /// `interest` ([`sys::READABLE`], [`sys::WRITABLE`]) on an endpoint handle.
    Handle { handle: i64, interest: u32 },
    /// The monotonic clock reaching this many nanoseconds.
    Deadline(i64),
}

struct Wait {
    source: Source,
    /// `None` once woken, until the next pending poll arms it again.
    waker: Option<Waker>,
}

struct Reactor {
    waits: Vec<Option<Wait>>,
    free: Vec<usize>,
}

actor_local! {
    static REACTOR: RefCell<Reactor> = RefCell::new(Reactor { waits: Vec::new(), free: Vec::new() });
}

/// A future's slot in the reactor: armed by each pending poll, given back when dropped (so a
/// future dropped early, say the loser of a `select`, leaves nothing behind).
pub(crate) struct Registration(Option<usize>);

impl Registration {
    pub(crate) const fn new() -> Registration {
        Registration(None)
    }

    /// Wakes `waker` once `source` is ready.
    pub(crate) fn arm(&mut self, source: Source, waker: &Waker) {
        let wait = Wait { source, waker: Some(waker.clone()) };
        REACTOR.with(|reactor| {
            let mut reactor = reactor.borrow_mut();
            match self.0 {
                Some(slot) => reactor.waits[slot] = Some(wait),
                None => {
                    let slot = match reactor.free.pop() {
                        Some(slot) => slot,
                        None => {
                            reactor.waits.push(None);
                            reactor.waits.len() - 1
                        }
                    };
                    reactor.waits[slot] = Some(wait);
                    self.0 = Some(slot);
                }
            }
        });
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            REACTOR.with(|reactor| {
                let mut reactor = reactor.borrow_mut();
                reactor.waits[slot] = None;
                reactor.free.push(slot);
            });
        }
    }
}

/// Runs `attempt` until it gives a result, suspending the task between tries until `handle`
/// shows `interest`.
pub(crate) async fn retry_when<T>(handle: i64, interest: u32, mut attempt: impl FnMut() -> Option<T>) -> T {
    let mut registration = Registration::new();
    poll_fn(|cx| match attempt() {
        Some(done) => Poll::Ready(done),
        None => {
            registration.arm(Source::Handle { handle, interest }, cx.waker());
            Poll::Pending
        }
    })
    .await
}

/// Blocks the actor until something a task waits for is ready, then wakes those tasks.
///
/// # Panics
/// If no task waits for anything: nothing could ever wake one, the actor is deadlocked.
pub(crate) fn park() {
    let (mut list, deadline) = REACTOR.with(|reactor| reactor.borrow().wait_list());
    if list.is_empty() {
        let deadline = deadline.expect("every task is suspended and none waits for a handle or a deadline");
        let left = deadline - sys::sys_clock_ns();
        if left > 0 {
            sys::sys_sleep_ns(left);
        }
    } else {
        wait(&mut list, deadline.unwrap_or(sys::NO_DEADLINE));
    }
    let now = sys::sys_clock_ns();
    let woken = REACTOR.with(|reactor| reactor.borrow_mut().fire(&list, now));
    // Woken outside the borrow: waking schedules a task, which may register again.
    woken.into_iter().for_each(Waker::wake);
}

/// One blocking `sys_cap_wait` on `list`; past its 64-entry limit, the rest are looked at
/// without blocking first, and the blocking wait is kept short.
fn wait(list: &mut [u8], deadline: i64) {
    let limit = sys::MAX_WAIT_ENTRIES * sys::WAIT_ENTRY;
    if list.len() <= limit {
        wait_call(list, deadline);
        return;
    }
    let ready: i32 = list.chunks_mut(limit).map(|part| wait_call(part, 0)).sum();
    if ready == 0 {
        let soon = sys::sys_clock_ns() + OVERFLOW_POLL_NS;
        wait_call(&mut list[..limit], if deadline == sys::NO_DEADLINE { soon } else { deadline.min(soon) });
    }
}

/// `sys_cap_wait` on the entries of `part`; returns how many are ready.
fn wait_call(part: &mut [u8], deadline: i64) -> i32 {
    let count = (part.len() / sys::WAIT_ENTRY) as i32;
    // SAFETY: the kernel writes only the ready fields of the `count` entries, all inside
    // `part`, which nothing else borrows during the call.
    let ready = unsafe { sys::sys_cap_wait(sys::ptr_mut(part), count, deadline) };
    assert!(ready >= 0, "sys_cap_wait refused the wait list (error {ready})");
    ready
}

impl Reactor {
    /// The `sys_cap_wait` entries for every armed handle wait, one per handle, and the
    /// nearest armed deadline.
    fn wait_list(&self) -> (Vec<u8>, Option<i64>) {
        let mut list: Vec<u8> = Vec::new();
        let mut nearest: Option<i64> = None;
        for wait in self.waits.iter().flatten().filter(|wait| wait.waker.is_some()) {
            match wait.source {
                Source::Handle { handle, interest } => {
                    match list
                        .as_chunks_mut::<{ sys::WAIT_ENTRY }>()
                        .0
                        .iter_mut()
                        .find(|entry| sys::WaitEntry::from_bytes(entry).handle == handle)
                    {
                        Some(entry) => {
                            let merged = sys::WaitEntry {
                                interest: sys::WaitEntry::from_bytes(entry).interest | interest,
                                ..sys::WaitEntry::from_bytes(entry)
                            };
                            *entry = merged.to_bytes();
                        }
                        None => {
                            list.extend_from_slice(&sys::WaitEntry { handle, interest, ready: 0 }.to_bytes())
                        }
                    }
                }
                Source::Deadline(at) => nearest = Some(nearest.map_or(at, |n| n.min(at))),
            }
        }
        (list, nearest)
    }

    /// Disarms and returns the wakers of the waits that `list` (as the kernel filled it in)
    /// and the clock say are over.
    fn fire(&mut self, list: &[u8], now: i64) -> Vec<Waker> {
        let mut woken = Vec::new();
        for wait in self.waits.iter_mut().flatten() {
            let over = match wait.source {
                Source::Handle { handle, interest } => {
                    let ready = list
                        .as_chunks::<{ sys::WAIT_ENTRY }>()
                        .0
                        .iter()
                        .map(sys::WaitEntry::from_bytes)
                        .find(|entry| entry.handle == handle)
                        .map_or(0, |entry| entry.ready);
                    ready & (interest | sys::READY_CLOSED | sys::READY_INVALID) != 0
                }
                Source::Deadline(at) => at <= now,
            };
            if over {
                woken.extend(wait.waker.take());
            }
        }
        woken
    }
}
