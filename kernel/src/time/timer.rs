//! Sleeping: [`sleep`] and [`sleep_until`] futures on one timer queue.
//!
//! The queue is only touched in task context: the executor's loop calls [`fire_expired`]
//! between rounds, and the timer interrupt merely ends the idle `hlt`, so no interrupt handler
//! ever takes the queue's lock or frees its memory.

use alloc::collections::BTreeMap;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use spin::Mutex;

use super::clock::{self, Instant};

/// Pending wake-ups, earliest first; the sequence number keeps equal deadlines apart.
#[derive(Default)]
pub struct TimerQueue {
    entries: BTreeMap<(Instant, u64), Waker>,
    next_seq: u64,
}

impl TimerQueue {
    /// An empty queue.
    pub const fn new() -> Self {
        Self { entries: BTreeMap::new(), next_seq: 0 }
    }

    /// Wakes `waker` at `deadline`; returns the key to cancel or replace it.
    pub fn insert(&mut self, deadline: Instant, waker: Waker) -> (Instant, u64) {
        let key = (deadline, self.next_seq);
        self.next_seq += 1;
        self.entries.insert(key, waker);
        key
    }

    /// Replaces the waker under `key`, if it is still queued.
    pub fn update(&mut self, key: (Instant, u64), waker: &Waker) -> bool {
        match self.entries.get_mut(&key) {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: (Instant, u64)) {
        self.entries.remove(&key);
    }

    /// Removes every entry due at `now` and returns their wakers, earliest first.
    pub fn take_expired(&mut self, now: Instant) -> impl Iterator<Item = Waker> + use<> {
        let later = self.entries.split_off(&(Instant::from_nanos(now.as_nanos().saturating_add(1)), 0));
        core::mem::replace(&mut self.entries, later).into_values()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.entries.keys().next().map(|&(deadline, _)| deadline)
    }
}

static QUEUE: Mutex<TimerQueue> = Mutex::new(TimerQueue::new());
/// Earliest deadline in nanoseconds (`u64::MAX`: none), readable without the lock.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

fn publish_next(queue: &TimerQueue) {
    let next = queue.next_deadline().map_or(u64::MAX, Instant::as_nanos);
    NEXT_DEADLINE.store(next, Ordering::Relaxed);
}

/// Wakes every sleeper whose deadline is `now` or earlier; returns how many.
pub fn fire_expired(now: Instant) -> usize {
    if NEXT_DEADLINE.load(Ordering::Relaxed) > now.as_nanos() {
        return 0;
    }
    let expired: alloc::vec::Vec<Waker> = {
        let mut queue = QUEUE.lock();
        let expired = queue.take_expired(now).collect();
        publish_next(&queue);
        expired
    };
    // Woken outside the lock: a waker may run arbitrary code.
    let count = expired.len();
    expired.into_iter().for_each(Waker::wake);
    count
}

/// Whether a sleeper's deadline has come at `now` (cheap: no lock).
pub fn due(now: Instant) -> bool {
    NEXT_DEADLINE.load(Ordering::Relaxed) <= now.as_nanos()
}

/// The earliest sleeper's deadline, if one sleeps.
pub fn next_deadline() -> Option<Instant> {
    match NEXT_DEADLINE.load(Ordering::Relaxed) {
        u64::MAX => None,
        ns => Some(Instant::from_nanos(ns)),
    }
}

/// Completes at `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, key: None }
}

/// Completes after `duration` (at least; the timer tick sets the granularity).
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(clock::now().saturating_add(duration))
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<(Instant, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if clock::now() >= self.deadline {
            if let Some(key) = self.key.take() {
                QUEUE.lock().remove(key);
            }
            return Poll::Ready(());
        }
        let mut queue = QUEUE.lock();
        let still_queued = self.key.is_some_and(|key| queue.update(key, cx.waker()));
        if !still_queued {
            self.key = Some(queue.insert(self.deadline, cx.waker().clone()));
            publish_next(&queue);
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut queue = QUEUE.lock();
            queue.remove(key);
            publish_next(&queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::task::Wake;
    use std::sync::Mutex as StdMutex;

    struct Record(usize, Arc<StdMutex<alloc::vec::Vec<usize>>>);

    impl Wake for Record {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    #[test]
    fn sleepers_wake_at_their_deadline_in_order() {
        let log = Arc::new(StdMutex::new(alloc::vec::Vec::new()));
        let waker = |i| Waker::from(Arc::new(Record(i, log.clone())));
        let mut q = TimerQueue::new();
        q.insert(Instant::from_nanos(30), waker(3));
        q.insert(Instant::from_nanos(10), waker(1));
        let cancelled = q.insert(Instant::from_nanos(20), waker(9));
        q.insert(Instant::from_nanos(20), waker(2));
        q.remove(cancelled);
        assert_eq!(q.next_deadline(), Some(Instant::from_nanos(10)));

        q.take_expired(Instant::from_nanos(9)).for_each(Waker::wake);
        assert!(log.lock().unwrap().is_empty(), "nothing is due before its deadline");
        q.take_expired(Instant::from_nanos(20)).for_each(Waker::wake);
        assert_eq!(*log.lock().unwrap(), [1, 2], "due at or before now, earliest first");
        assert_eq!(q.next_deadline(), Some(Instant::from_nanos(30)));
        q.take_expired(Instant::from_nanos(u64::MAX)).for_each(Waker::wake);
        assert_eq!(*log.lock().unwrap(), [1, 2, 3]);
        assert_eq!(q.next_deadline(), None);
    }
}
