//! PCI configuration space, read and written a 32-bit register at a time.

use super::Address;

/// Where configuration space is read and written.
pub trait ConfigSpace {
    /// The register at `offset` (a multiple of 4, below 256) of the function at `address`; all
    /// ones where no function answers.
    fn read(&mut self, address: Address, offset: u8) -> u32;
    /// Writes the register at `offset` of the function at `address`.
    fn write(&mut self, address: Address, offset: u8, value: u32);
}

/// Configuration mechanism #1: an address written to port 0xcf8 selects a register, which
/// port 0xcfc then reads or writes. Every PC chipset has it (QEMU's i440fx and q35 included),
/// and it reaches the 256 bytes that hold everything the kernel reads.
pub struct PortIo(());

/// The address port.
const CONFIG_ADDRESS: u16 = 0xcf8;
/// The data port.
const CONFIG_DATA: u16 = 0xcfc;

impl PortIo {
    /// The configuration ports. Only one user may exist at a time: a read is two port accesses
    /// that another user's could come between.
    ///
    /// # Safety
    /// Nothing else uses ports 0xcf8 and 0xcfc while it lives.
    pub const unsafe fn new() -> Self {
        Self(())
    }

    fn select(address: Address, offset: u8) {
        let selector = 1 << 31
            | u32::from(address.bus) << 16
            | u32::from(address.device & 0x1f) << 11
            | u32::from(address.function & 0x7) << 8
            | u32::from(offset & 0xfc);
        // SAFETY: by `new`'s contract this is the only user of the configuration ports, and
        // selecting a register has no effect of its own.
        unsafe { x86_64::instructions::port::Port::new(CONFIG_ADDRESS).write(selector) };
    }
}

impl ConfigSpace for PortIo {
    fn read(&mut self, address: Address, offset: u8) -> u32 {
        Self::select(address, offset);
        // SAFETY: reads the register just selected; reading configuration space has no side
        // effect on the standard registers the kernel reads.
        unsafe { x86_64::instructions::port::Port::<u32>::new(CONFIG_DATA).read() }
    }

    fn write(&mut self, address: Address, offset: u8, value: u32) {
        Self::select(address, offset);
        // SAFETY: the enumeration writes only a function's command register and BARs, with
        // decoding off while a BAR holds anything but its own value.
        unsafe { x86_64::instructions::port::Port::<u32>::new(CONFIG_DATA).write(value) };
    }
}
