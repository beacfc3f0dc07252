//! Device interrupts as messages. A driver binds an MSI-X entry of its device to an endpoint
//! (`sys_dev_irq_bind`); the kernel gives the binding a vector of `arch::irq::MESSAGE_VECTORS`
//! and writes the entry itself. The handler only marks the binding pending and wakes
//! [`deliver`], a kernel task that sends one message per pending binding — so a burst of
//! interrupts before the driver looks arrives as one message, and no interrupt is lost while
//! the queue is full (the binding stays pending and is tried again).

use core::future::poll_fn;
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::Poll;
use core::time::Duration;
use futures_util::task::AtomicWaker;
use spin::Mutex;

use super::session::Session;
use crate::arch::irq;
use crate::cap::{Capability, Object};
use crate::error::Error;
use crate::ipc::{Message, Payload, Pid};
use minimalos_abi::MAX_IRQ_BINDINGS;

/// How long a notification waits before it is tried again when its endpoint's queue is full.
const RETRY: Duration = Duration::from_millis(1);

/// A bound entry: where its notifications go.
struct Binding {
    /// WRITE on the driver's endpoint.
    endpoint: Capability,
    opcode: u32,
    /// The MSI-X entry, the payload of each notification.
    entry: u16,
    /// The session that bound it, by address, so a second bind of the same entry replaces it.
    session: usize,
}

/// Bindings by slot; slot `i` is vector `MESSAGE_VECTORS.start + i`. Only task code takes the
/// lock: the handler touches [`PENDING`] and [`WAKER`] alone.
static BINDINGS: Mutex<[Option<Binding>; MAX_IRQ_BINDINGS]> = Mutex::new([const { None }; MAX_IRQ_BINDINGS]);
/// A bit per slot whose interrupt arrived since [`deliver`] last looked.
static PENDING: AtomicU32 = AtomicU32::new(0);
/// [`deliver`]'s waker.
static WAKER: AtomicWaker = AtomicWaker::new();

const _: () = assert!(
    MAX_IRQ_BINDINGS <= 32
        && MAX_IRQ_BINDINGS == (irq::MESSAGE_VECTORS.end - irq::MESSAGE_VECTORS.start) as usize
);

/// The interrupt handler's part: marks slot `slot` pending and wakes [`deliver`].
pub fn on_message(slot: u8) {
    PENDING.fetch_or(1 << (slot % 32), Ordering::AcqRel);
    WAKER.wake();
}

/// Binds MSI-X entry `entry` of `session`'s device to `endpoint` (a capability with WRITE on
/// an endpoint) with `opcode`: `Denied` for a device without a DMA guard (an interrupt message
/// needs bus mastering), `WrongKind` for another object, `Full` when every slot is taken,
/// `OutOfBounds` or `NotFound` for an entry the device lacks.
pub fn bind(session: &Session, entry: u16, endpoint: Capability, opcode: u32) -> Result<(), Error> {
    if !session.is_guarded() {
        return Err(Error::Denied);
    }
    if !matches!(endpoint.object(), Object::Endpoint(_)) {
        return Err(Error::WrongKind);
    }
    let id = session as *const Session as usize;
    let mut bindings = BINDINGS.lock();
    let same = bindings.iter().position(|b| b.as_ref().is_some_and(|b| b.session == id && b.entry == entry));
    let slot = match same {
        Some(slot) => slot,
        None => {
            let slot = bindings.iter().position(Option::is_none).ok_or(Error::Full)?;
            session.add_interrupt(slot)?;
            slot
        }
    };
    session.program_msix(
        entry,
        Some((irq::message_address(), u32::from(irq::MESSAGE_VECTORS.start) + slot as u32)),
    )?;
    bindings[slot] = Some(Binding { endpoint, opcode, entry, session: id });
    Ok(())
}

/// Frees `slots` (their entries already masked): their notifications stop.
pub fn unbind(slots: &[usize]) {
    let mut bindings = BINDINGS.lock();
    for &slot in slots {
        if let Some(binding) = bindings.get_mut(slot) {
            *binding = None;
            PENDING.fetch_and(!(1 << (slot % 32)), Ordering::AcqRel);
        }
    }
}

/// Sends a notification for each pending binding, for ever; `sender` is the pid the messages
/// carry (the kernel task's own).
pub async fn deliver(sender: Pid) {
    loop {
        let pending = poll_fn(|cx| {
            WAKER.register(cx.waker());
            match PENDING.swap(0, Ordering::AcqRel) {
                0 => Poll::Pending,
                bits => Poll::Ready(bits),
            }
        })
        .await;
        let full = notify(pending, sender);
        if full != 0 {
            crate::time::timer::sleep(RETRY).await;
            PENDING.fetch_or(full, Ordering::AcqRel);
        }
    }
}

/// Sends the notifications of the slots in `pending`; returns those whose queue was full.
fn notify(pending: u32, sender: Pid) -> u32 {
    let bindings = BINDINGS.lock();
    let mut full = 0;
    for (slot, binding) in bindings.iter().enumerate() {
        let Some(binding) = binding.as_ref().filter(|_| pending & 1 << slot != 0) else { continue };
        let Object::Endpoint(endpoint) = binding.endpoint.object() else { continue };
        // Four bytes stay inline in the message: a notification allocates nothing.
        let Ok(payload) = Payload::new(&u32::from(binding.entry).to_le_bytes(), None) else { continue };
        let message = Message { sender, opcode: binding.opcode, payload, cap: None };
        if let Err(rejected) = endpoint.send(message)
            && rejected.error == Error::Full
        {
            full |= 1 << slot;
        }
    }
    full
}
