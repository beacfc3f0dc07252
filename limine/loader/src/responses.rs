//! Answers to the kernel's requests: each response built in the arena with HHDM pointers, and
//! its address written into the request in the kernel image. The memory map is answered last,
//! after ExitBootServices, into room reserved here; the MP response too, by `mp.rs`.

use minimalos_loader::memory_map::{Entry, EntryType};
use minimalos_loader::paging::PAGE_4K;
use minimalos_loader::protocol::{
    self, BootloaderInfoResponse, ExecutableAddressResponse, ExecutableFileResponse, File,
    FramebufferResponse, HHDM_OFFSET, HhdmResponse, MemoryMapResponse, ModuleResponse, RsdpResponse,
    StackSizeResponse, VideoMode, id, request,
};
use minimalos_loader::requests::Scan;

use crate::error::Error;
use crate::framebuffer::Framebuffer;
use crate::memory::{Arena, hhdm};
use crate::volume::{Loaded, VolumeInfo};

/// The protocol's minimum boot stack.
const MIN_STACK: u64 = 64 * 1024;

/// A file handed to the kernel.
pub struct FileAnswer<'a> {
    pub file: Loaded,
    /// Path inside the volume, with a leading `/`.
    pub path: &'a str,
    pub cmdline: &'a str,
}

/// Everything the responses report.
pub struct BootFacts<'a> {
    pub kernel_file: FileAnswer<'a>,
    pub modules: &'a [FileAnswer<'a>],
    pub volume: VolumeInfo,
    pub physical_base: u64,
    pub virtual_base: u64,
    pub framebuffer: Option<&'a Framebuffer>,
    pub rsdp: Option<u64>,
    /// HHDM address of the MP response `mp::prepare` built, if the kernel asked for one.
    pub mp: Option<u64>,
    /// Room to reserve for memory-map entries.
    pub memory_map_capacity: usize,
}

/// Room for the memory-map response, filled in after ExitBootServices.
pub struct PendingMemoryMap {
    response: &'static mut MemoryMapResponse,
    entries: &'static mut [Entry],
    pointers: &'static mut [u64],
}

impl PendingMemoryMap {
    /// Where the entries go.
    pub fn entries(&mut self) -> &mut [Entry] {
        self.entries
    }

    /// Publishes the first `count` entries.
    pub fn finish(self, count: usize) {
        for (pointer, entry) in self.pointers.iter_mut().zip(&self.entries[..count]) {
            *pointer = hhdm(entry);
        }
        self.response.entry_count = count as u64;
        self.response.entries = hhdm(self.pointers.as_ptr());
    }
}

/// What was answered.
pub struct Answers {
    /// Requests answered.
    pub answered: usize,
    /// Requests this loader does not implement (left without a response).
    pub unsupported: usize,
    /// The memory map, if the kernel asked for it.
    pub memory_map: Option<PendingMemoryMap>,
}

/// The boot stack size: what the kernel asked for, at least the protocol's minimum, rounded up
/// to whole pages (an impossible size is left for the allocation to refuse).
pub fn stack_size(scan: &Scan, image: &[u64]) -> u64 {
    let requested = scan
        .find(id::STACK_SIZE)
        .and_then(|r| image.get(r.word + request::FIRST_FIELD).copied())
        .unwrap_or(0);
    requested.max(MIN_STACK).checked_next_multiple_of(PAGE_4K).unwrap_or(!(PAGE_4K - 1))
}

/// Answers every request in `scan` this loader implements.
pub fn answer(
    scan: &Scan,
    image: &mut [u64],
    facts: &BootFacts,
    arena: &mut Arena,
) -> Result<Answers, Error> {
    let mut answers = Answers { answered: 0, unsupported: 0, memory_map: None };
    for found in &scan.requests {
        let response = match found.id {
            id::BOOTLOADER_INFO => {
                let name = arena.c_string("MinimalOS loader")?;
                let version = arena.c_string(env!("CARGO_PKG_VERSION"))?;
                Some(hhdm(arena.put(BootloaderInfoResponse { revision: 0, name, version })?))
            }
            id::STACK_SIZE => Some(hhdm(arena.put(StackSizeResponse { revision: 0 })?)),
            id::HHDM => Some(hhdm(arena.put(HhdmResponse { revision: 0, offset: HHDM_OFFSET })?)),
            id::FRAMEBUFFER => facts.framebuffer.map(|fb| framebuffer(fb, arena)).transpose()?,
            id::MEMORY_MAP => {
                let response = arena.put(MemoryMapResponse { revision: 0, entry_count: 0, entries: 0 })?;
                let address = hhdm(response);
                let empty = Entry { base: 0, length: 0, kind: EntryType::RESERVED };
                answers.memory_map = Some(PendingMemoryMap {
                    response,
                    entries: arena.slice(facts.memory_map_capacity, empty)?,
                    pointers: arena.slice(facts.memory_map_capacity, 0)?,
                });
                Some(address)
            }
            id::EXECUTABLE_FILE => {
                let file = file(&facts.kernel_file, facts.volume, arena)?;
                Some(hhdm(arena.put(ExecutableFileResponse { revision: 0, file })?))
            }
            // Limine gives no module response when there are no modules.
            id::MODULE if !facts.modules.is_empty() => {
                let list = arena.slice(facts.modules.len(), 0u64)?;
                for (slot, module) in list.iter_mut().zip(facts.modules) {
                    *slot = file(module, facts.volume, arena)?;
                }
                // Revision 0: the kernel's internal modules (request revision 1) are not loaded.
                Some(hhdm(arena.put(ModuleResponse {
                    revision: 0,
                    module_count: list.len() as u64,
                    modules: hhdm(list.as_ptr()),
                })?))
            }
            id::MODULE => None,
            // Base revisions before 3 report the RSDP through the HHDM.
            id::RSDP => facts
                .rsdp
                .map(|rsdp| {
                    arena.put(RsdpResponse { revision: 0, address: rsdp + HHDM_OFFSET }).map(|r| hhdm(r))
                })
                .transpose()?,
            // Built by `mp::prepare`, completed once the APs are started.
            id::MP => facts.mp,
            id::EXECUTABLE_ADDRESS => Some(hhdm(arena.put(ExecutableAddressResponse {
                revision: 0,
                physical_base: facts.physical_base,
                virtual_base: facts.virtual_base,
            })?)),
            _ => {
                answers.unsupported += 1;
                None
            }
        };
        if let Some(address) = response {
            image[found.word + request::RESPONSE] = address;
            answers.answered += 1;
        }
    }
    Ok(answers)
}

/// A `limine_file` for `answer`; returns its HHDM address.
fn file(answer: &FileAnswer, volume: VolumeInfo, arena: &mut Arena) -> Result<u64, Error> {
    let path = arena.c_string(answer.path)?;
    let cmdline = arena.c_string(answer.cmdline)?;
    let file = File {
        revision: 0,
        address: answer.file.hhdm_address(),
        size: answer.file.size(),
        path,
        cmdline,
        media_type: if volume.optical { protocol::MEDIA_OPTICAL } else { protocol::MEDIA_GENERIC },
        unused: 0,
        tftp_ip: 0,
        tftp_port: 0,
        partition_index: volume.partition.unwrap_or(0),
        mbr_disk_id: volume.mbr_disk_id,
        gpt_disk_uuid: [0; 16],
        gpt_part_uuid: volume.gpt_part_uuid,
        part_uuid: [0; 16],
    };
    Ok(hhdm(arena.put(file)?))
}

/// The framebuffer response (revision 1: with the mode list); returns its HHDM address.
fn framebuffer(fb: &Framebuffer, arena: &mut Arena) -> Result<u64, Error> {
    let modes = arena.slice(fb.modes.len(), 0u64)?;
    for (slot, mode) in modes.iter_mut().zip(&fb.modes) {
        *slot = hhdm(arena.put(VideoMode {
            pitch: mode.pitch,
            width: mode.width,
            height: mode.height,
            layout: mode.layout,
        })?);
    }
    let current = fb.current;
    let framebuffer = arena.put(protocol::Framebuffer {
        address: fb.address + HHDM_OFFSET,
        width: current.width,
        height: current.height,
        pitch: current.pitch,
        layout: current.layout,
        unused: [0; 7],
        edid_size: 0,
        edid: 0,
        mode_count: modes.len() as u64,
        modes: hhdm(modes.as_ptr()),
    })?;
    let list = arena.slice(1, hhdm(framebuffer))?;
    Ok(hhdm(arena.put(FramebufferResponse {
        revision: 1,
        framebuffer_count: 1,
        framebuffers: hhdm(list.as_ptr()),
    })?))
}
