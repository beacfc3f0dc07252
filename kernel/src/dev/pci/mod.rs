//! PCI: the functions on the buses, found by walking from bus 0 through the bridges, each with
//! its ids, class, base address registers (decoded and sized), interrupt pin and capabilities.
//!
//! The walk reads configuration space through [`ConfigSpace`], so the logic runs on the host
//! against a made-up machine; `config::PortIo` is the real one.

pub mod config;
pub mod msix;
mod names;

use alloc::vec::Vec;
use core::fmt;

pub use config::ConfigSpace;
pub use msix::Msix;
pub use names::class_name;

/// A function's address: bus, device (slot) and function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Address {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// What one base address register decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bar {
    /// Memory-mapped registers at physical `base`, `size` bytes; `prefetchable` memory may be
    /// mapped write-combining.
    Memory { base: u64, size: u64, prefetchable: bool },
    /// I/O ports `base`.. `base + size`.
    Io { base: u16, size: u16 },
}

/// A capability in a function's list, by its id and where it lies in configuration space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    pub id: u8,
    pub offset: u8,
}

/// Capability id of MSI.
pub const CAP_MSI: u8 = 0x05;
/// Capability id of a vendor's own capability (virtio's structures are these).
pub const CAP_VENDOR: u8 = 0x09;
/// Capability id of MSI-X.
pub const CAP_MSIX: u8 = 0x11;

/// Most capabilities read from one function: a list longer than configuration space can hold
/// is a loop.
const MAX_CAPABILITIES: usize = 48;

/// One PCI function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub address: Address,
    pub vendor: u16,
    pub device: u16,
    /// Class, subclass and programming interface.
    pub class: [u8; 3],
    pub revision: u8,
    /// Its six base address registers (a 64-bit one takes two slots; the second is `None`).
    pub bars: [Option<Bar>; 6],
    /// The legacy interrupt pin (1 = INTA .. 4 = INTD), 0 for none.
    pub interrupt_pin: u8,
    pub capabilities: Vec<Capability>,
    /// Where its MSI-X table is, if it has MSI-X.
    pub msix: Option<Msix>,
}

impl Function {
    /// The first capability with id `id`.
    pub fn capability(&self, id: u8) -> Option<Capability> {
        self.capabilities.iter().copied().find(|c| c.id == id)
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:04x}:{:04x} {}", self.address, self.vendor, self.device, class_name(self.class))
    }
}

// Configuration space offsets of a type 0 (and, up to 0x3c, type 1) header.
const VENDOR_ID: u8 = 0x00;
const COMMAND: u8 = 0x04;
const CLASS_REVISION: u8 = 0x08;
const HEADER_TYPE: u8 = 0x0e;
const FIRST_BAR: u8 = 0x10;
const BRIDGE_BUSES: u8 = 0x18;
const CAPABILITIES_POINTER: u8 = 0x34;
const INTERRUPT: u8 = 0x3c;
/// Status bit: the function has a capability list.
const STATUS_CAPABILITIES: u32 = 1 << (16 + 4);
/// Command bits: the function answers I/O and memory accesses.
const COMMAND_DECODE: u32 = 0b11;
/// Header type of a PCI-to-PCI bridge.
const BRIDGE: u8 = 1;
/// Class and subclass of a PCI-to-PCI bridge.
const CLASS_BRIDGE: [u8; 2] = [0x06, 0x04];

/// The machine's configuration ports; the kernel reaches them through this lock only.
// SAFETY: this is the one `PortIo`, and nothing else in the kernel touches ports 0xcf8 and 0xcfc.
static PORTS: spin::Mutex<config::PortIo> = spin::Mutex::new(unsafe { config::PortIo::new() });

static FUNCTIONS: spin::Once<Vec<Function>> = spin::Once::new();

/// The machine's PCI functions: the buses are walked at the first call (at boot), and every
/// later call gives the same list.
pub fn functions() -> &'static [Function] {
    FUNCTIONS.call_once(|| enumerate(&mut *PORTS.lock()))
}

/// Reads the 32-bit configuration register at `offset` of the function at `address`.
pub fn config_read(address: Address, offset: u8) -> u32 {
    PORTS.lock().read(address, offset & 0xfc)
}

/// Writes the 32-bit configuration register at `offset` of the function at `address`: only
/// device sessions do, to the command register and MSI-X control (`dev::session`).
pub fn config_write(address: Address, offset: u8, value: u32) {
    PORTS.lock().write(address, offset & 0xfc, value)
}

/// Functions in one line: `00:00.0 host bridge, 00:02.0 Ethernet, ...`.
pub struct Summary<'a>(pub &'a [Function]);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, function) in self.0.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            write!(f, "{separator}{} {}", function.address, class_name(function.class))?;
        }
        Ok(())
    }
}

/// Every function on the buses reachable from bus 0, in bus order.
pub fn enumerate(config: &mut impl ConfigSpace) -> Vec<Function> {
    let mut found = Vec::new();
    let mut buses = alloc::vec![0u8];
    let mut seen = [false; 256];
    while let Some(bus) = buses.pop() {
        if core::mem::replace(&mut seen[usize::from(bus)], true) {
            continue;
        }
        for device in 0..32 {
            let first = Address { bus, device, function: 0 };
            if vendor(config, first).is_none() {
                continue;
            }
            let multifunction = config.read(first, HEADER_TYPE & !3) >> 16 & 0x80 != 0;
            for function in 0..if multifunction { 8 } else { 1 } {
                let address = Address { bus, device, function };
                if vendor(config, address).is_none() {
                    continue;
                }
                if let Some(secondary) = bridge_secondary_bus(config, address) {
                    buses.push(secondary);
                }
                found.push(read_function(config, address));
            }
        }
    }
    found.sort_by_key(|f| f.address);
    found
}

/// The vendor id at `address`, or `None` where nothing answers.
fn vendor(config: &mut impl ConfigSpace, address: Address) -> Option<u16> {
    let vendor = config.read(address, VENDOR_ID) as u16;
    (vendor != 0xffff).then_some(vendor)
}

/// The bus behind `address`, if it is a PCI-to-PCI bridge.
fn bridge_secondary_bus(config: &mut impl ConfigSpace, address: Address) -> Option<u8> {
    let header = (config.read(address, HEADER_TYPE & !3) >> 16) as u8 & 0x7f;
    let class = config.read(address, CLASS_REVISION).to_be_bytes();
    (header == BRIDGE && class[..2] == CLASS_BRIDGE).then(|| (config.read(address, BRIDGE_BUSES) >> 8) as u8)
}

fn read_function(config: &mut impl ConfigSpace, address: Address) -> Function {
    let ids = config.read(address, VENDOR_ID);
    let class_revision = config.read(address, CLASS_REVISION).to_be_bytes();
    let header = (config.read(address, HEADER_TYPE & !3) >> 16) as u8 & 0x7f;
    // A bridge has two BARs, an ordinary function six; other header types none.
    let bar_count = match header {
        0 => 6,
        BRIDGE => 2,
        _ => 0,
    };
    let capabilities = read_capabilities(config, address);
    let msix =
        capabilities.iter().find(|c| c.id == CAP_MSIX).and_then(|c| Msix::read(config, address, c.offset));
    Function {
        address,
        vendor: ids as u16,
        device: (ids >> 16) as u16,
        class: [class_revision[0], class_revision[1], class_revision[2]],
        revision: class_revision[3],
        bars: read_bars(config, address, bar_count),
        interrupt_pin: (config.read(address, INTERRUPT) >> 8) as u8,
        capabilities,
        msix,
    }
}

/// Decodes and sizes the first `count` BARs. Sizing writes all ones and reads back which bits
/// stick, so the function's decoding is off meanwhile (it must not answer at a half-written
/// address) and its command register is restored after.
fn read_bars(config: &mut impl ConfigSpace, address: Address, count: u8) -> [Option<Bar>; 6] {
    let mut bars = [None; 6];
    let command = config.read(address, COMMAND);
    config.write(address, COMMAND, command & !COMMAND_DECODE);
    let mut slot = 0;
    while slot < count {
        let offset = FIRST_BAR + 4 * slot;
        let low = config.read(address, offset);
        let size_low = probe(config, address, offset, low);
        let (bar, width) = if low & 1 == 1 {
            // I/O: the address is bits 2..16; the bits that stick say the size.
            let mask = size_low & 0xffff_fffc;
            let size = ((!mask).wrapping_add(1) & 0xffff) as u16;
            ((mask != 0).then_some(Bar::Io { base: (low & 0xfffc) as u16, size }), 1)
        } else {
            // Memory: bits 4.. are the address, and a 64-bit BAR's high half is the next slot.
            let is_64 = (low >> 1) & 0b11 == 0b10 && slot + 1 < count;
            let (high, size_high) = if is_64 {
                let high = config.read(address, offset + 4);
                (high, probe(config, address, offset + 4, high))
            } else {
                (0, u32::MAX)
            };
            let mask = u64::from(size_high) << 32 | u64::from(size_low & 0xffff_fff0);
            let bar = Bar::Memory {
                base: u64::from(high) << 32 | u64::from(low & 0xffff_fff0),
                size: (!mask).wrapping_add(1),
                prefetchable: low & 0b1000 != 0,
            };
            ((size_low & 0xffff_fff0 != 0 || size_high != u32::MAX).then_some(bar), if is_64 { 2 } else { 1 })
        };
        bars[usize::from(slot)] = bar;
        slot += width;
    }
    config.write(address, COMMAND, command);
    bars
}

/// Writes all ones to the register at `offset`, reads what sticks, and puts `value` back.
fn probe(config: &mut impl ConfigSpace, address: Address, offset: u8, value: u32) -> u32 {
    config.write(address, offset, u32::MAX);
    let stuck = config.read(address, offset);
    config.write(address, offset, value);
    stuck
}

/// The function's capability list, followed with a bound (a broken list may loop).
fn read_capabilities(config: &mut impl ConfigSpace, address: Address) -> Vec<Capability> {
    let mut list = Vec::new();
    if config.read(address, COMMAND) & STATUS_CAPABILITIES == 0 {
        return list;
    }
    let mut offset = config.read(address, CAPABILITIES_POINTER) as u8 & !3;
    while offset >= 0x40 && list.len() < MAX_CAPABILITIES {
        let header = config.read(address, offset);
        list.push(Capability { id: header as u8, offset });
        offset = (header >> 8) as u8 & !3;
    }
    list
}

#[cfg(test)]
mod tests;
