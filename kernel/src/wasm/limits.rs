//! What one actor may use: linear memory, interpreter stacks, fuel per slice, fiber stack, and
//! its process's limits (capabilities, children, queue depth).
//!
//! Memory is capped by its backend (`linear_memory`), which refuses to grow past the limit, so
//! `memory.grow` beyond it returns -1 to the actor (the Wasm way to say "no"), whatever maximum
//! the module declares.

use alloc::sync::Arc;
use tinywasm::engine::{Config, StackConfig};

use super::linear_memory::{self, MemoryView, WASM_PAGE};
use crate::proc::Process;

/// Resource limits of one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory, in Wasm pages.
    pub memory_pages: u32,
    /// Deepest Wasm call nesting; deeper calls trap with a call-stack overflow.
    pub call_depth: usize,
    /// Most values on each interpreter value stack (at most 4096 on the one for SIMD values);
    /// more trap with a value-stack overflow.
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

/// Bytes of one value slot in tinywasm's 32- and 64-bit value stacks together.
const VALUE_SLOT_BYTES: u64 = 4 + 8;
/// Most slots of the 128-bit value stack, which holds only SIMD values (tinywasm's own
/// default): at 16 bytes a slot, 64 Ki of them would be a megabyte charged to every actor.
const V128_SLOTS: usize = 4 * 1024;
/// Bytes of one slot of the 128-bit value stack.
const V128_SLOT_BYTES: u64 = 16;
/// Bytes of one tinywasm call frame (`CallFrame`: an instruction pointer, a function and two
/// sets of stack offsets), rounded up.
const CALL_FRAME_BYTES: u64 = 48;

impl Limits {
    /// Kernel memory an actor with these limits may hold beside its module, memory and tables,
    /// charged whole when it starts: its interpreter's stacks at their largest (they grow
    /// inside the interpreter, where the kernel cannot charge each step), its fiber stack, and
    /// its capability table at its largest.
    pub fn fixed_kernel_bytes(&self) -> u64 {
        let stacks = self.value_slots as u64 * VALUE_SLOT_BYTES
            + self.v128_slots() as u64 * V128_SLOT_BYTES
            + self.call_depth as u64 * CALL_FRAME_BYTES;
        stacks + self.fiber_stack + crate::cap::table::kernel_bytes(self.process.handles)
    }

    /// The limits of an actor that `parent` starts: the defaults, each capped at the parent's
    /// own, so starting children never gets an actor more than it was given.
    pub fn for_child_of(parent: &Process) -> Self {
        let (defaults, own) = (Self::default(), parent.limits());
        let parent_pages = u32::try_from(parent.linear_memory_limit() / WASM_PAGE as u64).unwrap_or(u32::MAX);
        Self {
            memory_pages: defaults.memory_pages.min(parent_pages),
            process: crate::proc::Limits {
                handles: defaults.process.handles.min(own.handles),
                children: defaults.process.children.min(own.children),
                queue: defaults.process.queue.min(own.queue),
                kmem: defaults.process.kmem.min(own.kmem),
            },
            ..defaults
        }
    }

    /// Most slots of the 128-bit (SIMD) value stack.
    fn v128_slots(&self) -> usize {
        self.value_slots.min(V128_SLOTS)
    }

    /// The interpreter configuration for these limits, for the actor run as `process` whose
    /// memory `view` will show. Stacks start small and grow on demand, so an idle actor costs
    /// little; `trap_on_oom` stays off so a refused `memory.grow` returns -1.
    pub fn engine_config(&self, process: &Arc<Process>, view: &Arc<MemoryView>) -> Config {
        let max_bytes = self.memory_pages as usize * WASM_PAGE;
        // Shown from the start; the size follows once the interpreter makes the memory.
        process.set_linear_memory(0, max_bytes as u64);
        let stack = |slots: usize| StackConfig::dynamic(256.min(slots), slots);
        Config::new()
            .with_value_stack_32(stack(self.value_slots))
            .with_value_stack_64(stack(self.value_slots))
            .with_value_stack_128(stack(self.v128_slots()))
            .with_call_stack(StackConfig::dynamic(16.min(self.call_depth), self.call_depth))
            .with_memory_backend(linear_memory::backend(view, max_bytes, process))
    }
}
