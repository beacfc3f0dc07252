//! A device session: one driver's hold on one PCI function, which its device capability names.
//! Every register access of the driver comes through here and is checked: the BAR and range,
//! the MSI-X table (the kernel's alone: an MSI is a memory write the device makes, so its
//! address is the kernel's to choose), and for a device with a DMA guard (`virtio`) every write
//! that could aim the device's DMA. Bus mastering — the device's right to reach memory at all
//! — is on only for guarded devices, and only while the session lives.
//!
//! The session ends when the last capability naming it goes (its driver ended): bus mastering
//! goes off, a guarded device is reset, its interrupts are masked and unbound, and only then
//! are the buffers it was given let go.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

use super::dma::{DmaBuffer, Kind, Pins};
use super::pci::{self, Bar, Function};
use super::virtio::{self, Guard, Ring, Verdict};
use crate::error::Error;
use crate::mem::kmem::Account;
use crate::mem::paging;

/// Configuration space offset of the command register.
const COMMAND: u8 = 0x04;
/// Command bits: I/O decode, memory decode, bus mastering.
const IO_SPACE: u32 = 1 << 0;
const MEMORY_SPACE: u32 = 1 << 1;
const BUS_MASTER: u32 = 1 << 2;
/// Command bit: no legacy (INTx) interrupts; drivers get message interrupts only.
const INTX_DISABLE: u32 = 1 << 10;
/// MSI-X message control bits (in the capability's first register): enable, and mask all.
const MSIX_ENABLE: u32 = 1 << 31;
const MSIX_FUNCTION_MASK: u32 = 1 << 30;
/// Bytes of a function's configuration space a driver may read.
const CONFIG_SIZE: u32 = 256;
/// Polls of the status register a reset may take before the device counts as stuck.
const RESET_POLLS: u32 = 1_000_000;

/// A BAR as the kernel reaches it.
#[derive(Debug, Clone, Copy)]
enum Window {
    /// Mapped uncached at `virt`.
    Memory { virt: u64, size: u64 },
    /// Ports `base`..`base + size`.
    Io { base: u16, size: u16 },
}

impl Window {
    fn size(self) -> u64 {
        match self {
            Self::Memory { size, .. } => size,
            Self::Io { size, .. } => u64::from(size),
        }
    }

    /// Reads `width` bytes at `offset`, which the caller checked to lie inside, aligned.
    fn read(self, offset: u64, width: u8) -> u32 {
        match self {
            Self::Memory { virt, .. } => {
                let at = virt + offset;
                // SAFETY: `at` lies inside this BAR's uncached mapping (checked by the caller)
                // and is aligned to `width`; a device register read has no effect on memory.
                unsafe {
                    match width {
                        1 => u32::from(core::ptr::read_volatile(at as *const u8)),
                        2 => u32::from(core::ptr::read_volatile(at as *const u16)),
                        _ => core::ptr::read_volatile(at as *const u32),
                    }
                }
            }
            Self::Io { base, .. } => {
                let port = base.wrapping_add(offset as u16);
                // SAFETY: the port lies in this device's I/O BAR (checked by the caller); its
                // effects are the device's, and the device cannot reach memory through it
                // without bus mastering, which only guarded devices get.
                unsafe {
                    match width {
                        1 => u32::from(x86_64::instructions::port::Port::<u8>::new(port).read()),
                        2 => u32::from(x86_64::instructions::port::Port::<u16>::new(port).read()),
                        _ => x86_64::instructions::port::Port::<u32>::new(port).read(),
                    }
                }
            }
        }
    }

    /// Writes `width` bytes of `value` at `offset`, which the caller checked as for `read`.
    fn write(self, offset: u64, width: u8, value: u32) {
        match self {
            Self::Memory { virt, .. } => {
                let at = virt + offset;
                // SAFETY: as in `read`; what the write makes the device do was judged by the
                // caller (the MSI-X table and guarded registers never get here unchecked).
                unsafe {
                    match width {
                        1 => core::ptr::write_volatile(at as *mut u8, value as u8),
                        2 => core::ptr::write_volatile(at as *mut u16, value as u16),
                        _ => core::ptr::write_volatile(at as *mut u32, value),
                    }
                }
            }
            Self::Io { base, .. } => {
                let port = base.wrapping_add(offset as u16);
                // SAFETY: as in `read`.
                unsafe {
                    match width {
                        1 => x86_64::instructions::port::Port::<u8>::new(port).write(value as u8),
                        2 => x86_64::instructions::port::Port::<u16>::new(port).write(value as u16),
                        _ => x86_64::instructions::port::Port::<u32>::new(port).write(value),
                    }
                }
            }
        }
    }
}

/// Each memory BAR's mapping, by physical address: the kernel's MMIO mappings are never taken
/// down, so a driver that restarts finds its BARs mapped already.
static MAPPED: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());

/// Functions a session holds now, by index in `pci::functions()`.
static CLAIMED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// A queue's three rings as `sys_dev_dma_addr` set them: buffer and offset.
type Rings = [Option<(Arc<DmaBuffer>, usize)>; 3];

/// What a session changes as its driver works.
struct State {
    /// Per queue, the rings given to the device.
    rings: Vec<Rings>,
    /// Buffers whose addresses the device holds in its registers (charged to the driver at
    /// the first).
    pins: Option<Pins>,
    /// Interrupt bindings, by slot (`irq`).
    irqs: Vec<usize>,
}

/// One driver's hold on one device.
pub struct Session {
    function: &'static Function,
    index: usize,
    windows: [Option<Window>; 6],
    guard: Option<Guard>,
    state: Mutex<State>,
}

impl Session {
    /// Claims function `index` of `pci::functions()`: `NotFound` for no such function, `Denied` while another session holds it, `NoMemory` if its registers cannot be
    /// mapped. The device starts reset, its MSI-X entries masked.
    pub fn claim(index: usize) -> Result<Arc<Self>, Error> {
        let function = pci::functions().get(index).ok_or(Error::NotFound)?;
        {
            let mut claimed = CLAIMED.lock();
            if claimed.contains(&index) {
                return Err(Error::Denied);
            }
            claimed.try_reserve(1).map_err(|_| Error::NoMemory)?;
            claimed.push(index);
        }
        // From here a failure drops the session, which releases the claim.
        let guard = Guard::find(function, |offset| pci::config_read(function.address, offset));
        let state = State { rings: Vec::new(), pins: None, irqs: Vec::new() };
        let mut session = Self { function, index, windows: [None; 6], guard, state: Mutex::new(state) };
        for (slot, bar) in function.bars.iter().enumerate() {
            session.windows[slot] = match *bar {
                Some(Bar::Memory { base, size, .. }) => Some(Window::Memory { virt: map(base, size)?, size }),
                Some(Bar::Io { base, size }) => Some(Window::Io { base, size }),
                None => None,
            };
        }
        session.mask_all_interrupts();
        if let Some(cap) = function.capability(pci::CAP_MSIX) {
            let control = pci::config_read(function.address, cap.offset);
            pci::config_write(function.address, cap.offset, (control | MSIX_ENABLE) & !MSIX_FUNCTION_MASK);
        }
        // The firmware may have left the device running: no DMA until it is reset.
        let command = pci::config_read(function.address, COMMAND) & !BUS_MASTER;
        let mut enable = command | IO_SPACE | MEMORY_SPACE | INTX_DISABLE;
        pci::config_write(function.address, COMMAND, enable);
        if let Some(guard) = session.guard {
            session.reset(guard)?;
            let queues = guard.queues(&mut session.common(guard));
            let rings = &mut session.state.get_mut().rings;
            rings.try_reserve_exact(usize::from(queues)).map_err(|_| Error::NoMemory)?;
            rings.resize(usize::from(queues), [None, None, None]);
            enable |= BUS_MASTER;
        }
        pci::config_write(function.address, COMMAND, enable);
        Ok(Arc::new(session))
    }

    /// The function it drives.
    pub fn function(&self) -> &'static Function {
        self.function
    }

    /// Whether the device has a DMA guard, and so may reach memory and raise interrupts.
    pub fn is_guarded(&self) -> bool {
        self.guard.is_some()
    }

    /// Reads `width` (1, 2, 4) bytes at `offset` of configuration space.
    pub fn config_read(&self, offset: u32, width: u8) -> Result<u32, Error> {
        check_width(offset.into(), width)?;
        if offset + u32::from(width) > CONFIG_SIZE {
            return Err(Error::OutOfBounds);
        }
        let word = pci::config_read(self.function.address, (offset & !3) as u8);
        Ok(truncate(word >> (8 * (offset & 3)), width))
    }

    /// Reads `width` bytes at `offset` of BAR `bar`.
    pub fn read(&self, bar: u32, offset: u64, width: u8) -> Result<u32, Error> {
        let window = self.window(bar, offset, width)?;
        Ok(window.read(offset, width))
    }

    /// Writes `width` bytes of `value` at `offset` of BAR `bar`, as the guard allows.
    pub fn write(&self, bar: u32, offset: u64, width: u8, value: u32) -> Result<(), Error> {
        let window = self.window(bar, offset, width)?;
        let Some(guard) = self.guard else {
            window.write(offset, width, value);
            return Ok(());
        };
        // The lock makes the judgement and the write one step for this device.
        let state = self.state.lock();
        match guard.judge(bar as u8, offset, width, value, &mut self.common(guard)) {
            Verdict::Pass => window.write(offset, width, value),
            Verdict::Refuse => return Err(Error::Denied),
            Verdict::Reset => {
                drop(state);
                return self.reset(guard);
            }
            Verdict::Enable { queue, size } => {
                check_rings(state.rings.get(usize::from(queue)).ok_or(Error::Denied)?, size)?;
                window.write(offset, width, value);
            }
        }
        drop(state);
        Ok(())
    }

    /// Writes the device address of byte `buf_offset` of `buffer` into the 64-bit address
    /// register at `offset` of BAR `bar`, the register being one the guard knows, of a queue
    /// not yet enabled; the buffer stays pinned until the device is reset. `account` pays for
    /// the pin list.
    pub fn write_address(
        &self,
        bar: u32,
        offset: u64,
        buffer: &Arc<DmaBuffer>,
        buf_offset: usize,
        account: &Arc<Account>,
    ) -> Result<(), Error> {
        let guard = self.guard.ok_or(Error::Denied)?;
        let window = self.window(bar, offset, 4)?;
        self.window(bar, offset + 4, 4)?;
        let mut state = self.state.lock();
        let (queue, ring) =
            guard.address_register(bar as u8, offset, &mut self.common(guard)).ok_or(Error::Denied)?;
        let wanted = if ring == Ring::Descriptors { Kind::Descriptors } else { Kind::Data };
        if buffer.kind() != wanted {
            return Err(Error::WrongKind);
        }
        let address = buffer.device_address(buf_offset, 1)?;
        if usize::from(queue) >= state.rings.len() {
            return Err(Error::Denied);
        }
        state.pins.get_or_insert_with(|| Pins::new(account)).pin(buffer)?;
        state.rings[usize::from(queue)][ring as usize] = Some((Arc::clone(buffer), buf_offset));
        window.write(offset, 4, address as u32);
        window.write(offset + 4, 4, (address >> 32) as u32);
        Ok(())
    }

    /// Records that interrupt slot `slot` is bound for this session (unbound when it ends).
    pub fn add_interrupt(&self, slot: usize) -> Result<(), Error> {
        let mut state = self.state.lock();
        state.irqs.try_reserve(1).map_err(|_| Error::NoMemory)?;
        state.irqs.push(slot);
        Ok(())
    }

    /// Writes MSI-X entry `entry`: the message the device sends, and unmasked; `None` masks it.
    pub fn program_msix(&self, entry: u16, message: Option<(u64, u32)>) -> Result<(), Error> {
        let msix = self.function.msix.ok_or(Error::NotFound)?;
        if entry >= msix.entries {
            return Err(Error::OutOfBounds);
        }
        let (bar, table) = msix.table;
        let window = self.windows[usize::from(bar)].ok_or(Error::NotFound)?;
        let at = u64::from(table) + 16 * u64::from(entry);
        if at + 16 > window.size() {
            return Err(Error::OutOfBounds);
        }
        // Masked while the address and data change, so no half-written message is sent.
        window.write(at + 12, 4, 1);
        if let Some((address, data)) = message {
            window.write(at, 4, address as u32);
            window.write(at + 4, 4, (address >> 32) as u32);
            window.write(at + 8, 4, data);
            window.write(at + 12, 4, 0);
        }
        Ok(())
    }

    /// The BAR `bar` if `width` bytes at `offset` lie inside it, aligned, clear of the MSI-X
    /// table, and (for a guarded device) not in I/O space.
    fn window(&self, bar: u32, offset: u64, width: u8) -> Result<Window, Error> {
        check_width(offset, width)?;
        let window = usize::try_from(bar).ok().and_then(|b| self.windows.get(b).copied().flatten());
        let window = window.ok_or(Error::OutOfBounds)?;
        if offset + u64::from(width) > window.size() {
            return Err(Error::OutOfBounds);
        }
        if let Some(msix) = self.function.msix {
            let (table_bar, start) = msix.table;
            let end = u64::from(start) + 16 * u64::from(msix.entries);
            if u32::from(table_bar) == bar && offset < end && offset + u64::from(width) > u64::from(start) {
                return Err(Error::Denied);
            }
        }
        if self.guard.is_some() && matches!(window, Window::Io { .. }) {
            return Err(Error::Denied);
        }
        Ok(window)
    }

    fn common(&self, guard: Guard) -> CommonRegisters {
        // `claim` mapped every BAR, and `Guard::find` took the BAR from the device's list.
        let window = self.windows[usize::from(guard.bar)].unwrap_or(Window::Memory { virt: 0, size: 0 });
        CommonRegisters { window, base: guard.offset }
    }

    /// Resets a guarded device and waits until it says so; then the device holds no address,
    /// and the rings and pins go.
    fn reset(&self, guard: Guard) -> Result<(), Error> {
        let mut common = self.common(guard);
        if common.window.size() < guard.offset + guard.len {
            return Err(Error::Denied);
        }
        let mut state = self.state.lock();
        common.window.write(guard.status_offset(), 1, 0);
        if !(0..RESET_POLLS).any(|_| guard.is_reset(&mut common)) {
            // Its rings stay pinned: the device may still use them.
            log::warn!("dev: {} did not finish a reset", self.function);
            return Err(Error::Denied);
        }
        state.rings.iter_mut().for_each(|rings| *rings = [None, None, None]);
        if let Some(pins) = &mut state.pins {
            pins.clear();
        }
        Ok(())
    }

    fn mask_all_interrupts(&self) {
        let entries = self.function.msix.map_or(0, |m| m.entries);
        for entry in 0..entries {
            let _ = self.program_msix(entry, None);
        }
    }

    /// Takes the interrupt slots bound for this session, to unbind them.
    pub fn take_interrupts(&self) -> Vec<usize> {
        core::mem::take(&mut self.state.lock().irqs)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // No more DMA and no more interrupt messages from here on.
        let command = pci::config_read(self.function.address, COMMAND);
        pci::config_write(self.function.address, COMMAND, command & !BUS_MASTER);
        self.mask_all_interrupts();
        super::irq::unbind(&self.take_interrupts());
        if let Some(guard) = self.guard {
            let _ = self.reset(guard);
        }
        CLAIMED.lock().retain(|&index| index != self.index);
    }
}

/// The common configuration's registers.
struct CommonRegisters {
    window: Window,
    base: u64,
}

impl virtio::Common for CommonRegisters {
    fn read(&mut self, offset: u64, width: u8) -> u32 {
        if self.base + offset + u64::from(width) > self.window.size() {
            return 0;
        }
        self.window.read(self.base + offset, width)
    }
}

/// Whether `rings`, set for a queue of `size` entries, may be given to the device.
fn check_rings(rings: &Rings, size: u16) -> Result<(), Error> {
    for (ring, set) in Ring::ALL.into_iter().zip(rings) {
        let (buffer, offset) = set.as_ref().ok_or(Error::Denied)?;
        buffer.device_address(*offset, ring.bytes(size))?;
        if ring == Ring::Descriptors && buffer.descriptors() < offset / 16 + usize::from(size) {
            return Err(Error::OutOfBounds);
        }
    }
    Ok(())
}

/// `OutOfBounds` unless `width` is 1, 2 or 4 and `offset` a multiple of it.
fn check_width(offset: u64, width: u8) -> Result<(), Error> {
    if !matches!(width, 1 | 2 | 4) || !offset.is_multiple_of(u64::from(width)) {
        return Err(Error::OutOfBounds);
    }
    Ok(())
}

/// The low `width` bytes of `value`.
fn truncate(value: u32, width: u8) -> u32 {
    match width {
        1 => value & 0xff,
        2 => value & 0xffff,
        _ => value,
    }
}

/// The virtual address of the memory BAR at physical `base`, mapped at its first use.
fn map(base: u64, size: u64) -> Result<u64, Error> {
    let mut mapped = MAPPED.lock();
    if let Some(&virt) = mapped.get(&base) {
        return Ok(virt);
    }
    let virt = paging::map_mmio(base, size).map_err(|_| Error::NoMemory)?;
    mapped.insert(base, virt);
    Ok(virt)
}
