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
            },
            ..defaults
        }
    }

    /// The interpreter configuration for these limits, for the actor run as `process` whose
    /// memory `view` will show. Stacks start small and grow on demand, so an idle actor costs
    /// little; `trap_on_oom` stays off so a refused `memory.grow` returns -1.
    pub fn engine_config(&self, process: &Arc<Process>, view: &Arc<MemoryView>) -> Config {
        let max_bytes = self.memory_pages as usize * WASM_PAGE;
        // Shown from the start; the size follows once the interpreter makes the memory.
        process.set_linear_memory(0, max_bytes as u64);
        Config::new()
            .with_value_stack(StackConfig::dynamic(256.min(self.value_slots), self.value_slots))
            .with_call_stack(StackConfig::dynamic(16.min(self.call_depth), self.call_depth))
            .with_memory_backend(linear_memory::backend(view, max_bytes, process))
    }
}
