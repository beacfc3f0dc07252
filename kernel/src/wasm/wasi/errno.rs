//! WASI's error numbers (`errno` in `wasi_snapshot_preview1.witx`), the ones the kernel
//! answers with, and how the errors of the layers below map onto them.

use core::fmt;

use protocol::vfs;

use crate::error::Error;

/// A WASI error number; every WASI call returns one ([`Errno::SUCCESS`] when it worked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub u16);

/// Declares the errnos the kernel uses, with their numbers and `strerror` texts.
macro_rules! errnos {
    ($($name:ident = $number:literal, $text:literal;)*) => {
        impl Errno {
            $(
                #[doc = $text]
                pub const $name: Errno = Errno($number);
            )*

            /// Its name and text, if it is one the kernel uses.
            fn describe(self) -> Option<(&'static str, &'static str)> {
                match self.0 {
                    $($number => Some((stringify!($name), $text)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    SUCCESS = 0, "no error";
    TOOBIG = 1, "argument list too long";
    ACCES = 2, "permission denied";
    AGAIN = 6, "resource unavailable, try again";
    BADF = 8, "bad file descriptor";
    BUSY = 10, "device or resource busy";
    EXIST = 20, "file exists";
    FAULT = 21, "bad address";
    FBIG = 22, "file too large";
    ILSEQ = 25, "illegal byte sequence";
    INVAL = 28, "invalid argument";
    IO = 29, "I/O error";
    ISDIR = 31, "is a directory";
    LOOP = 32, "too many levels of symbolic links";
    MFILE = 33, "too many open files";
    NAMETOOLONG = 37, "file name too long";
    NOENT = 44, "no such file or directory";
    NOMEM = 48, "not enough space";
    NOSPC = 51, "no space left on device";
    NOSYS = 52, "function not supported";
    NOTDIR = 54, "not a directory";
    NOTEMPTY = 55, "directory not empty";
    NOTSUP = 58, "not supported";
    OVERFLOW = 61, "value too large to be stored in data type";
    PERM = 63, "operation not permitted";
    PIPE = 64, "broken pipe";
    ROFS = 69, "read-only file system";
    SPIPE = 70, "invalid seek";
    XDEV = 75, "cross-device link";
    NOTCAPABLE = 76, "capabilities insufficient";
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.describe() {
            Some((name, text)) => write!(f, "E{name} ({text})"),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl From<vfs::Error> for Errno {
    fn from(error: vfs::Error) -> Self {
        match error {
            vfs::Error::BadPath => Errno::INVAL,
            vfs::Error::NotFound => Errno::NOENT,
            vfs::Error::NotADirectory => Errno::NOTDIR,
            vfs::Error::IsADirectory => Errno::ISDIR,
            vfs::Error::ReadOnly => Errno::ROFS,
            vfs::Error::AlreadyExists => Errno::EXIST,
            vfs::Error::NotEmpty => Errno::NOTEMPTY,
            vfs::Error::InvalidArgument => Errno::INVAL,
            vfs::Error::NoSpace => Errno::NOSPC,
            vfs::Error::Io | vfs::Error::Malformed => Errno::IO,
        }
    }
}

impl From<Error> for Errno {
    /// A kernel error met on the way to the vfs or a standard stream.
    fn from(error: Error) -> Self {
        match error {
            Error::NoMemory | Error::KernelMemoryLimit | Error::TooManyHandles => Errno::NOMEM,
            Error::Closed => Errno::PIPE,
            Error::TooLarge => Errno::FBIG,
            _ => Errno::IO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn errnos_show_their_name_and_text() {
        assert_eq!(Errno::NOENT.to_string(), "ENOENT (no such file or directory)");
        assert_eq!(Errno(200).to_string(), "errno 200");
        assert_eq!(Errno::from(vfs::Error::NotEmpty), Errno::NOTEMPTY);
    }
}
