//! Kernel memory charged to actors (seL4's idea of kernel memory as accounted objects, kept
//! as books rather than as typed memory).
//!
//! Every byte the kernel holds for an actor is charged to the actor's [`Account`] while it is
//! held: its interpreter's code, stacks and tables, its Wasm memory, its fiber stack and
//! capability table, the endpoints it created (with room for every message they can queue),
//! and the payloads it sent that wait in queues (charged to the sender until received). A
//! charge is made before the memory is taken and is refused (`KernelMemoryLimit` when the
//! actor's own limit would be passed, `NoMemory` when the pool would) rather than letting an
//! allocation fail in the kernel. What was charged is held by a [`Charge`], which gives it
//! back when dropped, with the object it paid for: the books balance by construction.
//!
//! All actors draw from one [`Pool`]: the kernel memory free at boot less a reserve that only
//! the kernel itself uses (its own work, its services, the objects of the boot manifest), so
//! the kernel can always allocate. Of the pool, a share is left to the actors the manifest
//! starts: actors started at run time (`sys_proc_spawn`, the shell's `run`) cannot take it, so
//! a tree of them cannot starve the system's own actors either. Kernel services have an
//! account too, which counts but never refuses.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// What an account may draw from the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// A kernel service: counted, never refused (its work is bounded by the kernel's code).
    Kernel,
    /// An actor of the boot manifest: all of the pool.
    System,
    /// An actor started at run time: the pool less the system actors' share.
    Spawned,
}

/// The memory all actors' charges draw from.
pub struct Pool {
    /// Bytes that may be charged in all.
    capacity: AtomicU64,
    /// Of those, bytes only [`Tier::System`] accounts may take.
    system_share: AtomicU64,
    /// Bytes charged now, by accounts of every tier but [`Tier::Kernel`].
    charged: AtomicU64,
}

/// The pool the kernel's actors draw from, sized at boot ([`Pool::set`]); unlimited until then,
/// and in host builds, whose heap is the host's.
pub static POOL: Pool = Pool::new(u64::MAX, 0);

impl Pool {
    /// A pool of `capacity` bytes of which `system_share` are left to system actors.
    pub const fn new(capacity: u64, system_share: u64) -> Self {
        Self {
            capacity: AtomicU64::new(capacity),
            system_share: AtomicU64::new(system_share),
            charged: AtomicU64::new(0),
        }
    }

    /// Sizes the pool from the kernel memory free at boot, `free` bytes: the kernel keeps an
    /// eighth (at least 8 MiB) for itself, and an eighth of the rest is the system actors' share.
    pub fn set(&self, free: u64) {
        let reserve = (free / 8).max(8 << 20);
        let capacity = free.saturating_sub(reserve);
        self.capacity.store(capacity, Ordering::Relaxed);
        self.system_share.store(capacity / 8, Ordering::Relaxed);
    }

    /// Bytes that may be charged in all.
    pub fn capacity(&self) -> u64 {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Bytes charged now.
    pub fn charged(&self) -> u64 {
        self.charged.load(Ordering::Relaxed)
    }

    /// The kernel memory limit an actor gets when its manifest line sets none: an eighth of
    /// the pool.
    pub fn default_limit(&self) -> u64 {
        match self.capacity() {
            u64::MAX => u64::MAX,
            capacity => capacity / 8,
        }
    }

    /// Takes `bytes` for an account of `tier`, unless that would pass what the tier may use.
    fn take(&self, tier: Tier, bytes: u64) -> Result<(), Error> {
        let ceiling = match tier {
            Tier::Kernel => return Ok(()),
            Tier::System => self.capacity(),
            Tier::Spawned => self.capacity().saturating_sub(self.system_share.load(Ordering::Relaxed)),
        };
        self.charged
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |charged| {
                charged.checked_add(bytes).filter(|&total| total <= ceiling)
            })
            .map(drop)
            .map_err(|_| Error::NoMemory)
    }

    fn give_back(&self, tier: Tier, bytes: u64) {
        if tier != Tier::Kernel {
            self.charged.fetch_sub(bytes, Ordering::Relaxed);
        }
    }
}

/// One process's kernel memory: what is charged to it now, against its limit.
pub struct Account {
    pool: &'static Pool,
    tier: Tier,
    limit: u64,
    used: AtomicU64,
}

impl Account {
    /// An account of `tier` that may hold up to `limit` bytes of `pool`.
    pub fn new(pool: &'static Pool, tier: Tier, limit: u64) -> Arc<Self> {
        Arc::new(Self { pool, tier, limit, used: AtomicU64::new(0) })
    }

    /// Bytes charged to it now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The most that may be charged to it.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes it could still be charged, as far as its own limit goes.
    pub fn room(&self) -> u64 {
        self.limit.saturating_sub(self.used())
    }

    /// Charges `bytes`: `KernelMemoryLimit` past its limit, `NoMemory` past what its tier may
    /// draw from the pool; nothing is charged then.
    pub fn charge(self: &Arc<Self>, bytes: u64) -> Result<Charge, Error> {
        self.take(bytes)?;
        Ok(Charge { account: Arc::clone(self), bytes })
    }

    /// A charge of nothing yet, to grow later.
    pub fn empty_charge(self: &Arc<Self>) -> Charge {
        Charge { account: Arc::clone(self), bytes: 0 }
    }

    fn take(&self, bytes: u64) -> Result<(), Error> {
        let limit = if self.tier == Tier::Kernel { u64::MAX } else { self.limit };
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&total| total <= limit)
            })
            .map_err(|_| Error::KernelMemoryLimit)?;
        self.pool.take(self.tier, bytes).inspect_err(|_| {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
        })
    }

    fn give_back(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
        self.pool.give_back(self.tier, bytes);
    }
}

/// Bytes charged to an account, given back when it is dropped (with the object they paid for).
pub struct Charge {
    account: Arc<Account>,
    bytes: u64,
}

impl Charge {
    /// Bytes it holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Charges `more` bytes to the same account, as [`Account::charge`] does; on refusal it
    /// holds what it held.
    pub fn grow(&mut self, more: u64) -> Result<(), Error> {
        self.account.take(more)?;
        self.bytes += more;
        Ok(())
    }

    /// Gives back `less` bytes of it (at most what it holds).
    pub fn shrink(&mut self, less: u64) {
        let less = less.min(self.bytes);
        self.account.give_back(less);
        self.bytes -= less;
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.account.give_back(self.bytes);
    }
}

impl core::fmt::Debug for Charge {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Charge({} bytes)", self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn pool(capacity: u64, system_share: u64) -> &'static Pool {
        Box::leak(Box::new(Pool::new(capacity, system_share)))
    }

    #[test]
    fn a_charge_past_the_limit_or_the_pool_is_refused_and_changes_nothing() {
        let pool = pool(1000, 300);
        let spawned = Account::new(pool, Tier::Spawned, 600);
        let system = Account::new(pool, Tier::System, 2000);
        let kernel = Account::new(pool, Tier::Kernel, 0);
        let a = spawned.charge(500).unwrap();
        assert_eq!(spawned.charge(101).unwrap_err(), Error::KernelMemoryLimit);
        let mut b = system.charge(400).unwrap();
        assert_eq!(
            spawned.charge(100).map(|c| c.bytes()).unwrap_err(),
            Error::NoMemory,
            "700 is the spawned ceiling"
        );
        assert_eq!(b.grow(101).unwrap_err(), Error::NoMemory, "the pool holds 1000");
        assert_eq!(b.bytes(), 400);
        b.grow(100).unwrap();
        let k = kernel.charge(1 << 40).unwrap();
        assert_eq!((pool.charged(), spawned.used(), system.used(), kernel.used()), (1000, 500, 500, 1 << 40));
        drop((a, b, k));
        assert_eq!((pool.charged(), spawned.used(), system.used(), kernel.used()), (0, 0, 0, 0));
    }

    #[test]
    fn the_boot_pool_keeps_a_reserve_and_a_system_share() {
        let pool = pool(0, 0);
        pool.set(512 << 20);
        assert_eq!(pool.capacity(), 448 << 20);
        assert_eq!(pool.default_limit(), 56 << 20);
        pool.set(16 << 20);
        assert_eq!(pool.capacity(), 8 << 20, "at least 8 MiB stay the kernel's");
    }

    proptest! {
        /// However charges are made, grown and dropped, what the accounts and the pool show is
        /// the sum of the charges alive, and nothing passes a limit or the pool.
        #[test]
        fn the_books_balance(ops in proptest::collection::vec((0usize..3, 0u64..400, any::<bool>()), 1..64)) {
            let pool = pool(2000, 500);
            let accounts = [
                Account::new(pool, Tier::Spawned, 900),
                Account::new(pool, Tier::System, 1600),
                Account::new(pool, Tier::Spawned, 5000),
            ];
            let mut live: Vec<(usize, Charge)> = Vec::new();
            for (who, bytes, drop_one) in ops {
                if drop_one && !live.is_empty() {
                    live.swap_remove(bytes as usize % live.len());
                } else if let Some((_, charge)) = live.iter_mut().find(|(w, _)| *w == who) {
                    let _ = charge.grow(bytes);
                } else if let Ok(charge) = accounts[who].charge(bytes) {
                    live.push((who, charge));
                }
                for (i, account) in accounts.iter().enumerate() {
                    let held: u64 = live.iter().filter(|(w, _)| *w == i).map(|(_, c)| c.bytes()).sum();
                    prop_assert_eq!(account.used(), held);
                    prop_assert!(held <= account.limit());
                }
                prop_assert_eq!(pool.charged(), live.iter().map(|(_, c)| c.bytes()).sum::<u64>());
                prop_assert!(pool.charged() <= 2000);
            }
            live.clear();
            prop_assert_eq!(pool.charged(), 0);
        }
    }
}
