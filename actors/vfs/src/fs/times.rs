//! The two times every node keeps, and `SetTimes`, the one request that sets `accessed`.
//!
//! Which request changes which time is the protocol's rule ("Times" in `protocol::vfs`); the
//! operations in `fs.rs` mark `modified` where they change bytes or entries. Reads leave
//! `accessed` alone, as a `noatime` mount does: answering a read changes nothing, so reads
//! take the tree shared (`&self`).

use protocol::vfs::{Error, Reply, Response};

use super::{Fs, dir_mut, tmp_path};
use crate::ustar::Image;

/// When a node was last accessed and modified, in nanoseconds since 1970-01-01 UTC.
pub(super) struct Times {
    /// As `protocol::vfs::Metadata::accessed`.
    pub(super) accessed: u64,
    /// As `protocol::vfs::Metadata::modified`.
    pub(super) modified: u64,
}

impl Times {
    /// The times of a node made at `now`.
    pub(super) fn new(now: u64) -> Times {
        Times { accessed: now, modified: now }
    }
}

impl<I: Image> Fs<I> {
    /// Gives the node at `path` (strictly inside `/tmp`) the times that are `Some`.
    pub(super) fn set_times(&mut self, path: &str, accessed: Option<u64>, modified: Option<u64>) -> Response {
        let (parent, name) = tmp_path(path)?;
        let (dir, _) = dir_mut(&mut self.root, &parent)?;
        let times = &mut dir.get_mut(name).ok_or(Error::NotFound)?.times;
        times.accessed = accessed.unwrap_or(times.accessed);
        times.modified = modified.unwrap_or(times.modified);
        Ok(Reply::Done)
    }
}
