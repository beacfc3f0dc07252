//! The Limine boot protocol's wire format, as PROTOCOL.md (Limine 8.x, base revision 2) defines
//! it: magic numbers, request IDs and the response structures this loader writes.
//!
//! Every pointer the loader stores in a response is an HHDM address (physical + [`HHDM_OFFSET`]).

/// Where the higher-half direct map starts under 4-level paging.
pub const HHDM_OFFSET: u64 = 0xffff_8000_0000_0000;

/// The highest base revision this loader implements.
pub const HIGHEST_BASE_REVISION: u64 = 2;

/// First two words of the base-revision tag; the third is the requested revision.
pub const BASE_REVISION_MAGIC: [u64; 2] = [0xf956_2b2d_5c95_a6c8, 0x6a7b_3849_4453_6bdc];

/// Requests are only honoured after the last of these...
pub const REQUESTS_START_MARKER: [u64; 4] =
    [0xf6b8_f4b3_9de7_d1ae, 0xfab9_1a69_40fc_b9cf, 0x785c_6ed0_15d3_e316, 0x181e_920a_7852_b9d9];

/// ...and before the first of these.
pub const REQUESTS_END_MARKER: [u64; 2] = [0xadc0_e053_1bb1_0d03, 0x9572_709f_3176_4c62];

/// First two words of every request ID.
pub const COMMON_MAGIC: [u64; 2] = [0xc7b1_dd30_df4c_8b88, 0x0a82_e883_a194_f07b];

/// Word offsets inside a request: `id[4]`, `revision`, `response`, then per-request fields.
pub mod request {
    /// The request's revision.
    pub const REVISION: usize = 4;
    /// The response pointer the loader fills in.
    pub const RESPONSE: usize = 5;
    /// The first request-specific field (e.g. the stack size request's `stack_size`).
    pub const FIRST_FIELD: usize = 6;
    /// Words in the common part: a request shorter than this cannot be answered.
    pub const HEADER_WORDS: usize = 6;
}

/// The last two words of the request IDs this loader answers.
pub mod id {
    /// Bootloader name and version.
    pub const BOOTLOADER_INFO: [u64; 2] = [0xf550_38d8_e2a1_202f, 0x2794_26fc_f5f5_9740];
    /// Boot stack size.
    pub const STACK_SIZE: [u64; 2] = [0x224e_f046_0a8e_8926, 0xe1cb_0fc2_5f46_ea3d];
    /// Higher-half direct map offset.
    pub const HHDM: [u64; 2] = [0x48dc_f1cb_8ad2_b852, 0x6398_4e95_9a98_244b];
    /// Framebuffers.
    pub const FRAMEBUFFER: [u64; 2] = [0x9d58_27dc_d881_dd75, 0xa314_8604_f6fa_b11b];
    /// Physical memory map.
    pub const MEMORY_MAP: [u64; 2] = [0x67cf_3d9d_378a_806f, 0xe304_acdf_c50c_3c62];
    /// The executable (kernel) file, called "kernel file" before Limine 9.
    pub const EXECUTABLE_FILE: [u64; 2] = [0xad97_e90e_83f1_ed67, 0x31eb_5d1c_5ff2_3b69];
    /// Modules.
    pub const MODULE: [u64; 2] = [0x3e7e_2797_02be_32af, 0xca1c_4f3b_d128_0cee];
    /// ACPI RSDP.
    pub const RSDP: [u64; 2] = [0xc5e7_7b6b_397e_7b43, 0x2763_7845_accd_cf3c];
    /// Physical and virtual base of the executable, called "kernel address" before Limine 9.
    pub const EXECUTABLE_ADDRESS: [u64; 2] = [0x71ba_7686_3cc5_5f63, 0xb264_4a48_c516_a487];
    /// Multiprocessor: start the application processors and park them (called SMP before Limine 8).
    pub const MP: [u64; 2] = [0x95a6_7b81_9a1b_857e, 0xa0b6_1b72_3b6a_73e0];
}

/// `struct limine_bootloader_info_response`.
#[repr(C)]
pub struct BootloaderInfoResponse {
    pub revision: u64,
    pub name: u64,
    pub version: u64,
}

/// `struct limine_stack_size_response`.
#[repr(C)]
pub struct StackSizeResponse {
    pub revision: u64,
}

/// `struct limine_hhdm_response`.
#[repr(C)]
pub struct HhdmResponse {
    pub revision: u64,
    pub offset: u64,
}

/// `struct limine_framebuffer_response`.
#[repr(C)]
pub struct FramebufferResponse {
    pub revision: u64,
    pub framebuffer_count: u64,
    pub framebuffers: u64,
}

/// `LIMINE_FRAMEBUFFER_RGB`, the only memory model.
pub const FRAMEBUFFER_RGB: u8 = 1;

/// Pixel layout shared by a framebuffer and its video modes. Packed: in C these nine bytes sit
/// unpadded between `pitch` and the next field.
#[repr(C, packed)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelLayout {
    pub bpp: u16,
    pub memory_model: u8,
    pub red_mask_size: u8,
    pub red_mask_shift: u8,
    pub green_mask_size: u8,
    pub green_mask_shift: u8,
    pub blue_mask_size: u8,
    pub blue_mask_shift: u8,
}

/// `struct limine_framebuffer` (response revision 1, with the video-mode list).
#[repr(C)]
pub struct Framebuffer {
    pub address: u64,
    pub width: u64,
    pub height: u64,
    pub pitch: u64,
    pub layout: PixelLayout,
    pub unused: [u8; 7],
    pub edid_size: u64,
    pub edid: u64,
    pub mode_count: u64,
    pub modes: u64,
}

/// `struct limine_video_mode`.
#[repr(C)]
pub struct VideoMode {
    pub pitch: u64,
    pub width: u64,
    pub height: u64,
    pub layout: PixelLayout,
}

/// `struct limine_memmap_response`; its entries are [`crate::memory_map::Entry`].
#[repr(C)]
pub struct MemoryMapResponse {
    pub revision: u64,
    pub entry_count: u64,
    pub entries: u64,
}

/// `LIMINE_MEDIA_TYPE_GENERIC`.
pub const MEDIA_GENERIC: u32 = 0;
/// `LIMINE_MEDIA_TYPE_OPTICAL`.
pub const MEDIA_OPTICAL: u32 = 1;

/// `struct limine_file`; the UUIDs are kept in their in-memory (GUID) byte order.
#[repr(C)]
pub struct File {
    pub revision: u64,
    pub address: u64,
    pub size: u64,
    pub path: u64,
    pub cmdline: u64,
    pub media_type: u32,
    pub unused: u32,
    pub tftp_ip: u32,
    pub tftp_port: u32,
    pub partition_index: u32,
    pub mbr_disk_id: u32,
    pub gpt_disk_uuid: [u8; 16],
    pub gpt_part_uuid: [u8; 16],
    pub part_uuid: [u8; 16],
}

/// `struct limine_kernel_file_response` (Limine 9: executable file).
#[repr(C)]
pub struct ExecutableFileResponse {
    pub revision: u64,
    pub file: u64,
}

/// `struct limine_module_response`.
#[repr(C)]
pub struct ModuleResponse {
    pub revision: u64,
    pub module_count: u64,
    pub modules: u64,
}

/// `struct limine_rsdp_response`.
#[repr(C)]
pub struct RsdpResponse {
    pub revision: u64,
    pub address: u64,
}

/// `struct limine_kernel_address_response` (Limine 9: executable address).
#[repr(C)]
pub struct ExecutableAddressResponse {
    pub revision: u64,
    pub physical_base: u64,
    pub virtual_base: u64,
}

/// `LIMINE_MP_X2APIC` in the MP response's `flags`: the local APICs are in x2APIC mode. (The
/// same bit in the request's `flags`, its first field, asks for that mode; this loader leaves
/// the APICs in the mode the firmware chose, and this bit says which it is.)
pub const MP_X2APIC: u32 = 1 << 0;

/// `struct limine_mp_response` (x86_64).
#[repr(C)]
pub struct MpResponse {
    pub revision: u64,
    pub flags: u32,
    pub bsp_lapic_id: u32,
    pub cpu_count: u64,
    /// HHDM address of `cpu_count` HHDM pointers to [`MpInfo`].
    pub cpus: u64,
}

/// `struct limine_mp_info` (x86_64): one per CPU, the BSP's included.
#[repr(C)]
pub struct MpInfo {
    /// ACPI processor UID, from the MADT.
    pub processor_id: u32,
    pub lapic_id: u32,
    /// For the bootloader: this loader keeps the HHDM address of the AP's stack top here.
    pub reserved: u64,
    /// Written by the kernel; a parked AP jumps there with RDI pointing at this structure.
    pub goto_address: u64,
    /// Free for the kernel.
    pub extra_argument: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_limine_h() {
        assert_eq!(size_of::<PixelLayout>(), 9);
        assert_eq!(offset_of!(Framebuffer, layout), 32);
        assert_eq!(offset_of!(Framebuffer, edid_size), 48);
        assert_eq!(offset_of!(Framebuffer, modes), 72);
        assert_eq!(size_of::<Framebuffer>(), 80);
        assert_eq!(offset_of!(VideoMode, layout), 24);
        assert_eq!(size_of::<VideoMode>(), 40);
        assert_eq!(offset_of!(File, media_type), 40);
        assert_eq!(offset_of!(File, gpt_disk_uuid), 64);
        assert_eq!(size_of::<File>(), 112);
        assert_eq!(offset_of!(MpResponse, flags), 8);
        assert_eq!(offset_of!(MpResponse, bsp_lapic_id), 12);
        assert_eq!(offset_of!(MpResponse, cpu_count), 16);
        assert_eq!(offset_of!(MpResponse, cpus), 24);
        assert_eq!(size_of::<MpResponse>(), 32);
        assert_eq!(offset_of!(MpInfo, lapic_id), 4);
        assert_eq!(offset_of!(MpInfo, reserved), 8);
        assert_eq!(offset_of!(MpInfo, goto_address), 16);
        assert_eq!(offset_of!(MpInfo, extra_argument), 24);
        assert_eq!(size_of::<MpInfo>(), 32);
    }
}
