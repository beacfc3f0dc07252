//! A WASI program's descriptor table: numbers 0, 1, 2 for the standard streams, then its
//! preopened directories, then what it opens, each at the lowest free number. A descriptor of
//! the vfs is a path (the vfs keeps no open files, `protocol::vfs`) with an offset and rights.

use alloc::string::String;
use alloc::vec::Vec;

use super::errno::Errno;
use super::rights::Rights;
use crate::mem::kmem::Charge;

/// Most descriptors a program may have open at once, standard streams and preopens included.
pub const MAX_FDS: usize = 128;

/// The standard stream a descriptor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard input (0).
    In,
    /// Standard output (1).
    Out,
    /// Standard error (2).
    Err,
}

/// A directory of the vfs.
#[derive(Debug)]
pub struct Dir {
    /// The preopened directory it lies in, as a vfs path: paths through it stay below.
    pub root: String,
    /// Its own vfs path, at or below `root`.
    pub path: String,
    /// The name the program knows it by, if it is a preopen (`fd_prestat_dir_name`).
    pub preopen: Option<String>,
    /// Where the last `fd_readdir` stopped: its cookie and the name of the entry before it, so
    /// reading on from there asks the vfs for the next entries instead of starting over.
    pub read_up_to: Option<(u64, String)>,
}

/// A file of the vfs.
#[derive(Debug)]
pub struct File {
    /// Its vfs path.
    pub path: String,
    /// Where the next read or write starts.
    pub offset: u64,
}

/// What a descriptor refers to.
#[derive(Debug)]
pub enum Object {
    /// A standard stream.
    Stream(Stream),
    /// A directory.
    Dir(Dir),
    /// A file.
    File(File),
}

impl Object {
    /// The vfs path of a file or directory; `None` for a stream.
    pub fn path(&self) -> Option<&str> {
        match self {
            Object::File(file) => Some(&file.path),
            Object::Dir(dir) => Some(&dir.path),
            Object::Stream(_) => None,
        }
    }

    /// The standard stream it is, if it is one.
    pub fn stream(&self) -> Option<Stream> {
        match self {
            Object::Stream(stream) => Some(*stream),
            _ => None,
        }
    }
}

/// One open descriptor.
#[derive(Debug)]
pub struct Descriptor {
    /// What it refers to.
    pub object: Object,
    /// The rights its calls need.
    pub base: Rights,
    /// The rights descriptors opened through it may have.
    pub inheriting: Rights,
    /// Writes go to the end of the file (`fdflags::append`).
    pub append: bool,
    /// What it costs its program's account while it is open.
    pub charge: Option<Charge>,
}

impl Descriptor {
    /// A descriptor for `object` with `base` and `inheriting` rights, not appending.
    pub fn new(object: Object, base: Rights, inheriting: Rights) -> Self {
        Self { object, base, inheriting, append: false, charge: None }
    }

    /// Its base rights, if they hold `needed`; else `ENOTCAPABLE`.
    pub fn require(&self, needed: Rights) -> Result<(), Errno> {
        if self.base.contains(needed) { Ok(()) } else { Err(Errno::NOTCAPABLE) }
    }

    /// It as a directory (needing `needed`): `ENOTDIR` if it is not one.
    pub fn dir(&self, needed: Rights) -> Result<&Dir, Errno> {
        match &self.object {
            Object::Dir(dir) => self.require(needed).map(|()| dir),
            _ => Err(Errno::NOTDIR),
        }
    }
}

/// Kernel memory a descriptor holding `path` takes, as its account is charged.
pub fn cost(path: &str) -> u64 {
    (core::mem::size_of::<Option<Descriptor>>() + 2 * path.len()) as u64
}

/// The descriptors of one program.
#[derive(Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<Descriptor>>,
}

impl FdTable {
    /// Puts `descriptor` at the lowest free number and returns it; `EMFILE` if all
    /// [`MAX_FDS`] are taken.
    pub fn insert(&mut self, descriptor: Descriptor) -> Result<u32, Errno> {
        let free = self.slots.iter().position(Option::is_none);
        let fd = match free {
            Some(fd) => fd,
            None if self.slots.len() < MAX_FDS => {
                self.slots.try_reserve(1).map_err(|_| Errno::NOMEM)?;
                self.slots.push(None);
                self.slots.len() - 1
            }
            None => return Err(Errno::MFILE),
        };
        self.slots[fd] = Some(descriptor);
        Ok(fd as u32)
    }

    /// The descriptor `fd`: `EBADF` if none is open under that number.
    pub fn get(&self, fd: i32) -> Result<&Descriptor, Errno> {
        usize::try_from(fd).ok().and_then(|fd| self.slots.get(fd)?.as_ref()).ok_or(Errno::BADF)
    }

    /// As [`get`](Self::get), to change it.
    pub fn get_mut(&mut self, fd: i32) -> Result<&mut Descriptor, Errno> {
        usize::try_from(fd).ok().and_then(|fd| self.slots.get_mut(fd)?.as_mut()).ok_or(Errno::BADF)
    }

    /// Closes `fd` and returns what it was.
    pub fn close(&mut self, fd: i32) -> Result<Descriptor, Errno> {
        self.get(fd)?;
        let closed = self.slots[fd as usize].take().ok_or(Errno::BADF);
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        closed
    }

    /// Moves descriptor `from` to number `to`, closing what was there; both must be open, as
    /// wasmtime has it.
    pub fn renumber(&mut self, from: i32, to: i32) -> Result<(), Errno> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let moved = self.close(from)?;
            self.slots[to as usize] = Some(moved);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Descriptor {
        Descriptor::new(Object::File(File { path: path.into(), offset: 0 }), Rights::FILE_READ, Rights::NONE)
    }

    fn path_of(table: &FdTable, fd: i32) -> Option<&str> {
        match &table.get(fd).ok()?.object {
            Object::File(file) => Some(&file.path),
            _ => None,
        }
    }

    #[test]
    fn descriptors_take_the_lowest_free_number() {
        let mut table = FdTable::default();
        assert_eq!(table.insert(file("/a")), Ok(0));
        assert_eq!(table.insert(file("/b")), Ok(1));
        assert_eq!(table.insert(file("/c")), Ok(2));
        assert!(table.close(1).is_ok());
        assert_eq!(table.get(1).err(), Some(Errno::BADF));
        assert_eq!(table.insert(file("/d")), Ok(1));
        assert_eq!(path_of(&table, 1), Some("/d"));
    }

    #[test]
    fn bad_numbers_are_ebadf_and_the_table_is_bounded() {
        let mut table = FdTable::default();
        for fd in [-1, 0, 5, i32::MAX, i32::MIN] {
            assert_eq!(table.get(fd).err(), Some(Errno::BADF), "{fd}");
            assert_eq!(table.close(fd).err(), Some(Errno::BADF), "{fd}");
        }
        for n in 0..MAX_FDS {
            assert_eq!(table.insert(file("/f")), Ok(n as u32));
        }
        assert_eq!(table.insert(file("/g")), Err(Errno::MFILE));
    }

    #[test]
    fn renumber_moves_a_descriptor_over_another() {
        let mut table = FdTable::default();
        for path in ["/a", "/b", "/c"] {
            table.insert(file(path)).unwrap();
        }
        assert_eq!(table.renumber(2, 0), Ok(()));
        assert_eq!(path_of(&table, 0), Some("/c"));
        assert_eq!(table.get(2).err(), Some(Errno::BADF));
        assert_eq!(table.renumber(1, 7), Err(Errno::BADF));
        assert_eq!(table.renumber(1, 1), Ok(()));
        assert_eq!(path_of(&table, 1), Some("/b"));
    }

    #[test]
    fn rights_are_checked_and_directories_told_apart() {
        let table = {
            let mut table = FdTable::default();
            table.insert(file("/a")).unwrap();
            table
        };
        let descriptor = table.get(0).unwrap();
        assert_eq!(descriptor.require(Rights::FD_READ), Ok(()));
        assert_eq!(descriptor.require(Rights::FD_WRITE), Err(Errno::NOTCAPABLE));
        assert_eq!(descriptor.dir(Rights::NONE).err(), Some(Errno::NOTDIR));
    }
}
