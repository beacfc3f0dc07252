//! Drivers: [`Device`], a driver's hold on a PCI device (its registers, its DMA buffers, its
//! interrupts), and [`DmaBuffer`], pages the device may reach. The kernel's rules are in
//! `docs/DRIVERS.md`: a driver never sees a physical address, and the kernel refuses any
//! register write that could aim the device's DMA outside the driver's buffers.

use crate::{Capability, Endpoint, Error, sys};

/// What a [`DmaBuffer`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmaKind {
    /// Bytes for the device (packets, rings): read and written freely.
    Data,
    /// A virtqueue descriptor table: written only with [`DmaBuffer::set_descriptor`].
    Descriptors,
}

/// A device capability; closed (ending the driver's hold) when dropped.
#[derive(Debug)]
pub struct Device(Capability);

impl Device {
    /// The `n`-th grant of this actor's manifest line (counting from 0), as a device.
    pub const fn from_grant(n: u32) -> Device {
        Device(Capability::from_grant(n))
    }

    /// The raw handle, still owned by `self`.
    pub fn raw(&self) -> i64 {
        self.0.raw()
    }

    /// `width` bytes at `offset` of PCI configuration space.
    pub fn config(&self, offset: u8, width: u8) -> Result<u32, Error> {
        let value = sys::sys_dev_config_read(self.0.raw(), i32::from(offset), i32::from(width));
        Error::check(value).map(|v| v as u32)
    }

    /// Reads `width` (1, 2 or 4) bytes at `offset` of BAR `bar`.
    pub fn read(&self, bar: u8, offset: u32, width: u8) -> Result<u32, Error> {
        let value = sys::sys_dev_read(self.0.raw(), i32::from(bar), offset as i32, i32::from(width));
        Error::check(value).map(|v| v as u32)
    }

    /// Writes `width` (1, 2 or 4) bytes of `value` at `offset` of BAR `bar`.
    pub fn write(&self, bar: u8, offset: u32, width: u8, value: u32) -> Result<(), Error> {
        let result =
            sys::sys_dev_write(self.0.raw(), i32::from(bar), offset as i32, i32::from(width), value.into());
        Error::check(result.into()).map(drop)
    }

    /// Has the kernel write the device address of byte `at` of `buffer` into the 64-bit
    /// address register at `offset` of BAR `bar` (a virtqueue's ring address).
    pub fn set_dma_address(&self, bar: u8, offset: u32, buffer: &DmaBuffer, at: u32) -> Result<(), Error> {
        let result =
            sys::sys_dev_dma_addr(self.0.raw(), i32::from(bar), offset as i32, buffer.0.raw(), at as i32);
        Error::check(result.into()).map(drop)
    }

    /// Delivers MSI-X entry `entry`'s interrupts as messages with `opcode` on `endpoint`.
    pub fn bind_interrupt(&self, entry: u16, endpoint: &Endpoint, opcode: u32) -> Result<(), Error> {
        let result = sys::sys_dev_irq_bind(self.0.raw(), i32::from(entry), endpoint.raw(), opcode as i32);
        Error::check(result.into()).map(drop)
    }

    /// A new zeroed DMA buffer of `size` bytes, charged to this actor.
    pub fn dma_buffer(&self, size: u32, kind: DmaKind) -> Result<DmaBuffer, Error> {
        let kind = match kind {
            DmaKind::Data => sys::DMA_DATA,
            DmaKind::Descriptors => sys::DMA_DESCRIPTORS,
        };
        Error::check(sys::sys_dma_create(self.0.raw(), size as i32, kind))
            .map(|h| DmaBuffer(Capability::from_raw(h)))
    }
}

/// A DMA buffer; freed when no capability and no device needs it any more.
#[derive(Debug)]
pub struct DmaBuffer(Capability);

impl DmaBuffer {
    /// Fills `buf` from the buffer's bytes at `offset`.
    pub fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        self.0.mem_read(offset, buf)
    }

    /// Copies `data` to `offset` (a data buffer only).
    pub fn write(&self, offset: u32, data: &[u8]) -> Result<(), Error> {
        self.0.mem_write(offset, data)
    }

    /// Sets descriptor `index` of this descriptor table to `len` bytes at `offset` of the data
    /// buffer `target` (within one 4096-byte page of it), with `flags` and `next`.
    pub fn set_descriptor(
        &self,
        index: u16,
        target: &DmaBuffer,
        offset: u32,
        len: u32,
        flags: u16,
        next: u16,
    ) -> Result<(), Error> {
        let flags_next = (u32::from(next) << 16 | u32::from(flags)) as i32;
        let result = sys::sys_dma_desc_set(
            self.0.raw(),
            i32::from(index),
            target.0.raw(),
            offset as i32,
            len as i32,
            flags_next,
        );
        Error::check(result.into()).map(drop)
    }
}
