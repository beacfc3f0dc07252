//! What a WASI program starts with ([`Start`], decoded from `sys_proc_start`'s spec by the
//! caller) and the state the kernel keeps for it while it runs ([`Wasi`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use minimalos_abi::MAX_START_DIRS;

use super::fds::{Descriptor, Dir, FdTable, Object, Stream};
use super::path;
use super::rights::Rights;
use super::stdio::Streams;
use crate::cap::Capability;

/// A directory given to a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The vfs directory, normalised.
    pub host: String,
    /// The name the program sees it under.
    pub guest: String,
    /// Whether the program may change what is in it.
    pub writable: bool,
}

/// Everything a program is given besides its capability table.
#[derive(Default)]
pub struct Start {
    /// Its arguments after its name.
    pub args: Vec<Vec<u8>>,
    /// Its environment, `NAME=VALUE` each.
    pub env: Vec<Vec<u8>>,
    /// The vfs endpoint its file calls go through.
    pub files: Option<Capability>,
    /// Its preopened directories, in order (descriptors 3, 4, …).
    pub dirs: Vec<Preopen>,
    /// Standard input, output and error, where given.
    pub stdin: Option<Capability>,
    /// Standard output.
    pub stdout: Option<Capability>,
    /// Standard error.
    pub stderr: Option<Capability>,
}

/// Why a start spec's WASI entries cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// A directory's vfs path is not absolute.
    NotAbsolute(String),
    /// More than [`MAX_START_DIRS`] directories.
    TooManyDirs,
    /// Directories without the vfs to reach them through.
    DirsWithoutFiles,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAbsolute(host) => write!(f, "the directory `{host}` is not an absolute vfs path"),
            Self::TooManyDirs => write!(f, "more than {MAX_START_DIRS} directories"),
            Self::DirsWithoutFiles => f.write_str("directories are given, but no vfs endpoint to reach them"),
        }
    }
}

impl Start {
    /// Adds the directory `host` seen as `guest`, checking it.
    pub fn add_dir(&mut self, host: &str, guest: &str, writable: bool) -> Result<(), StartError> {
        if self.dirs.len() == MAX_START_DIRS {
            return Err(StartError::TooManyDirs);
        }
        let host = path::normalise(host).ok_or_else(|| StartError::NotAbsolute(host.into()))?;
        self.dirs.push(Preopen { host, guest: guest.into(), writable });
        Ok(())
    }

    /// Checks what only the whole list can show.
    pub fn check(&self) -> Result<(), StartError> {
        if !self.dirs.is_empty() && self.files.is_none() {
            return Err(StartError::DirsWithoutFiles);
        }
        Ok(())
    }

    /// Kernel memory the state made from it holds, besides descriptors opened later.
    pub fn kernel_bytes(&self, program: &str) -> u64 {
        let strings: usize = self.args.iter().chain(&self.env).map(Vec::len).sum();
        let dirs: usize = self.dirs.iter().map(|d| d.host.len() + d.guest.len()).sum();
        let table = super::fds::cost("") * (3 + self.dirs.len() as u64);
        (program.len() + strings + dirs) as u64 * 2 + table + Streams::kernel_bytes()
    }
}

/// What the kernel keeps for a WASI program.
pub struct Wasi {
    /// Its arguments, its name first.
    pub args: Vec<Vec<u8>>,
    /// Its environment.
    pub env: Vec<Vec<u8>>,
    /// The vfs endpoint its file calls go through.
    pub files: Option<Capability>,
    /// Its descriptors.
    pub fds: RefCell<FdTable>,
    /// Its standard streams.
    pub streams: Streams,
}

impl Wasi {
    /// The state of the program `program` (its module's name), known on the console as `who`,
    /// started with `start`.
    pub fn new(program: &str, who: String, start: Start) -> Self {
        let Start { mut args, env, files, dirs, stdin, stdout, stderr } = start;
        args.insert(0, program.as_bytes().to_vec());
        let mut fds = FdTable::default();
        let streams =
            [(Stream::In, Rights::FD_READ), (Stream::Out, Rights::FD_WRITE), (Stream::Err, Rights::FD_WRITE)];
        for (stream, right) in streams {
            let rights = right.or(Rights::FD_FILESTAT_GET).or(Rights::POLL_FD_READWRITE);
            // Three into an empty table of more: cannot fail.
            let _ = fds.insert(Descriptor::new(Object::Stream(stream), rights, Rights::NONE));
        }
        for Preopen { host, guest, writable } in dirs {
            let (base, inheriting) = if writable {
                (
                    Rights::DIR_READ.or(Rights::DIR_WRITE),
                    Rights::DIR_READ.or(Rights::DIR_WRITE).or(Rights::FILE_READ).or(Rights::FILE_WRITE),
                )
            } else {
                (Rights::DIR_READ, Rights::DIR_READ.or(Rights::FILE_READ))
            };
            let dir = Dir { root: host.clone(), path: host, preopen: Some(guest), read_up_to: None };
            // At most MAX_START_DIRS after the streams, far below MAX_FDS.
            let _ = fds.insert(Descriptor::new(Object::Dir(dir), base, inheriting));
        }
        let streams = Streams::new(stdin, stdout, stderr, who);
        Self { args, env, files, fds: RefCell::new(fds), streams }
    }
}
