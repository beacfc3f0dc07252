//! Between a network card's driver (`virtio_net`) and the network stack (`netstack`): raw
//! messages, one Ethernet frame (without its checksum) per message, nothing encoded. The stack
//! sends on `net.dev` (the driver reads it); the driver sends on `net.up` (the stack reads it).

/// Stack to driver: send the frame in the payload.
pub const TRANSMIT: u32 = 1;
/// Stack to driver: say [`LINK_UP`] again (the stack started after the driver).
pub const QUERY: u32 = 2;
/// Driver to stack: a frame arrived; the payload is the frame.
pub const RECEIVED: u32 = 3;
/// Driver to stack: the card is ready; the payload is its MAC address (6 bytes). Sent when the
/// driver starts (again, after a restart) and on [`QUERY`].
pub const LINK_UP: u32 = 4;
/// The driver's own interrupt notifications on `net.dev` (opcode + the queue's MSI-X entry).
pub const INTERRUPT: u32 = 0x100;

/// Largest IP packet a frame carries.
pub const MTU: usize = 1500;
/// Largest frame: the MTU and the 14-byte Ethernet header.
pub const MAX_FRAME: usize = MTU + 14;
