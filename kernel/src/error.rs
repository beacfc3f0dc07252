//! What capability, IPC and process operations fail with: one enum for all three, so the host
//! ABI maps every cause to its code in one place (the mapping lives with the ABI, not here).

use core::fmt;

/// Why a capability, IPC or process operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The handle is negative, malformed, closed, or was never issued by this table.
    InvalidHandle,
    /// The handle names another kind of object than the operation needs.
    WrongKind,
    /// The capability lacks a right the operation needs, or a derived copy would widen them.
    NoRights,
    /// The endpoint's queue is at capacity.
    Full,
    /// The other side is gone: no receiver is left, or no sender is left and the queue is empty.
    Closed,
    /// No message is queued (and senders remain).
    Empty,
    /// An offset and length reach past the end of the object.
    OutOfBounds,
    /// A payload, object or queue is larger than the kernel allows.
    TooLarge,
    /// The kernel heap could not satisfy the request.
    NoMemory,
    /// The process's capability table is at its limit.
    TooManyHandles,
    /// The receiver's buffer cannot hold the message (which stays queued).
    BufferTooSmall,
    /// No live process has that pid.
    NoSuchProcess,
    /// The executor has no room for another task.
    TooManyTasks,
    /// The capability may not travel in a message: it can receive from an endpoint.
    NotMovable,
    /// The kernel memory charged to the process would pass its limit.
    KernelMemoryLimit,
    /// The device is another driver's, or its DMA guard refuses the access.
    Denied,
    /// The thing named does not exist (a device, or a part of one).
    NotFound,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidHandle => "invalid handle",
            Self::WrongKind => "the handle names another kind of object",
            Self::NoRights => "the capability lacks the rights needed",
            Self::Full => "the endpoint's queue is full",
            Self::Closed => "the other side is closed",
            Self::Empty => "no message is queued",
            Self::OutOfBounds => "offset and length reach past the end",
            Self::TooLarge => "larger than the kernel allows",
            Self::NoMemory => "out of kernel memory",
            Self::TooManyHandles => "the capability table is full",
            Self::BufferTooSmall => "the buffer cannot hold the message",
            Self::NoSuchProcess => "no such process",
            Self::TooManyTasks => "the executor has no room for another task",
            Self::NotMovable => "a receiving capability cannot travel in a message",
            Self::KernelMemoryLimit => "its kernel memory limit would be passed",
            Self::Denied => "the device is another driver's, or its DMA guard refuses the access",
            Self::NotFound => "no such thing",
        })
    }
}

/// A failed operation that hands back what it was given, so nothing is dropped silently.
#[derive(Debug)]
pub struct Rejected<T> {
    /// Why it failed.
    pub error: Error,
    /// What the caller passed in, untouched.
    pub value: T,
}

impl<T> fmt::Display for Rejected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}
