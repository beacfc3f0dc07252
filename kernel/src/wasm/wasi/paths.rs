//! WASI calls on paths (`path_*`): each names a path relative to a directory descriptor,
//! resolved inside that descriptor's preopened directory (`path`), then asks the vfs.

use protocol::vfs::{Kind, Reply, Request, WriteMode};

use super::fds::{Descriptor, Dir, File, Object};
use super::files::{APPEND, files_of, stat_path};
use super::memory::Memory;
use super::path::{self, Resolved};
use super::process::wasi;
use super::rights::Rights;
use super::{Answer, Args, Errno, Fail, Wasi, fds, vfs};
use crate::wasm::actor::ActorContext;

/// `oflags`: create, must be a directory, must not exist, truncate.
const CREAT: i32 = 1;
const DIRECTORY: i32 = 2;
const EXCL: i32 = 4;
const TRUNC: i32 = 8;

/// `fstflags`: set the access time, to now; the modification time, to now.
const ATIM: i32 = 1;
const ATIM_NOW: i32 = 2;
const MTIM: i32 = 4;
const MTIM_NOW: i32 = 8;

/// Most path bytes copied out of a program: anything longer cannot resolve.
const MAX_PATH_ARG: usize = 4 * protocol::vfs::MAX_PATH;

/// A resolved path and what its directory descriptor allows.
struct At {
    resolved: Resolved,
    /// The preopened directory it lies in.
    root: alloc::string::String,
    /// The directory's rights for what is opened through it, and whether it may be changed.
    inheriting: Rights,
    writable: bool,
}

/// Resolves the path argument at `ptr`/`len` against directory descriptor `fd`, which needs
/// `needed`.
fn resolve(
    wasi: &Wasi,
    memory: &Memory<'_, '_>,
    fd: i32,
    ptr: i32,
    len: i32,
    needed: Rights,
) -> Result<At, Fail> {
    let fds = wasi.fds.borrow();
    let descriptor = fds.get(fd)?;
    let dir = descriptor.dir(needed)?;
    let len = len as u32 as usize;
    if len > MAX_PATH_ARG {
        memory.range(ptr, len)?;
        return Err(Errno::NAMETOOLONG.into());
    }
    let bytes = memory.read(ptr, len)?;
    let resolved = path::resolve(&dir.root, &dir.path, &bytes)?;
    let writable = descriptor.base.contains(Rights::PATH_CREATE_FILE);
    Ok(At { resolved, root: dir.root.clone(), inheriting: descriptor.inheriting, writable })
}

/// What is at `path`: its kind, or `None` if nothing is.
fn kind_at(ctx: &ActorContext, wasi: &Wasi, path: &str) -> Result<Option<Kind>, Fail> {
    match vfs::call(ctx, files_of(wasi)?, &Request::Stat { path: path.into() }) {
        Ok(Reply::Stat(metadata)) => Ok(Some(metadata.kind)),
        Ok(_) => Err(Errno::IO.into()),
        Err(Fail::Errno(Errno::NOENT)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Sends `request`, whose answer is only success or failure.
fn change(ctx: &ActorContext, wasi: &Wasi, request: Request) -> Answer {
    vfs::call(ctx, files_of(wasi)?, &request).map(drop)
}

pub(super) fn path_open(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let (fd, oflags, fdflags, opened_at) = (args.i32(0)?, args.i32(4)?, args.i32(7)?, args.i32(8)?);
    let (want, want_inheriting) = (Rights(args.u64(5)?), Rights(args.u64(6)?));
    if oflags & !(CREAT | DIRECTORY | EXCL | TRUNC) != 0 || fdflags & !0x1f != 0 {
        return Err(Errno::INVAL.into());
    }
    // Where the new descriptor's number goes is checked before anything changes.
    memory.range(opened_at, 4)?;
    let mut needed = Rights::PATH_OPEN;
    if oflags & CREAT != 0 {
        needed = needed.or(Rights::PATH_CREATE_FILE);
    }
    if oflags & TRUNC != 0 {
        needed = needed.or(Rights::PATH_FILESTAT_SET_SIZE);
    }
    let writes = oflags & (CREAT | TRUNC) != 0
        || want.and(Rights::FD_WRITE.or(Rights::FD_ALLOCATE).or(Rights::FD_FILESTAT_SET_SIZE))
            != Rights::NONE;
    let at = {
        // A read-only directory refuses anything that would write, as wasmtime does: `EPERM`.
        let at = resolve(wasi, memory, fd, args.i32(2)?, args.i32(3)?, Rights::PATH_OPEN)?;
        if writes && !at.writable {
            return Err(Errno::PERM.into());
        }
        wasi.fds.borrow().get(fd)?.require(needed)?;
        at
    };
    let At { resolved, root, inheriting, .. } = at;
    let object = match kind_at(ctx, wasi, &resolved.path)? {
        Some(Kind::Dir) => {
            if writes {
                return Err(Errno::ISDIR.into());
            }
            if oflags & (CREAT | EXCL) == CREAT | EXCL {
                return Err(Errno::EXIST.into());
            }
            Object::Dir(Dir { root, path: resolved.path, preopen: None, read_up_to: None })
        }
        Some(Kind::File) => {
            if oflags & DIRECTORY != 0 || resolved.trailing_slash {
                return Err(Errno::NOTDIR.into());
            }
            if oflags & (CREAT | EXCL) == CREAT | EXCL {
                return Err(Errno::EXIST.into());
            }
            if oflags & TRUNC != 0 {
                change(ctx, wasi, Request::Truncate { path: resolved.path.clone(), size: 0 })?;
            }
            Object::File(File { path: resolved.path, offset: 0 })
        }
        None if oflags & CREAT == 0 => return Err(Errno::NOENT.into()),
        None if oflags & DIRECTORY != 0 => return Err(Errno::INVAL.into()),
        None if resolved.trailing_slash => return Err(Errno::ISDIR.into()),
        None => {
            let create = Request::Write {
                path: resolved.path.clone(),
                mode: WriteMode::Append,
                data: alloc::vec::Vec::new(),
            };
            change(ctx, wasi, create)?;
            Object::File(File { path: resolved.path, offset: 0 })
        }
    };
    let kind_rights = match object {
        Object::Dir(_) => Rights::DIR_READ.or(Rights::DIR_WRITE),
        _ => Rights::FILE_READ.or(Rights::FILE_WRITE),
    };
    let charge = ctx.process.account().charge(fds::cost(object.path().unwrap_or(""))).map_err(Errno::from)?;
    let mut descriptor =
        Descriptor::new(object, want.and(inheriting).and(kind_rights), want_inheriting.and(inheriting));
    descriptor.append = fdflags as u16 & APPEND != 0;
    descriptor.charge = Some(charge);
    let new = wasi.fds.borrow_mut().insert(descriptor)?;
    memory.put_u32(opened_at, new)
}

pub(super) fn path_create_directory(
    ctx: &ActorContext,
    memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let wasi = wasi(ctx)?;
    let at = resolve(wasi, memory, args.i32(0)?, args.i32(1)?, args.i32(2)?, Rights::PATH_CREATE_DIRECTORY)?;
    if at.resolved.is_root {
        return Err(Errno::EXIST.into());
    }
    change(ctx, wasi, Request::Mkdir { path: at.resolved.path })
}

pub(super) fn path_remove_directory(
    ctx: &ActorContext,
    memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let wasi = wasi(ctx)?;
    let at = resolve(wasi, memory, args.i32(0)?, args.i32(1)?, args.i32(2)?, Rights::PATH_REMOVE_DIRECTORY)?;
    if at.resolved.is_root {
        return Err(Errno::BUSY.into());
    }
    match kind_at(ctx, wasi, &at.resolved.path)? {
        None => Err(Errno::NOENT.into()),
        Some(Kind::File) => Err(Errno::NOTDIR.into()),
        Some(Kind::Dir) => change(ctx, wasi, Request::Remove { path: at.resolved.path }),
    }
}

pub(super) fn path_unlink_file(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let at = resolve(wasi, memory, args.i32(0)?, args.i32(1)?, args.i32(2)?, Rights::PATH_UNLINK_FILE)?;
    match kind_at(ctx, wasi, &at.resolved.path)? {
        None => Err(Errno::NOENT.into()),
        Some(Kind::Dir) => Err(Errno::ISDIR.into()),
        Some(Kind::File) if at.resolved.trailing_slash => Err(Errno::NOTDIR.into()),
        Some(Kind::File) => change(ctx, wasi, Request::Remove { path: at.resolved.path }),
    }
}

pub(super) fn path_rename(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let from = resolve(wasi, memory, args.i32(0)?, args.i32(1)?, args.i32(2)?, Rights::PATH_RENAME_SOURCE)?;
    let to = resolve(wasi, memory, args.i32(3)?, args.i32(4)?, args.i32(5)?, Rights::PATH_RENAME_TARGET)?;
    if from.resolved.is_root || to.resolved.is_root {
        return Err(Errno::BUSY.into());
    }
    let slash = from.resolved.trailing_slash || to.resolved.trailing_slash;
    if slash && kind_at(ctx, wasi, &from.resolved.path)? == Some(Kind::File) {
        return Err(Errno::NOTDIR.into());
    }
    change(ctx, wasi, Request::Rename { from: from.resolved.path, to: to.resolved.path })
}

pub(super) fn path_filestat_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let at = resolve(wasi, memory, args.i32(0)?, args.i32(2)?, args.i32(3)?, Rights::PATH_FILESTAT_GET)?;
    let stat = stat_path(ctx, wasi, &at.resolved.path)?;
    if at.resolved.trailing_slash && stat.filetype != super::layout::FileType::Directory {
        return Err(Errno::NOTDIR.into());
    }
    memory.write(args.i32(4)?, &stat.to_bytes())
}

/// The access and modification times `fstflags` ask to set (`None`: left alone), from `atim`,
/// `mtim` or now; `EINVAL` for unknown bits or a time and "now" for the same time.
pub(super) fn new_times(atim: u64, mtim: u64, flags: i32) -> Result<(Option<u64>, Option<u64>), Errno> {
    let both = |a, b| flags & a != 0 && flags & b != 0;
    if flags & !(ATIM | ATIM_NOW | MTIM | MTIM_NOW) != 0 || both(ATIM, ATIM_NOW) || both(MTIM, MTIM_NOW) {
        return Err(Errno::INVAL);
    }
    let now = crate::time::wall::now_ns();
    let pick = |given, to_now, time| {
        if flags & given != 0 { Some(time) } else { (flags & to_now != 0).then_some(now) }
    };
    Ok((pick(ATIM, ATIM_NOW, atim), pick(MTIM, MTIM_NOW, mtim)))
}

pub(super) fn path_filestat_set_times(
    ctx: &ActorContext,
    memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let wasi = wasi(ctx)?;
    let at =
        resolve(wasi, memory, args.i32(0)?, args.i32(2)?, args.i32(3)?, Rights::PATH_FILESTAT_SET_TIMES)?;
    let (accessed, modified) = new_times(args.u64(4)?, args.u64(5)?, args.i32(6)?)?;
    change(ctx, wasi, Request::SetTimes { path: at.resolved.path, accessed, modified })
}

pub(super) fn path_readlink(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let at = resolve(wasi, memory, args.i32(0)?, args.i32(1)?, args.i32(2)?, Rights::PATH_READLINK)?;
    // Nothing in the vfs is a link: what exists is not one (`EINVAL`, as POSIX `readlink`).
    stat_path(ctx, wasi, &at.resolved.path)?;
    Err(Errno::INVAL.into())
}

pub(super) fn path_link(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    resolve(wasi, memory, args.i32(0)?, args.i32(2)?, args.i32(3)?, Rights::PATH_LINK_SOURCE)?;
    resolve(wasi, memory, args.i32(4)?, args.i32(5)?, args.i32(6)?, Rights::PATH_LINK_TARGET)?;
    Err(Errno::NOTSUP.into())
}

pub(super) fn path_symlink(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    resolve(wasi, memory, args.i32(2)?, args.i32(3)?, args.i32(4)?, Rights::PATH_SYMLINK)?;
    Err(Errno::NOTSUP.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_flags_say_which_times_to_set_and_from_what() {
        assert_eq!(new_times(5, 6, ATIM | MTIM), Ok((Some(5), Some(6))));
        assert_eq!(new_times(5, 6, 0), Ok((None, None)));
        assert_eq!(new_times(5, 6, MTIM), Ok((None, Some(6))));
        assert!(matches!(new_times(5, 6, ATIM_NOW), Ok((Some(_), None))));
        for bad in [ATIM | ATIM_NOW, MTIM | MTIM_NOW, 16, -1] {
            assert_eq!(new_times(5, 6, bad), Err(Errno::INVAL), "{bad}");
        }
    }
}
