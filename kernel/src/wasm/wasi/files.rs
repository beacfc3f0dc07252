//! WASI calls on descriptors (`fd_*`): reading, writing, seeking and describing files,
//! directories and the standard streams. A file's bytes move one vfs request per call (at
//! most `protocol::vfs::MAX_IO`), so a large read or write is short and the program's libc
//! loops, as it does for any POSIX `read`/`write`: no call holds the kernel for long.

use alloc::string::String;

use protocol::vfs::{MAX_IO, Reply, Request, WriteMode};

use super::fds::{Descriptor, Object, Stream};
use super::layout::{self, FileStat, FileType};
use super::memory::Memory;
use super::process::wasi;
use super::rights::Rights;
use super::{Answer, Args, Errno, Fail, Wasi, vfs};
use crate::wasm::actor::ActorContext;
use minimalos_abi::MAX_PAYLOAD;

/// `fdflags::append`.
pub(super) const APPEND: u16 = 1;
/// `fdflags::nonblock`: taken, and changes nothing (files never wait; the streams do).
const NONBLOCK: u16 = 4;

/// `whence`: from the start, from the offset, from the end.
const SET: i32 = 0;
const CUR: i32 = 1;
const END: i32 = 2;

/// What a file call needs of descriptor `fd`: its path and offset, if it is a file with
/// `needed`. Streams are `ESPIPE` (they have no offsets), directories `EBADF`.
fn file(wasi: &Wasi, fd: i32, needed: Rights) -> Result<(String, u64, bool), Fail> {
    let fds = wasi.fds.borrow();
    let descriptor = fds.get(fd)?;
    match &descriptor.object {
        Object::File(file) => {
            descriptor.require(needed).map_err(|_| missing(needed))?;
            Ok((file.path.clone(), file.offset, descriptor.append))
        }
        Object::Stream(_) => Err(Errno::SPIPE.into()),
        Object::Dir(_) => Err(Errno::BADF.into()),
    }
}

/// The errno for a missing right: reading or writing what was not opened for it is `EBADF`,
/// as POSIX and wasmtime have it; any other right `ENOTCAPABLE`.
fn missing(needed: Rights) -> Errno {
    if needed.contains(Rights::FD_READ) || needed.contains(Rights::FD_WRITE) {
        Errno::BADF
    } else {
        Errno::NOTCAPABLE
    }
}

/// The vfs capability, which a descriptor of the vfs implies.
pub(super) fn files_of(wasi: &Wasi) -> Result<&crate::cap::Capability, Fail> {
    wasi.files.as_ref().ok_or(Fail::Errno(Errno::IO))
}

/// Moves the offset of file `fd` to `offset`.
fn set_offset(wasi: &Wasi, fd: i32, offset: u64) -> Answer {
    if let Object::File(file) = &mut wasi.fds.borrow_mut().get_mut(fd)?.object {
        file.offset = offset;
    }
    Ok(())
}

/// Reads up to what the vectors hold (and one request carries) from `path` at `offset` into
/// them; returns how many bytes came.
fn read_at(
    ctx: &ActorContext,
    memory: &mut Memory<'_, '_>,
    path: String,
    offset: u64,
    args: Args<'_>,
) -> Result<usize, Fail> {
    let wasi = wasi(ctx)?;
    let vectors = memory.iovecs(args.i32(1)?, args.i32(2)?)?;
    let wanted = vectors.iter().map(|v| v.len()).sum::<usize>().min(MAX_IO as usize);
    if wanted == 0 {
        return Ok(0);
    }
    let request = Request::Read { path, offset, len: wanted as u32 };
    let Reply::Data(bytes) = vfs::call(ctx, files_of(wasi)?, &request)? else { return Err(Errno::IO.into()) };
    memory.scatter(&vectors, &bytes[..bytes.len().min(wanted)])
}

/// Writes what the vectors hold (as much as one request carries) to `path` as `mode` says;
/// returns how many bytes went and the file's new size.
fn write_as(
    ctx: &ActorContext,
    memory: &Memory<'_, '_>,
    path: String,
    mode: WriteMode,
    args: Args<'_>,
) -> Result<(usize, u64), Fail> {
    let wasi = wasi(ctx)?;
    let vectors = memory.iovecs(args.i32(1)?, args.i32(2)?)?;
    let data = memory.gather(&vectors, MAX_IO as usize)?;
    let written = data.len();
    if written == 0 {
        return Ok((0, 0));
    }
    let Reply::Written { size } = vfs::call(ctx, files_of(wasi)?, &Request::Write { path, mode, data })?
    else {
        return Err(Errno::IO.into());
    };
    Ok((written, size))
}

pub(super) fn fd_read(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (wasi, fd) = (wasi(ctx)?, args.i32(0)?);
    let stream = wasi.fds.borrow().get(fd)?.object.stream();
    let read = match stream {
        Some(Stream::In) => {
            let vectors = memory.iovecs(args.i32(1)?, args.i32(2)?)?;
            let wanted = vectors.iter().map(|v| v.len()).sum::<usize>().min(MAX_PAYLOAD);
            let bytes = if wanted == 0 { alloc::vec::Vec::new() } else { wasi.streams.read(ctx, wanted)? };
            memory.scatter(&vectors, &bytes)?
        }
        Some(_) => return Err(Errno::BADF.into()),
        None => {
            let (path, offset, _) = file(wasi, fd, Rights::FD_READ)?;
            let read = read_at(ctx, memory, path, offset, args)?;
            set_offset(wasi, fd, offset + read as u64)?;
            read
        }
    };
    memory.put_u32(args.i32(3)?, read as u32)
}

pub(super) fn fd_pread(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (path, _, _) = file(wasi(ctx)?, args.i32(0)?, Rights::FD_READ.or(Rights::FD_SEEK))?;
    let read = read_at(ctx, memory, path, args.u64(3)?, args)?;
    memory.put_u32(args.i32(4)?, read as u32)
}

pub(super) fn fd_write(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (wasi, fd) = (wasi(ctx)?, args.i32(0)?);
    let stream = wasi.fds.borrow().get(fd)?.object.stream();
    let written = match stream {
        Some(stream @ (Stream::Out | Stream::Err)) => {
            let vectors = memory.iovecs(args.i32(1)?, args.i32(2)?)?;
            let bytes = memory.gather(&vectors, MAX_PAYLOAD)?;
            wasi.streams.write(ctx, stream, &bytes)?
        }
        Some(Stream::In) => return Err(Errno::BADF.into()),
        None => {
            let (path, offset, append) = file(wasi, fd, Rights::FD_WRITE)?;
            let mode = if append { WriteMode::Append } else { WriteMode::At(offset) };
            let (written, size) = write_as(ctx, memory, path, mode, args)?;
            let end = if append { size } else { offset + written as u64 };
            set_offset(wasi, fd, end)?;
            written
        }
    };
    memory.put_u32(args.i32(3)?, written as u32)
}

pub(super) fn fd_pwrite(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (path, _, _) = file(wasi(ctx)?, args.i32(0)?, Rights::FD_WRITE.or(Rights::FD_SEEK))?;
    let (written, _) = write_as(ctx, memory, path, WriteMode::At(args.u64(3)?), args)?;
    memory.put_u32(args.i32(4)?, written as u32)
}

/// The size of the file at `path`.
fn size_of(ctx: &ActorContext, wasi: &Wasi, path: String) -> Result<u64, Fail> {
    match vfs::call(ctx, files_of(wasi)?, &Request::Stat { path })? {
        Reply::Stat(metadata) => Ok(metadata.size),
        _ => Err(Errno::IO.into()),
    }
}

pub(super) fn fd_seek(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (wasi, fd, delta, whence) = (wasi(ctx)?, args.i32(0)?, args.i64(1)?, args.i32(2)?);
    let needed = if delta == 0 && whence == CUR { Rights::FD_TELL } else { Rights::FD_SEEK };
    let (path, offset, _) = file(wasi, fd, needed)?;
    let base = match whence {
        SET => 0,
        CUR => offset,
        END => size_of(ctx, wasi, path)?,
        _ => return Err(Errno::INVAL.into()),
    };
    let target = base.checked_add_signed(delta).filter(|&t| t <= i64::MAX as u64).ok_or(Errno::INVAL)?;
    set_offset(wasi, fd, target)?;
    memory.put_u64(args.i32(3)?, target)
}

pub(super) fn fd_tell(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (_, offset, _) = file(wasi(ctx)?, args.i32(0)?, Rights::FD_TELL)?;
    memory.put_u64(args.i32(1)?, offset)
}

pub(super) fn fd_close(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    wasi(ctx)?.fds.borrow_mut().close(args.i32(0)?)?;
    Ok(())
}

pub(super) fn fd_renumber(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    Ok(wasi(ctx)?.fds.borrow_mut().renumber(args.i32(0)?, args.i32(1)?)?)
}

/// `fd_sync`, `fd_datasync`: the vfs holds everything in memory, so a file is as stored as it
/// will be once a write returns; a stream cannot be synced (`EINVAL`, as POSIX `fsync`).
fn sync(ctx: &ActorContext, fd: i32, needed: Rights) -> Answer {
    let wasi = wasi(ctx)?;
    let fds = wasi.fds.borrow();
    let descriptor = fds.get(fd)?;
    match descriptor.object {
        Object::Stream(_) => Err(Errno::INVAL.into()),
        Object::Dir(_) => Ok(()),
        Object::File(_) => Ok(descriptor.require(needed)?),
    }
}

pub(super) fn fd_sync(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    sync(ctx, args.i32(0)?, Rights::FD_SYNC)
}

pub(super) fn fd_datasync(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    sync(ctx, args.i32(0)?, Rights::FD_DATASYNC)
}

pub(super) fn fd_advise(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    file(wasi(ctx)?, args.i32(0)?, Rights::FD_ADVISE)?;
    // normal, sequential, random, willneed, dontneed, noreuse.
    if !(0..=5).contains(&args.i32(3)?) || args.i64(1)? < 0 || args.i64(2)? < 0 {
        return Err(Errno::INVAL.into());
    }
    Ok(())
}

pub(super) fn fd_allocate(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let (path, _, _) = file(wasi, args.i32(0)?, Rights::FD_ALLOCATE)?;
    let end = args.u64(1)?.checked_add(args.u64(2)?).filter(|&e| e <= i64::MAX as u64).ok_or(Errno::INVAL)?;
    if size_of(ctx, wasi, path.clone())? < end {
        vfs::call(ctx, files_of(wasi)?, &Request::Truncate { path, size: end })?;
    }
    Ok(())
}

/// The type and stand-in inode of descriptor `descriptor`.
fn kind_of(descriptor: &Descriptor) -> FileType {
    match descriptor.object {
        Object::Stream(_) => FileType::CharacterDevice,
        Object::Dir(_) => FileType::Directory,
        Object::File(_) => FileType::RegularFile,
    }
}

pub(super) fn fd_fdstat_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let record = {
        let fds = wasi(ctx)?.fds.borrow();
        let descriptor = fds.get(args.i32(0)?)?;
        let flags = if descriptor.append { APPEND } else { 0 };
        layout::fdstat(kind_of(descriptor), flags, descriptor.base.0, descriptor.inheriting.0)
    };
    memory.write(args.i32(1)?, &record)
}

pub(super) fn fd_fdstat_set_flags(
    ctx: &ActorContext,
    _memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let flags = args.i32(1)?;
    let flags = u16::try_from(flags).map_err(|_| Errno::INVAL)?;
    if flags & !(APPEND | NONBLOCK) != 0 {
        return Err(Errno::NOTSUP.into());
    }
    let mut fds = wasi(ctx)?.fds.borrow_mut();
    let descriptor = fds.get_mut(args.i32(0)?)?;
    descriptor.require(Rights::FD_FDSTAT_SET_FLAGS)?;
    descriptor.append = flags & APPEND != 0;
    Ok(())
}

pub(super) fn fd_fdstat_set_rights(
    ctx: &ActorContext,
    _memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let (base, inheriting) = (Rights(args.u64(1)?), Rights(args.u64(2)?));
    let mut fds = wasi(ctx)?.fds.borrow_mut();
    let descriptor = fds.get_mut(args.i32(0)?)?;
    // Rights only narrow.
    if !descriptor.base.contains(base) || !descriptor.inheriting.contains(inheriting) {
        return Err(Errno::NOTCAPABLE.into());
    }
    descriptor.base = base;
    descriptor.inheriting = inheriting;
    Ok(())
}

/// The `filestat` of the vfs path `path`.
pub(super) fn stat_path(ctx: &ActorContext, wasi: &Wasi, path: &str) -> Result<FileStat, Fail> {
    match vfs::call(ctx, files_of(wasi)?, &Request::Stat { path: path.into() })? {
        Reply::Stat(metadata) => Ok(FileStat {
            ino: layout::inode(path),
            filetype: metadata.kind.into(),
            size: metadata.size,
            // The vfs keeps no status-change time: a change of contents is the last one.
            times: [metadata.accessed, metadata.modified, metadata.modified],
        }),
        _ => Err(Errno::IO.into()),
    }
}

pub(super) fn fd_filestat_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let path = {
        let fds = wasi.fds.borrow();
        let descriptor = fds.get(args.i32(0)?)?;
        descriptor.require(Rights::FD_FILESTAT_GET)?;
        descriptor.object.path().map(String::from)
    };
    let stat = match path {
        Some(path) => stat_path(ctx, wasi, &path)?,
        None => FileStat { ino: 0, filetype: FileType::CharacterDevice, size: 0, times: [0; 3] },
    };
    memory.write(args.i32(1)?, &stat.to_bytes())
}

pub(super) fn fd_filestat_set_size(
    ctx: &ActorContext,
    _memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let wasi = wasi(ctx)?;
    let (path, _, _) = file(wasi, args.i32(0)?, Rights::FD_FILESTAT_SET_SIZE)?;
    let size = u64::try_from(args.i64(1)?).map_err(|_| Errno::INVAL)?;
    vfs::call(ctx, files_of(wasi)?, &Request::Truncate { path, size })?;
    Ok(())
}

pub(super) fn fd_filestat_set_times(
    ctx: &ActorContext,
    _memory: &mut Memory<'_, '_>,
    args: Args<'_>,
) -> Answer {
    let wasi = wasi(ctx)?;
    let path = {
        let fds = wasi.fds.borrow();
        let descriptor = fds.get(args.i32(0)?)?;
        descriptor.require(Rights::FD_FILESTAT_SET_TIMES)?;
        // A stream keeps no times.
        descriptor.object.path().map(String::from).ok_or(Errno::NOTSUP)?
    };
    let (accessed, modified) = super::paths::new_times(args.u64(1)?, args.u64(2)?, args.i32(3)?)?;
    vfs::call(ctx, files_of(wasi)?, &Request::SetTimes { path, accessed, modified })?;
    Ok(())
}

pub(super) fn fd_prestat_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let record = {
        let fds = wasi(ctx)?.fds.borrow();
        match &fds.get(args.i32(0)?)?.object {
            Object::Dir(dir) => layout::prestat_dir(dir.preopen.as_ref().ok_or(Errno::BADF)?.len()),
            _ => return Err(Errno::BADF.into()),
        }
    };
    memory.write(args.i32(1)?, &record)
}

pub(super) fn fd_prestat_dir_name(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let name = {
        let fds = wasi(ctx)?.fds.borrow();
        match &fds.get(args.i32(0)?)?.object {
            Object::Dir(dir) => dir.preopen.clone().ok_or(Errno::BADF)?,
            _ => return Err(Errno::BADF.into()),
        }
    };
    let room = usize::try_from(args.i32(2)?).map_err(|_| Errno::INVAL)?;
    if room < name.len() {
        return Err(Errno::NAMETOOLONG.into());
    }
    memory.write(args.i32(1)?, name.as_bytes())
}
