//! A split virtqueue (virtio spec §2.7) from the driver's side: a descriptor table only the
//! kernel writes (`DmaBuffer::set_descriptor`), and the driver and device rings in a data
//! buffer of two pages, the driver ring in the first and the device ring in the second (each
//! ring must lie within one page).

use sdk::dev::{DmaBuffer, DmaKind};

use crate::transport::{Context, Notifier, Transport, TransportError};

/// Where the rings lie in their buffer.
const DRIVER_RING: u32 = 0;
const DEVICE_RING: u32 = 4096;
/// Driver ring flag: the device need not interrupt when it uses a buffer.
const NO_INTERRUPT: u16 = 1;

/// One virtqueue.
pub struct Queue {
    table: DmaBuffer,
    rings: DmaBuffer,
    notifier: Notifier,
    size: u16,
    /// Entries the driver made available, ever (wrapping).
    published: u16,
    /// Entries of the device ring the driver has looked at, ever (wrapping).
    seen: u16,
}

impl Queue {
    /// Sets queue `index` up with at most `size` entries, interrupting on MSI-X entry `vector`.
    pub fn new(transport: &Transport, index: u16, size: u16, vector: u16) -> Result<Self, TransportError> {
        let device = transport.device();
        let table = device
            .dma_buffer(u32::from(size) * 16, DmaKind::Descriptors)
            .context("making a descriptor table")?;
        let rings = device.dma_buffer(8192, DmaKind::Data).context("making the rings")?;
        let notifier = transport.setup_queue(
            index,
            size,
            vector,
            [(&table, 0), (&rings, DRIVER_RING), (&rings, DEVICE_RING)],
        )?;
        let size = transport.queue_size(index)?;
        Ok(Self { table, rings, notifier, size, published: 0, seen: 0 })
    }

    /// Its number of entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Points descriptor `index` at `len` bytes at `offset` of `buffer`, which the device
    /// writes (`device_writes`) or reads.
    pub fn describe(
        &self,
        index: u16,
        buffer: &DmaBuffer,
        offset: u32,
        len: u32,
        device_writes: bool,
    ) -> Result<(), TransportError> {
        let flags = if device_writes { sdk::sys::VIRTQ_DESC_F_WRITE } else { 0 };
        self.table.set_descriptor(index, buffer, offset, len, flags, 0).context("writing a descriptor")
    }

    /// Makes the descriptors in `heads` available to the device (it learns of them at the next
    /// [`notify`](Self::notify)).
    pub fn publish(&mut self, heads: &[u16]) -> Result<(), TransportError> {
        for &head in heads {
            let slot = u32::from(self.published % self.size);
            self.rings
                .write(DRIVER_RING + 4 + 2 * slot, &head.to_le_bytes())
                .context("writing the driver ring")?;
            self.published = self.published.wrapping_add(1);
        }
        self.rings.write(DRIVER_RING + 2, &self.published.to_le_bytes()).context("writing the driver ring")
    }

    /// Tells the device to look at the driver ring.
    pub fn notify(&self, transport: &Transport) -> Result<(), TransportError> {
        transport.notify(&self.notifier)
    }

    /// Asks the device not to interrupt for this queue (the driver looks when it needs to).
    pub fn quiet(&self) -> Result<(), TransportError> {
        self.rings.write(DRIVER_RING, &NO_INTERRUPT.to_le_bytes()).context("writing the driver ring")
    }

    /// The buffers the device has finished with since the last call, as (descriptor, bytes
    /// written), into `out`; returns how many.
    pub fn used(&mut self, out: &mut [(u16, u32)]) -> Result<usize, TransportError> {
        let mut index = [0u8; 2];
        self.rings.read(DEVICE_RING + 2, &mut index).context("reading the device ring")?;
        let done = u16::from_le_bytes(index);
        let mut n = 0;
        while self.seen != done && n < out.len() {
            let slot = u32::from(self.seen % self.size);
            let mut element = [0u8; 8];
            self.rings.read(DEVICE_RING + 4 + 8 * slot, &mut element).context("reading the device ring")?;
            let id = u32::from_le_bytes([element[0], element[1], element[2], element[3]]);
            let len = u32::from_le_bytes([element[4], element[5], element[6], element[7]]);
            out[n] = (id as u16, len);
            n += 1;
            self.seen = self.seen.wrapping_add(1);
        }
        Ok(n)
    }
}
