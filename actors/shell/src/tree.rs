//! The file commands that change the tree under `/tmp`: `mkdir`, `rm [-r]`, `mv` and
//! `cp [-r]`, as requests to the vfs (which refuses changes anywhere else). Like Unix's, they
//! print nothing when they succeed, and name the path that failed when one does.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use protocol::vfs::{Kind, MAX_IO, Metadata, Reply, Request, WriteMode};

use crate::files::{Failure, Files, absolute, report};

/// A request that failed, with the path it was about.
type Failed = (String, Failure);

impl Files {
    /// `mkdir PATH`.
    pub async fn mkdir(&self, path: &str) -> String {
        let path = absolute(path);
        match self.done(Request::Mkdir { path: path.clone() }).await {
            Ok(()) => String::new(),
            Err(failure) => report("mkdir", &path, failure),
        }
    }

    /// `rm [-r] PATH`: a file, or with `recursive` a directory and everything it holds.
    pub async fn remove(&self, path: &str, recursive: bool) -> String {
        let path = absolute(path);
        let kind = match self.kind("rm", &path, recursive, "removes").await {
            Ok(kind) => kind,
            Err(refused) => return refused,
        };
        let removed = async {
            // What a directory holds goes before it.
            for (path, _) in self.walk(&path, kind).await?.iter().rev() {
                self.done(Request::Remove { path: path.clone() }).await.map_err(|f| (path.clone(), f))?;
            }
            Ok::<(), Failed>(())
        };
        match removed.await {
            Ok(()) => String::new(),
            Err((path, failure)) => report("rm", &path, failure),
        }
    }

    /// `mv FROM TO`: into TO when it is a directory, else to TO.
    pub async fn rename(&self, from: &str, to: &str) -> String {
        let (from, to) = (absolute(from), self.target(&absolute(from), &absolute(to)).await);
        match self.done(Request::Rename { from: from.clone(), to }).await {
            Ok(()) => String::new(),
            Err(failure) => report("mv", &from, failure),
        }
    }

    /// `cp [-r] FROM TO`: a file, or with `recursive` a directory tree, into TO when it is a
    /// directory, else to TO.
    pub async fn copy(&self, from: &str, to: &str, recursive: bool) -> String {
        let from = absolute(from);
        let kind = match self.kind("cp", &from, recursive, "copies").await {
            Ok(kind) => kind,
            Err(refused) => return refused,
        };
        let to = self.target(&from, &absolute(to)).await;
        if kind == Kind::Dir && (to == from || to.starts_with(&format!("{from}/"))) {
            return format!("cp: cannot copy {from} into itself\n");
        }
        let copied = async {
            // The whole tree is listed first: what the copy adds is not copied again.
            for (path, kind) in self.walk(&from, kind).await? {
                let target = format!("{to}{}", &path[from.len()..]);
                match kind {
                    Kind::Dir => self.done(Request::Mkdir { path: target.clone() }).await,
                    Kind::File => self.copy_file(&path, &target).await,
                }
                .map_err(|f| (target, f))?;
            }
            Ok::<(), Failed>(())
        };
        match copied.await {
            Ok(()) => String::new(),
            Err((path, failure)) => report("cp", &path, failure),
        }
    }

    /// What `path` is, for `command`, which `does` a directory only when `recursive`; or what
    /// to print instead.
    async fn kind(&self, command: &str, path: &str, recursive: bool, does: &str) -> Result<Kind, String> {
        match self.stat(path).await {
            Ok(Metadata { kind: Kind::Dir, .. }) if !recursive => {
                Err(format!("{command}: {path}: is a directory ({command} -r {does} it and all it holds)\n"))
            }
            Ok(Metadata { kind, .. }) => Ok(kind),
            Err(failure) => Err(report(command, path, failure)),
        }
    }

    /// Where `mv` and `cp` put `from`: inside `to` when that is a directory.
    async fn target(&self, from: &str, to: &str) -> String {
        match self.stat(to).await {
            Ok(Metadata { kind: Kind::Dir, .. }) => join(to, from.rsplit('/').next().unwrap_or(from)),
            _ => to.into(),
        }
    }

    /// The file `from` copied to `to`, in pieces of at most `MAX_IO` bytes.
    async fn copy_file(&self, from: &str, to: &str) -> Result<(), Failure> {
        let mut offset = 0;
        loop {
            let Reply::Data(data) =
                self.call(Request::Read { path: from.into(), offset, len: MAX_IO }).await?
            else {
                return Err(Failure::Unexpected);
            };
            let (len, last) = (data.len() as u64, data.len() < MAX_IO as usize);
            // The first write makes the file, empty or not; the last may be empty.
            if offset == 0 || len > 0 {
                let mode = if offset == 0 { WriteMode::Truncate } else { WriteMode::At(offset) };
                let written = self.call(Request::Write { path: to.into(), mode, data }).await?;
                if !matches!(written, Reply::Written { .. }) {
                    return Err(Failure::Unexpected);
                }
            }
            if last {
                return Ok(());
            }
            offset += len;
        }
    }

    /// `root` (of `kind`) and everything under it, each directory before what it holds.
    async fn walk(&self, root: &str, kind: Kind) -> Result<Vec<(String, Kind)>, Failed> {
        let mut found = vec![(String::from(root), kind)];
        let mut next = 0;
        while let Some((path, kind)) = found.get(next).cloned() {
            if kind == Kind::Dir {
                let entries = self.entries(&path).await.map_err(|f| (path.clone(), f))?;
                found.extend(entries.into_iter().map(|entry| (join(&path, &entry.name), entry.kind)));
            }
            next += 1;
        }
        Ok(found)
    }

    /// What `path` is.
    async fn stat(&self, path: &str) -> Result<Metadata, Failure> {
        match self.call(Request::Stat { path: path.into() }).await? {
            Reply::Stat(metadata) => Ok(metadata),
            _ => Err(Failure::Unexpected),
        }
    }

    /// A request answered with `Done`.
    async fn done(&self, request: Request) -> Result<(), Failure> {
        match self.call(request).await? {
            Reply::Done => Ok(()),
            _ => Err(Failure::Unexpected),
        }
    }
}

/// `name` inside the directory `dir`.
fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}
