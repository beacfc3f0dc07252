//! WASI's rights (`rights` in `wasi_snapshot_preview1.witx`): what a descriptor allows. A
//! descriptor's base rights are checked by each call; its inheriting rights bound what the
//! descriptors opened through it may get. Rights only narrow: an opened descriptor gets what
//! it asks for within its directory's inheriting rights, and `fd_fdstat_set_rights` can only
//! drop some.

/// A set of WASI rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights(pub u64);

impl Rights {
    pub const FD_DATASYNC: Rights = Rights(1 << 0);
    pub const FD_READ: Rights = Rights(1 << 1);
    pub const FD_SEEK: Rights = Rights(1 << 2);
    pub const FD_FDSTAT_SET_FLAGS: Rights = Rights(1 << 3);
    pub const FD_SYNC: Rights = Rights(1 << 4);
    pub const FD_TELL: Rights = Rights(1 << 5);
    pub const FD_WRITE: Rights = Rights(1 << 6);
    pub const FD_ADVISE: Rights = Rights(1 << 7);
    pub const FD_ALLOCATE: Rights = Rights(1 << 8);
    pub const PATH_CREATE_DIRECTORY: Rights = Rights(1 << 9);
    pub const PATH_CREATE_FILE: Rights = Rights(1 << 10);
    pub const PATH_LINK_SOURCE: Rights = Rights(1 << 11);
    pub const PATH_LINK_TARGET: Rights = Rights(1 << 12);
    pub const PATH_OPEN: Rights = Rights(1 << 13);
    pub const FD_READDIR: Rights = Rights(1 << 14);
    pub const PATH_READLINK: Rights = Rights(1 << 15);
    pub const PATH_RENAME_SOURCE: Rights = Rights(1 << 16);
    pub const PATH_RENAME_TARGET: Rights = Rights(1 << 17);
    pub const PATH_FILESTAT_GET: Rights = Rights(1 << 18);
    pub const PATH_FILESTAT_SET_SIZE: Rights = Rights(1 << 19);
    pub const PATH_FILESTAT_SET_TIMES: Rights = Rights(1 << 20);
    pub const FD_FILESTAT_GET: Rights = Rights(1 << 21);
    pub const FD_FILESTAT_SET_SIZE: Rights = Rights(1 << 22);
    pub const FD_FILESTAT_SET_TIMES: Rights = Rights(1 << 23);
    pub const PATH_SYMLINK: Rights = Rights(1 << 24);
    pub const PATH_REMOVE_DIRECTORY: Rights = Rights(1 << 25);
    pub const PATH_UNLINK_FILE: Rights = Rights(1 << 26);
    pub const POLL_FD_READWRITE: Rights = Rights(1 << 27);

    /// No rights.
    pub const NONE: Rights = Rights(0);

    /// What a file may be read through.
    pub const FILE_READ: Rights = Rights(
        Self::FD_READ.0
            | Self::FD_SEEK.0
            | Self::FD_TELL.0
            | Self::FD_ADVISE.0
            | Self::FD_FILESTAT_GET.0
            | Self::FD_FDSTAT_SET_FLAGS.0
            | Self::POLL_FD_READWRITE.0,
    );
    /// What writing to a file adds.
    pub const FILE_WRITE: Rights = Rights(
        Self::FD_WRITE.0
            | Self::FD_DATASYNC.0
            | Self::FD_SYNC.0
            | Self::FD_ALLOCATE.0
            | Self::FD_FILESTAT_SET_SIZE.0
            | Self::FD_FILESTAT_SET_TIMES.0,
    );
    /// What a directory may be looked into through.
    pub const DIR_READ: Rights = Rights(
        Self::PATH_OPEN.0
            | Self::FD_READDIR.0
            | Self::PATH_READLINK.0
            | Self::PATH_FILESTAT_GET.0
            | Self::FD_FILESTAT_GET.0
            | Self::FD_FDSTAT_SET_FLAGS.0,
    );
    /// What changing a directory's entries adds.
    pub const DIR_WRITE: Rights = Rights(
        Self::PATH_CREATE_DIRECTORY.0
            | Self::PATH_CREATE_FILE.0
            | Self::PATH_RENAME_SOURCE.0
            | Self::PATH_RENAME_TARGET.0
            | Self::PATH_FILESTAT_SET_SIZE.0
            | Self::PATH_FILESTAT_SET_TIMES.0
            | Self::FD_FILESTAT_SET_TIMES.0
            | Self::PATH_REMOVE_DIRECTORY.0
            | Self::PATH_UNLINK_FILE.0
            // Links are refused as unsupported (`ENOTSUP`): the vfs has none, no right is missing.
            | Self::PATH_SYMLINK.0
            | Self::PATH_LINK_SOURCE.0
            | Self::PATH_LINK_TARGET.0,
    );

    /// Whether every right of `other` is in this set.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// The rights in both sets.
    pub const fn and(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    /// The rights in either set.
    pub const fn or(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}
