//! Limine boot-protocol requests, and the one place the kernel reads their responses.
//!
//! The requests sit between the start and end markers in `.limine_requests` (see `linker.ld`),
//! which base revision 2 makes loaders honour. Base revision 2 is what Limine 8.x and the
//! project's own loader (`limine/loader`) both implement; the kernel checks that the loader
//! acknowledged it before trusting any response layout.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;
use limine::BaseRevision;
use limine::memory_map::EntryType;
use limine::request::{
    BootloaderInfoRequest, ExecutableAddressRequest, ExecutableFileRequest, FramebufferRequest, HhdmRequest,
    MemoryMapRequest, ModuleRequest, MpRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
    StackSizeRequest,
};
use spin::Once;

/// The protocol revision the kernel is written against.
pub const BASE_REVISION_NUMBER: u64 = 2;

/// Stack the loader must give the boot CPU; startup and exception reports run on it.
pub const BOOT_STACK_SIZE: u64 = 256 * 1024;

#[used]
#[unsafe(link_section = ".limine_requests_start")]
static REQUESTS_START: RequestsStartMarker = RequestsStartMarker::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(BASE_REVISION_NUMBER);

#[used]
#[unsafe(link_section = ".limine_requests")]
static BOOTLOADER_INFO: BootloaderInfoRequest = BootloaderInfoRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static STACK_SIZE: StackSizeRequest = StackSizeRequest::new().with_size(BOOT_STACK_SIZE);

#[used]
#[unsafe(link_section = ".limine_requests")]
static HHDM: HhdmRequest = HhdmRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static FRAMEBUFFER: FramebufferRequest = FramebufferRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static MODULES: ModuleRequest = ModuleRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static RSDP: RsdpRequest = RsdpRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static EXECUTABLE_ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests")]
static EXECUTABLE_FILE: ExecutableFileRequest = ExecutableFileRequest::new();

/// The other CPUs, parked by the loader until the kernel gives each somewhere to go.
#[used]
#[unsafe(link_section = ".limine_requests")]
static MP: MpRequest = MpRequest::new();

#[used]
#[unsafe(link_section = ".limine_requests_end")]
static REQUESTS_END: RequestsEndMarker = RequestsEndMarker::new();

/// Why the kernel refuses to trust what the loader handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootError {
    /// The loader left the base-revision tag untouched: it does not speak the protocol at all.
    NotLimine,
    /// The loader speaks the protocol but not revision 2; it booted us under `loaded`.
    RevisionUnsupported { loaded: Option<u64> },
    /// A response the kernel cannot run without is missing.
    MissingResponse(&'static str),
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotLimine => write!(f, "the loader did not answer the Limine base-revision tag"),
            Self::RevisionUnsupported { loaded: Some(r) } => write!(
                f,
                "the loader does not support Limine base revision {BASE_REVISION_NUMBER} (it used {r}); use Limine 8.x or later"
            ),
            Self::RevisionUnsupported { loaded: None } => write!(
                f,
                "the loader does not support Limine base revision {BASE_REVISION_NUMBER}; use Limine 8.x or later"
            ),
            Self::MissingResponse(what) => write!(f, "the loader gave no {what} response"),
        }
    }
}

/// What the kernel keeps of the loader's responses, copied out of loader memory so that memory
/// can be reclaimed.
#[derive(Debug)]
pub struct BootInfo {
    /// Loader name and version, as it reports itself.
    pub loader: (String, String),
    /// The kernel command line.
    pub cmdline: String,
    /// Offset of the direct map of physical memory.
    pub hhdm_offset: u64,
    /// The first framebuffer, if any.
    pub framebuffer: Option<FramebufferInfo>,
    /// Files loaded beside the kernel.
    pub modules: Vec<Module>,
    /// The kernel's own ELF file, as loaded (for its symbols), if the loader gave it.
    pub kernel_file: Option<&'static [u8]>,
    /// Physical address of the ACPI RSDP, if the firmware has one.
    pub rsdp: Option<u64>,
    /// Physical and virtual base of the kernel image.
    pub kernel_base: (u64, u64),
    /// Bytes of usable memory in the loader's map.
    pub usable_bytes: u64,
    /// Loader memory the kernel may take once nothing reads the responses any more.
    pub reclaimable: Vec<Range<u64>>,
}

/// A linear framebuffer and its pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramebufferInfo {
    /// Virtual (HHDM) address of the first pixel.
    pub address: u64,
    /// Pixels per line.
    pub width: u64,
    /// Lines.
    pub height: u64,
    /// Bytes per line.
    pub pitch: u64,
    /// Bits per pixel.
    pub bpp: u16,
    /// Size and shift of the red, green and blue channels.
    pub channels: [(u8, u8); 3],
}

impl FramebufferInfo {
    /// Bytes of framebuffer memory: `pitch` bytes for each of `height` lines.
    pub fn size(&self) -> usize {
        (self.pitch * self.height) as usize
    }

    /// The framebuffer's memory, or `OutOfBounds` if `offset`/`len` reach past it.
    fn span(&self, offset: usize, len: usize) -> Result<*mut u8, crate::error::Error> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size() => Ok((self.address as usize + offset) as *mut u8),
            _ => Err(crate::error::Error::OutOfBounds),
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), crate::error::Error> {
        let src = self.span(offset, buf.len())?;
        // SAFETY: `span` checked the bytes lie inside the framebuffer, which the loader mapped
        // and the kernel's direct map keeps mapped; device memory is never aliased by Rust data.
        unsafe { core::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), crate::error::Error> {
        let dst = self.span(offset, data.len())?;
        // SAFETY: as in `read`.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }
}

/// A module file the loader placed in memory.
#[derive(Debug)]
pub struct Module {
    /// The path it was loaded from.
    pub path: String,
    /// Its command-line string.
    pub cmdline: String,
    /// The file's bytes, in memory the loader marked executable-and-modules, which the kernel
    /// never reuses.
    pub data: &'static [u8],
}

static INFO: Once<BootInfo> = Once::new();

/// Copies the responses into kernel memory (needs the heap); later calls return the first copy.
pub fn snapshot() -> Result<&'static BootInfo, BootError> {
    if let Some(info) = INFO.get() {
        return Ok(info);
    }
    let memory_map = memory_map()?;
    let info = BootInfo {
        loader: (loader().0.to_string(), loader().1.to_string()),
        cmdline: cmdline().to_string(),
        hhdm_offset: hhdm_offset()?,
        framebuffer: framebuffer().map(|fb| FramebufferInfo {
            address: fb.addr() as u64,
            width: fb.width(),
            height: fb.height(),
            pitch: fb.pitch(),
            bpp: fb.bpp(),
            channels: [
                (fb.red_mask_size(), fb.red_mask_shift()),
                (fb.green_mask_size(), fb.green_mask_shift()),
                (fb.blue_mask_size(), fb.blue_mask_shift()),
            ],
        }),
        modules: modules()
            .iter()
            .map(|m| Module {
                path: m.path().to_string_lossy().into_owned(),
                cmdline: m.string().to_string_lossy().into_owned(),
                // SAFETY: the loader placed the module at `addr` for `size` bytes in
                // executable-and-modules memory, which stays mapped by the HHDM and unused.
                data: unsafe { core::slice::from_raw_parts(m.addr(), m.size() as usize) },
            })
            .collect(),
        // SAFETY: as for the modules: the loader placed the kernel file in executable-and-modules
        // memory, which stays mapped by the HHDM and unused.
        kernel_file: EXECUTABLE_FILE
            .get_response()
            .map(|r| unsafe { core::slice::from_raw_parts(r.file().addr(), r.file().size() as usize) }),
        rsdp: RSDP.get_response().map(|r| r.address() as u64),
        kernel_base: kernel_address()?,
        usable_bytes: memory_map.iter().filter(|e| e.entry_type == EntryType::USABLE).map(|e| e.length).sum(),
        reclaimable: memory_map
            .iter()
            .filter(|e| e.entry_type == EntryType::BOOTLOADER_RECLAIMABLE)
            .map(|e| e.base..e.base + e.length)
            .collect(),
    };
    Ok(INFO.call_once(|| info))
}

/// The snapshot taken by [`snapshot`], if it has been.
pub fn info() -> Option<&'static BootInfo> {
    INFO.get()
}

/// Checks the base-revision handshake.
pub fn check_revision() -> Result<(), BootError> {
    if BASE_REVISION.is_supported() {
        Ok(())
    } else if BASE_REVISION.is_valid() {
        Err(BootError::RevisionUnsupported { loaded: BASE_REVISION.loaded_revision() })
    } else {
        // Revision-0-era loaders never touch the tag's second word.
        Err(BootError::RevisionUnsupported { loaded: None })
    }
}

/// Name and version of the loader, as it reports itself.
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn loader() -> (&'static str, &'static str) {
    BOOTLOADER_INFO.get_response().map_or(("unknown", "?"), |r| (r.name(), r.version()))
}

/// Offset of the higher-half direct map of physical memory.
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn hhdm_offset() -> Result<u64, BootError> {
    HHDM.get_response().map(|r| r.offset()).ok_or(BootError::MissingResponse("HHDM"))
}

/// The physical memory map.
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn memory_map() -> Result<&'static [&'static limine::memory_map::Entry], BootError> {
    MEMORY_MAP.get_response().map(|r| r.entries()).ok_or(BootError::MissingResponse("memory map"))
}

/// The first framebuffer, if the loader set one up.
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn framebuffer() -> Option<limine::framebuffer::Framebuffer<'static>> {
    FRAMEBUFFER.get_response()?.framebuffers().next()
}

/// Modules loaded beside the kernel (the ramdisk).
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn modules() -> &'static [&'static limine::file::File] {
    MODULES.get_response().map_or(&[], |r| r.modules())
}

/// Physical and virtual base of the loaded kernel image.
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn kernel_address() -> Result<(u64, u64), BootError> {
    EXECUTABLE_ADDRESS
        .get_response()
        .map(|r| (r.physical_base(), r.virtual_base()))
        .ok_or(BootError::MissingResponse("executable address"))
}

/// The loader's list of CPUs (the boot CPU among them), if it answered the MP request.
///
/// Reads loader memory: valid only until it is reclaimed.
pub fn cpus() -> Option<&'static limine::response::MpResponse> {
    MP.get_response()
}

/// The kernel command line from the loader's configuration (empty when none was given).
///
/// Reads loader memory: valid only until it is reclaimed; later, use [`snapshot`].
pub fn cmdline() -> &'static str {
    EXECUTABLE_FILE.get_response().and_then(|r| r.file().string().to_str().ok()).unwrap_or("")
}
