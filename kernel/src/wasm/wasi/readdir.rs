//! `fd_readdir`: a directory's entries as WASI `dirent`s, `.` and `..` first (as wasmtime
//! lists them), then the vfs's entries in its order. Cookie `n` is the position of the `n`-th
//! entry; the vfs pages by name, so the descriptor remembers where the last call stopped and
//! a program reading on from there costs one request per buffer, not a walk from the start.

use alloc::string::String;
use alloc::vec::Vec;

use protocol::vfs::{DirEntry, Reply, Request};

use super::fds::Object;
use super::files::files_of;
use super::layout::{self, FileType};
use super::memory::Memory;
use super::process::wasi;
use super::rights::Rights;
use super::{Answer, Args, Errno, Fail, Wasi, vfs};
use crate::wasm::actor::ActorContext;
use crate::wasm::guest::GuestRange;

/// Entries before the vfs's own: `.` and `..`.
const DOTS: u64 = 2;

/// One page of the vfs listing of `path` after the name `after`; whether more follow.
fn page(
    ctx: &ActorContext,
    wasi: &Wasi,
    path: &str,
    after: Option<String>,
) -> Result<(Vec<DirEntry>, bool), Fail> {
    match vfs::call(ctx, files_of(wasi)?, &Request::List { path: path.into(), after })? {
        Reply::Entries { entries, more } => Ok((entries, more)),
        _ => Err(Errno::IO.into()),
    }
}

pub(super) fn fd_readdir(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (wasi, fd) = (wasi(ctx)?, args.i32(0)?);
    let (buf, room, cookie, used_at) = (args.i32(1)?, args.i32(2)?, args.u64(3)?, args.i32(4)?);
    let buffer = memory.range(buf, room as u32 as usize)?;
    let (path, mut resume) = {
        let fds = wasi.fds.borrow();
        let descriptor = fds.get(fd)?;
        let dir = descriptor.dir(Rights::FD_READDIR)?;
        (dir.path.clone(), dir.read_up_to.clone().filter(|(at, _)| *at == cookie))
    };
    // Entries go straight into the program's buffer, so a large one costs the kernel nothing.
    let mut out = Entries { memory, buffer, used: 0 };
    let mut position = cookie;
    let mut last_whole = None;
    for (at, name) in [(0, "."), (1, "..")] {
        if position == at && !out.full() {
            out.push(at + 1, layout::inode(&path) + at, name, FileType::Directory)?;
            position += 1;
        }
    }
    if position >= DOTS && !out.full() {
        // Where the vfs's listing picks up: after the remembered name, or found by paging.
        let mut after = match resume.take() {
            Some((_, name)) => Some(name),
            None => skip_to(ctx, wasi, &path, position - DOTS)?,
        };
        'pages: loop {
            let (entries, more) = page(ctx, wasi, &path, after.clone())?;
            for entry in entries {
                if out.full() {
                    break 'pages;
                }
                let entry_path = alloc::format!("{}/{}", path.trim_end_matches('/'), entry.name);
                let whole =
                    out.push(position + 1, layout::inode(&entry_path), &entry.name, entry.kind.into())?;
                position += 1;
                if whole {
                    last_whole = Some((position, entry.name.clone()));
                }
                after = Some(entry.name);
            }
            if !more {
                break;
            }
        }
    }
    let used = out.used;
    if let Some(stop) = last_whole
        && let Ok(descriptor) = wasi.fds.borrow_mut().get_mut(fd)
        && let Object::Dir(dir) = &mut descriptor.object
    {
        dir.read_up_to = Some(stop);
    }
    memory.put_u32(used_at, used as u32)
}

/// The program's `fd_readdir` buffer, filled entry by entry.
struct Entries<'m, 'g, 'c> {
    memory: &'m mut Memory<'g, 'c>,
    buffer: GuestRange,
    used: usize,
}

impl Entries<'_, '_, '_> {
    fn full(&self) -> bool {
        self.used >= self.buffer.len()
    }

    /// Writes a `dirent` and its name, or as much of them as fits (a buffer too small for the
    /// last entry gets its start: the program sees it is full); whether all of it fitted.
    fn push(&mut self, next: u64, ino: u64, name: &str, filetype: FileType) -> Result<bool, Fail> {
        let mut entry = layout::dirent(next, ino, name.len(), filetype).to_vec();
        entry.extend_from_slice(name.as_bytes());
        let (_, room) = self.buffer.split_at(self.used);
        self.memory.write_range(room, &entry)?;
        let fits = entry.len() <= room.len();
        self.used += entry.len().min(room.len());
        Ok(fits)
    }
}

/// The name of the vfs entry before position `skip` of `path`'s listing (`None` at 0), found
/// by paging from the start.
fn skip_to(ctx: &ActorContext, wasi: &Wasi, path: &str, skip: u64) -> Result<Option<String>, Fail> {
    let (mut after, mut seen) = (None, 0u64);
    while seen < skip {
        let (entries, more) = page(ctx, wasi, path, after.clone())?;
        let take = (skip - seen).min(entries.len() as u64) as usize;
        if take == 0 {
            break;
        }
        seen += take as u64;
        after = entries.into_iter().nth(take - 1).map(|e| e.name);
        if !more {
            break;
        }
    }
    Ok(after)
}
