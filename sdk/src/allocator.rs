//! The global allocator (feature `allocator`, on by default): talc over the actor's linear
//! memory, growing it with `memory.grow` and reusing what is freed. Turn the feature off to
//! bring another `#[global_allocator]`.

// SAFETY: talc's Wasm handler needs a single-threaded instance (actors are: see
// `rt::local`) and to be the only user of `memory.grow`, which nothing else in an actor calls.
#[global_allocator]
static ALLOCATOR: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };
