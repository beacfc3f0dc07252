//! The one place kernel errors become the ABI's negative codes (the codes themselves are in the
//! `minimalos-abi` crate, shared with the SDK; `docs/ABI.md` lists the same table).

use crate::error::Error;

pub use minimalos_abi::{
    E_BUFFER_TOO_SMALL, E_CLOSED, E_DENIED, E_EMPTY, E_FULL, E_INVALID_ARGUMENT, E_INVALID_HANDLE, E_LIMIT,
    E_NO_MEMORY, E_NO_RIGHTS, E_NOT_FOUND, E_NOT_MOVABLE, E_OUT_OF_BOUNDS, E_TOO_LARGE, E_TOO_MANY_HANDLES,
    E_WRONG_KIND,
};

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
        Error::NoSuchProcess | Error::NotFound => E_NOT_FOUND,
        Error::NotMovable => E_NOT_MOVABLE,
        Error::KernelMemoryLimit => E_LIMIT,
        Error::Denied => E_DENIED,
    }
}
