//! The negative codes host functions return, one per cause; `docs/ABI.md` lists the same table.

/// A pointer or length lies outside the caller's memory.
pub const E_OUT_OF_BOUNDS: i32 = -1;
/// An argument is outside its documented range.
pub const E_INVALID_ARGUMENT: i32 = -12;
