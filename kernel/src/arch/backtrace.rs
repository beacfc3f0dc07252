//! Walking the frame-pointer chain of interrupted kernel code, so a fault report can list the
//! callers (the kernel is built with frame pointers). A frame is followed only while it lies
//! inside the stack the code ran on — the executor's, or the running fiber's — so a corrupt
//! chain ends the walk instead of faulting the report.

use core::ops::Range;
use core::sync::atomic::{AtomicU64, Ordering};

/// The executor's stack, set once at boot.
static MAIN_STACK: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Records the executor's stack (the kernel's boot stack).
pub fn set_main_stack(stack: Range<u64>) {
    MAIN_STACK[0].store(stack.start, Ordering::Relaxed);
    MAIN_STACK[1].store(stack.end, Ordering::Relaxed);
}

/// Where the running fiber's stack is, if one runs: set once at boot ([`set_fiber_stack`]),
/// so this module needs nothing of the scheduler.
static FIBER_STACK: spin::Once<fn() -> Option<Range<u64>>> = spin::Once::new();

/// Has backtraces ask `current` for the running fiber's stack.
pub fn set_fiber_stack(current: fn() -> Option<Range<u64>>) {
    FIBER_STACK.call_once(|| current);
}

/// The known stack that `rsp` points into.
fn stack_of(rsp: u64) -> Option<Range<u64>> {
    let main = MAIN_STACK[0].load(Ordering::Relaxed)..MAIN_STACK[1].load(Ordering::Relaxed);
    let fiber = FIBER_STACK.get().and_then(|current| current());
    [fiber, Some(main)].into_iter().flatten().find(|s| s.contains(&rsp))
}

/// Return addresses of the frames from `rbp` up, innermost first, into `out`; how many. The
/// code stopped with stack pointer `rsp`.
pub fn walk(rsp: u64, rbp: u64, out: &mut [u64]) -> usize {
    let Some(stack) = stack_of(rsp) else { return 0 };
    // SAFETY: `walk_in` reads only 8-byte-aligned words inside `stack`, which is mapped.
    walk_in(stack, rbp, out, |addr| unsafe { (addr as *const u64).read() })
}

/// [`walk`] over `stack`, reading words with `read`.
fn walk_in(stack: Range<u64>, mut rbp: u64, out: &mut [u64], read: impl Fn(u64) -> u64) -> usize {
    let mut count = 0;
    while count < out.len()
        && rbp.is_multiple_of(8)
        && rbp >= stack.start
        && rbp.saturating_add(16) <= stack.end
    {
        let (caller_rbp, return_address) = (read(rbp), read(rbp + 8));
        if return_address == 0 {
            break;
        }
        out[count] = return_address;
        count += 1;
        // Frames lie ever higher on the stack; anything else is the end or garbage.
        if caller_rbp <= rbp {
            break;
        }
        rbp = caller_rbp;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stack of words at 0x1000, with frames chained as `frames` says: (rbp, caller rbp,
    /// return address).
    fn read_from(frames: &[(u64, u64, u64)]) -> impl Fn(u64) -> u64 + '_ {
        move |addr| {
            frames
                .iter()
                .find_map(|&(rbp, caller, ret)| match addr {
                    a if a == rbp => Some(caller),
                    a if a == rbp + 8 => Some(ret),
                    _ => None,
                })
                .unwrap_or(0xdead)
        }
    }

    #[test]
    fn a_chain_is_followed_up_to_its_end() {
        let frames = [(0x1100, 0x1200, 0xa), (0x1200, 0x1300, 0xb), (0x1300, 0, 0xc)];
        let mut out = [0; 8];
        let n = walk_in(0x1000..0x2000, 0x1100, &mut out, read_from(&frames));
        assert_eq!(&out[..n], [0xa, 0xb, 0xc]);
    }

    #[test]
    fn a_corrupt_chain_stops_the_walk_instead_of_leaving_the_stack() {
        let mut out = [0; 8];
        // The caller's frame would lie outside the stack.
        let frames = [(0x1100, 0x9000, 0xa)];
        assert_eq!(walk_in(0x1000..0x2000, 0x1100, &mut out, read_from(&frames)), 1);
        // A frame pointing down, and a misaligned start.
        let frames = [(0x1100, 0x1080, 0xa)];
        assert_eq!(walk_in(0x1000..0x2000, 0x1100, &mut out, read_from(&frames)), 1);
        assert_eq!(walk_in(0x1000..0x2000, 0x1101, &mut out, read_from(&frames)), 0);
        // A start outside the stack, and a buffer that is full.
        assert_eq!(walk_in(0x1000..0x2000, 0x3000, &mut out, read_from(&frames)), 0);
        let frames = [(0x1100, 0x1200, 0xa), (0x1200, 0x1300, 0xb)];
        assert_eq!(walk_in(0x1000..0x2000, 0x1100, &mut out[..1], read_from(&frames)), 1);
    }
}
