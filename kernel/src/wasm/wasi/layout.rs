//! WASI's records as they lie in a program's memory (`typenames.witx`, little-endian, C
//! layout), built here and nowhere else.

use protocol::vfs::Kind;

/// `filetype`: what a descriptor or directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FileType {
    /// Neither of the others (the standard streams are character devices).
    CharacterDevice = 2,
    /// A directory.
    Directory = 3,
    /// A regular file.
    RegularFile = 4,
}

impl From<Kind> for FileType {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::File => FileType::RegularFile,
            Kind::Dir => FileType::Directory,
        }
    }
}

/// Bytes of a `filestat`.
pub const FILESTAT: usize = 64;
/// Bytes of an `fdstat`.
pub const FDSTAT: usize = 24;
/// Bytes of a `prestat`.
pub const PRESTAT: usize = 8;
/// Bytes of a `dirent` before its name.
pub const DIRENT: usize = 24;

/// A `filestat`: device, inode, type, links, size and the three times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    /// The inode number (the vfs has none; a hash of the path stands in, as `ls -i` needs one).
    pub ino: u64,
    /// What it is.
    pub filetype: FileType,
    /// Its size in bytes (a directory's: its number of entries).
    pub size: u64,
    /// Last access, modification and status change, in ns since 1970.
    pub times: [u64; 3],
}

impl FileStat {
    /// Its bytes.
    pub fn to_bytes(self) -> [u8; FILESTAT] {
        let mut bytes = [0u8; FILESTAT];
        bytes[8..16].copy_from_slice(&self.ino.to_le_bytes());
        bytes[16] = self.filetype as u8;
        bytes[24..32].copy_from_slice(&1u64.to_le_bytes());
        bytes[32..40].copy_from_slice(&self.size.to_le_bytes());
        for (at, time) in [40, 48, 56].into_iter().zip(self.times) {
            bytes[at..at + 8].copy_from_slice(&time.to_le_bytes());
        }
        bytes
    }
}

/// An `fdstat`: type, flags and rights of a descriptor.
pub fn fdstat(filetype: FileType, flags: u16, base: u64, inheriting: u64) -> [u8; FDSTAT] {
    let mut bytes = [0u8; FDSTAT];
    bytes[0] = filetype as u8;
    bytes[2..4].copy_from_slice(&flags.to_le_bytes());
    bytes[8..16].copy_from_slice(&base.to_le_bytes());
    bytes[16..24].copy_from_slice(&inheriting.to_le_bytes());
    bytes
}

/// A `prestat` of a preopened directory whose name is `name_len` bytes.
pub fn prestat_dir(name_len: usize) -> [u8; PRESTAT] {
    let mut bytes = [0u8; PRESTAT];
    bytes[4..8].copy_from_slice(&(name_len as u32).to_le_bytes());
    bytes
}

/// A `dirent` header: the cookie of the entry after it, the inode, the name's length, the type.
pub fn dirent(next: u64, ino: u64, name_len: usize, filetype: FileType) -> [u8; DIRENT] {
    let mut bytes = [0u8; DIRENT];
    bytes[0..8].copy_from_slice(&next.to_le_bytes());
    bytes[8..16].copy_from_slice(&ino.to_le_bytes());
    bytes[16..20].copy_from_slice(&(name_len as u32).to_le_bytes());
    bytes[20] = filetype as u8;
    bytes
}

/// The stand-in inode number of the vfs path `path`: FNV-1a, never 0.
pub fn inode(path: &str) -> u64 {
    let hash =
        path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    hash.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_laid_out_as_witx_says() {
        let stat =
            FileStat { ino: 7, filetype: FileType::RegularFile, size: 300, times: [1, 2, 3] }.to_bytes();
        assert_eq!(stat[8], 7);
        assert_eq!(stat[16], 4);
        assert_eq!(stat[24], 1);
        assert_eq!(u64::from_le_bytes(stat[32..40].try_into().unwrap()), 300);
        assert_eq!((stat[40], stat[48], stat[56]), (1, 2, 3));
        let fd = fdstat(FileType::Directory, 1, 0xff, 0x100);
        assert_eq!((fd[0], fd[2], fd[8], fd[17]), (3, 1, 0xff, 1));
        assert_eq!(prestat_dir(4), [0, 0, 0, 0, 4, 0, 0, 0]);
        let entry = dirent(2, 9, 5, FileType::Directory);
        assert_eq!((entry[0], entry[8], entry[16], entry[20]), (2, 9, 5, 3));
        assert_ne!(inode("/tmp/a"), inode("/tmp/b"));
    }
}
