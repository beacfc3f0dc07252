//! An actor's linear memory: the buffer the interpreter runs on, capped at the actor's limit,
//! and the [`MemoryView`] through which the kernel copies bytes in and out of it.
//!
//! The kernel does not reach the memory through the interpreter's store (a lookup chain and a
//! virtual call per copy): the backend publishes where its bytes are, and host functions copy
//! through [`Guest`](crate::wasm::guest::Guest), which checks every range against the published
//! length. Every access, the interpreter's and the kernel's, goes through raw pointers derived
//! from the buffer with `Vec::as_mut_ptr`, never through a slice reference that would claim the
//! bytes for itself, so the two kinds of access may interleave. They never overlap in time: an
//! actor runs on one CPU at a time (`task::wake`'s claim), no interrupt handler touches actor
//! memory, the kernel copies only while the actor is stopped in a host call, on the actor's own
//! fiber (`Guest` is the only caller, outside tests), and only the actor's own instructions grow
//! its memory. A bulk instruction (`memory.fill`, `memory.copy`,
//! `memory.init`, `memory.grow`) may give the CPU away between steps when the time slice is
//! used up; its actor is then stopped inside that instruction, where nothing else touches its
//! memory.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use tinywasm::engine::MemoryBackend;
use tinywasm::types::MemoryType;
use tinywasm::{Error, LinearMemory, Trap};

use crate::mem::kmem::Charge;
use crate::mem::meter::{self, MeteredCharge};
use crate::proc::Process;
use crate::task::fiber;
use crate::wasm::guest::copy_bytes;
use crate::wasm::limits::WASM_PAGE;

/// Where an actor's memory is and how long it is, published by its backend.
#[derive(Debug, Default)]
pub struct MemoryView {
    base: AtomicPtr<u8>,
    /// Bytes at `base`; 0 until the memory exists and once it is gone.
    len: AtomicUsize,
    /// Set by the first memory the backend makes: an actor has one.
    bound: AtomicBool,
}

impl MemoryView {
    /// A view of no memory yet.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Its length in bytes now.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Copies `dst.len()` bytes from offset `start`; `None` if they are not all inside.
    #[inline]
    pub(super) fn read(&self, start: usize, dst: &mut [u8]) -> Option<()> {
        let base = self.span(start, dst.len())?;
        // SAFETY: `span` checked `start..start + dst.len()` against the published length, and the
        // buffer stays where it is while its actor is stopped (see the module documentation);
        // `dst` is kernel memory, apart from it.
        unsafe { copy_bytes(base, dst.as_mut_ptr(), dst.len()) };
        Some(())
    }

    /// Copies `src` to offset `start`; `None` if it does not all fit inside.
    #[inline]
    pub(super) fn write(&self, start: usize, src: &[u8]) -> Option<()> {
        let base = self.span(start, src.len())?;
        // SAFETY: as in `read`, with `src` kernel memory apart from the buffer.
        unsafe { copy_bytes(src.as_ptr(), base, src.len()) };
        Some(())
    }

    /// The address of `len` bytes at `start`, if they lie inside.
    #[inline]
    fn span(&self, start: usize, len: usize) -> Option<*mut u8> {
        let end = start.checked_add(len)?;
        if end > self.len() {
            return None;
        }
        // `wrapping_add` stays inside the allocation: `start` is at most the length.
        Some(self.base.load(Ordering::Relaxed).wrapping_add(start))
    }

    fn publish(&self, bytes: &mut Vec<u8>) {
        self.base.store(bytes.as_mut_ptr(), Ordering::Relaxed);
        self.len.store(bytes.len(), Ordering::Relaxed);
    }
}

/// The interpreter's memory backend for an actor run as `process`: memories that never grow past
/// `max_bytes`, published through `view` and recorded for `ps`.
pub fn backend(
    view: &Arc<MemoryView>,
    max_bytes: usize,
    process: &Arc<Process>,
    grown: &Arc<MeteredCharge>,
) -> MemoryBackend {
    let (view, process, grown) = (Arc::clone(view), Arc::clone(process), Arc::clone(grown));
    MemoryBackend::custom(move |ty: MemoryType| {
        let initial = usize::try_from(ty.initial_size()).unwrap_or(usize::MAX);
        if initial > max_bytes {
            return Err(Error::Other(format!(
                "its memory starts at {} pages, above the limit of {} pages",
                initial / WASM_PAGE,
                max_bytes / WASM_PAGE
            )));
        }
        if view.bound.swap(true, Ordering::Relaxed) {
            return Err(Error::Other("it defines more than one memory; an actor has one".into()));
        }
        let charge = process
            .account()
            .charge(initial as u64)
            .map_err(|e| Error::Other(format!("its memory of {} pages: {e}", initial / WASM_PAGE)))?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(initial).map_err(|_| Error::Trap(Trap::OutOfMemory))?;
        bytes.resize(initial, 0);
        let mut memory = CappedMemory {
            bytes,
            max_bytes,
            view: Arc::clone(&view),
            process: Arc::clone(&process),
            charge,
            grown: Arc::clone(&grown),
        };
        memory.publish();
        Ok(memory)
    })
}

/// A linear memory that never grows past `max_bytes` and publishes where it is.
struct CappedMemory {
    /// Reached only through `as_ptr`/`as_mut_ptr` (see the module documentation).
    bytes: Vec<u8>,
    max_bytes: usize,
    view: Arc<MemoryView>,
    process: Arc<Process>,
    /// Its bytes, charged to its actor's kernel memory.
    charge: Charge,
    /// What the interpreter took besides, settled before a bulk instruction gives way.
    grown: Arc<MeteredCharge>,
}

impl CappedMemory {
    /// Tells the kernel where the bytes are now, and `ps` how many there are.
    fn publish(&mut self) {
        self.view.publish(&mut self.bytes);
        self.process.set_linear_memory(self.bytes.len() as u64, self.max_bytes as u64);
    }

    /// Whether `len` bytes at `addr` lie inside.
    fn inside(&self, addr: usize, len: usize) -> bool {
        addr.checked_add(len).is_some_and(|end| end <= self.bytes.len())
    }

    fn read_fixed<const N: usize>(&self, addr: usize) -> Result<[u8; N], Trap> {
        if !self.inside(addr, N) {
            return Err(out_of_bounds(addr, N, self.bytes.len()));
        }
        // SAFETY: `addr..addr + N` lies inside the buffer; nothing writes it during this call.
        Ok(unsafe { ptr::read_unaligned(self.bytes.as_ptr().add(addr).cast::<[u8; N]>()) })
    }

    fn write_fixed(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_all(addr, bytes).ok_or_else(|| out_of_bounds(addr, bytes.len(), self.bytes.len()))
    }
}

impl Drop for CappedMemory {
    fn drop(&mut self) {
        // Nothing may copy through the view into a buffer that is gone.
        self.view.len.store(0, Ordering::Relaxed);
    }
}

/// Bytes a bulk memory operation handles between looks at the time slice (a few microseconds of
/// work on hardware; tens under emulation).
const STEP: usize = 64 * 1024;

/// Runs `step` over `0..len` in pieces of at most [`STEP`] bytes, in order, giving the CPU away
/// between pieces once the time slice is used up: the interpreter charges one unit of fuel for
/// a `memory.fill` of 16 MiB, so the work itself must look at the clock. `false` if the actor
/// was ended meanwhile (the rest is not done; the instruction traps, and nobody sees it).
fn in_steps(grown: &MeteredCharge, len: usize, mut step: impl FnMut(core::ops::Range<usize>)) -> bool {
    let mut done = 0;
    while done < len {
        let end = len.min(done + STEP);
        step(done..end);
        done = end;
        if done < len {
            // What the interpreter took is charged before the CPU may go to another actor.
            if grown.settle().is_err() || fiber::yield_if_expired().is_err() {
                return false;
            }
            meter::begin();
        }
    }
    true
}

fn out_of_bounds(offset: usize, len: usize, max: usize) -> Trap {
    Trap::MemoryOutOfBounds { offset, len, max }
}

impl LinearMemory for CappedMemory {
    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn grow_to(&mut self, new_len: usize) -> Result<(), Trap> {
        let old_len = self.bytes.len();
        if new_len > self.max_bytes || new_len < old_len {
            return Err(Trap::OutOfMemory);
        }
        // Charged first: past the actor's kernel memory limit, `memory.grow` returns -1.
        self.charge.grow((new_len - old_len) as u64).map_err(|_| Trap::OutOfMemory)?;
        // Charged above, so left out of what the interpreter took.
        meter::excluded(|| self.bytes.try_reserve_exact(new_len - old_len)).map_err(|_| Trap::OutOfMemory)?;
        // Zeroing up to 16 MiB is long work: in steps, the memory published only once whole.
        let zeroed =
            in_steps(&self.grown, new_len - old_len, |step| self.bytes.resize(old_len + step.end, 0));
        if !zeroed {
            self.bytes.truncate(old_len);
            return Err(Trap::OutOfMemory);
        }
        self.publish();
        Ok(())
    }

    fn read(&self, addr: usize, dst: &mut [u8]) -> usize {
        let len = dst.len().min(self.bytes.len().saturating_sub(addr));
        let _ = self.read_exact(addr, &mut dst[..len]);
        len
    }

    fn write(&mut self, addr: usize, src: &[u8]) -> usize {
        let len = src.len().min(self.bytes.len().saturating_sub(addr));
        let _ = self.write_all(addr, &src[..len]);
        len
    }

    fn read_exact(&self, addr: usize, dst: &mut [u8]) -> Option<()> {
        if !self.inside(addr, dst.len()) {
            return None;
        }
        // SAFETY: the range lies inside the buffer; `dst` is not part of it (the interpreter
        // passes its own buffers).
        unsafe { ptr::copy_nonoverlapping(self.bytes.as_ptr().add(addr), dst.as_mut_ptr(), dst.len()) };
        Some(())
    }

    fn write_all(&mut self, addr: usize, src: &[u8]) -> Option<()> {
        if !self.inside(addr, src.len()) {
            return None;
        }
        let base = self.bytes.as_mut_ptr();
        // In steps: `memory.init` copies a data segment of any size in one instruction.
        in_steps(&self.grown, src.len(), |step| {
            // SAFETY: as in `read_exact`; `step` lies inside `src`.
            unsafe {
                ptr::copy_nonoverlapping(
                    src.as_ptr().add(step.start),
                    base.add(addr + step.start),
                    step.len(),
                )
            }
        })
        .then_some(())
    }

    fn read_vec(&self, addr: usize, len: usize) -> Option<Vec<u8>> {
        let mut data = alloc::vec![0; len];
        self.read_exact(addr, &mut data)?;
        Some(data)
    }

    fn fill(&mut self, addr: usize, len: usize, val: u8) -> Option<()> {
        if !self.inside(addr, len) {
            return None;
        }
        let base = self.bytes.as_mut_ptr();
        in_steps(&self.grown, len, |step| {
            // SAFETY: the range lies inside the buffer, and `step` inside the range.
            unsafe { ptr::write_bytes(base.add(addr + step.start), val, step.len()) }
        })
        .then_some(())
    }

    fn copy_within(&mut self, dst: usize, src: usize, len: usize) -> Option<()> {
        if !self.inside(src, len) || !self.inside(dst, len) {
            return None;
        }
        let base = self.bytes.as_mut_ptr();
        // Overlapping ranges are copied in the order a whole `memmove` would take: front first
        // when moving down, back first when moving up, so no step reads bytes a step before it
        // overwrote.
        let backwards = dst > src;
        in_steps(&self.grown, len, |step| {
            let at = if backwards { len - step.end } else { step.start };
            // SAFETY: both ranges lie inside the buffer, `at..at + step.len()` inside them;
            // `ptr::copy` allows overlap.
            unsafe { ptr::copy(base.add(src + at), base.add(dst + at), step.len()) }
        })
        .then_some(())
    }

    fn read_8(&self, addr: usize) -> Result<[u8; 1], Trap> {
        self.read_fixed(addr)
    }

    fn read_16(&self, addr: usize) -> Result<[u8; 2], Trap> {
        self.read_fixed(addr)
    }

    fn read_32(&self, addr: usize) -> Result<[u8; 4], Trap> {
        self.read_fixed(addr)
    }

    fn read_64(&self, addr: usize) -> Result<[u8; 8], Trap> {
        self.read_fixed(addr)
    }

    fn read_128(&self, addr: usize) -> Result<[u8; 16], Trap> {
        self.read_fixed(addr)
    }

    fn write_8(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_fixed(addr, bytes)
    }

    fn write_16(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_fixed(addr, bytes)
    }

    fn write_32(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_fixed(addr, bytes)
    }

    fn write_64(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_fixed(addr, bytes)
    }

    fn write_128(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.write_fixed(addr, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::ProcessTable;
    use crate::wasm::limits::Limits;
    use tinywasm::parser::{Parser, ParserOptions};
    use tinywasm::{Engine, ModuleInstance, Store};

    /// Instantiates `wat` as an actor with `pages` pages of memory allowed, eagerly as spawning
    /// does; returns the store, the instance and the view.
    fn instantiate(
        wat: &str,
        pages: u32,
    ) -> Result<(Store, ModuleInstance, Arc<MemoryView>), tinywasm::Error> {
        let bytes = wat::parse_str(wat).unwrap();
        let options = ParserOptions::default().with_local_memory_allocation_optimization(false);
        let module = Parser::with_options(options).parse_module_bytes(bytes).unwrap();
        let process = ProcessTable::new().create("memory-test");
        let view = MemoryView::new();
        let limits = Limits { memory_pages: pages, ..Limits::default() };
        let grown = MeteredCharge::new(process.account());
        let mut store = Store::new(Engine::new(super::super::config(&limits, &process, &view, &grown)));
        let instance = ModuleInstance::instantiate_no_start(&mut store, &module, None)?;
        Ok((store, instance, view))
    }

    const STORE_AND_GROW: &str = r#"(module
        (memory (export "memory") 1)
        (data (i32.const 16) "hi")
        (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

    #[test]
    fn the_kernel_sees_what_the_actor_wrote_and_the_actor_what_the_kernel_wrote() {
        let (mut store, instance, view) = instantiate(STORE_AND_GROW, 4).unwrap();
        assert_eq!(view.len(), WASM_PAGE, "published at instantiation");
        let mut hi = [0; 2];
        view.read(16, &mut hi).unwrap();
        assert_eq!(&hi, b"hi", "the data segment is in the published bytes");

        let store_fn = instance.func::<(i32, i64), ()>(&store, "store").unwrap();
        store_fn.call(&mut store, (8, 0x0102_0304_0506_0708)).unwrap();
        let mut word = [0; 8];
        view.read(8, &mut word).unwrap();
        assert_eq!(u64::from_le_bytes(word), 0x0102_0304_0506_0708);

        view.write(100, b"from the kernel").unwrap();
        let memory = instance.memory("memory").unwrap();
        let mut seen = [0; 15];
        memory.read_exact(&store, 100, &mut seen).unwrap();
        assert_eq!(&seen, b"from the kernel");
    }

    #[test]
    fn growing_republishes_keeps_the_bytes_and_stops_at_the_limit() {
        let (mut store, instance, view) = instantiate(STORE_AND_GROW, 3).unwrap();
        let grow = instance.func::<i32, i32>(&store, "grow").unwrap();
        assert_eq!(grow.call(&mut store, 2).unwrap(), 1, "old size in pages");
        assert_eq!(view.len(), 3 * WASM_PAGE);
        let mut hi = [0; 2];
        view.read(16, &mut hi).unwrap();
        assert_eq!(&hi, b"hi", "moved along with the buffer");
        view.write(3 * WASM_PAGE - 4, &[7; 4]).unwrap();
        assert_eq!(grow.call(&mut store, 1).unwrap(), -1, "past the limit: refused, not trapped");
        assert_eq!(view.len(), 3 * WASM_PAGE);
    }

    #[test]
    fn ranges_outside_the_memory_move_nothing() {
        let (_store, _instance, view) = instantiate(STORE_AND_GROW, 1).unwrap();
        let mut two = [0; 2];
        assert_eq!(view.read(WASM_PAGE - 1, &mut two), None);
        assert_eq!(view.write(WASM_PAGE - 1, &two), None);
        assert_eq!(view.write(usize::MAX, &two), None);
        assert_eq!(view.read(WASM_PAGE, &mut []), Some(()), "an empty range at the end is inside");
    }

    #[test]
    fn a_memory_above_the_limit_fails_instantiation_and_a_dropped_one_shows_no_bytes() {
        let big = r#"(module (memory (export "memory") 5))"#;
        let refused = instantiate(big, 4).err().expect("refused");
        assert!(refused.to_string().contains("above the limit of 4 pages"), "{refused}");

        let (store, instance, view) = instantiate(big, 5).unwrap();
        assert_eq!(view.len(), 5 * WASM_PAGE);
        drop((instance, store));
        assert_eq!(view.len(), 0, "nothing may be copied into a freed buffer");
        assert_eq!(view.write(0, &[1]), None);
    }

    /// Fills and copies longer than a step, overlapping either way, leave what one `memset` or
    /// `memmove` would.
    #[test]
    fn bulk_operations_in_steps_match_one_whole_operation() {
        let len = 3 * STEP + 123;
        let pattern: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let process = ProcessTable::new().create("bulk-test");
        let charge = process.account().charge(len as u64).unwrap();
        let grown = MeteredCharge::new(process.account());
        let mut memory = CappedMemory {
            bytes: pattern.clone(),
            max_bytes: 2 * len,
            view: MemoryView::new(),
            process,
            charge,
            grown,
        };
        for (dst, src, n) in [(0, STEP / 2, 2 * STEP + 5), (STEP / 2 + 1, 0, 2 * STEP + 7), (9, 9, len - 9)] {
            let mut expected = memory.bytes.clone();
            expected.copy_within(src..src + n, dst);
            memory.copy_within(dst, src, n).unwrap();
            assert!(memory.bytes == expected, "copy {n} bytes from {src} to {dst}");
        }
        memory.fill(5, len - 10, 0xab).unwrap();
        assert!(memory.bytes[5..len - 5].iter().all(|&b| b == 0xab));
        assert_eq!(memory.copy_within(1, 0, len), None, "out of bounds moves nothing");
        assert!(memory.grow_to(2 * len).is_ok());
        assert_eq!(memory.bytes.len(), 2 * len);
        assert!(memory.bytes[len..].iter().all(|&b| b == 0), "grown bytes are zero");
        assert_eq!(memory.view.len(), 2 * len, "and published");
        memory.write_all(len - 4, &pattern[..STEP + 9]).unwrap();
        assert_eq!(&memory.bytes[len - 4..len + STEP + 5], &pattern[..STEP + 9]);
    }
}
