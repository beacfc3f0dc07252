//! Devices, for driver actors: the PCI buses and what sits on them (`pci`), one driver's hold
//! on one device (`session`), the buffers a device may reach (`dma`), the DMA guard for virtio
//! devices (`virtio`), and interrupts delivered as messages (`irq`). `docs/DRIVERS.md` gives
//! the model; the host calls that use it are in `wasm::abi::device`.
//!
//! May use: `mem` (frames, MMIO mappings, charges), `cap` and `ipc` (the endpoint an interrupt
//! is delivered on), `arch::irq` (message vectors), `time` (a retry's wait).

pub mod dma;
pub mod irq;
pub mod pci;
pub mod session;
pub mod virtio;

pub use dma::DmaBuffer;
pub use session::Session;
