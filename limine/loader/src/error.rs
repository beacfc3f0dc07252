//! Everything that stops a boot, each with the one-line message the loader prints for it.

use alloc::string::String;
use core::fmt;
use limine_config::ConfigError;
use minimalos_loader::paging::PagingError;
use minimalos_loader::requests::ScanError;
use uefi::Status;

use crate::executable::ExecutableError;

/// A reason the loader cannot boot the kernel.
#[derive(Debug)]
pub enum Error {
    /// The firmware gave no file system for the loader's own volume.
    NoVolume(Status),
    /// None of the places Limine looks for `limine.conf` has it.
    ConfigNotFound,
    /// The configuration file is not UTF-8.
    ConfigNotText { path: &'static str },
    /// The configuration file is malformed or names nothing bootable.
    Config { path: &'static str, error: ConfigError },
    /// A path on another volume than the loader's own.
    OtherVolume { path: String, boot_partition: Option<u32> },
    /// A file (`what`: the configuration, the kernel, a module) could not be read.
    File { what: &'static str, path: String, cause: FileError },
    /// The firmware did not give its memory map.
    MemoryMap(Status),
    /// The firmware has no memory left for this.
    OutOfMemory { what: &'static str, bytes: u64 },
    /// The kernel is not an executable this loader can boot.
    Executable { path: String, error: ExecutableError },
    /// The kernel's requests break the protocol's rules.
    Requests(ScanError),
    /// The kernel's address space could not be built.
    Paging(PagingError),
    /// The firmware runs with 5-level paging, which the hand-off cannot leave without
    /// turning paging off.
    FiveLevelPaging,
    /// Memory lies above what the CPU's page tables can address.
    MemoryBeyondPhysicalAddressBits { top: u64, bits: u32 },
    /// The kernel's PML4 is out of reach of the APs' trampoline, which loads CR3 in real mode.
    PageTablesAbove4GiB { root: u64 },
}

/// Why a file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    NotFound,
    /// The name has characters UEFI file names cannot hold.
    BadName,
    IsDirectory,
    /// The firmware failed to open or read it.
    Firmware(Status),
    /// It ended before the size the file system gave for it.
    Truncated {
        expected: u64,
        read: u64,
    },
}

impl Error {
    /// The status the loader returns to the firmware with.
    pub fn status(&self) -> Status {
        match self {
            Self::NoVolume(status) => *status,
            Self::ConfigNotFound | Self::File { cause: FileError::NotFound, .. } => Status::NOT_FOUND,
            Self::OutOfMemory { .. } => Status::OUT_OF_RESOURCES,
            Self::OtherVolume { .. }
            | Self::FiveLevelPaging
            | Self::MemoryBeyondPhysicalAddressBits { .. } => Status::UNSUPPORTED,
            _ => Status::LOAD_ERROR,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoVolume(status) => {
                write!(f, "cannot open the file system the loader was started from ({status:?})")
            }
            Self::ConfigNotFound => write!(
                f,
                "no limine.conf in /boot/limine/, /boot/, /limine/, / or /EFI/BOOT/ of the boot volume"
            ),
            Self::ConfigNotText { path } => write!(f, "{path}: not UTF-8 text"),
            Self::Config { path, error } => write!(f, "{path}: {error}"),
            Self::OtherVolume { path, boot_partition } => {
                write!(f, "`{path}`: only the boot volume (boot():")?;
                if let Some(n) = boot_partition {
                    write!(f, " or boot({n}):")?;
                }
                write!(f, ") is supported by this loader")
            }
            Self::File { what, path, cause } => match cause {
                FileError::NotFound => write!(f, "{what} {path}: file not found"),
                FileError::BadName => write!(f, "{what} {path}: not a valid UEFI file name"),
                FileError::IsDirectory => write!(f, "{what} {path}: is a directory"),
                FileError::Firmware(status) => write!(f, "{what} {path}: read failed ({status:?})"),
                FileError::Truncated { expected, read } => {
                    write!(f, "{what} {path}: read {read} of its {expected} bytes")
                }
            },
            Self::MemoryMap(status) => write!(f, "cannot read the firmware's memory map ({status:?})"),
            Self::OutOfMemory { what, bytes } => {
                write!(f, "out of memory allocating {} KiB for {what}", bytes.div_ceil(1024))
            }
            Self::Executable { path, error } => write!(f, "kernel {path}: {error}"),
            Self::Requests(error) => write!(f, "kernel requests: {error}"),
            Self::Paging(error) => write!(f, "kernel page tables: {error}"),
            Self::FiveLevelPaging => {
                write!(f, "the firmware runs with 5-level paging; this loader only hands over 4-level")
            }
            Self::MemoryBeyondPhysicalAddressBits { top, bits } => {
                write!(f, "memory reaches {top:#x}, beyond the CPU's {bits}-bit physical addresses")
            }
            Self::PageTablesAbove4GiB { root } => {
                write!(
                    f,
                    "the kernel's page tables are at {root:#x}, above 4 GiB, where the APs cannot load them"
                )
            }
        }
    }
}

impl From<ScanError> for Error {
    fn from(error: ScanError) -> Self {
        Self::Requests(error)
    }
}

impl From<PagingError> for Error {
    fn from(error: PagingError) -> Self {
        Self::Paging(error)
    }
}
