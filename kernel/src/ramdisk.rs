//! The boot ramdisk: `ramdisk.tar`, loaded by the loader as a Limine module.
//!
//! It holds the actors (`*.wasm`) and, later, the boot manifest. Entries are read in place
//! from the module's memory; nothing is copied.

use tar_no_std::{ArchiveEntry, TarArchiveRef};

/// Path suffix that identifies the ramdisk among the loader's modules.
pub const MODULE_NAME: &str = "ramdisk.tar";

/// Why the ramdisk cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RamdiskError {
    /// No module whose path ends in `ramdisk.tar` was loaded.
    Missing,
    /// The module is not a well-formed tar archive.
    Corrupt,
}

impl core::fmt::Display for RamdiskError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Missing => write!(f, "no `{MODULE_NAME}` module was loaded"),
            Self::Corrupt => write!(f, "`{MODULE_NAME}` is not a valid tar archive"),
        }
    }
}

/// A tar archive in memory.
pub struct Ramdisk<'a> {
    archive: TarArchiveRef<'a>,
    bytes: &'a [u8],
}

impl<'a> Ramdisk<'a> {
    /// Checks that `bytes` are a tar archive.
    pub fn new(bytes: &'a [u8]) -> Result<Self, RamdiskError> {
        TarArchiveRef::new(bytes).map(|archive| Self { archive, bytes }).map_err(|_| RamdiskError::Corrupt)
    }

    /// The whole archive.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The regular files, in archive order.
    pub fn entries(&self) -> impl Iterator<Item = ArchiveEntry<'a>> + use<'a> {
        self.archive.entries()
    }

    /// The contents of the file called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.entries().find(|e| e.filename().as_str() == Ok(name)).map(|e| e.data())
    }
}
