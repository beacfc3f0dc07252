//! Loading the kernel ELF: checking it is a higher-half x86_64 executable, and copying its
//! PT_LOAD segments into one physically contiguous block (as the protocol guarantees), with the
//! bss parts zeroed.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;
use elf::ElfBytes;
use elf::abi::{EM_X86_64, ET_DYN, ET_EXEC, PF_W, PF_X, PT_LOAD};
use elf::endian::LittleEndian;
use elf::file::Class;
use minimalos_loader::layout::Segment;
use minimalos_loader::memory_map::PAGE_SIZE;

use crate::error::Error;
use crate::memory;

/// The protocol only loads kernels at or above this address.
const LOWEST_KERNEL_ADDRESS: u64 = 0xffff_ffff_8000_0000;

/// Largest segment alignment honoured physically; beyond it, the kernel cannot expect
/// physical alignment from any loader that uses 4 KiB and 2 MiB pages.
const MAX_ALIGN: u64 = 2 * 1024 * 1024;

/// Why the kernel file is not bootable.
#[derive(Debug)]
pub enum ExecutableError {
    /// Not a well-formed ELF file.
    Parse(elf::ParseError),
    /// An ELF file, but not a 64-bit x86_64 one.
    WrongMachine,
    /// A position-independent executable; this loader does not relocate.
    Relocatable,
    /// Neither an executable nor a shared object.
    NotExecutable,
    /// No PT_LOAD segment with contents.
    NoSegments,
    /// A segment below `0xffffffff80000000` (or wrapping past the top).
    LowerHalf { virt: u64 },
    /// A segment with more file bytes than memory bytes.
    FileSizeExceedsMemory { virt: u64 },
    /// Two segments covering the same addresses.
    Overlapping { virt: u64 },
    /// The entry point is outside the loaded image.
    EntryOutside { entry: u64 },
}

impl fmt::Display for ExecutableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => write!(f, "not a valid ELF file ({e})"),
            Self::WrongMachine => write!(f, "not a 64-bit x86_64 ELF file"),
            Self::Relocatable => write!(f, "position-independent (ET_DYN) kernels are not supported"),
            Self::NotExecutable => write!(f, "not an executable ELF file"),
            Self::NoSegments => write!(f, "no loadable segments"),
            Self::LowerHalf { virt } => {
                write!(f, "segment at {virt:#x} is not in the top 2 GiB, where the protocol loads kernels")
            }
            Self::FileSizeExceedsMemory { virt } => {
                write!(f, "segment at {virt:#x} has a file size larger than its memory size")
            }
            Self::Overlapping { virt } => write!(f, "segment at {virt:#x} overlaps the one before it"),
            Self::EntryOutside { entry } => write!(f, "entry point {entry:#x} is outside the loaded image"),
        }
    }
}

/// The kernel, loaded.
pub struct Kernel {
    /// The loaded image as 8-byte words, from `virtual_base` on.
    pub image: &'static mut [u64],
    /// Where the image starts physically (page-aligned).
    pub physical_base: u64,
    /// Where it is linked to start (the lowest segment's page).
    pub virtual_base: u64,
    /// The ELF entry point.
    pub entry: u64,
    /// The PT_LOAD segments, sorted by address.
    pub segments: Vec<Segment>,
}

impl Kernel {
    /// Bytes the image spans in memory.
    pub fn size(&self) -> u64 {
        self.image.len() as u64 * 8
    }
}

/// Loads the kernel ELF in `file` (read from `path`, named in errors).
pub fn load(file: &[u8], path: &str) -> Result<Kernel, Error> {
    let fail = |error| Error::Executable { path: path.to_string(), error };
    let elf = ElfBytes::<LittleEndian>::minimal_parse(file).map_err(|e| fail(ExecutableError::Parse(e)))?;
    if elf.ehdr.class != Class::ELF64 || elf.ehdr.e_machine != EM_X86_64 {
        return Err(fail(ExecutableError::WrongMachine));
    }
    match elf.ehdr.e_type {
        ET_EXEC => {}
        ET_DYN => return Err(fail(ExecutableError::Relocatable)),
        _ => return Err(fail(ExecutableError::NotExecutable)),
    }

    let mut loads: Vec<_> = elf
        .segments()
        .ok_or(fail(ExecutableError::NoSegments))?
        .iter()
        .filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0)
        .collect();
    loads.sort_unstable_by_key(|p| p.p_vaddr);
    let Some(first) = loads.first() else {
        return Err(fail(ExecutableError::NoSegments));
    };
    let virtual_base = first.p_vaddr & !(PAGE_SIZE - 1);
    let mut previous_end = virtual_base;
    for p in &loads {
        let virt = p.p_vaddr;
        // The image must end below the top of the address space, page padding included.
        let end = virt
            .checked_add(p.p_memsz)
            .filter(|end| end.checked_next_multiple_of(PAGE_SIZE).is_some())
            .ok_or(fail(ExecutableError::LowerHalf { virt }))?;
        if virt < LOWEST_KERNEL_ADDRESS {
            return Err(fail(ExecutableError::LowerHalf { virt }));
        }
        if p.p_filesz > p.p_memsz {
            return Err(fail(ExecutableError::FileSizeExceedsMemory { virt }));
        }
        if virt < previous_end {
            return Err(fail(ExecutableError::Overlapping { virt }));
        }
        previous_end = end;
    }
    let size = previous_end.next_multiple_of(PAGE_SIZE) - virtual_base;
    let entry = elf.ehdr.e_entry;
    if !(virtual_base..virtual_base + size).contains(&entry) {
        return Err(fail(ExecutableError::EntryOutside { entry }));
    }

    let align = loads
        .iter()
        .map(|p| p.p_align)
        .filter(|a| a.is_power_of_two())
        .max()
        .unwrap_or(1)
        .clamp(PAGE_SIZE, MAX_ALIGN);
    let physical_base = memory::allocate(size, align, "the kernel image")?;
    // SAFETY: `physical_base` holds `size` zeroed bytes just allocated for the image alone.
    let bytes = unsafe { core::slice::from_raw_parts_mut(physical_base as *mut u8, size as usize) };
    let mut segments = Vec::with_capacity(loads.len());
    for p in &loads {
        let data = elf.segment_data(p).map_err(|e| fail(ExecutableError::Parse(e)))?;
        let offset = (p.p_vaddr - virtual_base) as usize;
        bytes[offset..offset + data.len()].copy_from_slice(data);
        segments.push(Segment {
            virt: p.p_vaddr,
            mem_size: p.p_memsz,
            writable: p.p_flags & PF_W != 0,
            executable: p.p_flags & PF_X != 0,
        });
    }
    // SAFETY: the same memory, now filled, viewed as the words requests are made of; `bytes`
    // is not used again. `size` is a multiple of the page size, so of 8.
    let image = unsafe { core::slice::from_raw_parts_mut(physical_base as *mut u64, (size / 8) as usize) };
    Ok(Kernel { image, physical_base, virtual_base, entry, segments })
}
