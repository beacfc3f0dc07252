//! The boot volume: the file system the loader was started from (a FAT image inside the ISO, or
//! a FAT partition), the configuration search, file loading, and the facts about the volume that
//! the protocol's file structures report.

use alloc::string::{String, ToString};
use alloc::vec;
use limine_config::{Path, Resource};
use minimalos_loader::memory_map::PAGE_SIZE;
use uefi::boot::{self, ScopedProtocol};
use uefi::proto::device_path::media::PartitionSignature;
use uefi::proto::device_path::{DevicePathNodeEnum, LoadedImageDevicePath};
use uefi::proto::media::file::{Directory, File, FileAttribute, FileInfo, FileMode, RegularFile};
use uefi::proto::media::fs::SimpleFileSystem;
use uefi::{CString16, Status};

use crate::error::{Error, FileError};
use crate::memory::{self, hhdm};

/// Where Limine looks for its configuration, in order.
const CONFIG_PATHS: [&str; 5] = [
    "/boot/limine/limine.conf",
    "/boot/limine.conf",
    "/limine/limine.conf",
    "/limine.conf",
    "/EFI/BOOT/limine.conf",
];

/// What the protocol's `limine_file` says about the volume files came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct VolumeInfo {
    /// Booted from an El Torito image on optical media.
    pub optical: bool,
    /// 1-based partition number, when the volume is a partition.
    pub partition: Option<u32>,
    /// The disk's MBR signature, when it is MBR-partitioned.
    pub mbr_disk_id: u32,
    /// The partition's GUID, when it is GPT-partitioned.
    pub gpt_part_uuid: [u8; 16],
}

/// A file loaded into pages of its own (only [`Volume::load`] makes one).
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    base: u64,
    size: u64,
}

impl Loaded {
    /// Physical address of the first byte, page-aligned.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &'static [u8] {
        // SAFETY: `base..base + size` was allocated for this file alone by `Volume::load`, and
        // filled; loader memory stays identity-mapped and is never freed before the hand-off.
        unsafe { core::slice::from_raw_parts(self.base as *const u8, self.size as usize) }
    }

    /// The address a `limine_file` gives.
    pub fn hhdm_address(&self) -> u64 {
        hhdm(self.base as *const u8)
    }
}

/// The loader's own volume, open for reading.
pub struct Volume {
    root: Directory,
    /// Kept open so `root` stays valid; closed when the volume is dropped.
    _file_system: ScopedProtocol<SimpleFileSystem>,
    /// What the device path says about the volume.
    pub info: VolumeInfo,
}

impl Volume {
    /// Opens the file system the loader image was loaded from.
    pub fn open() -> Result<Self, Error> {
        let mut file_system =
            boot::get_image_file_system(boot::image_handle()).map_err(|e| Error::NoVolume(e.status()))?;
        let root = file_system.open_volume().map_err(|e| Error::NoVolume(e.status()))?;
        Ok(Self { root, _file_system: file_system, info: volume_info() })
    }

    /// Finds and reads `limine.conf`; returns where it was and its text.
    pub fn read_config(&mut self) -> Result<(&'static str, String), Error> {
        for path in CONFIG_PATHS {
            let (mut file, size) = match self.open_file(path) {
                Ok(found) => found,
                Err(FileError::NotFound) => continue,
                Err(cause) => {
                    return Err(Error::File { what: "configuration", path: path.to_string(), cause });
                }
            };
            let mut text = vec![0; size as usize];
            read_all(&mut file, &mut text).map_err(|cause| Error::File {
                what: "configuration",
                path: path.to_string(),
                cause,
            })?;
            let text = String::from_utf8(text).map_err(|_| Error::ConfigNotText { path })?;
            return Ok((path, text));
        }
        Err(Error::ConfigNotFound)
    }

    /// The in-volume path of `path`, if it is on this volume.
    pub fn resolve<'p>(&self, path: &'p Path) -> Result<&'p str, Error> {
        match path.resource {
            Resource::Boot { partition: None } => Ok(&path.path),
            Resource::Boot { partition: Some(n) } if self.info.partition == Some(n) => Ok(&path.path),
            _ => Err(Error::OtherVolume { path: path.to_string(), boot_partition: self.info.partition }),
        }
    }

    /// Loads a whole file (`what`, for messages) into fresh page-aligned memory.
    pub fn load(&mut self, path: &str, what: &'static str) -> Result<Loaded, Error> {
        let file_error = |cause| Error::File { what, path: path.to_string(), cause };
        let (mut file, size) = self.open_file(path).map_err(file_error)?;
        let base = memory::allocate(size, PAGE_SIZE, what)?;
        // SAFETY: `base` holds `size` bytes (at least a page) just allocated for this file.
        let bytes = unsafe { core::slice::from_raw_parts_mut(base as *mut u8, size as usize) };
        read_all(&mut file, bytes).map_err(file_error)?;
        Ok(Loaded { base, size })
    }

    fn open_file(&mut self, path: &str) -> Result<(RegularFile, u64), FileError> {
        let name: String = path.chars().map(|c| if c == '/' { '\\' } else { c }).collect();
        let name = CString16::try_from(name.as_str()).map_err(|_| FileError::BadName)?;
        let handle =
            self.root.open(&name, FileMode::Read, FileAttribute::empty()).map_err(|e| match e.status() {
                Status::NOT_FOUND => FileError::NotFound,
                status => FileError::Firmware(status),
            })?;
        let mut file = handle.into_regular_file().ok_or(FileError::IsDirectory)?;
        let info = file.get_boxed_info::<FileInfo>().map_err(|e| FileError::Firmware(e.status()))?;
        Ok((file, info.file_size()))
    }
}

/// Fills `buffer` from `file`, which must hold exactly that much.
fn read_all(file: &mut RegularFile, buffer: &mut [u8]) -> Result<(), FileError> {
    let mut done = 0;
    while done < buffer.len() {
        match file.read(&mut buffer[done..]) {
            Ok(0) => {
                return Err(FileError::Truncated { expected: buffer.len() as u64, read: done as u64 });
            }
            Ok(n) => done += n,
            Err(e) => return Err(FileError::Firmware(e.status())),
        }
    }
    Ok(())
}

/// Reads the volume's media and partition facts from the loader image's device path. A
/// firmware without that path just leaves them unknown.
fn volume_info() -> VolumeInfo {
    let mut info = VolumeInfo::default();
    let Ok(path) = boot::open_protocol_exclusive::<LoadedImageDevicePath>(boot::image_handle()) else {
        return info;
    };
    for node in path.node_iter() {
        match node.as_enum() {
            Ok(DevicePathNodeEnum::MediaCdRom(_)) => info.optical = true,
            Ok(DevicePathNodeEnum::MediaHardDrive(drive)) => {
                info.partition = Some(drive.partition_number()).filter(|&n| n != 0);
                match drive.partition_signature() {
                    PartitionSignature::Mbr(id) => info.mbr_disk_id = u32::from_le_bytes(id),
                    PartitionSignature::Guid(guid) => info.gpt_part_uuid = guid.to_bytes(),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    info
}
