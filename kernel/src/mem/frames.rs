//! Physical frame allocator.
//!
//! Frames come first from a list of returned frames (each free frame holds the address of the
//! next, written through the HHDM), then from bump cursors over the memory map's usable
//! regions. Initialisation touches no memory, and both allocation and release are O(1).

use core::ops::Range;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;

use super::{MemError, PAGE_SIZE};

/// Regions the allocator can track; the memory maps of real firmware have a few dozen.
const MAX_REGIONS: usize = 128;

/// Page-aligned physical ranges handed out front to back.
#[derive(Debug)]
pub struct Regions {
    ranges: [Range<u64>; MAX_REGIONS],
    len: usize,
    /// Ranges before this index are used up.
    current: usize,
    /// Frames dropped because the table was full.
    pub dropped_frames: u64,
}

impl Regions {
    /// No regions.
    pub const fn new() -> Self {
        Self { ranges: [const { 0..0 }; MAX_REGIONS], len: 0, current: 0, dropped_frames: 0 }
    }

    /// Adds `range`, shrunk inward to whole frames; frame 0 is never handed out, so a
    /// physical address of 0 can mean "none".
    pub fn add(&mut self, range: Range<u64>) -> u64 {
        let start = range.start.max(PAGE_SIZE).next_multiple_of(PAGE_SIZE);
        let end = range.end & !(PAGE_SIZE - 1);
        if start >= end {
            return 0;
        }
        let frames = (end - start) / PAGE_SIZE;
        if self.len == MAX_REGIONS {
            self.dropped_frames += frames;
            return 0;
        }
        self.ranges[self.len] = start..end;
        self.len += 1;
        frames
    }

    /// Takes one frame.
    pub fn take(&mut self) -> Option<u64> {
        while self.current < self.len {
            let range = &mut self.ranges[self.current];
            if range.start < range.end {
                let frame = range.start;
                range.start += PAGE_SIZE;
                return Some(frame);
            }
            self.current += 1;
        }
        None
    }

    /// Frames not yet taken.
    pub fn remaining(&self) -> u64 {
        self.ranges[self.current..self.len].iter().map(|r| (r.end - r.start) / PAGE_SIZE).sum()
    }
}

impl Default for Regions {
    fn default() -> Self {
        Self::new()
    }
}

struct FrameAllocator {
    regions: Regions,
    /// Physical address of the first returned frame (0: none).
    free_list: u64,
    free_listed: u64,
    total: u64,
}

static FRAMES: Mutex<FrameAllocator> =
    Mutex::new(FrameAllocator { regions: Regions::new(), free_list: 0, free_listed: 0, total: 0 });

/// The HHDM offset frames are written through; set once by [`init`], before any frame is handed
/// out, and read without a lock (the page-fault handler needs it).
static HHDM_OFFSET: AtomicU64 = AtomicU64::new(0);

/// Hands the usable physical ranges to the allocator.
pub fn init(hhdm_offset: u64, usable: impl Iterator<Item = Range<u64>>) {
    HHDM_OFFSET.store(hhdm_offset, Ordering::Relaxed);
    let mut frames = FRAMES.lock();
    for range in usable {
        frames.total += frames.regions.add(range);
    }
    if frames.regions.dropped_frames > 0 {
        log::warn!("frames: memory map too fragmented; {} frames left unused", frames.regions.dropped_frames);
    }
}

/// Adds a further free range (reclaimed loader memory).
pub fn add_region(range: Range<u64>) {
    let mut frames = FRAMES.lock();
    frames.total += frames.regions.add(range);
}

/// Allocates one frame; its contents are undefined.
pub fn allocate() -> Result<u64, MemError> {
    FRAMES.lock().take()
}

/// As [`allocate`], but gives up at once (`None`) instead of waiting when the allocator is busy:
/// for the page-fault handler, which may have interrupted the allocator's holder on its own CPU.
pub fn try_allocate() -> Option<u64> {
    FRAMES.try_lock()?.take().ok()
}

impl FrameAllocator {
    fn take(&mut self) -> Result<u64, MemError> {
        if self.free_list != 0 {
            let frame = self.free_list;
            // SAFETY: frames on the free list are owned by the allocator and mapped by the HHDM;
            // their first word holds the next entry (see `free`).
            self.free_list = unsafe { ((frame + hhdm_offset()) as *const u64).read() };
            self.free_listed -= 1;
            return Ok(frame);
        }
        self.regions.take().ok_or(MemError::OutOfFrames)
    }
}

/// Allocates one frame filled with zeros.
pub fn allocate_zeroed() -> Result<u64, MemError> {
    let frame = allocate()?;
    // SAFETY: the frame was just allocated, so nothing else uses it, and the HHDM maps it.
    unsafe { core::ptr::write_bytes((frame + hhdm_offset()) as *mut u8, 0, PAGE_SIZE as usize) };
    Ok(frame)
}

/// Returns `frame` to the allocator.
///
/// # Safety
/// 1. `frame` came from [`allocate`] and is not freed twice.
/// 2. Nothing reads or writes it afterwards.
pub unsafe fn free(frame: u64) {
    let mut frames = FRAMES.lock();
    let next = frames.free_list;
    // SAFETY: by (1) and (2) the frame is ours to overwrite; the HHDM maps it.
    unsafe { ((frame + hhdm_offset()) as *mut u64).write(next) };
    frames.free_list = frame;
    frames.free_listed += 1;
}

/// The HHDM offset the allocator writes through.
pub fn hhdm_offset() -> u64 {
    HHDM_OFFSET.load(Ordering::Relaxed)
}

/// Total and free frames.
pub fn counts() -> (u64, u64) {
    let frames = FRAMES.lock();
    (frames.total, frames.regions.remaining() + frames.free_listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_shrink_to_whole_frames_and_skip_frame_zero() {
        let mut r = Regions::new();
        assert_eq!(r.add(0..3 * PAGE_SIZE), 2);
        assert_eq!(r.add(5 * PAGE_SIZE + 1..7 * PAGE_SIZE - 1), 0);
        assert_eq!(r.add(10 * PAGE_SIZE + 1..13 * PAGE_SIZE), 2);
        let taken: Vec<u64> = core::iter::from_fn(|| r.take()).collect();
        assert_eq!(taken, [1, 2, 11, 12].map(|f| f * PAGE_SIZE));
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn every_frame_is_handed_out_once() {
        let mut r = Regions::new();
        r.add(PAGE_SIZE..100 * PAGE_SIZE);
        r.add(200 * PAGE_SIZE..300 * PAGE_SIZE);
        assert_eq!(r.remaining(), 199);
        let mut taken: Vec<u64> = core::iter::from_fn(|| r.take()).collect();
        assert_eq!(taken.len(), 199);
        taken.dedup();
        assert_eq!(taken.len(), 199);
        assert!(taken.iter().all(|f| f % PAGE_SIZE == 0));
    }

    #[test]
    fn a_full_table_counts_what_it_drops() {
        let mut r = Regions::new();
        for i in 0..MAX_REGIONS as u64 + 3 {
            r.add((2 * i + 1) * PAGE_SIZE..(2 * i + 2) * PAGE_SIZE);
        }
        assert_eq!(r.remaining(), MAX_REGIONS as u64);
        assert_eq!(r.dropped_frames, 3);
    }
}
