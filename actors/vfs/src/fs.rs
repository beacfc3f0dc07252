//! The file system as plain data: the ramdisk's tree (read-only; file bytes are read from the
//! archive when asked for) with the in-memory `/tmp` beside it, and each request of the
//! protocol as a method. No IPC and no clock here: the server loop in `lib.rs` feeds it
//! requests with the time each arrived and sends back its answers, so everything below is
//! tested on the host, at times the tests choose.
//!
//! Every node carries its [`Times`] (see [`times`]); the operations here set `modified` where
//! they change a file's bytes or a directory's entries.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::Bound;

use protocol::vfs::{
    DirEntry, ENTRY_COST, Error, Kind, MAX_IO, Metadata, Reply, Request, Response, WriteMode,
};

use crate::path;
use crate::ustar::{Entry, EntryKind, Image};

mod times;

use times::Times;

/// The writable directory's name in `/`.
const TMP: &str = "tmp";

/// Bytes of entries one `List` reply may carry: the framing around them in the payload (result
/// and variant tags, vector length, `more`) takes at most 8.
const LIST_BUDGET: usize = sdk::sys::MAX_PAYLOAD - 8;

/// Most bytes one entry's encoding takes besides its name: the name's length (2 bytes up to
/// `MAX_NAME`), the kind (1) and the size (a varint, up to 10).
const ENTRY_OVERHEAD: usize = 13;

/// A directory's entries, by name.
type Dir = BTreeMap<String, Node>;

/// A file or directory: what it holds, and its times.
struct Node {
    body: Body,
    times: Times,
}

/// What a node holds.
enum Body {
    /// A directory.
    Dir(Dir),
    /// A ramdisk file, read from the archive when asked for.
    Archived {
        /// Offset of its first byte in the archive.
        offset: u64,
        /// Length in bytes.
        size: u64,
    },
    /// A file of `/tmp`.
    Memory(Vec<u8>),
}

impl Node {
    /// A node made at `now`.
    fn new(body: Body, now: u64) -> Node {
        Node { body, times: Times::new(now) }
    }

    fn metadata(&self) -> Metadata {
        let (kind, size) = match &self.body {
            Body::Dir(entries) => (Kind::Dir, entries.len() as u64),
            Body::Archived { size, .. } => (Kind::File, *size),
            Body::Memory(bytes) => (Kind::File, bytes.len() as u64),
        };
        let Times { accessed, modified } = self.times;
        Metadata { kind, size, accessed, modified }
    }

    /// A `/tmp` file's bytes and times, to change them; an error for anything else.
    fn memory_mut(&mut self) -> Result<(&mut Vec<u8>, &mut Times), Error> {
        match self {
            Node { body: Body::Memory(bytes), times } => Ok((bytes, times)),
            Node { body: Body::Dir(_), .. } => Err(Error::IsADirectory),
            Node { body: Body::Archived { .. }, .. } => Err(Error::ReadOnly),
        }
    }
}

/// The whole name space: ramdisk files under `/`, memory files under `/tmp`.
pub struct Fs<I> {
    image: I,
    root: Node,
    /// Bytes `/tmp` holds, as counted against `capacity` (see `protocol::vfs::TMP_CAPACITY`).
    used: u64,
    capacity: u64,
}

impl<I: Image> Fs<I> {
    /// The files and directories `entries` of the archive `image`, and an empty `/tmp` that
    /// holds up to `capacity` bytes, all with the times `now`: when the server started, in
    /// nanoseconds since 1970-01-01 UTC.
    pub fn new(image: I, entries: &[Entry], capacity: u64, now: u64) -> Fs<I> {
        let mut root = Dir::new();
        root.insert(TMP.into(), Node::new(Body::Dir(Dir::new()), now));
        for entry in entries {
            add_archived(&mut root, entry, now);
        }
        Fs { image, root: Node::new(Body::Dir(root), now), used: 0, capacity }
    }

    /// Carries out `request`, which arrived at `now` (nanoseconds since 1970-01-01 UTC): the
    /// time given to what it makes or changes.
    pub fn handle(&mut self, request: Request, now: u64) -> Response {
        match request {
            Request::Read { path, offset, len } => self.read(&path, offset, len),
            Request::Write { path, mode, data } => self.write(&path, mode, &data, now),
            Request::Stat { path } => Ok(Reply::Stat(lookup(&self.root, &path::parse(&path)?)?.metadata())),
            Request::List { path, after } => self.list(&path, after.as_deref()),
            Request::Mkdir { path } => self.mkdir(&path, now),
            Request::Remove { path } => self.remove(&path, now),
            Request::Rename { from, to } => self.rename(&from, &to, now),
            Request::Truncate { path, size } => self.truncate(&path, size, now),
            Request::SetTimes { path, accessed, modified } => self.set_times(&path, accessed, modified),
        }
    }

    fn read(&self, path: &str, offset: u64, len: u32) -> Response {
        let len = len.min(MAX_IO) as usize;
        let data = match &lookup(&self.root, &path::parse(path)?)?.body {
            Body::Dir(_) => return Err(Error::IsADirectory),
            Body::Archived { offset: start, size } => {
                let mut buf = vec![0; size.saturating_sub(offset).min(len as u64) as usize];
                if !buf.is_empty() {
                    // Inside the archive (offset < size), so the sum does not overflow.
                    self.image.read_at(start + offset, &mut buf)?;
                }
                buf
            }
            Body::Memory(bytes) => {
                let skip = usize::try_from(offset).unwrap_or(usize::MAX);
                bytes.iter().skip(skip).take(len).copied().collect()
            }
        };
        Ok(Reply::Data(data))
    }

    fn write(&mut self, path: &str, mode: WriteMode, data: &[u8], now: u64) -> Response {
        let (parent, name) = tmp_path(path)?;
        let (used, capacity) = (self.used, self.capacity);
        let (dir, dir_times) = dir_mut(&mut self.root, &parent)?;
        let existing = dir.get_mut(name).map(Node::memory_mut).transpose()?;
        let old_len = existing.as_ref().map_or(0, |(bytes, _)| bytes.len() as u64);
        let len = data.len() as u64;
        let (start, new_len) = match mode {
            WriteMode::Truncate => (0, len),
            WriteMode::Append => (old_len, old_len + len),
            WriteMode::At(at) => (at, at.checked_add(len).ok_or(Error::NoSpace)?.max(old_len)),
        };
        let entry = if existing.is_none() { entry_cost(name) } else { 0 };
        let used = charge(used, capacity, old_len, new_len.saturating_add(entry))?;
        // At most the new length, which is within the capacity: it fits a usize.
        let start = usize::try_from(start).map_err(|_| Error::NoSpace)?;
        match existing {
            Some((bytes, times)) => {
                if mode == WriteMode::Truncate {
                    *bytes = copy_of(data)?;
                } else {
                    put(bytes, start, data)?;
                }
                times.modified = now;
            }
            None => {
                let mut bytes = Vec::new();
                put(&mut bytes, start, data)?;
                dir.insert(name.into(), Node::new(Body::Memory(bytes), now));
                dir_times.modified = now;
            }
        }
        self.used = used;
        Ok(Reply::Written { size: new_len })
    }

    fn list(&self, path: &str, after: Option<&str>) -> Response {
        let Body::Dir(children) = &lookup(&self.root, &path::parse(path)?)?.body else {
            return Err(Error::NotADirectory);
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut budget = LIST_BUDGET;
        let mut entries = Vec::new();
        for (name, node) in children.range::<str, _>((start, Bound::Unbounded)) {
            let Some(left) = budget.checked_sub(name.len() + ENTRY_OVERHEAD) else {
                return Ok(Reply::Entries { entries, more: true });
            };
            budget = left;
            let Metadata { kind, size, .. } = node.metadata();
            entries.push(DirEntry { name: name.clone(), kind, size });
        }
        Ok(Reply::Entries { entries, more: false })
    }

    fn mkdir(&mut self, path: &str, now: u64) -> Response {
        let (parent, name) = tmp_path(path)?;
        let (used, capacity) = (self.used, self.capacity);
        let (dir, dir_times) = dir_mut(&mut self.root, &parent)?;
        if dir.contains_key(name) {
            return Err(Error::AlreadyExists);
        }
        let used = charge(used, capacity, 0, entry_cost(name))?;
        dir.insert(name.into(), Node::new(Body::Dir(Dir::new()), now));
        dir_times.modified = now;
        self.used = used;
        Ok(Reply::Done)
    }

    fn remove(&mut self, path: &str, now: u64) -> Response {
        let (parent, name) = tmp_path(path)?;
        let (dir, dir_times) = dir_mut(&mut self.root, &parent)?;
        let contents = match dir.get(name).map(|node| &node.body) {
            None => return Err(Error::NotFound),
            Some(Body::Dir(entries)) if !entries.is_empty() => return Err(Error::NotEmpty),
            Some(Body::Dir(_)) => 0,
            Some(Body::Memory(bytes)) => bytes.len() as u64,
            Some(Body::Archived { .. }) => return Err(Error::ReadOnly),
        };
        dir.remove(name);
        dir_times.modified = now;
        self.used = self.used.saturating_sub(contents + entry_cost(name));
        Ok(Reply::Done)
    }
}

impl<I: Image> Fs<I> {
    /// Moves `from` to `to`; the node keeps its times, and both directories are modified.
    fn rename(&mut self, from: &str, to: &str, now: u64) -> Response {
        let ((from_dir, from_name), (to_dir, to_name)) = (tmp_path(from)?, tmp_path(to)?);
        let moving = lookup(&self.root, &from_dir)
            .and_then(|dir| lookup(dir, &[from_name]))
            .map(|node| matches!(node.body, Body::Dir(_)))?;
        let (from_full, to_full) =
            ([from_dir.as_slice(), &[from_name]].concat(), [to_dir.as_slice(), &[to_name]].concat());
        if from_full == to_full {
            return Ok(Reply::Done);
        }
        if moving && to_full.starts_with(&from_full) {
            return Err(Error::InvalidArgument);
        }
        // What `to` holds now, which the move replaces: checked before anything changes.
        let (to_entries, _) = dir_mut(&mut self.root, &to_dir)?;
        let replaced = match (moving, to_entries.get(to_name).map(|node| &node.body)) {
            (_, None) => 0,
            (false, Some(Body::Memory(bytes))) => bytes.len() as u64 + entry_cost(to_name),
            (false, Some(Body::Dir(_))) => return Err(Error::IsADirectory),
            (true, Some(Body::Dir(entries))) if entries.is_empty() => entry_cost(to_name),
            (true, Some(Body::Dir(_))) => return Err(Error::NotEmpty),
            (true, Some(_)) => return Err(Error::NotADirectory),
            (false, Some(Body::Archived { .. })) => return Err(Error::ReadOnly),
        };
        let freed = replaced + entry_cost(from_name);
        let used = charge(self.used, self.capacity, freed, entry_cost(to_name))?;
        let (dir, dir_times) = dir_mut(&mut self.root, &from_dir)?;
        let node = dir.remove(from_name).ok_or(Error::NotFound)?;
        dir_times.modified = now;
        // Still there: `to` is not inside what moved (checked above).
        let (dir, dir_times) = dir_mut(&mut self.root, &to_dir)?;
        dir.insert(to_name.into(), node);
        dir_times.modified = now;
        self.used = used;
        Ok(Reply::Done)
    }

    fn truncate(&mut self, path: &str, size: u64, now: u64) -> Response {
        let (parent, name) = tmp_path(path)?;
        let (used, capacity) = (self.used, self.capacity);
        let (dir, _) = dir_mut(&mut self.root, &parent)?;
        let (bytes, times) = dir.get_mut(name).ok_or(Error::NotFound)?.memory_mut()?;
        let used = charge(used, capacity, bytes.len() as u64, size)?;
        // Within the capacity, so it fits a usize.
        let new_len = usize::try_from(size).map_err(|_| Error::NoSpace)?;
        if new_len > bytes.len() {
            bytes.try_reserve(new_len - bytes.len()).map_err(|_| Error::NoSpace)?;
        }
        bytes.resize(new_len, 0);
        times.modified = now;
        self.used = used;
        Ok(Reply::Written { size })
    }
}

/// Adds an archive entry to the tree, with the directories above it. Entries that cannot be
/// placed are left out: names that are not valid paths, anything under `tmp` (the memory
/// directory's place), a path through a file, and a name already taken (the first entry wins).
/// Every node gets the times `now`.
fn add_archived(root: &mut Dir, entry: &Entry, now: u64) {
    let Ok(parts) = path::normalise(&entry.name) else { return };
    let Some((name, dirs)) = parts.split_last() else { return };
    if parts.first() == Some(&TMP) {
        return;
    }
    let mut dir = root;
    for part in dirs {
        let node = dir.entry((*part).into()).or_insert_with(|| Node::new(Body::Dir(Dir::new()), now));
        let Body::Dir(children) = &mut node.body else { return };
        dir = children;
    }
    let body = match entry.kind {
        EntryKind::File { offset, size } => Body::Archived { offset, size },
        EntryKind::Dir => Body::Dir(Dir::new()),
    };
    dir.entry((*name).into()).or_insert(Node::new(body, now));
}

/// The node `parts` leads to from `node`.
fn lookup<'a>(mut node: &'a Node, parts: &[&str]) -> Result<&'a Node, Error> {
    for part in parts {
        let Body::Dir(children) = &node.body else { return Err(Error::NotADirectory) };
        node = children.get(*part).ok_or(Error::NotFound)?;
    }
    Ok(node)
}

/// The entries of the directory `parts` leads to from `node`, to change them, and its times,
/// to mark the change.
fn dir_mut<'a>(mut node: &'a mut Node, parts: &[&str]) -> Result<(&'a mut Dir, &'a mut Times), Error> {
    for part in parts {
        let Body::Dir(children) = &mut node.body else { return Err(Error::NotADirectory) };
        node = children.get_mut(*part).ok_or(Error::NotFound)?;
    }
    match node {
        Node { body: Body::Dir(children), times } => Ok((children, times)),
        _ => Err(Error::NotADirectory),
    }
}

/// `path` as its directory's components and its own name, if it lies strictly inside `/tmp`,
/// the only place where anything changes.
fn tmp_path(path: &str) -> Result<(Vec<&str>, &str), Error> {
    let mut parts = path::parse(path)?;
    if !matches!(parts.as_slice(), [TMP, _, ..]) {
        return Err(Error::ReadOnly);
    }
    let name = parts.pop().ok_or(Error::ReadOnly)?;
    Ok((parts, name))
}

/// What an entry called `name` counts against the capacity, besides a file's contents.
fn entry_cost(name: &str) -> u64 {
    ENTRY_COST + name.len() as u64
}

/// The bytes in use after freeing `freed` and taking `taken`, if that stays within `capacity`.
fn charge(used: u64, capacity: u64, freed: u64, taken: u64) -> Result<u64, Error> {
    used.saturating_sub(freed).checked_add(taken).filter(|&total| total <= capacity).ok_or(Error::NoSpace)
}

/// `data` in a new vector, or `NoSpace` if the server's memory cannot hold it.
fn copy_of(data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(data.len()).map_err(|_| Error::NoSpace)?;
    bytes.extend_from_slice(data);
    Ok(bytes)
}

/// Writes `data` into `bytes` from `start`, zero-filling a gap after the old end; `bytes` is
/// unchanged if memory runs out.
fn put(bytes: &mut Vec<u8>, start: usize, data: &[u8]) -> Result<(), Error> {
    let end = start.checked_add(data.len()).ok_or(Error::NoSpace)?;
    if end > bytes.len() {
        bytes.try_reserve(end - bytes.len()).map_err(|_| Error::NoSpace)?;
        bytes.resize(end, 0);
    }
    if let Some(target) = bytes.get_mut(start..end) {
        target.copy_from_slice(data);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
