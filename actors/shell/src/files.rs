//! [`Files`]: the file commands (`ls`, `cat`, `write`; and in `tree` those that change the
//! tree: `mkdir`, `rm`, `mv`, `cp`) as requests to the vfs actor, in its protocol
//! (`protocol::vfs`), and their answers as text.
//!
//! The vfs takes absolute paths; a path typed without a leading `/` is taken from `/`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use protocol::vfs::{DirEntry, Error, Kind, MAX_IO, Reply, Request, WriteMode};
use sdk::{Capability, Endpoint, Rights};

/// Answer of the file commands when there is no vfs to ask.
pub const NO_VFS: &str = "vfs is not available\n";

/// Most bytes `cat` prints of one file; the rest is left out, and it says so.
pub const CAT_MAX: u64 = 64 * 1024;

/// A client of the vfs actor.
#[derive(Debug)]
pub struct Files {
    vfs: Endpoint,
}

/// Why a request got no reply of the kind it asks for.
pub(crate) enum Failure {
    /// The vfs answered with a file-system error.
    Fs(Error),
    /// The request or its reply did not get through.
    Ipc(sdk::Error),
    /// The vfs answered with another kind of reply than the request asks for.
    Unexpected,
}

impl Files {
    /// A client sending its requests to `vfs`, the `vfs.req` endpoint.
    pub const fn new(vfs: Endpoint) -> Files {
        Files { vfs }
    }

    /// A capability on the vfs endpoint for a program the shell starts (WRITE and GRANT; the
    /// shell needs GRANT on its own to make one).
    pub fn capability(&self) -> Result<Capability, sdk::Error> {
        self.vfs.capability(Rights::WRITE | Rights::GRANT)
    }

    /// `ls PATH`: every entry of the directory, a line each.
    pub async fn list(&self, path: &str) -> String {
        let path = absolute(path);
        match self.entries(&path).await {
            Ok(entries) => listing(&entries),
            Err(failure) => report("ls", &path, failure),
        }
    }

    /// Every entry of the directory `path`, asked for page by page.
    pub(crate) async fn entries(&self, path: &str) -> Result<Vec<DirEntry>, Failure> {
        let mut entries: Vec<DirEntry> = Vec::new();
        loop {
            let after = entries.last().map(|entry| entry.name.clone());
            match self.call(Request::List { path: path.into(), after }).await? {
                Reply::Entries { entries: page, more } => {
                    // An empty page that claims more would never end.
                    let done = !more || page.is_empty();
                    entries.extend(page);
                    if done {
                        return Ok(entries);
                    }
                }
                _ => return Err(Failure::Unexpected),
            }
        }
    }

    /// `cat FILE`: the file's text, up to [`CAT_MAX`] bytes.
    pub async fn cat(&self, path: &str) -> String {
        let path = absolute(path);
        let mut contents: Vec<u8> = Vec::new();
        let cut = loop {
            let offset = contents.len() as u64;
            if offset >= CAT_MAX {
                break true;
            }
            let len = MAX_IO.min((CAT_MAX - offset) as u32);
            match self.call(Request::Read { path: path.clone(), offset, len }).await {
                Ok(Reply::Data(bytes)) => {
                    let end = bytes.len() < len as usize;
                    contents.extend(bytes);
                    if end {
                        break false;
                    }
                }
                Ok(_) => return report("cat", &path, Failure::Unexpected),
                Err(failure) => return report("cat", &path, failure),
            }
        };
        text_of(&path, &contents, cut)
    }

    /// `write FILE TEXT`: the file becomes TEXT and a line break.
    pub async fn write(&self, path: &str, text: &str) -> String {
        let path = absolute(path);
        let mut data = Vec::from(text.as_bytes());
        data.push(b'\n');
        let request = Request::Write { path: path.clone(), mode: WriteMode::Truncate, data };
        match self.call(request).await {
            Ok(Reply::Written { size }) => format!("wrote {size} bytes to {path}\n"),
            Ok(_) => report("write", &path, Failure::Unexpected),
            Err(failure) => report("write", &path, failure),
        }
    }

    pub(crate) async fn call(&self, request: Request) -> Result<Reply, Failure> {
        match self.vfs.call::<Request, protocol::vfs::Response>(&request).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(Failure::Fs(error)),
            Err(error) => Err(Failure::Ipc(error)),
        }
    }
}

/// `path` as the vfs takes it: absolute.
pub(crate) fn absolute(path: &str) -> String {
    if path.starts_with('/') { path.into() } else { format!("/{path}") }
}

/// The line saying `command` on `path` failed.
pub(crate) fn report(command: &str, path: &str, failure: Failure) -> String {
    match failure {
        Failure::Fs(error) => format!("{command}: {path}: {error}\n"),
        // No reader is left on the endpoint: the vfs has ended.
        Failure::Ipc(sdk::Error::Closed) => NO_VFS.into(),
        Failure::Ipc(error) => format!("{command}: vfs: {error}\n"),
        Failure::Unexpected => format!("{command}: vfs: unexpected answer\n"),
    }
}

/// A directory listing: kind, size (a directory's is its number of entries) and name.
fn listing(entries: &[DirEntry]) -> String {
    if entries.is_empty() {
        return String::from("(empty)\n");
    }
    let mut text = String::new();
    for entry in entries {
        let (kind, slash) = match entry.kind {
            Kind::File => ("file", ""),
            Kind::Dir => ("dir", "/"),
        };
        // Writing to a String cannot fail.
        let _ = writeln!(text, "{kind:<4}  {:>8}  {}{slash}", entry.size, entry.name);
    }
    text
}

/// What `cat` prints for `contents` of `path`: the text, ending with a line break, or why not.
fn text_of(path: &str, contents: &[u8], cut: bool) -> String {
    // Control bytes other than line breaks and tabs would drive the terminal, not show text.
    let printable = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    let text = match core::str::from_utf8(contents) {
        Ok(text) if text.chars().all(printable) => text,
        _ => return format!("cat: {path}: not text\n"),
    };
    let mut shown = String::from(text);
    if !shown.is_empty() && !shown.ends_with('\n') {
        shown.push('\n');
    }
    if cut {
        let _ = writeln!(shown, "[cat: {path}: only the first {CAT_MAX} bytes are shown]");
    }
    shown
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;
    use alloc::vec;

    use protocol::vfs::Response;
    use sdk::rt::{block_on, spawn};
    use sdk::{Mailbox, Rights, msg};
    use sdk_host::Kernel;

    use super::*;

    /// Files of the test's vfs: `/notes` (short text), `/big` (longer than [`CAT_MAX`]),
    /// `/blob` (binary), and `/tmp`, writable.
    fn files() -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert("/notes".into(), b"one\ntwo".to_vec());
        files.insert("/big".into(), vec![b'x'; CAT_MAX as usize + 5000]);
        files.insert("/blob".into(), b"\0asm\x01\0\0\0".to_vec());
        files
    }

    /// A vfs that answers a page of at most two entries, so listings take several requests.
    fn answer(files: &mut BTreeMap<String, Vec<u8>>, request: Request) -> protocol::vfs::Response {
        match request {
            Request::Read { path, offset, len } => {
                let file = files.get(&path).ok_or(Error::NotFound)?;
                let start = (offset as usize).min(file.len());
                let end = (start + len.min(MAX_IO) as usize).min(file.len());
                Ok(Reply::Data(file[start..end].to_vec()))
            }
            Request::Write { path, mode: WriteMode::Truncate, data } if path.starts_with("/tmp/") => {
                let size = data.len() as u64;
                files.insert(path, data);
                Ok(Reply::Written { size })
            }
            Request::Write { .. } => Err(Error::ReadOnly),
            Request::List { path, after } if path == "/" => {
                let names = files.keys().filter(|name| after.as_ref().is_none_or(|after| &name[1..] > after));
                let page: Vec<DirEntry> = names
                    .take(2)
                    .map(|name| DirEntry {
                        name: name[1..].into(),
                        kind: Kind::File,
                        size: files[name].len() as u64,
                    })
                    .collect();
                let more = page.last().is_some_and(|last| files.keys().any(|name| name[1..] > *last.name));
                Ok(Reply::Entries { entries: page, more })
            }
            Request::List { .. } => Err(Error::NotADirectory),
            Request::Stat { .. } => Ok(Reply::Done),
            Request::Mkdir { .. }
            | Request::Remove { .. }
            | Request::Rename { .. }
            | Request::Truncate { .. }
            | Request::SetTimes { .. } => Err(Error::ReadOnly),
        }
    }

    /// Runs `client` on a fresh kernel against a vfs served by [`answer`] in a task of the
    /// same actor; returns what it returned.
    fn with_vfs<F: Future<Output = String> + 'static>(client: impl FnOnce(Files) -> F) -> String {
        let _kernel = Kernel::start();
        block_on(async move {
            let requests = Endpoint::create(8).unwrap();
            let vfs = Files::new(requests.derive(Rights::WRITE).unwrap());
            spawn(async move {
                let mut files = files();
                let requests: Mailbox<Request, Response> = Mailbox::new(requests);
                while let Ok(Some(request)) = requests.next().await {
                    let response = answer(&mut files, request.body.clone());
                    request.reply(&response);
                }
            });
            client(vfs).await
        })
    }

    #[test]
    fn ls_lists_every_page() {
        let shown = with_vfs(|vfs| async move { vfs.list("/").await });
        assert_eq!(shown, "file     70536  big\nfile         8  blob\nfile         7  notes\n");
    }

    #[test]
    fn cat_prints_text_and_refuses_binary() {
        assert_eq!(with_vfs(|vfs| async move { vfs.cat("notes").await }), "one\ntwo\n");
        assert_eq!(with_vfs(|vfs| async move { vfs.cat("/blob").await }), "cat: /blob: not text\n");
        assert_eq!(
            with_vfs(|vfs| async move { vfs.cat("/nope").await }),
            "cat: /nope: no such file or directory\n"
        );
    }

    #[test]
    fn cat_stops_at_its_limit_and_says_so() {
        let shown = with_vfs(|vfs| async move { vfs.cat("/big").await });
        assert!(shown.starts_with("xxxx"));
        assert!(
            shown.ends_with("\n[cat: /big: only the first 65536 bytes are shown]\n"),
            "{}",
            &shown[65000..]
        );
        assert_eq!(shown.matches('x').count(), CAT_MAX as usize);
    }

    #[test]
    fn write_then_cat_reads_it_back() {
        let shown = with_vfs(|vfs| async move {
            let wrote = vfs.write("/tmp/a.txt", "hello  there").await;
            wrote + &vfs.cat("/tmp/a.txt").await + &vfs.write("/notes", "x").await
        });
        assert_eq!(
            shown,
            "wrote 13 bytes to /tmp/a.txt\nhello  there\nwrite: /notes: read-only file system\n"
        );
    }

    #[test]
    fn errors_become_lines() {
        assert_eq!(with_vfs(|vfs| async move { vfs.list("/notes").await }), "ls: /notes: not a directory\n");
        assert_eq!(listing(&[]), "(empty)\n");
        let dir = DirEntry { name: "test".into(), kind: Kind::Dir, size: 3 };
        assert_eq!(listing(&[dir]), "dir          3  test/\n");
    }

    #[test]
    fn a_vfs_that_is_gone_is_not_available() {
        let _kernel = Kernel::start();
        let gone = Files::new(Endpoint::create(1).unwrap().derive(Rights::WRITE).unwrap());
        assert_eq!(block_on(gone.list("/")), NO_VFS);
    }

    #[test]
    fn a_vfs_that_answers_nonsense_is_reported() {
        let _kernel = Kernel::start();
        let shown = block_on(async {
            let requests = Endpoint::create(8).unwrap();
            let vfs = Files::new(requests.derive(Rights::WRITE).unwrap());
            spawn(async move {
                let requests: Mailbox<Request, Response> = Mailbox::new(requests);
                while let Ok(Some(request)) = requests.next().await {
                    request.reply(&Ok(Reply::Done));
                }
            });
            let garbled = Endpoint::create(8).unwrap();
            let to_garbled = Files::new(garbled.derive(Rights::WRITE).unwrap());
            spawn(async move {
                while let Ok(message) = garbled.recv().await {
                    let reply = Endpoint::from(message.cap.unwrap());
                    let _ = reply.try_send(msg::REPLY, b"\xff\xff", None);
                }
            });
            vfs.cat("/x").await + &to_garbled.write("/tmp/x", "y").await
        });
        assert_eq!(shown, "cat: vfs: unexpected answer\nwrite: vfs: malformed payload\n");
    }
}
