//! What one actor may use: linear memory, interpreter stacks, fuel per slice, fiber stack, and
//! its process's limits (capabilities, children, queue depth).
//!
//! The engine caps memory (`wasm::engine`): it refuses to grow past the limit, so `memory.grow`
//! beyond it returns -1 to the actor (the Wasm way to say "no"), whatever maximum the module
//! declares.

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
    /// Most values on the interpreter's value stack (each engine says how it counts them);
    /// more trap with a stack overflow.
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
    /// Kernel memory an actor with these limits holds whatever it does, charged whole when it
    /// starts: its fiber stack. (Its module, memory, tables, capability table and interpreter
    /// stacks are charged as they are made and grow.)
    pub fn fixed_kernel_bytes(&self) -> u64 {
        self.fiber_stack
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
}
