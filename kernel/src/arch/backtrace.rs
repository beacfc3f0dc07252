//! The callers of interrupted kernel code, for a fault report, found by scanning its stack.
//!
//! The kernel is built without frame pointers: keeping `rbp` for a chain of frames cost the
//! interpreter's dispatch loops a register (wasmi's integer loop 14% more instructions, a Wasm
//! IPC round trip 2.4% on tinywasm and 3.9% on wasmi, `docs/INTERPRETER.md`). So the report
//! lists, innermost first, the words on the stack above the faulting `rsp` that are return
//! addresses by their look: inside the kernel's code, right after a call instruction. Each
//! real caller's return address is among them; a stale one a finished call left in an unused
//! slot may be too, as in any stack-scanning backtrace. The scan stays inside the stack the
//! code ran on — the executor's, or the running fiber's — so a bad `rsp` ends it instead of
//! faulting the report.

use core::ops::Range;
use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu_local::PerCpu;
use crate::per_cpu;

/// Each CPU's executor stack, set once as it starts.
static MAIN_STACK: PerCpu<[AtomicU64; 2]> = per_cpu!([AtomicU64::new(0), AtomicU64::new(0)]);

/// Most stack bytes scanned, from the faulting `rsp` up: deeper callers are not worth a report
/// that scrolls off the console.
const SCAN_BYTES: u64 = 16 * 1024;

/// Records this CPU's executor stack.
pub fn set_main_stack(stack: Range<u64>) {
    let main = MAIN_STACK.get();
    main[0].store(stack.start, Ordering::Relaxed);
    main[1].store(stack.end, Ordering::Relaxed);
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
    let main = MAIN_STACK.get();
    let main = main[0].load(Ordering::Relaxed)..main[1].load(Ordering::Relaxed);
    let fiber = FIBER_STACK.get().and_then(|current| current());
    [fiber, Some(main)].into_iter().flatten().find(|s| s.contains(&rsp))
}

/// The kernel's code, from the linker script.
#[cfg(target_os = "none")]
fn text() -> Range<u64> {
    unsafe extern "C" {
        static __text_start: u8;
        static __rodata_start: u8;
    }
    // Only the symbols' addresses are taken; nothing is read through them.
    (&raw const __text_start) as u64..(&raw const __rodata_start) as u64
}

/// A host build has no kernel image, so nothing on its stacks is taken for the kernel's code.
#[cfg(not(target_os = "none"))]
fn text() -> Range<u64> {
    0..0
}

/// Return addresses found on the stack above `rsp`, innermost first, into `out`; how many.
pub fn walk(rsp: u64, out: &mut [u64]) -> usize {
    let Some(stack) = stack_of(rsp) else { return 0 };
    let code = text();
    let byte = |addr: u64| {
        // SAFETY: called only for addresses inside the kernel's code, which is mapped readable.
        unsafe { (addr as *const u8).read() }
    };
    let is_return_address = |word: u64| {
        // The longest call instruction is 7 bytes; all of it must be code.
        word >= code.start + 7 && word < code.end && follows_call(|back| byte(word - back))
    };
    // SAFETY: `scan` reads only 8-byte-aligned words inside `stack`, which is mapped.
    scan(stack, rsp, out, |addr| unsafe { (addr as *const u64).read() }, is_return_address)
}

/// [`walk`] over `stack` from `rsp`, reading words with `read`.
fn scan(
    stack: Range<u64>,
    rsp: u64,
    out: &mut [u64],
    read: impl Fn(u64) -> u64,
    is_return_address: impl Fn(u64) -> bool,
) -> usize {
    let end = stack.end.min(rsp.saturating_add(SCAN_BYTES));
    let mut count = 0;
    let mut at = rsp.next_multiple_of(8);
    while count < out.len() && at >= stack.start && at.saturating_add(8) <= end {
        let word = read(at);
        if is_return_address(word) {
            out[count] = word;
            count += 1;
        }
        at += 8;
    }
    count
}

/// Whether the bytes before an address (`before(n)`: the byte `n` back) end a call: `call
/// rel32` (`E8` and four bytes), or `call` through a register or memory (`FF /2`, two to
/// seven bytes with its ModRM, SIB and displacement; a REX prefix before it changes nothing).
fn follows_call(before: impl Fn(u64) -> u8) -> bool {
    before(5) == 0xe8 || (2..=7).any(|back| before(back) == 0xff && (before(back - 1) >> 3) & 7 == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes ending at an address, as `follows_call` reads them (`code[len - n]` is `n` back).
    fn ending(code: &[u8]) -> impl Fn(u64) -> u8 + '_ {
        move |back| code[code.len() - back as usize]
    }

    #[test]
    fn calls_are_recognised_by_the_bytes_before_their_return_address() {
        assert!(follows_call(ending(&[0x90, 0x90, 0xe8, 1, 2, 3, 4])));
        assert!(follows_call(ending(&[0x90; 6].iter().chain(&[0xff, 0xd0]).copied().collect::<Vec<_>>())));
        // call [rip + disp32]: FF 15 and four bytes.
        assert!(follows_call(ending(&[0x90, 0xff, 0x15, 1, 2, 3, 4])));
        // jmp rax (FF E0) and plain code are not calls.
        assert!(!follows_call(ending(&[0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0xe0])));
        assert!(!follows_call(ending(&[0x48, 0x89, 0xc7, 0x48, 0x89, 0xc6, 0x90])));
    }

    #[test]
    fn the_scan_keeps_return_addresses_and_stays_on_the_stack() {
        // Words at 0x1000.. are their own address / 8; "return addresses" are the odd ones.
        let read = |addr: u64| addr / 8;
        let odd = |word: u64| word % 2 == 1;
        let mut out = [0; 4];
        let n = scan(0x1000..0x1040, 0x1008, &mut out, read, odd);
        assert_eq!(&out[..n], [0x201, 0x203, 0x205, 0x207]);
        // A full buffer, a misaligned rsp rounded up, an rsp off the stack.
        assert_eq!(scan(0x1000..0x1040, 0x1000, &mut out[..1], read, odd), 1);
        assert_eq!(scan(0x1000..0x1040, 0x1001, &mut out, read, odd), 4);
        assert_eq!(scan(0x1000..0x1040, 0x0ff8, &mut out, read, odd), 0);
        // At most SCAN_BYTES are read.
        let mut many = [0; 4096];
        assert_eq!(scan(0x1000..0x100000, 0x1000, &mut many, read, odd) as u64, SCAN_BYTES / 16);
    }
}
