//! Devices and DMA: the numbers driver actors and the kernel agree on (`docs/ABI.md`,
//! "Devices"; the model behind them is `docs/DRIVERS.md`).
//!
//! A driver never learns a physical address. It asks the kernel to write one, from a DMA buffer
//! handle and an offset the kernel checks, into a virtqueue descriptor (`sys_dma_desc_set`) or a
//! device's address register (`sys_dev_dma_addr`); so the device can only reach buffers granted
//! to the driver.

/// `sys_dma_create` kind: bytes the device reads or writes (packets, virtqueue rings). The
/// driver reads and writes them with `sys_cap_mem_read` and `sys_cap_mem_write`.
pub const DMA_DATA: i32 = 0;
/// `sys_dma_create` kind: a virtqueue descriptor table. The driver reads it; only
/// `sys_dma_desc_set` writes it, so every address in it is one the kernel checked.
pub const DMA_DESCRIPTORS: i32 = 1;
/// Largest DMA buffer, in bytes.
pub const MAX_DMA_BUFFER: usize = 256 * 1024;
/// Bytes of a DMA buffer's pages. A range the device is given (a descriptor's buffer, a ring)
/// must lie within one page: the pages of a buffer need not be next to each other in physical
/// memory.
pub const DMA_PAGE: usize = 4096;

/// Bytes of one virtqueue descriptor (split virtqueues, virtio 1.x §2.7.5).
pub const VIRTQ_DESC: usize = 16;
/// Descriptor flag: the buffer goes on in the descriptor `next` names.
pub const VIRTQ_DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes the buffer (else it reads it).
pub const VIRTQ_DESC_F_WRITE: u16 = 2;
/// Descriptor flag: the buffer holds further descriptors. The kernel refuses it
/// (`E_DENIED`): an indirect table would be addresses it never checked.
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;

/// The payload of an interrupt's notification message: the MSI-X entry that fired, `u32`
/// little-endian. Several interrupts before the driver receives one arrive as one message.
pub const IRQ_NOTIFICATION_LEN: usize = 4;
/// MSI-X entries the kernel delivers at once, over all devices.
pub const MAX_IRQ_BINDINGS: usize = 16;
