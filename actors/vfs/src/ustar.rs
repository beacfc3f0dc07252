//! The boot ramdisk's tar archive, read in place: one pass over its headers finds the files
//! and directories; file bytes stay in the archive and are copied out only when read, so the
//! server's memory does not grow with the ramdisk.
//!
//! Understood: ustar headers (with the `prefix` field), the GNU headers the build writes, and
//! GNU long names (`L` entries). Regular files and directories are kept; links, devices and
//! extended headers are skipped. The pass ends at the end-of-archive block, or at the first
//! header that does not check out (then [`Scan::intact`] is false).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use protocol::vfs::{Error, MAX_PATH};

/// Tar works in blocks of this many bytes: each header is one, file data is padded to them.
const BLOCK: u64 = 512;

/// Byte ranges of the header fields used here.
const NAME: core::ops::Range<usize> = 0..100;
const SIZE: core::ops::Range<usize> = 124..136;
const CHECKSUM: core::ops::Range<usize> = 148..156;
const TYPE: usize = 156;
const MAGIC: core::ops::Range<usize> = 257..263;
const PREFIX: core::ops::Range<usize> = 345..500;

/// Read access to the archive's bytes: the ramdisk's memory object in the actor, a byte
/// vector in tests.
pub trait Image {
    /// Fills `buf` from the bytes at `offset`; `Error::Io` if they cannot be read.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
}

/// One file or directory of the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its name in the archive (relative, not yet normalised).
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
}

/// What an archive entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A file whose `size` bytes start at `offset` in the archive.
    File {
        /// Offset of the first byte in the archive.
        offset: u64,
        /// Length in bytes.
        size: u64,
    },
    /// A directory.
    Dir,
}

/// What one pass over an archive found.
#[derive(Debug)]
pub struct Scan {
    /// Files and directories, in archive order.
    pub entries: Vec<Entry>,
    /// False if the pass stopped at a damaged header or a truncated archive rather than at
    /// the end marker (or the end of the image).
    pub intact: bool,
}

/// Reads the headers of the archive `image`, `size` bytes long.
pub fn scan(image: &impl Image, size: u64) -> Scan {
    let mut entries = Vec::new();
    let mut long_name: Option<String> = None;
    let mut offset = 0;
    let mut header = [0; BLOCK as usize];
    let intact = loop {
        if offset + BLOCK > size {
            break offset == size;
        }
        if image.read_at(offset, &mut header).is_err() {
            break false;
        }
        if header.iter().all(|&b| b == 0) {
            break true;
        }
        let Some(data_len) = checked_size(&header) else { break false };
        let data = offset + BLOCK;
        let Some(next) = data.checked_add(data_len.next_multiple_of(BLOCK)).filter(|&n| n <= size) else {
            break false;
        };
        let name = long_name.take().or_else(|| header_name(&header));
        match (header.get(TYPE).copied(), name) {
            (Some(b'0' | b'\0' | b'7'), Some(name)) => {
                entries.push(Entry { name, kind: EntryKind::File { offset: data, size: data_len } });
            }
            (Some(b'5'), Some(name)) => entries.push(Entry { name, kind: EntryKind::Dir }),
            (Some(b'L'), _) => long_name = read_long_name(image, data, data_len),
            _ => {}
        }
        offset = next;
    };
    Scan { entries, intact }
}

/// The data size of a header whose checksum matches, or `None` for a damaged header.
fn checked_size(header: &[u8; BLOCK as usize]) -> Option<u64> {
    // The checksum is the byte sum of the header with its own field read as spaces.
    let field = header.get(CHECKSUM)?;
    let sum = |bytes: &[u8]| bytes.iter().map(|&b| u64::from(b)).sum::<u64>();
    let expected = sum(header) - sum(field) + u64::from(b' ') * field.len() as u64;
    if octal(field)? != expected {
        return None;
    }
    octal(header.get(SIZE)?)
}

/// An octal number field: optional leading spaces, digits, then NUL or space padding.
/// (GNU's base-256 form for huge sizes starts with a byte with the top bit set, and so is
/// refused here: a ramdisk has no such files.)
fn octal(field: &[u8]) -> Option<u64> {
    let digits = field.iter().skip_while(|&&b| b == b' ').take_while(|&&b| b != 0 && b != b' ');
    let mut value: u64 = 0;
    let mut any = false;
    for &b in digits {
        let digit = b.checked_sub(b'0').filter(|&d| d < 8)?;
        value = value.checked_mul(8)?.checked_add(u64::from(digit))?;
        any = true;
    }
    any.then_some(value)
}

/// The header's name: `prefix/name` for ustar headers with a prefix, else `name`; `None` if
/// it is not UTF-8.
fn header_name(header: &[u8; BLOCK as usize]) -> Option<String> {
    let name = text(header.get(NAME)?)?;
    // GNU headers keep other fields where ustar has the prefix; only ustar's magic says
    // the prefix is one.
    match header.get(MAGIC).map(|magic| magic == b"ustar\0") {
        Some(true) => match text(header.get(PREFIX)?)? {
            "" => Some(name.into()),
            prefix => Some(alloc::format!("{prefix}/{name}")),
        },
        _ => Some(name.into()),
    }
}

/// The field's text up to its first NUL, if UTF-8.
fn text(field: &[u8]) -> Option<&str> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    core::str::from_utf8(field.get(..end)?).ok()
}

/// The name a GNU `L` entry's data holds, for the entry after it; `None` if it is unreadable
/// or longer than any path a client could name.
fn read_long_name(image: &impl Image, offset: u64, len: u64) -> Option<String> {
    let len = usize::try_from(len).ok().filter(|&len| len <= MAX_PATH + 1)?;
    let mut bytes = vec![0; len];
    image.read_at(offset, &mut bytes).ok()?;
    text(&bytes).map(String::from)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    impl Image for Vec<u8> {
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
            let start = usize::try_from(offset).map_err(|_| Error::Io)?;
            let bytes = self.get(start..start + buf.len()).ok_or(Error::Io)?;
            buf.copy_from_slice(bytes);
            Ok(())
        }
    }

    /// An archive as the build writes it (GNU headers, `tar` crate), with `files` and the
    /// directories `dirs`.
    pub(crate) fn archive(files: &[(&str, &[u8])], dirs: &[&str]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for dir in dirs {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, dir, std::io::empty()).unwrap();
        }
        for (name, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            if name.contains("..") {
                // The `tar` crate refuses such names; a damaged or hostile archive has them.
                header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
                header.set_cksum();
                builder.append(&header, *data).unwrap();
            } else {
                builder.append_data(&mut header, name, *data).unwrap();
            }
        }
        builder.into_inner().unwrap()
    }

    /// The bytes of `entry`'s file.
    fn contents(image: &Vec<u8>, entry: &Entry) -> Vec<u8> {
        let EntryKind::File { offset, size } = entry.kind else { panic!("{entry:?} is not a file") };
        let mut bytes = vec![0; size as usize];
        image.read_at(offset, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn files_and_directories_are_found_with_their_bytes() {
        let image = archive(&[("hello.wasm", b"\0asm"), ("test/a.manifest", b"actor a\n")], &["docs"]);
        let scan = scan(&image, image.len() as u64);
        assert!(scan.intact);
        let names: Vec<&str> = scan.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["docs", "hello.wasm", "test/a.manifest"]);
        assert_eq!(scan.entries[0].kind, EntryKind::Dir);
        assert_eq!(contents(&image, &scan.entries[1]), b"\0asm");
        assert_eq!(contents(&image, &scan.entries[2]), b"actor a\n");
    }

    #[test]
    fn an_empty_file_and_a_file_of_exactly_one_block() {
        let block = [7u8; 512];
        let image = archive(&[("empty", b""), ("block", &block), ("after", b"x")], &[]);
        let scan = scan(&image, image.len() as u64);
        assert!(scan.intact);
        assert_eq!(scan.entries.len(), 3);
        assert_eq!(contents(&image, &scan.entries[0]), b"");
        assert_eq!(contents(&image, &scan.entries[1]), block);
        assert_eq!(contents(&image, &scan.entries[2]), b"x");
    }

    #[test]
    fn gnu_long_names_name_the_next_entry() {
        let long = format!("test/{}.wasm", "n".repeat(150));
        let image = archive(&[(&long, b"long"), ("short", b"s")], &[]);
        let scan = scan(&image, image.len() as u64);
        let names: Vec<&str> = scan.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, [long.as_str(), "short"]);
        assert_eq!(contents(&image, &scan.entries[0]), b"long");
    }

    #[test]
    fn ustar_prefixes_are_joined_to_the_name() {
        let mut header = tar::Header::new_ustar();
        let long = format!("{}/file.txt", "d".repeat(120));
        header.set_path(&long).unwrap();
        header.set_size(3);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &b"abc"[..]).unwrap();
        let image = builder.into_inner().unwrap();
        assert_eq!(&image[MAGIC], b"ustar\0");
        assert_ne!(image[PREFIX.start], 0, "the name went to the prefix field");
        let scan = scan(&image, image.len() as u64);
        assert_eq!(scan.entries.len(), 1);
        assert_eq!(scan.entries[0].name, long);
    }

    #[test]
    fn links_are_skipped() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder.append_link(&mut header, "link", "target").unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        builder.append_data(&mut header, "file", &b"f"[..]).unwrap();
        let image = builder.into_inner().unwrap();
        let scan = scan(&image, image.len() as u64);
        assert!(scan.intact);
        let names: Vec<&str> = scan.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["file"]);
    }

    #[test]
    fn a_damaged_header_ends_the_pass_and_keeps_what_came_before() {
        let mut image = archive(&[("first", b"1"), ("second", b"2")], &[]);
        image[1024 + 3] ^= 0x20; // a byte of the second header's name; its checksum no longer matches
        let scan = scan(&image, image.len() as u64);
        assert!(!scan.intact);
        assert_eq!(scan.entries.len(), 1);
        assert_eq!(scan.entries[0].name, "first");
    }

    #[test]
    fn a_size_past_the_end_of_the_image_ends_the_pass() {
        let image = archive(&[("big", &[1; 2000])], &[]);
        // Cut inside the file's data.
        let scan = scan(&image, 1024);
        assert!(!scan.intact);
        assert!(scan.entries.is_empty());
    }

    #[test]
    fn empty_and_unterminated_images_are_fine() {
        assert!(scan(&Vec::new(), 0).intact);
        let image = archive(&[("a", b"a")], &[]);
        // Without the end-of-archive blocks.
        let scan = scan(&image, 1024);
        assert!(scan.intact);
        assert_eq!(scan.entries.len(), 1);
    }

    #[test]
    fn octal_fields_parse_with_padding_and_refuse_other_text() {
        assert_eq!(octal(b"00000000017\0"), Some(15));
        assert_eq!(octal(b"     17 \0\0\0\0"), Some(15));
        assert_eq!(octal(b"\0\0\0\0"), None);
        assert_eq!(octal(b"0000008\0"), None);
        assert_eq!(octal(&[0x80, 0, 0, 1]), None);
        assert_eq!(octal(b"7777777777777777777777777"), None, "overflow");
    }
}
