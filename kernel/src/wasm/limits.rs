//! What one actor may use: linear memory, interpreter stacks, fuel per slice, fiber stack, and
//! its process's limits (capabilities, children, queue depth).
//!
//! Memory is capped by a backend that refuses to grow past the limit, so `memory.grow` beyond it
//! returns -1 to the actor (the Wasm way to say "no"), whatever maximum the module declares. The
//! backend keeps the process's record of its size current, for `ps`.

use alloc::format;
use alloc::sync::Arc;
use tinywasm::engine::{Config, MemoryBackend, StackConfig};
use tinywasm::types::MemoryType;
use tinywasm::{Error, LinearMemory, Trap, VecMemory};

use crate::proc::Process;

/// Size of a Wasm page.
pub const WASM_PAGE: usize = 64 * 1024;

/// Resource limits of one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory, in Wasm pages.
    pub memory_pages: u32,
    /// Deepest Wasm call nesting; deeper calls trap with a call-stack overflow.
    pub call_depth: usize,
    /// Most values on each interpreter value stack; more trap with a value-stack overflow.
    pub value_slots: usize,
    /// Wasm instructions between checks of the time slice.
    pub fuel_slice: u32,
    /// Bytes of the fiber stack the interpreter and host calls run on.
    pub fiber_stack: u64,
    /// What its process may hold and start.
    pub process: crate::proc::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_pages: 256,
            call_depth: 1024,
            value_slots: 64 * 1024,
            fuel_slice: 20_000,
            fiber_stack: 64 * 1024,
            process: crate::proc::Limits::default(),
        }
    }
}

impl Limits {
    /// The interpreter configuration for these limits, for the actor run as `process`. Stacks
    /// start small and grow on demand, so an idle actor costs little; `trap_on_oom` stays off so
    /// a refused `memory.grow` returns -1.
    pub fn engine_config(&self, process: &Arc<Process>) -> Config {
        let max_bytes = self.memory_pages as usize * WASM_PAGE;
        // Shown from the start; the size follows once the interpreter makes the memory.
        process.set_linear_memory(0, max_bytes as u64);
        let process = Arc::clone(process);
        Config::new()
            .with_value_stack(StackConfig::dynamic(256.min(self.value_slots), self.value_slots))
            .with_call_stack(StackConfig::dynamic(16.min(self.call_depth), self.call_depth))
            .with_memory_backend(MemoryBackend::custom(move |ty: MemoryType| {
                let initial = usize::try_from(ty.initial_size()).unwrap_or(usize::MAX);
                if initial > max_bytes {
                    return Err(Error::Other(format!(
                        "its memory starts at {} pages, above the limit of {} pages",
                        initial / WASM_PAGE,
                        max_bytes / WASM_PAGE
                    )));
                }
                let memory = CappedMemory {
                    inner: VecMemory::try_new(initial).map_err(Error::Trap)?,
                    max_bytes,
                    process: Arc::clone(&process),
                };
                memory.record();
                Ok(memory)
            }))
    }
}

/// A linear memory that never grows past `max_bytes`.
struct CappedMemory {
    inner: VecMemory,
    max_bytes: usize,
    process: Arc<Process>,
}

impl CappedMemory {
    fn record(&self) {
        self.process.set_linear_memory(self.inner.len() as u64, self.max_bytes as u64);
    }
}

impl LinearMemory for CappedMemory {
    fn len(&self) -> usize {
        self.inner.len()
    }

    fn grow_to(&mut self, new_len: usize) -> Result<(), Trap> {
        if new_len > self.max_bytes {
            return Err(Trap::OutOfMemory);
        }
        self.inner.grow_to(new_len)?;
        self.record();
        Ok(())
    }

    fn read(&self, addr: usize, dst: &mut [u8]) -> usize {
        self.inner.read(addr, dst)
    }

    fn write(&mut self, addr: usize, src: &[u8]) -> usize {
        self.inner.write(addr, src)
    }

    // Bulk copies (host calls, `memory.copy`, `memory.fill`) and loads and stores go straight
    // to the vector's fast paths; the trait's defaults would copy through `read`/`write` in a
    // loop.
    fn write_all(&mut self, addr: usize, src: &[u8]) -> Option<()> {
        self.inner.write_all(addr, src)
    }

    fn read_exact(&self, addr: usize, dst: &mut [u8]) -> Option<()> {
        self.inner.read_exact(addr, dst)
    }

    fn read_vec(&self, addr: usize, len: usize) -> Option<alloc::vec::Vec<u8>> {
        self.inner.read_vec(addr, len)
    }

    fn fill(&mut self, addr: usize, len: usize, val: u8) -> Option<()> {
        self.inner.fill(addr, len, val)
    }

    fn copy_within(&mut self, dst: usize, src: usize, len: usize) -> Option<()> {
        self.inner.copy_within(dst, src, len)
    }

    fn read_8(&self, addr: usize) -> Result<[u8; 1], Trap> {
        self.inner.read_8(addr)
    }

    fn read_16(&self, addr: usize) -> Result<[u8; 2], Trap> {
        self.inner.read_16(addr)
    }

    fn read_32(&self, addr: usize) -> Result<[u8; 4], Trap> {
        self.inner.read_32(addr)
    }

    fn read_64(&self, addr: usize) -> Result<[u8; 8], Trap> {
        self.inner.read_64(addr)
    }

    fn read_128(&self, addr: usize) -> Result<[u8; 16], Trap> {
        self.inner.read_128(addr)
    }

    fn write_8(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write_8(addr, bytes)
    }

    fn write_16(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write_16(addr, bytes)
    }

    fn write_32(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write_32(addr, bytes)
    }

    fn write_64(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write_64(addr, bytes)
    }

    fn write_128(&mut self, addr: usize, bytes: &[u8]) -> Result<(), Trap> {
        self.inner.write_128(addr, bytes)
    }
}
