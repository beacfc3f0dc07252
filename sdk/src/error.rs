//! [`Error`]: the kernel's error codes (`docs/ABI.md`, "Error codes") as a type, plus the one
//! failures the SDK adds on top: a payload that does not decode, a deadline that passed.

use core::fmt;

use crate::sys;

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// A range lies outside this actor's memory, or an offset/length outside the object.
    OutOfBounds,
    /// The handle is closed, or was never given to this actor.
    InvalidHandle,
    /// The handle names another kind of object than the call needs.
    WrongKind,
    /// The capability lacks a right the call needs, or a derived copy would widen them.
    NoRights,
    /// The endpoint's queue is full; nothing was sent.
    Full,
    /// The other side is gone.
    Closed,
    /// The payload or object is larger than the kernel allows.
    TooLarge,
    /// The kernel is out of memory for this request.
    NoMemory,
    /// Nothing is queued.
    Empty,
    /// This actor's capability table is full.
    TooManyHandles,
    /// The receive buffer cannot hold the message; it stays queued.
    BufferTooSmall,
    /// An argument is outside its documented range.
    InvalidArgument,
    /// The named thing does not exist.
    NotFound,
    /// A limit the boot manifest sets for this actor would be passed.
    Limit,
    /// The capability may not travel in a message (it can receive from an endpoint).
    NotMovable,
    /// The device is another driver's, or the kernel's DMA guard refuses the access.
    Denied,
    /// A negative code this SDK does not know yet (codes only ever get added).
    Unknown(i32),
    /// A payload is not an encoding of the expected type (or a value cannot be encoded).
    Malformed,
    /// A deadline passed first (`rt::with_timeout`).
    TimedOut,
}

impl Error {
    /// The error a call's result stands for, or `None` for a success (`result >= 0`).
    pub const fn from_code(result: i64) -> Option<Error> {
        if result >= 0 {
            return None;
        }
        Some(match result as i32 {
            sys::E_OUT_OF_BOUNDS => Error::OutOfBounds,
            sys::E_INVALID_HANDLE => Error::InvalidHandle,
            sys::E_WRONG_KIND => Error::WrongKind,
            sys::E_NO_RIGHTS => Error::NoRights,
            sys::E_FULL => Error::Full,
            sys::E_CLOSED => Error::Closed,
            sys::E_TOO_LARGE => Error::TooLarge,
            sys::E_NO_MEMORY => Error::NoMemory,
            sys::E_EMPTY => Error::Empty,
            sys::E_TOO_MANY_HANDLES => Error::TooManyHandles,
            sys::E_BUFFER_TOO_SMALL => Error::BufferTooSmall,
            sys::E_INVALID_ARGUMENT => Error::InvalidArgument,
            sys::E_NOT_FOUND => Error::NotFound,
            sys::E_LIMIT => Error::Limit,
            sys::E_NOT_MOVABLE => Error::NotMovable,
            sys::E_DENIED => Error::Denied,
            _ if result < i32::MIN as i64 => Error::Unknown(i32::MIN),
            code => Error::Unknown(code),
        })
    }

    /// `Ok(result)` for a success, the error otherwise.
    pub(crate) fn check(result: i64) -> Result<i64, Error> {
        match Error::from_code(result) {
            None => Ok(result),
            Some(error) => Err(error),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::OutOfBounds => "out of bounds",
            Error::InvalidHandle => "invalid handle",
            Error::WrongKind => "wrong kind of object",
            Error::NoRights => "missing rights",
            Error::Full => "endpoint full",
            Error::Closed => "closed",
            Error::TooLarge => "too large",
            Error::NoMemory => "kernel out of memory",
            Error::Empty => "nothing queued",
            Error::TooManyHandles => "too many handles",
            Error::BufferTooSmall => "buffer too small",
            Error::InvalidArgument => "invalid argument",
            Error::NotFound => "not found",
            Error::Limit => "limit reached",
            Error::NotMovable => "a receiving capability cannot travel in a message",
            Error::Denied => "denied by the device's DMA guard",
            Error::Unknown(code) => return write!(f, "error code {code}"),
            Error::Malformed => "malformed payload",
            Error::TimedOut => "timed out",
        };
        f.write_str(text)
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_its_variant() {
        let named = [
            Error::OutOfBounds,
            Error::InvalidHandle,
            Error::WrongKind,
            Error::NoRights,
            Error::Full,
            Error::Closed,
            Error::TooLarge,
            Error::NoMemory,
            Error::Empty,
            Error::TooManyHandles,
            Error::BufferTooSmall,
            Error::InvalidArgument,
            Error::NotFound,
            Error::Limit,
            Error::NotMovable,
            Error::Denied,
        ];
        for (i, error) in named.into_iter().enumerate() {
            assert_eq!(Error::from_code(-(i as i64) - 1), Some(error));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(7), None);
        assert_eq!(Error::from_code(-17), Some(Error::Unknown(-17)));
        assert_eq!(Error::from_code(i64::MIN), Some(Error::Unknown(i32::MIN)));
    }
}
