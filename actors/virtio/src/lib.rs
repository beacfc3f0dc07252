//! Virtio 1.x over PCI for driver actors, on the SDK's device capability: the transport
//! (`transport`: finding the device's structures, features, queue setup, notifications) and
//! split virtqueues (`queue`). The kernel writes every address the device is given; this crate
//! only asks it to (see `docs/DRIVERS.md`).
#![no_std]

pub mod queue;
pub mod transport;

pub use queue::Queue;
pub use transport::{Context, Transport, TransportError};
