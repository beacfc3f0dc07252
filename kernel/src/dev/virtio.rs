//! The DMA guard for virtio 1.x PCI devices: which writes of a driver to the device's common
//! configuration could make the device read or write memory outside the driver's DMA buffers,
//! and what the kernel does instead. Everything else a virtio driver does, it does itself.
//!
//! A split virtqueue reaches memory through three addresses in the common configuration
//! (descriptor table, driver ring, device ring), each sized by the queue size, and through the
//! descriptors in the table. So the guard:
//! - refuses raw writes to the three address registers: `sys_dev_dma_addr` writes them from a
//!   DMA buffer the kernel checks and records (the session keeps the records);
//! - lets a queue be enabled only when its recorded rings hold the queue's size, the table
//!   being a descriptor table (which only the kernel writes) and the rings data;
//! - refuses to resize an enabled queue, to re-address one, to disable one (only a reset does),
//!   and every write past the fields it knows (a later virtio's per-queue reset among them);
//! - refuses the features that would change where the device looks: packed rings, and
//!   anything above the few of the second feature word it knows to be harmless;
//! - sees a reset (status 0) through, waiting until the device reports it, so the session can
//!   let go of the rings.
//!
//! The legacy interface of a transitional device (I/O BAR 0) takes a queue's physical page
//! number in a register, so the session refuses port I/O to a guarded device altogether.

use super::pci::{self, Function};

/// A vendor capability's `cfg_type` naming the common configuration.
const COMMON_CFG: u8 = 1;
/// Virtio's PCI vendor id.
const VENDOR: u16 = 0x1af4;

// Common configuration fields (virtio 1.x §4.1.4.3), by offset.
const DRIVER_FEATURE_SELECT: u64 = 0x08;
const DRIVER_FEATURE: u64 = 0x0c;
const NUM_QUEUES: u64 = 0x12;
const DEVICE_STATUS: u64 = 0x14;
const QUEUE_SELECT: u64 = 0x16;
const QUEUE_SIZE: u64 = 0x18;
const QUEUE_ENABLE: u64 = 0x1c;
const QUEUE_DESC: u64 = 0x20;
const QUEUE_DRIVER: u64 = 0x28;
const QUEUE_DEVICE: u64 = 0x30;
/// The end of the fields the guard knows.
const KNOWN_END: u64 = 0x38;

/// Every field the guard knows: offset and width. A write must match one exactly.
const FIELDS: [(u64, u8); 16] = [
    (0x00, 4), // device_feature_select
    (0x04, 4), // device_feature (read-only)
    (DRIVER_FEATURE_SELECT, 4),
    (DRIVER_FEATURE, 4),
    (0x10, 2), // config_msix_vector
    (NUM_QUEUES, 2),
    (DEVICE_STATUS, 1),
    (0x15, 1), // config_generation (read-only)
    (QUEUE_SELECT, 2),
    (QUEUE_SIZE, 2),
    (0x1a, 2), // queue_msix_vector: an index into the MSI-X table, which the kernel keeps
    (QUEUE_ENABLE, 2),
    (0x1e, 2), // queue_notify_off (read-only)
    (QUEUE_DESC, 8),
    (QUEUE_DRIVER, 8),
    (QUEUE_DEVICE, 8),
];

/// Feature bits 32 to 63 a driver may accept: VERSION_1 (32), ACCESS_PLATFORM (33), IN_ORDER
/// (35), ORDER_PLATFORM (36), NOTIFICATION_DATA (38), NOTIF_CONFIG_DATA (39). Not RING_PACKED
/// (34), SR_IOV (37), RING_RESET (40) or anything later.
const ALLOWED_HIGH_FEATURES: u32 = 1 << 0 | 1 << 1 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 7;

/// Most queues the guard keeps records for; a device claiming more gets this many.
pub const MAX_QUEUES: u16 = 64;

/// Reads of the device's common configuration, at offsets from its start.
pub trait Common {
    /// Reads `width` (1, 2 or 4) bytes at `offset`.
    fn read(&mut self, offset: u64, width: u8) -> u32;
}

/// One of a split virtqueue's three areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    /// The descriptor table, 16 bytes a descriptor.
    Descriptors,
    /// The driver (available) ring, which the device reads.
    Driver,
    /// The device (used) ring, which the device writes.
    Device,
}

impl Ring {
    /// Bytes the area takes for a queue of `size` entries (event index fields included).
    pub fn bytes(self, size: u16) -> usize {
        let size = usize::from(size);
        match self {
            Self::Descriptors => 16 * size,
            Self::Driver => 6 + 2 * size,
            Self::Device => 6 + 8 * size,
        }
    }

    /// All three, in the order a session keeps them.
    pub const ALL: [Ring; 3] = [Ring::Descriptors, Ring::Driver, Ring::Device];
}

/// What the guard makes of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Harmless: write it.
    Pass,
    /// Refused (`E_DENIED`).
    Refuse,
    /// A reset: write it, wait for the device to report it, then forget every queue.
    Reset,
    /// Enables queue `queue` of `size` entries: allowed once its rings are checked.
    Enable { queue: u16, size: u16 },
}

/// Where a guarded device's common configuration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// The BAR holding it.
    pub bar: u8,
    /// Its offset in the BAR.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl Guard {
    /// The guard for `function` if it is a virtio device with a modern common configuration;
    /// `read_config` reads a 32-bit configuration register.
    pub fn find(function: &Function, mut read_config: impl FnMut(u8) -> u32) -> Option<Self> {
        if function.vendor != VENDOR || !(0x1000..=0x107f).contains(&function.device) {
            return None;
        }
        function.capabilities.iter().filter(|c| c.id == pci::CAP_VENDOR).find_map(|cap| {
            let head = read_config(cap.offset);
            let (cfg_type, bar) = ((head >> 24) as u8, read_config(cap.offset + 4) as u8);
            let (offset, len) = (read_config(cap.offset + 8), read_config(cap.offset + 12));
            (cfg_type == COMMON_CFG && bar < 6 && u64::from(len) >= KNOWN_END).then_some(Self {
                bar,
                offset: u64::from(offset),
                len: u64::from(len),
            })
        })
    }

    /// The offset within the common configuration of `width` bytes at `offset` of `bar`, if
    /// they touch it.
    fn field(&self, bar: u8, offset: u64, width: u8) -> Option<u64> {
        let end = offset + u64::from(width);
        (bar == self.bar && end > self.offset && offset < self.offset + self.len)
            .then(|| offset.wrapping_sub(self.offset))
    }

    /// Judges a driver's write of `value`, `width` bytes at `offset` of `bar`.
    pub fn judge(&self, bar: u8, offset: u64, width: u8, value: u32, common: &mut impl Common) -> Verdict {
        let Some(at) = self.field(bar, offset, width) else { return Verdict::Pass };
        // A write straddling the start, or past the fields known, or of another width.
        if at >= KNOWN_END || !FIELDS.contains(&(at, width)) {
            return Verdict::Refuse;
        }
        match at {
            QUEUE_DESC | QUEUE_DRIVER | QUEUE_DEVICE => Verdict::Refuse,
            DRIVER_FEATURE => match common.read(DRIVER_FEATURE_SELECT, 4) {
                0 => Verdict::Pass,
                1 if value & !ALLOWED_HIGH_FEATURES == 0 => Verdict::Pass,
                _ if value == 0 => Verdict::Pass,
                _ => Verdict::Refuse,
            },
            DEVICE_STATUS if value == 0 => Verdict::Reset,
            QUEUE_SIZE if self.selected_enabled(common) => Verdict::Refuse,
            QUEUE_ENABLE if value != 1 => Verdict::Refuse,
            QUEUE_ENABLE => {
                let queue = common.read(QUEUE_SELECT, 2) as u16;
                match common.read(QUEUE_SIZE, 2) as u16 {
                    0 => Verdict::Refuse,
                    size => Verdict::Enable { queue, size },
                }
            }
            _ => Verdict::Pass,
        }
    }

    /// Which ring of which queue the address register at `offset` of `bar` holds, for
    /// `sys_dev_dma_addr`: `None` unless it is one of the three, of a queue not yet enabled.
    pub fn address_register(&self, bar: u8, offset: u64, common: &mut impl Common) -> Option<(u16, Ring)> {
        let ring = match self.field(bar, offset, 8)? {
            QUEUE_DESC => Ring::Descriptors,
            QUEUE_DRIVER => Ring::Driver,
            QUEUE_DEVICE => Ring::Device,
            _ => return None,
        };
        if self.selected_enabled(common) {
            return None;
        }
        Some((common.read(QUEUE_SELECT, 2) as u16, ring))
    }

    /// Queues the device has, at most [`MAX_QUEUES`].
    pub fn queues(&self, common: &mut impl Common) -> u16 {
        (common.read(NUM_QUEUES, 2) as u16).min(MAX_QUEUES)
    }

    /// Whether the device reports a finished reset.
    pub fn is_reset(&self, common: &mut impl Common) -> bool {
        common.read(DEVICE_STATUS, 1) == 0
    }

    /// The offset in its BAR of the device status field, which a reset writes.
    pub fn status_offset(&self) -> u64 {
        self.offset + DEVICE_STATUS
    }

    fn selected_enabled(&self, common: &mut impl Common) -> bool {
        common.read(QUEUE_ENABLE, 2) != 0
    }
}

#[cfg(test)]
mod tests;
