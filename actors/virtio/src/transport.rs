//! The virtio 1.x PCI transport (virtio spec §4.1): where the device keeps its common
//! configuration, notification area and own configuration (found from its vendor capabilities),
//! and the steps of bringing it up. Queue addresses go through the kernel
//! (`Device::set_dma_address`); everything else is plain register access.

use sdk::Error;
use sdk::dev::{Device, DmaBuffer};

/// Vendor-specific PCI capability, which virtio's structures are.
const CAP_VENDOR: u32 = 0x09;
/// `cfg_type`s of the virtio capabilities.
const COMMON_CFG: u32 = 1;
const NOTIFY_CFG: u32 = 2;
const DEVICE_CFG: u32 = 4;

// Common configuration fields (virtio 1.x §4.1.4.3), by offset.
const DEVICE_FEATURE_SELECT: u32 = 0x00;
const DEVICE_FEATURE: u32 = 0x04;
/// The common configuration's `driver_feature_select` field.
pub const DRIVER_FEATURE_SELECT: u32 = 0x08;
/// The common configuration's `driver_feature` field.
pub const DRIVER_FEATURE: u32 = 0x0c;
const CONFIG_MSIX_VECTOR: u32 = 0x10;
/// The common configuration's `device_status` field.
pub const DEVICE_STATUS: u32 = 0x14;
/// The common configuration's `queue_select` field.
pub const QUEUE_SELECT: u32 = 0x16;
/// The common configuration's `queue_size` field.
pub const QUEUE_SIZE: u32 = 0x18;
const QUEUE_MSIX_VECTOR: u32 = 0x1a;
/// The common configuration's `queue_enable` field.
pub const QUEUE_ENABLE: u32 = 0x1c;
const QUEUE_NOTIFY_OFF: u32 = 0x1e;
/// The common configuration's `queue_desc` field.
pub const QUEUE_DESC: u32 = 0x20;
/// The common configuration's `queue_driver` field.
pub const QUEUE_DRIVER: u32 = 0x28;
/// The common configuration's `queue_device` field.
pub const QUEUE_DEVICE: u32 = 0x30;

/// Device status bits.
pub const ACKNOWLEDGE: u32 = 1;
pub const DRIVER: u32 = 2;
pub const DRIVER_OK: u32 = 4;
pub const FEATURES_OK: u32 = 8;

/// "No MSI-X vector" for a queue or the configuration.
pub const NO_VECTOR: u16 = 0xffff;

/// A register area: BAR and offset.
#[derive(Debug, Clone, Copy)]
struct Area {
    bar: u8,
    offset: u32,
}

/// Why the device cannot be driven.
#[derive(Debug)]
pub enum TransportError {
    /// A virtio structure the driver needs is not among the device's capabilities.
    Missing(&'static str),
    /// The device refused the features (FEATURES_OK did not stay set).
    FeaturesRefused,
    /// A queue the driver needs does not exist.
    NoQueue(u16),
    /// A host call failed.
    Kernel(&'static str, Error),
}

impl core::fmt::Display for TransportError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Missing(what) => write!(f, "the device has no {what}"),
            Self::FeaturesRefused => f.write_str("the device refused the features offered"),
            Self::NoQueue(queue) => write!(f, "the device has no queue {queue}"),
            Self::Kernel(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

/// Tags an SDK error with what was being done.
pub trait Context<T> {
    /// `Err(e)` becomes `TransportError::Kernel(what, e)`.
    fn context(self, what: &'static str) -> Result<T, TransportError>;
}

impl<T> Context<T> for Result<T, Error> {
    fn context(self, what: &'static str) -> Result<T, TransportError> {
        self.map_err(|e| TransportError::Kernel(what, e))
    }
}

/// A virtio PCI device's registers.
pub struct Transport {
    device: Device,
    common: Area,
    notify: Area,
    notify_multiplier: u32,
    config: Area,
}

impl Transport {
    /// Finds the device's virtio structures by walking its capability list.
    pub fn new(device: Device) -> Result<Self, TransportError> {
        let (mut common, mut notify, mut config, mut multiplier) = (None, None, None, 0);
        let mut at = device.config(0x34, 1).context("reading the capability pointer")? & 0xfc;
        // A list longer than configuration space holds is a loop.
        for _ in 0..48 {
            if at == 0 {
                break;
            }
            let head = device.config(at as u8, 4).context("reading a capability")?;
            if head & 0xff == CAP_VENDOR {
                let bar = device.config(at as u8 + 4, 1).context("reading a capability")? as u8;
                let offset = device.config(at as u8 + 8, 4).context("reading a capability")?;
                let area = Some(Area { bar, offset });
                match head >> 24 {
                    COMMON_CFG => common = common.or(area),
                    NOTIFY_CFG if notify.is_none() => {
                        notify = area;
                        multiplier = device.config(at as u8 + 16, 4).context("reading a capability")?;
                    }
                    DEVICE_CFG => config = config.or(area),
                    _ => {}
                }
            }
            at = (head >> 8) & 0xfc;
        }
        Ok(Self {
            device,
            common: common.ok_or(TransportError::Missing("common configuration"))?,
            notify: notify.ok_or(TransportError::Missing("notification area"))?,
            notify_multiplier: multiplier,
            config: config.ok_or(TransportError::Missing("device configuration"))?,
        })
    }

    /// The BAR and offset of the common configuration's field at `field` (for checks that
    /// write a register the kernel must refuse).
    pub fn common_register(&self, field: u32) -> (u8, u32) {
        (self.common.bar, self.common.offset + field)
    }

    /// The device, for its DMA buffers and interrupts.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn read(&self, field: u32, width: u8) -> Result<u32, TransportError> {
        self.device
            .read(self.common.bar, self.common.offset + field, width)
            .context("reading the common configuration")
    }

    fn write(&self, field: u32, width: u8, value: u32) -> Result<(), TransportError> {
        self.device
            .write(self.common.bar, self.common.offset + field, width, value)
            .context("writing the common configuration")
    }

    /// Resets the device (the kernel waits until it is done), then says a driver is here.
    pub fn reset(&self) -> Result<(), TransportError> {
        self.write(DEVICE_STATUS, 1, 0)?;
        self.add_status(ACKNOWLEDGE | DRIVER)
    }

    /// Sets more status bits.
    pub fn add_status(&self, bits: u32) -> Result<(), TransportError> {
        let status = self.read(DEVICE_STATUS, 1)?;
        self.write(DEVICE_STATUS, 1, status | bits)
    }

    /// Accepts the features of `wanted` the device offers; returns them.
    pub fn negotiate(&self, wanted: u64) -> Result<u64, TransportError> {
        let mut offered = 0u64;
        for word in 0..2 {
            self.write(DEVICE_FEATURE_SELECT, 4, word)?;
            offered |= u64::from(self.read(DEVICE_FEATURE, 4)?) << (32 * word);
        }
        let accepted = offered & wanted;
        for word in 0..2 {
            self.write(DRIVER_FEATURE_SELECT, 4, word)?;
            self.write(DRIVER_FEATURE, 4, (accepted >> (32 * word)) as u32)?;
        }
        self.add_status(FEATURES_OK)?;
        if self.read(DEVICE_STATUS, 1)? & FEATURES_OK == 0 {
            return Err(TransportError::FeaturesRefused);
        }
        self.write(CONFIG_MSIX_VECTOR, 2, u32::from(NO_VECTOR))?;
        Ok(accepted)
    }

    /// Sets queue `queue` up with `size` entries (at most the device's) and its three areas
    /// (buffer and offset each), interrupts on MSI-X entry `vector`; returns the queue's
    /// notification offset in its BAR.
    pub fn setup_queue(
        &self,
        queue: u16,
        size: u16,
        vector: u16,
        areas: [(&DmaBuffer, u32); 3],
    ) -> Result<Notifier, TransportError> {
        self.write(QUEUE_SELECT, 2, u32::from(queue))?;
        let most = self.read(QUEUE_SIZE, 2)? as u16;
        if most == 0 {
            return Err(TransportError::NoQueue(queue));
        }
        self.write(QUEUE_SIZE, 2, u32::from(size.min(most)))?;
        self.write(QUEUE_MSIX_VECTOR, 2, u32::from(vector))?;
        for ((buffer, at), field) in areas.into_iter().zip([QUEUE_DESC, QUEUE_DRIVER, QUEUE_DEVICE]) {
            self.device
                .set_dma_address(self.common.bar, self.common.offset + field, buffer, at)
                .context("giving the device a queue area")?;
        }
        let offset = self.read(QUEUE_NOTIFY_OFF, 2)?;
        self.write(QUEUE_ENABLE, 2, 1)?;
        Ok(Notifier {
            bar: self.notify.bar,
            offset: self.notify.offset + offset * self.notify_multiplier,
            queue,
        })
    }

    /// The queue size the device took for `queue` (after [`setup_queue`](Self::setup_queue)).
    pub fn queue_size(&self, queue: u16) -> Result<u16, TransportError> {
        self.write(QUEUE_SELECT, 2, u32::from(queue))?;
        Ok(self.read(QUEUE_SIZE, 2)? as u16)
    }

    /// Reads `width` bytes at `offset` of the device's own configuration.
    pub fn config(&self, offset: u32, width: u8) -> Result<u32, TransportError> {
        self.device
            .read(self.config.bar, self.config.offset + offset, width)
            .context("reading the device configuration")
    }

    /// Tells the device that queue `notifier` names has new buffers.
    pub fn notify(&self, notifier: &Notifier) -> Result<(), TransportError> {
        self.device
            .write(notifier.bar, notifier.offset, 2, u32::from(notifier.queue))
            .context("notifying the device")
    }
}

/// Where to write to tell the device a queue has new buffers.
#[derive(Debug, Clone, Copy)]
pub struct Notifier {
    bar: u8,
    offset: u32,
    queue: u16,
}
