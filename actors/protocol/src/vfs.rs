//! The file-system protocol: what a client asks `vfs.wasm` and what it answers.
//!
//! `vfs` serves the boot ramdisk's files read-only under `/` (as the archive names them, e.g.
//! `/hello.wasm`, `/test/abi.manifest`) and a writable in-memory directory `/tmp`, capped at
//! [`TMP_CAPACITY`] bytes.
//!
//! **How to talk to it.** The boot manifest declares the endpoint [`ENDPOINT`] and grants vfs
//! its READ side, each client its WRITE side:
//!
//! ```text
//! endpoint vfs.req
//! actor vfs grant=ramdisk:r grant=vfs.req:r
//! actor shell grant=vfs.req:w
//! ```
//!
//! A client sends a [`Request`] with the SDK's request/reply, `Endpoint::call`, and gets back
//! a [`Response`]:
//!
//! ```ignore
//! use protocol::vfs::{Reply, Request, Response};
//!
//! let vfs = sdk::Endpoint::from_grant(0);
//! let request = Request::Read { path: "/tmp/notes.txt".into(), offset: 0, len: protocol::vfs::MAX_IO };
//! let response: Response = vfs.call(&request).await?; // sdk::Error: the IPC itself failed
//! match response {
//!     Ok(Reply::Data(bytes)) => { /* at most MAX_IO bytes from offset 0 */ }
//!     Ok(other) => { /* never for a Read: each request has its one kind of reply */ }
//!     Err(error) => sdk::println!("cannot read: {error}"), // a file-system error
//! }
//! ```
//!
//! **Stateless.** Every request names its path and, for reads and writes, its offset: there
//! are no open files and no per-client state on the server, so a client that dies mid-request
//! leaves nothing behind (its reply is simply not delivered), and a file larger than one
//! message is read or written in [`MAX_IO`]-byte pieces at increasing offsets. Directory
//! listings page the same way, by the last name seen ([`Request::List`]).
//!
//! **Paths** are absolute, at most [`MAX_PATH`] bytes, with components of at most [`MAX_NAME`]
//! bytes and no NUL. They are normalised before use: empty components (`//`, a trailing `/`)
//! and `.` are dropped, `..` removes the component before it (at `/` it stays at `/`). Only
//! paths strictly inside `/tmp` can be created, written, truncated, renamed, removed or given
//! times; every other change gets [`Error::ReadOnly`].
//!
//! **Times.** Every file and directory has the two times of [`Metadata`], in nanoseconds since
//! 1970-01-01 UTC on the kernel's wall clock. One made in `/tmp` starts with both set to when
//! it was made; a write or truncate sets a file's `modified`, and making, removing or renaming
//! an entry sets its directory's `modified` (both directories' for a rename; the entry moved
//! keeps its own times). Reads and listings never set `accessed`, as on a `noatime` mount, so
//! a read changes nothing: only [`Request::SetTimes`] does. The ramdisk's files and
//! directories, `/` and `/tmp` start with the time the server started: the image is built to
//! be the same bytes every time, so the ramdisk has no other honest time.
//!
//! Requests are answered one at a time, in the order they arrive; a request that does not
//! decode gets [`Error::Malformed`]. The server ends once no client holds the endpoint's
//! WRITE side any more.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

/// The manifest name of the endpoint `vfs` receives requests on.
pub const ENDPOINT: &str = "vfs.req";

/// Most bytes one [`Request::Read`] returns or one [`Request::Write`] carries (a message's
/// payload is at most 4096 bytes, path and framing included).
pub const MAX_IO: u32 = 3072;
/// Longest path a request may name, in bytes, before normalisation.
pub const MAX_PATH: usize = 512;
/// Longest name of one directory entry, in bytes.
pub const MAX_NAME: usize = 255;
/// Bytes `/tmp` may hold: file contents plus [`ENTRY_COST`] and the name of every entry. They
/// live in the server's linear memory, so its manifest line gives it room for them and for
/// growing a file (`memory=1024`, 64 MiB).
pub const TMP_CAPACITY: u64 = 8 * 1024 * 1024;
/// Bytes each file or directory in `/tmp` counts against [`TMP_CAPACITY`], on top of its name
/// and contents (so empty files cannot fill the server's memory either).
pub const ENTRY_COST: u64 = 64;

/// What a client asks; each request gets exactly one [`Response`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Up to `len` bytes (and at most [`MAX_IO`]) of the file at `path`, from byte `offset`;
    /// fewer at the end of the file, none past it. Answered with [`Reply::Data`].
    Read {
        /// The file.
        path: String,
        /// First byte to read.
        offset: u64,
        /// Most bytes wanted.
        len: u32,
    },
    /// Writes `data` into the file at `path` (inside `/tmp`) as `mode` says, creating the file
    /// if it does not exist (its directory must). Answered with [`Reply::Written`].
    Write {
        /// The file.
        path: String,
        /// Where the bytes go.
        mode: WriteMode,
        /// The bytes, at most what fits in one message (see [`MAX_IO`]).
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    /// What `path` is. Answered with [`Reply::Stat`].
    Stat {
        /// The file or directory.
        path: String,
    },
    /// The entries of the directory at `path`, in byte order of their names, starting after
    /// the name `after` (`None`: from the first). Answered with [`Reply::Entries`]; if its
    /// `more` is set, ask again with `after` = the last name received.
    List {
        /// The directory.
        path: String,
        /// The last name of the previous page.
        after: Option<String>,
    },
    /// Creates the directory `path` (inside `/tmp`); its parent must exist. Answered with
    /// [`Reply::Done`].
    Mkdir {
        /// The new directory.
        path: String,
    },
    /// Removes the file or empty directory `path` (inside `/tmp`). Answered with
    /// [`Reply::Done`].
    Remove {
        /// What to remove.
        path: String,
    },
    /// Moves the file or directory `from` to `to` (both inside `/tmp`; the parent of `to` must
    /// exist), as POSIX `rename` does: an existing file at `to` is replaced by a file, an
    /// empty directory by a directory; a directory cannot move into itself. Answered with
    /// [`Reply::Done`].
    Rename {
        /// What moves.
        from: String,
        /// Where it goes.
        to: String,
    },
    /// Makes the file at `path` (inside `/tmp`) `size` bytes long: cut, or grown with zeros.
    /// Answered with [`Reply::Written`].
    Truncate {
        /// The file.
        path: String,
        /// Its new length.
        size: u64,
    },
    /// Sets the times of the file or directory `path` (inside `/tmp`; see the module's "Times"): each
    /// given one replaces the old, `None` leaves it as it is. Answered with [`Reply::Done`].
    SetTimes {
        /// The file or directory.
        path: String,
        /// The new [`Metadata::accessed`].
        accessed: Option<u64>,
        /// The new [`Metadata::modified`].
        modified: Option<u64>,
    },
}

/// Where [`Request::Write`] puts its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteMode {
    /// The bytes become the file's whole contents.
    Truncate,
    /// The bytes go after the file's end.
    Append,
    /// The bytes replace those from this offset on; a gap past the end reads as zeros.
    At(u64),
}

/// What the server answers: the reply the request asks for, or why it failed.
pub type Response = Result<Reply, Error>;

/// A successful answer; which variant depends on the request (see [`Request`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Bytes read.
    Data(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The write happened; the file is now this many bytes long.
    Written {
        /// The file's new size.
        size: u64,
    },
    /// What a path is.
    Stat(Metadata),
    /// One page of a directory listing.
    Entries {
        /// The entries, in byte order of their names.
        entries: Vec<DirEntry>,
        /// Whether entries follow the last one of this page.
        more: bool,
    },
    /// The change was made: a directory made, an entry removed or renamed, times set.
    Done,
}

/// What kind of thing a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// A file of bytes.
    File,
    /// A directory of named entries.
    Dir,
}

/// What [`Request::Stat`] tells about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// File or directory.
    pub kind: Kind,
    /// A file's length in bytes; a directory's number of entries.
    pub size: u64,
    /// The access time, in nanoseconds since 1970-01-01 UTC: when it was made (for the
    /// ramdisk: when the server started) or what [`Request::SetTimes`] last set; reads do not
    /// change it.
    pub accessed: u64,
    /// The modification time, in nanoseconds since 1970-01-01 UTC: when a file's bytes or a
    /// directory's entries last changed, or what [`Request::SetTimes`] last set.
    pub modified: u64,
}

/// One entry of a directory listing: no times, so a page holds more entries (ask
/// [`Request::Stat`] for them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The entry's name within the directory (no `/`).
    pub name: String,
    /// File or directory.
    pub kind: Kind,
    /// As [`Metadata::size`].
    pub size: u64,
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Error {
    /// The path is not absolute, is too long, has a too long component, or contains NUL.
    BadPath,
    /// Nothing exists at the path (or at one of its directories).
    NotFound,
    /// A component before the last names a file, `List` names a file, or `Rename` would put a
    /// directory over a file.
    NotADirectory,
    /// `Read`, `Write` or `Truncate` names a directory, or `Rename` would put a file over one.
    IsADirectory,
    /// The request would change something outside `/tmp`, or `/tmp` itself.
    ReadOnly,
    /// `Mkdir` names something that exists.
    AlreadyExists,
    /// `Remove` or `Rename` would drop a directory that still has entries.
    NotEmpty,
    /// `Rename` would move a directory into itself.
    InvalidArgument,
    /// `/tmp` would exceed [`TMP_CAPACITY`], or the server has no memory left for it.
    NoSpace,
    /// The ramdisk could not be read.
    Io,
    /// The message is not a [`Request`].
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::BadPath => "bad path",
            Error::NotFound => "no such file or directory",
            Error::NotADirectory => "not a directory",
            Error::IsADirectory => "is a directory",
            Error::ReadOnly => "read-only file system",
            Error::AlreadyExists => "already exists",
            Error::NotEmpty => "directory not empty",
            Error::InvalidArgument => "invalid argument",
            Error::NoSpace => "no space left in /tmp",
            Error::Io => "ramdisk read failed",
            Error::Malformed => "malformed request",
        })
    }
}

impl core::error::Error for Error {}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::File => "file",
            Kind::Dir => "directory",
        })
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    #[test]
    fn set_times_comes_last_so_earlier_requests_keep_their_encoding() {
        let truncate = postcard::to_allocvec(&Request::Truncate { path: "/".into(), size: 2 }).unwrap();
        assert_eq!(truncate, [7, 1, b'/', 2]);
        let set = Request::SetTimes { path: "/tmp/a".into(), accessed: Some(1), modified: None };
        let bytes = postcard::to_allocvec(&set).unwrap();
        assert_eq!(bytes, [&[8, 6][..], b"/tmp/a", &[1, 1, 0]].concat());
        assert_eq!(postcard::from_bytes::<Request>(&bytes).unwrap(), set);
    }

    #[test]
    fn file_bytes_are_one_byte_string_laid_out_as_a_sequence_of_bytes_would_be() {
        let data: Response = Ok(Reply::Data(vec![7, 8, 9]));
        assert_eq!(postcard::to_allocvec(&data).unwrap(), [0, 0, 3, 7, 8, 9]);
        let write = Request::Write { path: "/".into(), mode: WriteMode::Append, data: vec![1, 2] };
        let bytes = postcard::to_allocvec(&write).unwrap();
        assert_eq!(bytes, [1, 1, b'/', 1, 2, 1, 2]);
        assert_eq!(postcard::from_bytes::<Request>(&bytes).unwrap(), write);
    }

    #[test]
    fn metadata_carries_both_times() {
        let metadata = Metadata { kind: Kind::Dir, size: 3, accessed: 1, modified: u64::MAX };
        let bytes = postcard::to_allocvec(&metadata).unwrap();
        assert_eq!(bytes, [&[1, 3, 1][..], &[0xff; 9], &[1]].concat(), "varints, after kind and size");
        assert_eq!(postcard::from_bytes::<Metadata>(&bytes).unwrap(), metadata);
    }

    #[test]
    fn a_dir_entry_carries_no_times() {
        let entry = DirEntry { name: "a".into(), kind: Kind::File, size: 5 };
        assert_eq!(postcard::to_allocvec(&entry).unwrap(), vec![1, b'a', 0, 5]);
    }
}
