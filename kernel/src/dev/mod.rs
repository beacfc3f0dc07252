//! Devices the kernel finds, so that they can be handed to driver actors: the PCI buses and
//! what sits on them (`pci`).
//!
//! May use: nothing else of the kernel (ports through the `x86_64` crate).

pub mod pci;
