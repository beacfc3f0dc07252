//! A Linux initramfs: a `newc` cpio archive (the format `Documentation/filesystems/
//! ramfs-rootfs-initramfs.rst` describes), which the kernel unpacks uncompressed.

/// What an archive entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir,
    /// A regular file, executable or not.
    File {
        bytes: Vec<u8>,
        executable: bool,
    },
    Symlink(String),
    /// A character device node.
    CharDevice {
        major: u32,
        minor: u32,
    },
}

/// An archive being built: paths without a leading `/`, parents added before children.
#[derive(Debug, Default)]
pub struct Archive {
    out: Vec<u8>,
    next_inode: u32,
}

impl Archive {
    /// Adds `entry` at `path`.
    pub fn add(&mut self, path: &str, entry: &Entry) {
        let (mode, data, rdev): (u32, &[u8], (u32, u32)) = match entry {
            Entry::Dir => (0o040_755, &[], (0, 0)),
            Entry::File { bytes, executable } => {
                (if *executable { 0o100_755 } else { 0o100_644 }, bytes, (0, 0))
            }
            Entry::Symlink(target) => (0o120_777, target.as_bytes(), (0, 0)),
            Entry::CharDevice { major, minor } => (0o020_600, &[], (*major, *minor)),
        };
        self.next_inode += 1;
        self.header(path, self.next_inode, mode, data.len(), rdev);
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// The archive, ended with its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 0, 0, (0, 0));
        self.out
    }

    fn header(
        &mut self,
        name: &str,
        inode: u32,
        mode: u32,
        size: usize,
        (rdev_major, rdev_minor): (u32, u32),
    ) {
        let nlink = if mode & 0o170_000 == 0o040_000 { 2 } else { 1 };
        let fields = [
            inode,
            mode,
            0,
            0,
            nlink,
            0,
            size as u32,
            0,
            0,
            rdev_major,
            rdev_minor,
            name.len() as u32 + 1,
            0,
        ];
        self.out.extend_from_slice(b"070701");
        for field in fields {
            self.out.extend_from_slice(format!("{field:08x}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
    }

    /// Zeros up to the next multiple of 4 bytes, as every header and file body is aligned.
    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_newc_headers_with_aligned_names_and_bodies() {
        let mut archive = Archive::default();
        archive.add("init", &Entry::File { bytes: b"#!/bin/sh\n".to_vec(), executable: true });
        archive.add("dev/console", &Entry::CharDevice { major: 5, minor: 1 });
        let out = archive.finish();
        assert!(out.starts_with(b"070701"));
        // Inode 1, mode 100755, 10 bytes, a name of 5 bytes with its NUL.
        assert_eq!(&out[6..22], b"00000001000081ed");
        assert_eq!(&out[54..62], b"0000000a");
        assert_eq!(&out[94..102], b"00000005");
        assert_eq!(&out[110..115], b"init\0");
        assert_eq!(&out[116..126], b"#!/bin/sh\n");
        assert_eq!(out.len() % 4, 0);
        let console = out.windows(12).position(|w| w == b"dev/console\0").expect("the node's name");
        let header = &out[console - 110..console];
        assert_eq!(&header[14..22], b"00002180", "a character device, mode 0600");
        assert_eq!(&header[78..94], b"0000000500000001", "rdev 5:1");
        assert!(out.windows(11).any(|w| w == b"TRAILER!!!\0"));
    }
}
