//! `dev_check.wasm` (test image only): a driver gone bad. Holding QEMU's virtio network card
//! (grant 0), an endpoint (grant 1) and `system` (grant 2), it tries what the kernel must refuse
//! — the MSI-X table, the legacy port interface, raw queue addresses, packed rings, a queue
//! without rings or with rings that cross a page, indirect and out-of-range descriptors,
//! writing a descriptor table, buffers too big or of no kind — and checks each answer's code,
//! then that DMA buffers made and dropped give every frame back. It prints
//! `dev_check: ok: N checks` or the first check that failed, and exits.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use sdk::dev::{Device, DmaBuffer, DmaKind};
use sdk::sys::{self, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_WRITE};
use sdk::{Endpoint, Error, System};
use virtio::Transport;
use virtio::transport::{
    DRIVER_FEATURE, DRIVER_FEATURE_SELECT, QUEUE_DESC, QUEUE_ENABLE, QUEUE_SELECT, QUEUE_SIZE,
};

/// QEMU's transitional virtio-net: I/O BAR 0 (the legacy interface), the MSI-X table at the
/// start of BAR 1 and its pending bits at 0x800.
const LEGACY_BAR: u8 = 0;
const MSIX_BAR: u8 = 1;
const PENDING_BITS: u32 = 0x800;

/// Counts the checks and says which failed first.
struct Checks(usize);

impl Checks {
    /// Checks that `result` is the error `expected`.
    fn refused<T: core::fmt::Debug>(
        &mut self,
        what: &str,
        result: Result<T, Error>,
        expected: Error,
    ) -> Result<(), String> {
        self.0 += 1;
        match result {
            Err(error) if error == expected => Ok(()),
            other => Err(format!("{what}: {other:?}, expected {expected:?}")),
        }
    }

    /// Checks that `result` is a success.
    fn allowed<T>(&mut self, what: &str, result: Result<T, Error>) -> Result<T, String> {
        self.0 += 1;
        result.map_err(|e| format!("{what}: {e:?}"))
    }
}

#[sdk::main]
async fn main() {
    let mut checks = Checks(0);
    match run(&mut checks) {
        Ok(()) => sdk::println!("dev_check: ok: {} checks", checks.0),
        Err(why) => sdk::println!("dev_check: FAILED check {}: {why}", checks.0),
    }
}

fn run(c: &mut Checks) -> Result<(), String> {
    let device = Device::from_grant(0);
    let vendor = c.allowed("vendor id", device.config(0, 2))?;
    if vendor != 0x1af4 {
        return Err(format!("vendor {vendor:#x}"));
    }
    c.refused("config width 3", device.config(0, 3), Error::InvalidArgument)?;
    c.refused("config misaligned", device.config(1, 2), Error::InvalidArgument)?;
    c.refused("MSI-X table read", device.read(MSIX_BAR, 0, 4), Error::Denied)?;
    c.refused("MSI-X table write", device.write(MSIX_BAR, 12, 4, 0), Error::Denied)?;
    c.allowed("MSI-X pending bits read", device.read(MSIX_BAR, PENDING_BITS, 4))?;
    c.refused("legacy port read", device.read(LEGACY_BAR, 0, 4), Error::Denied)?;
    c.refused("no BAR 6", device.read(6, 0, 4), Error::OutOfBounds)?;
    c.refused("past the BAR", device.read(MSIX_BAR, 0x10_0000, 4), Error::OutOfBounds)?;
    c.refused(
        "a value wider than 4 bytes",
        raw_write(&device, MSIX_BAR, PENDING_BITS, 4, 1 << 40),
        Error::InvalidArgument,
    )?;
    c.refused(
        "a value wider than 1 byte",
        device.write(MSIX_BAR, PENDING_BITS, 1, 0x100),
        Error::InvalidArgument,
    )?;

    let transport = Transport::new(device).map_err(|e| format!("transport: {e}"))?;
    let device = transport.device();
    let reg = |field| transport.common_register(field);
    let (bar, desc) = reg(QUEUE_DESC);
    c.refused("raw queue_desc", device.write(bar, desc, 4, 0x1000), Error::Denied)?;
    c.refused("raw queue_desc, high half", device.write(bar, desc + 4, 4, 1), Error::Denied)?;
    c.allowed("reset", transport.reset().map_err(|_| Error::Denied))?;
    let (bar, select) = reg(DRIVER_FEATURE_SELECT);
    c.allowed("feature select", device.write(bar, select, 4, 1))?;
    let (bar, feature) = reg(DRIVER_FEATURE);
    c.refused("packed rings", device.write(bar, feature, 4, 1 | 1 << 2), Error::Denied)?;
    c.allowed("VERSION_1", device.write(bar, feature, 4, 1))?;
    let (bar, queue_select) = reg(QUEUE_SELECT);
    c.allowed("queue select", device.write(bar, queue_select, 2, 0))?;
    let (bar, enable) = reg(QUEUE_ENABLE);
    c.refused("a queue without rings", device.write(bar, enable, 2, 1), Error::Denied)?;
    c.refused("a queue disabled", device.write(bar, enable, 2, 0), Error::Denied)?;
    c.refused("queue_size as 4 bytes", device.write(bar, reg(QUEUE_SIZE).1, 4, 64), Error::Denied)?;

    c.refused("an empty buffer", device.dma_buffer(0, DmaKind::Data), Error::TooLarge)?;
    c.refused("a buffer over 256 KiB", device.dma_buffer(300 * 1024, DmaKind::Data), Error::TooLarge)?;
    c.refused("a buffer of no kind", raw_dma(device, 4096, 7), Error::InvalidArgument)?;
    let table = c.allowed("a descriptor table", device.dma_buffer(4096, DmaKind::Descriptors))?;
    let data = c.allowed("a data buffer", device.dma_buffer(8192, DmaKind::Data))?;
    c.refused("writing a descriptor table", table.write(0, &[0xff; 16]), Error::Denied)?;
    c.allowed("a descriptor", table.set_descriptor(0, &data, 0, 2048, VIRTQ_DESC_F_WRITE, 0))?;
    c.refused(
        "an indirect descriptor",
        table.set_descriptor(1, &data, 0, 16, VIRTQ_DESC_F_INDIRECT, 0),
        Error::Denied,
    )?;
    c.refused("a buffer across a page", table.set_descriptor(1, &data, 4000, 200, 0, 0), Error::OutOfBounds)?;
    c.refused("a buffer past its end", table.set_descriptor(1, &data, 8000, 400, 0, 0), Error::OutOfBounds)?;
    c.refused("an empty buffer", table.set_descriptor(1, &data, 0, 0, 0, 0), Error::OutOfBounds)?;
    c.refused("an entry past the table", table.set_descriptor(256, &data, 0, 16, 0, 0), Error::OutOfBounds)?;
    c.refused("a table pointing at a table", table.set_descriptor(1, &table, 0, 16, 0, 0), Error::WrongKind)?;
    c.refused("descriptors in a data buffer", data.set_descriptor(0, &data, 0, 16, 0, 0), Error::WrongKind)?;
    let mut readback = [0u8; 16];
    c.allowed("reading a descriptor table", table.read(0, &mut readback))?;
    if readback[8..12] != 2048u32.to_le_bytes() || readback[12..14] != VIRTQ_DESC_F_WRITE.to_le_bytes() {
        return Err(format!("descriptor 0 reads back as {readback:?}"));
    }

    let (bar, size) = reg(QUEUE_SIZE);
    c.allowed("queue size 256", device.write(bar, size, 2, 256))?;
    let (bar, desc) = reg(QUEUE_DESC);
    c.refused("a data buffer as the table", device.set_dma_address(bar, desc, &data, 0), Error::WrongKind)?;
    c.refused("an address into queue_size", device.set_dma_address(bar, size, &table, 0), Error::Denied)?;
    c.allowed("the table's address", device.set_dma_address(bar, desc, &table, 0))?;
    let rings = c.allowed("rings", device.dma_buffer(8192, DmaKind::Data))?;
    c.allowed(
        "the driver ring",
        device.set_dma_address(bar, reg(virtio::transport::QUEUE_DRIVER).1, &rings, 0),
    )?;
    // The device ring of 256 entries (2054 bytes) from 3000 crosses into the second page.
    c.allowed(
        "a device ring across a page",
        device.set_dma_address(bar, reg(virtio::transport::QUEUE_DEVICE).1, &rings, 3000),
    )?;
    c.refused("enabling rings across a page", device.write(bar, enable, 2, 1), Error::OutOfBounds)?;
    c.allowed(
        "the device ring in a page",
        device.set_dma_address(bar, reg(virtio::transport::QUEUE_DEVICE).1, &rings, 4096),
    )?;
    c.allowed("enabling checked rings", device.write(bar, enable, 2, 1))?;
    c.refused("re-addressing an enabled queue", device.set_dma_address(bar, desc, &table, 0), Error::Denied)?;
    c.refused("resizing an enabled queue", device.write(bar, size, 2, 128), Error::Denied)?;
    c.allowed("reset", transport.reset().map_err(|_| Error::Denied))?;

    let inbox = Endpoint::from_grant(1);
    c.refused("an entry the card lacks", device.bind_interrupt(99, &inbox, 1), Error::OutOfBounds)?;
    c.allowed("binding an interrupt", device.bind_interrupt(0, &inbox, 1))?;

    frames_come_back(c, device)
}

/// Makes and drops DMA buffers twice; the second time, the free frames must come back to the
/// same count (the first may grow the capability table).
fn frames_come_back(c: &mut Checks, device: &Device) -> Result<(), String> {
    let system = System::from_grant(2);
    let free = || system.memory().map(|m| m.physical_free).map_err(|e| format!("mem: {e}"));
    for round in 0..2 {
        let before = free()?;
        let buffers: Result<Vec<DmaBuffer>, Error> =
            (0..16).map(|_| device.dma_buffer(64 * 1024, DmaKind::Data)).collect();
        let buffers = c.allowed("16 buffers of 64 KiB", buffers)?;
        let during = free()?;
        drop(buffers);
        let after = free()?;
        if during >= before {
            return Err(format!("no frames were taken: {before} then {during}"));
        }
        if round == 1 && after != before {
            return Err(format!("frames free {before} before, {after} after the buffers went"));
        }
    }
    Ok(())
}

/// A write with a value the SDK's type would not let through.
fn raw_write(device: &Device, bar: u8, offset: u32, width: i32, value: i64) -> Result<(), Error> {
    let result = sys::sys_dev_write(device.raw(), i32::from(bar), offset as i32, width, value);
    Error::from_code(result.into()).map_or(Ok(()), Err)
}

/// A DMA buffer of a kind the SDK's type cannot name.
fn raw_dma(device: &Device, size: i32, kind: i32) -> Result<(), Error> {
    let result = sys::sys_dma_create(device.raw(), size, kind);
    Error::from_code(result).map_or(Ok(()), Err)
}
