//! Device interrupts: which vector means what, how the lines are routed at boot, and the
//! handlers. Handlers stay thin: count, mark, wake, acknowledge; they never allocate and never
//! take a lock that task code holds with interrupts enabled.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Once;

use super::acpi::{self, InterruptModel};
use super::apic::{self, SPURIOUS_VECTOR};
use super::ioapic::IoApic;
use super::{cpu, pic, serial};
use crate::mem::MemError;

/// The local APIC timer's vector.
pub const TIMER_VECTOR: u8 = 48;
/// COM1's receive interrupt.
pub const SERIAL_VECTOR: u8 = 49;
/// Sent by one CPU to another that may be halted, when it queued work for it: its handler only
/// acknowledges, since ending the halt is the point.
pub const WAKE_VECTOR: u8 = 50;

/// The vectors device messages (MSI-X) are bound to, one per binding (`dev::irq`).
pub const MESSAGE_VECTORS: core::ops::Range<u8> = 64..80;

/// COM1's ISA interrupt line.
const COM1_IRQ: u8 = 4;
/// Timer interrupts per second: the granularity of sleeps and of time-slice expiry.
pub const TICK_HZ: u64 = 1000;

/// The APIC timer's count between ticks, measured once by the boot CPU for every CPU.
static TIMER_COUNT: AtomicU32 = AtomicU32::new(0);
static IO_APICS: Once<Vec<IoApic>> = Once::new();

/// Why interrupts could not be set up.
#[derive(Debug)]
pub enum IrqError {
    /// Mapping controller registers failed.
    Memory(MemError),
    /// No I/O APIC serves the line a device is wired to.
    NoIoApicFor { irq: u8, gsi: u32 },
}

impl core::fmt::Display for IrqError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Memory(e) => write!(f, "cannot map interrupt controller registers: {e}"),
            Self::NoIoApicFor { irq, gsi } => write!(f, "no I/O APIC serves ISA IRQ {irq} (GSI {gsi})"),
        }
    }
}

impl From<MemError> for IrqError {
    fn from(e: MemError) -> Self {
        Self::Memory(e)
    }
}

/// What [`init`] set up, for the boot log.
#[derive(Debug, Clone, Copy)]
pub struct InterruptSetup {
    /// How the local APIC is reached.
    pub apic_mode: apic::Mode,
    /// The local APIC timer's measured rate (after its divider), in Hz.
    pub timer_hz: u64,
    /// The line COM1 arrives on.
    pub serial_gsi: u32,
}

/// Masks the 8259s, enables the local APIC, routes COM1 through the I/O APIC and starts the
/// periodic timer. Interrupts stay disabled; the caller enables them.
pub fn init(model: &InterruptModel) -> Result<InterruptSetup, IrqError> {
    pic::remap_and_mask();
    let lapic = apic::init(model.local_apic)?;
    let mut io_apics = Vec::new();
    for info in &model.io_apics {
        io_apics.push(IoApic::new(info.address, info.gsi_base)?);
    }
    let io_apics = IO_APICS.call_once(|| io_apics);

    let (serial_gsi, mode) = acpi::isa_route(COM1_IRQ, &model.overrides);
    let io_apic = io_apics
        .iter()
        .find(|a| a.serves(serial_gsi))
        .ok_or(IrqError::NoIoApicFor { irq: COM1_IRQ, gsi: serial_gsi })?;
    // Physical destination mode addresses 8-bit APIC ids; the boot CPU's id is small.
    io_apic.route(serial_gsi, mode, SERIAL_VECTOR, lapic.id() as u8);

    let timer_hz = lapic.calibrate_timer();
    TIMER_COUNT.store(u32::try_from(timer_hz / TICK_HZ).unwrap_or(u32::MAX), Ordering::Relaxed);
    start_tick();
    Ok(InterruptSetup { apic_mode: lapic.mode(), timer_hz, serial_gsi })
}

/// Enables this CPU's local APIC and starts its timer, once [`init`] ran on the boot CPU (the
/// timer's rate is the same on every CPU). Interrupts stay disabled.
pub fn init_other_cpu() {
    if apic::init_other_cpu().is_some() {
        start_tick();
    }
}

/// (Re)starts this CPU's periodic timer.
pub fn start_tick() {
    if let Some(lapic) = apic::get() {
        lapic.start_periodic_timer(TIMER_VECTOR, TIMER_COUNT.load(Ordering::Relaxed));
    }
}

/// Stops this CPU's timer until [`start_tick`]: a CPU about to halt with nothing to run needs
/// no time slices, and a tick would only wake it (and its host thread) for nothing.
pub fn stop_tick() {
    if let Some(lapic) = apic::get() {
        lapic.stop_timer();
    }
}

/// Interrupts CPU `index` (a `cpu_local` index) with [`WAKE_VECTOR`].
pub fn wake_cpu(index: usize) {
    if let Some(lapic) = apic::get() {
        let apic_id = super::cpu_local::apic_id(index);
        cpu::without_interrupts(|| lapic.send_ipi(apic_id, WAKE_VECTOR));
    }
}

/// This CPU's local APIC id.
pub fn apic_id() -> Option<u32> {
    apic::get().map(apic::LocalApic::id)
}

/// What the timer interrupt tells the scheduler, with the TSC at the tick; set once at boot
/// ([`on_tick`]), so this module needs nothing of the scheduler.
static TICK: spin::Once<fn(u64)> = spin::Once::new();

/// Has the timer interrupt call `handler` with the TSC at each tick.
pub fn on_tick(handler: fn(u64)) {
    TICK.call_once(|| handler);
}

/// What a device message interrupt does, given its index in [`MESSAGE_VECTORS`]; set once at
/// boot ([`on_message`]).
static MESSAGE: spin::Once<fn(u8)> = spin::Once::new();

/// Has each interrupt of [`MESSAGE_VECTORS`] call `handler` with its index there.
pub fn on_message(handler: fn(u8)) {
    MESSAGE.call_once(|| handler);
}

/// The address a device writes a message interrupt to, for the boot CPU (physical
/// destination, fixed delivery): the local APIC's message window.
pub fn message_address() -> u64 {
    0xfee0_0000 | u64::from(super::cpu_local::apic_id(0) & 0xff) << 12
}

/// Handles device vector `vector` (called from the interrupt entry path).
pub fn handle(vector: u8) {
    match vector {
        TIMER_VECTOR => {
            if let Some(tick) = TICK.get() {
                tick(cpu::rdtsc());
            }
        }
        SERIAL_VECTOR => serial::on_receive_interrupt(),
        WAKE_VECTOR => {}
        v if MESSAGE_VECTORS.contains(&v) => {
            if let Some(message) = MESSAGE.get() {
                message(v - MESSAGE_VECTORS.start);
            }
        }
        // Spurious interrupts are not in service, so they take no EOI.
        SPURIOUS_VECTOR => return,
        v if pic::PIC_VECTORS.contains(&v) => return,
        // Only the vectors above have gates; anything else cannot arrive.
        _ => {}
    }
    if let Some(lapic) = apic::get() {
        lapic.eoi();
    }
}
