//! The kernel heap: talc over a virtual range at [`HEAP_BASE`] that grows from free frames,
//! with freed small blocks recycled in front of it (`small_blocks`) and what each CPU takes
//! counted (`meter`).
//!
//! When talc runs out, its out-of-memory handler maps more pages at the end of the range and
//! extends the heap. If no frame is left the allocation fails: fallible APIs (`try_reserve`)
//! return an error, infallible ones end in the panic handler's report.

use core::alloc::Layout;
use core::sync::atomic::{AtomicU64, Ordering};
use talc::{OomHandler, Span, Talc, Talck};

use super::meter::Metered;
use super::small_blocks::SmallBlocks;
use super::{HEAP_BASE, HEAP_MAX, MemError, PAGE_SIZE, paging};

/// The heap grows by at least this much at a time, so small allocations do not map page by page.
const GROWTH_STEP: u64 = 256 * 1024;

/// Bytes of the heap range mapped so far; also read by `mem::stats`.
static MAPPED: AtomicU64 = AtomicU64::new(0);

/// Grows the heap on demand.
pub struct GrowFromFrames {
    heap: Span,
}

impl OomHandler for GrowFromFrames {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let mapped = MAPPED.load(Ordering::Relaxed);
        // Room for the request plus talc's per-chunk overhead, rounded to whole steps.
        let want = (layout.size() as u64 + layout.align() as u64 + PAGE_SIZE).next_multiple_of(GROWTH_STEP);
        let grow = want.min(HEAP_MAX - mapped);
        if grow == 0 {
            return Err(());
        }
        let start = HEAP_BASE + mapped;
        paging::map_new(start..start + grow, paging::KERNEL_DATA).map_err(|_| ())?;
        MAPPED.store(mapped + grow, Ordering::Relaxed);
        let old = talc.oom_handler.heap;
        let new = Span::from_base_size(HEAP_BASE as *mut u8, (mapped + grow) as usize);
        // SAFETY: [HEAP_BASE, HEAP_BASE + mapped + grow) is mapped, writable and used by nothing
        // but this heap; `old` is the span talc returned last (or empty before the first claim).
        talc.oom_handler.heap =
            unsafe { if old.is_empty() { talc.claim(new)? } else { talc.extend(old, new) } };
        Ok(())
    }
}

// Host builds (tests, fuzzing) run on std's allocator; this one only serves the kernel.
#[cfg_attr(not(any(test, feature = "host")), global_allocator)]
#[cfg_attr(any(test, feature = "host"), allow(dead_code))]
static ALLOCATOR: Metered<SmallBlocks<Talck<spin::Mutex<()>, GrowFromFrames>>> =
    Metered::new(SmallBlocks::new(Talc::new(GrowFromFrames { heap: Span::empty() }).lock()));

/// Maps the first piece of the heap, so that a page-table failure shows at boot, not later.
pub fn init() -> Result<(), MemError> {
    let mut probe = alloc::vec::Vec::<u8>::new();
    probe.try_reserve(1).map_err(|_| MemError::OutOfFrames)
}

/// Bytes the heap spans now.
pub fn size() -> u64 {
    MAPPED.load(Ordering::Relaxed)
}

/// Bytes allocated from the heap now (live allocations, as requested; freed small blocks
/// kept for reuse do not count).
pub fn allocated() -> u64 {
    let talc = ALLOCATOR.inner().backing().lock().get_counters().allocated_bytes;
    talc.saturating_sub(ALLOCATOR.inner().cached_bytes()) as u64
}
