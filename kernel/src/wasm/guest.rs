//! Guest memory: the only way host functions touch an actor's linear memory.
//!
//! Every pointer and length an actor passes becomes a [`GuestRange`] through its one checked
//! constructor before a single byte moves. Do not add another constructor or loosen the check:
//! it is what keeps an actor from making the kernel read or write outside the actor's memory.

use core::ptr;

use super::abi::{Bug, HostError};
use super::engine::GuestMemory;

/// Name of the memory every actor exports.
pub const MEMORY_EXPORT: &str = "memory";

/// A pointer or length an actor passed does not fit inside its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    /// The pointer, as an unsigned offset.
    pub ptr: u32,
    /// The length.
    pub len: u32,
    /// The memory's size when checked.
    pub memory_len: usize,
}

impl core::fmt::Display for OutOfBounds {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} bytes at {:#x} are outside its {}-byte memory", self.len, self.ptr, self.memory_len)
    }
}

/// A byte range inside an actor's memory, checked when it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestRange {
    start: usize,
    len: usize,
}

impl GuestRange {
    /// Checks `ptr` and `len` (Wasm `i32`s, read as unsigned 32-bit values, as Wasm addresses
    /// are) against a memory of `memory_len` bytes, without overflow.
    pub fn new(ptr: i32, len: i32, memory_len: usize) -> Result<Self, OutOfBounds> {
        let (ptr, len) = (ptr as u32, len as u32);
        let end = u64::from(ptr) + u64::from(len);
        if end > memory_len as u64 {
            return Err(OutOfBounds { ptr, len, memory_len });
        }
        Ok(Self { start: ptr as usize, len: len as usize })
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `len` bytes of it (all of it if it is shorter).
    pub fn prefix(self, len: usize) -> Self {
        Self { start: self.start, len: self.len.min(len) }
    }

    /// It cut in two at `mid` (clamped to its length).
    pub fn split_at(self, mid: usize) -> (Self, Self) {
        let mid = mid.min(self.len);
        (Self { start: self.start, len: mid }, Self { start: self.start + mid, len: self.len - mid })
    }

    /// The `len` bytes at `offset` inside it, if they fit.
    pub fn sub(self, offset: usize, len: usize) -> Option<Self> {
        // `then`, not `then_some`: the start is computed only once the offset is known to fit.
        (offset.checked_add(len)? <= self.len).then(|| Self { start: self.start + offset, len })
    }
}

/// The calling actor's memory, seen from inside one host call: the engine makes one per call
/// (`HostCall::guest`), while the actor is stopped in it, so its memory holds still.
pub struct Guest<'c> {
    memory: GuestMemory<'c>,
}

impl<'c> Guest<'c> {
    /// The memory of the actor stopped in the host call that makes it.
    pub(super) fn new(memory: GuestMemory<'c>) -> Self {
        Self { memory }
    }

    /// Checks `ptr`/`len` against the memory as it is now.
    pub fn range(&self, ptr: i32, len: i32) -> Result<GuestRange, OutOfBounds> {
        GuestRange::new(ptr, len, self.memory.size())
    }

    /// Copies `range` into the start of `dst`, which must be at least as long.
    // A hint, so a copy of a size known at the call (a header) can be a few moves, not a call.
    #[inline]
    pub fn read(&self, range: GuestRange, dst: &mut [u8]) -> Result<(), HostError> {
        let dst = dst.get_mut(..range.len).ok_or_else(|| bug(Bug::ShortBuffer { len: range.len }))?;
        self.memory.read(range.start, dst).ok_or_else(|| bug(Bug::RangeLeftMemory { len: range.len }))
    }

    /// Copies the start of `src`, which must be at least as long, into `range`.
    #[inline]
    pub fn write(&mut self, range: GuestRange, src: &[u8]) -> Result<(), HostError> {
        let src = src.get(..range.len).ok_or_else(|| bug(Bug::ShortBuffer { len: range.len }))?;
        self.memory.write(range.start, src).ok_or_else(|| bug(Bug::RangeLeftMemory { len: range.len }))
    }
}

/// A kernel bug, reported as an error rather than a panic: a range checked against the memory
/// no longer inside it (an actor's memory never shrinks), or a kernel buffer shorter than the
/// range it was checked for.
#[cold]
fn bug(bug: Bug) -> HostError {
    HostError::Bug(bug)
}

/// Copies `len` bytes from `src` to `dst`. Up to 32 bytes (a message header, a typical payload)
/// take a few word moves in place: `memcpy` is an indirect call through the GOT and a
/// `rep movs`, slow to start on hardware and, under QEMU's TCG, a block lookup for the call and
/// one for its return (measured: 310 ns a Wasm round trip).
///
/// # Safety
/// `src..src + len` is readable, `dst..dst + len` writable, and the two do not overlap.
#[inline]
pub(super) unsafe fn copy_bytes(src: *const u8, dst: *mut u8, len: usize) {
    let word = |at: usize| {
        // SAFETY: callers pass `at + 8 <= len`, inside the source.
        unsafe { src.add(at).cast::<u64>().read_unaligned() }
    };
    let put = |at: usize, value: u64| {
        // SAFETY: callers pass `at + 8 <= len`, inside the destination.
        unsafe { dst.add(at).cast::<u64>().write_unaligned(value) }
    };
    // Each short case reads its words before writing any: the last word may overlap the ones
    // before it when `len` is not a multiple of 8.
    match len {
        0 => {}
        8..=16 => {
            let (head, tail) = (word(0), word(len - 8));
            put(0, head);
            put(len - 8, tail);
        }
        17..=32 => {
            let (a, b, c, d) = (word(0), word(8), word(len - 16), word(len - 8));
            put(0, a);
            put(8, b);
            put(len - 16, c);
            put(len - 8, d);
        }
        // SAFETY: the caller's ranges.
        _ => unsafe { ptr::copy_nonoverlapping(src, dst, len) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_every_short_length_move_exactly_their_bytes() {
        let src: Vec<u8> = (1..=80).collect();
        for len in 0..=40 {
            for offset in [0, 1, 7] {
                let mut dst = [0u8; 64];
                // SAFETY: both ranges lie inside their arrays, which are distinct.
                unsafe { copy_bytes(src[offset..].as_ptr(), dst[3..].as_mut_ptr(), len) };
                assert_eq!(&dst[3..3 + len], &src[offset..offset + len], "{len} bytes from {offset}");
                assert!(dst[..3].iter().chain(&dst[3 + len..]).all(|&b| b == 0), "{len} bytes wrote outside");
            }
        }
    }

    #[test]
    fn ranges_inside_the_memory_are_accepted() {
        assert_eq!(GuestRange::new(0, 10, 10).map(|r| r.len()), Ok(10));
        assert_eq!(GuestRange::new(10, 0, 10).map(|r| r.len()), Ok(0));
    }

    #[test]
    fn ranges_past_the_end_negative_or_overflowing_are_refused() {
        for (ptr, len) in [(1, 10), (11, 0), (-1, 1), (0, -1), (i32::MAX, i32::MAX), (-1, -1)] {
            assert!(GuestRange::new(ptr, len, 10).is_err(), "{ptr} {len}");
        }
        let whole = GuestRange::new(8, 8, 16).unwrap();
        assert_eq!(whole.sub(4, 4), Some(GuestRange { start: 12, len: 4 }));
        assert_eq!(whole.sub(4, 5), None);
        assert_eq!(whole.sub(usize::MAX, 2), None);
        // Found by fuzzing: a huge offset with a length that wraps the sum to a small value.
        assert_eq!(whole.sub(usize::MAX, 1), None);
        assert_eq!(whole.sub(usize::MAX - 7, 0), None);
        assert_eq!(whole.split_at(3), (GuestRange { start: 8, len: 3 }, GuestRange { start: 11, len: 5 }));
        assert_eq!(whole.split_at(99).1.len(), 0);
        // Offsets are unsigned: a "negative" pointer is an address above 2 GiB.
        let err = GuestRange::new(-16, 16, 65536).unwrap_err();
        assert_eq!((err.ptr, err.len), (0xffff_fff0, 16));
    }
}
