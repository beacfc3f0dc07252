//! The negative codes host functions return, one per cause, and the one place kernel errors
//! become codes; `docs/ABI.md` lists the same table.

use crate::error::Error;

/// A pointer or length lies outside the caller's memory, or an offset outside the object.
pub const E_OUT_OF_BOUNDS: i32 = -1;
/// The handle is negative, closed, or was never given to this actor.
pub const E_INVALID_HANDLE: i32 = -2;
/// The handle names another kind of object.
pub const E_WRONG_KIND: i32 = -3;
/// The capability lacks a right, or a derived copy would widen them.
pub const E_NO_RIGHTS: i32 = -4;
/// The endpoint's queue is full.
pub const E_FULL: i32 = -5;
/// The other side is gone.
pub const E_CLOSED: i32 = -6;
/// Larger than the kernel allows.
pub const E_TOO_LARGE: i32 = -7;
/// The kernel is out of memory for this request.
pub const E_NO_MEMORY: i32 = -8;
/// Nothing is queued.
pub const E_EMPTY: i32 = -9;
/// The capability table is full.
pub const E_TOO_MANY_HANDLES: i32 = -10;
/// The receive buffer cannot hold the message; it stays queued.
pub const E_BUFFER_TOO_SMALL: i32 = -11;
/// An argument is outside its documented range.
pub const E_INVALID_ARGUMENT: i32 = -12;
/// The named thing does not exist.
pub const E_NOT_FOUND: i32 = -13;

/// The code for a kernel error.
pub fn code(error: Error) -> i32 {
    match error {
        Error::InvalidHandle => E_INVALID_HANDLE,
        Error::WrongKind => E_WRONG_KIND,
        Error::NoRights => E_NO_RIGHTS,
        Error::Full => E_FULL,
        Error::Closed => E_CLOSED,
        Error::Empty => E_EMPTY,
        Error::OutOfBounds => E_OUT_OF_BOUNDS,
        Error::TooLarge => E_TOO_LARGE,
        Error::NoMemory | Error::TooManyTasks => E_NO_MEMORY,
        Error::TooManyHandles => E_TOO_MANY_HANDLES,
        Error::BufferTooSmall => E_BUFFER_TOO_SMALL,
        Error::NoSuchProcess => E_NOT_FOUND,
    }
}
