//! Which CPU this is: each CPU's GS base points at its own [`CpuLocal`], so code finds its
//! CPU's index with one `gs`-relative load, without a lock or an APIC read.
//!
//! The index (0 for the boot CPU, then 1, 2, ... in start order) is what the rest of the kernel
//! uses to reach per-CPU state, kept in arrays of [`MAX_CPUS`] entries by the module that owns
//! the state. Code that may move to another CPU between two reads (a fiber resumed elsewhere)
//! asks again instead of keeping the answer.

use core::sync::atomic::{AtomicI64, AtomicU32, AtomicUsize, Ordering};

/// Most CPUs the kernel runs on; the others stay parked in the loader.
pub const MAX_CPUS: usize = 64;

/// What a CPU's GS base points at.
#[repr(C)]
pub struct CpuLocal {
    /// The CPU's index, read by [`index`] at offset 0.
    index: u64,
    /// The [`Word`]s, at offsets 8, 16, ...
    words: [AtomicI64; WORDS],
}

/// How many [`Word`]s a CPU has.
const WORDS: usize = 2;

/// A per-CPU word read or changed with one `gs`-relative instruction, for counters on the
/// hottest paths (every allocation), where [`PerCpu`]'s index and multiply would cost more than
/// the work. Only its own CPU touches a word, and one instruction cannot be split by an
/// interrupt, so no lock prefix is needed.
#[derive(Clone, Copy)]
pub struct Word<const N: usize>;

/// Whether a metered stretch is open on this CPU (`mem::meter`): 0 or 1.
pub const STRETCH_OPEN: Word<0> = Word;
/// Heap bytes taken net in this CPU's open stretches, not settled yet (`mem::meter`).
pub const STRETCH_TAKEN: Word<1> = Word;

impl<const N: usize> Word<N> {
    /// Offset of the word in [`CpuLocal`].
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    const OFFSET: usize = {
        assert!(N < WORDS);
        8 + 8 * N
    };

    /// Its value on this CPU.
    #[inline]
    pub fn get(self) -> i64 {
        #[cfg(target_os = "none")]
        {
            let value: i64;
            // SAFETY: the GS base points at this CPU's static record (installed before any code
            // that uses a word); the word lies inside it.
            unsafe {
                core::arch::asm!("mov {}, gs:[{off}]", out(reg) value, off = const Self::OFFSET,
                    options(nostack, readonly, preserves_flags))
            };
            value
        }
        #[cfg(not(target_os = "none"))]
        on_host(N, |word| word.load(Ordering::Relaxed))
    }

    /// Sets it on this CPU.
    #[inline]
    pub fn set(self, value: i64) {
        #[cfg(target_os = "none")]
        // SAFETY: as in `get`; the record's words are atomics, written only by their CPU.
        unsafe {
            core::arch::asm!("mov gs:[{off}], {}", in(reg) value, off = const Self::OFFSET,
                options(nostack, preserves_flags))
        };
        #[cfg(not(target_os = "none"))]
        on_host(N, |word| word.store(value, Ordering::Relaxed));
    }

    /// Adds `value` to it on this CPU (wrapping).
    #[inline]
    pub fn add(self, value: i64) {
        #[cfg(target_os = "none")]
        // SAFETY: as in `set`.
        unsafe {
            core::arch::asm!("add gs:[{off}], {}", in(reg) value, off = const Self::OFFSET, options(nostack))
        };
        #[cfg(not(target_os = "none"))]
        on_host(N, |word| word.fetch_add(value, Ordering::Relaxed));
    }
}

/// Word `n` of a build that does not run on its own CPUs: of the thread in tests and fuzzing
/// (each thread a CPU, so that tests side by side do not see each other's counts), else of
/// CPU 0.
#[cfg(not(target_os = "none"))]
fn on_host<R>(n: usize, f: impl FnOnce(&AtomicI64) -> R) -> R {
    #[cfg(any(test, feature = "host"))]
    return HOST_WORDS.with(|words| f(&words[n]));
    #[cfg(not(any(test, feature = "host")))]
    f(&LOCALS[0].words[n])
}

#[cfg(all(not(target_os = "none"), any(test, feature = "host")))]
std::thread_local! {
    static HOST_WORDS: [AtomicI64; WORDS] = const { [const { AtomicI64::new(0) }; WORDS] };
}

/// One per possible CPU: static, so the boot CPU can install its own before the heap exists.
static LOCALS: [CpuLocal; MAX_CPUS] = {
    let mut locals = [const { CpuLocal { index: 0, words: [const { AtomicI64::new(0) }; WORDS] } }; MAX_CPUS];
    let mut i = 0;
    while i < MAX_CPUS {
        locals[i].index = i as u64;
        i += 1;
    }
    locals
};

#[cfg(target_os = "none")]
const IA32_GS_BASE: u32 = 0xc000_0101;

/// Makes CPU `index` (below [`MAX_CPUS`]) this one, for good, and counts it online. Each CPU
/// calls it once, after its GDT is loaded.
pub fn install(index: usize) {
    set_base(index);
    ONLINE.fetch_add(1, Ordering::AcqRel);
}

/// Points this CPU's GS base at the record for `index`: from here on [`index`] answers.
pub fn set_base(index: usize) {
    let local = &LOCALS[index.min(MAX_CPUS - 1)];
    #[cfg(target_os = "none")]
    // SAFETY: IA32_GS_BASE exists on every x86_64 CPU; the kernel never uses GS for anything
    // else, and the record is static, so the base stays valid for the kernel's life.
    unsafe {
        x86_64::registers::model_specific::Msr::new(IA32_GS_BASE).write(&raw const *local as u64)
    };
    #[cfg(not(target_os = "none"))]
    let _ = local;
}

/// The index of the CPU running this code.
#[inline]
pub fn index() -> usize {
    #[cfg(target_os = "none")]
    {
        let index: u64;
        // SAFETY: every CPU installs its GS base (`install`) before running kernel code that
        // asks; the load reads the static record's first field. Not `pure`: a fiber may resume
        // on another CPU, so two calls must not be merged.
        unsafe {
            core::arch::asm!("mov {}, gs:[0]", out(reg) index, options(nostack, readonly, preserves_flags))
        };
        index as usize
    }
    // Host builds (tests, fuzzing) run as one CPU.
    #[cfg(not(target_os = "none"))]
    0
}

/// CPUs that have installed their index.
static ONLINE: AtomicUsize = AtomicUsize::new(0);

/// Each CPU's local APIC id, by index: where an interrupt for that CPU is sent.
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

/// How many CPUs run the kernel (1 in host builds, and until the others start).
pub fn online() -> usize {
    ONLINE.load(Ordering::Acquire).max(1)
}

/// Records that CPU `index` has the local APIC id `apic_id`.
pub fn set_apic_id(index: usize, apic_id: u32) {
    if let Some(slot) = APIC_IDS.get(index) {
        slot.store(apic_id, Ordering::Relaxed);
    }
}

/// CPU `index`'s local APIC id.
pub fn apic_id(index: usize) -> u32 {
    APIC_IDS.get(index).map_or(0, |id| id.load(Ordering::Relaxed))
}

/// A value per CPU, each on a cache line of its own so one CPU's writes do not slow another's
/// reads; [`get`](Self::get) gives the running CPU's. Build one with [`per_cpu!`].
pub struct PerCpu<T>(pub [CacheLine<T>; MAX_CPUS]);

/// A value alone on its cache line.
#[repr(align(64))]
pub struct CacheLine<T>(pub T);

impl<T> PerCpu<T> {
    /// The running CPU's value.
    #[inline]
    pub fn get(&self) -> &T {
        // Unchecked: the hottest paths (every IPC, wake and allocation) ask a few dozen times a
        // round trip, and the check was a third of each lookup.
        // SAFETY: `index` reads the `index` field of the `LOCALS` entry this CPU's GS base
        // points at, and entry `i` holds `i`, below `MAX_CPUS` (host builds: 0).
        unsafe { &self.0.get_unchecked(index()).0 }
    }

    /// CPU `index`'s value.
    pub fn of(&self, index: usize) -> &T {
        &self.0[index.min(MAX_CPUS - 1)].0
    }
}

/// A [`PerCpu`] whose every CPU starts with `$init` (a constant expression).
#[macro_export]
macro_rules! per_cpu {
    ($init:expr) => {
        $crate::arch::cpu_local::PerCpu(
            [const { $crate::arch::cpu_local::CacheLine($init) }; $crate::arch::cpu_local::MAX_CPUS],
        )
    };
}
