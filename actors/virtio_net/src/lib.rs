//! `virtio_net.wasm`: the driver of a virtio 1.x network card (modern PCI, split virtqueues),
//! an actor like any other. It holds the card's device capability (grant 0), reads frames to
//! send from `net.dev` (grant 1, which it also writes: its interrupts arrive there), and sends
//! the frames that arrive, and its MAC address, to the network stack on `net.up` (grant 2).
//! The protocol is `protocol::net`.
//!
//! Every buffer the card reaches is a DMA buffer made through the kernel: a receive buffer and a
//! transmit buffer of `QUEUE` 2 KiB slots each (two to a page, so no slot crosses a page), and
//! per queue a descriptor table and its rings. Receive slots stay posted; a transmit slot is
//! described anew for each frame and reclaimed once the card is done with it.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use protocol::net::{INTERRUPT, LINK_UP, MAX_FRAME, QUERY, RECEIVED, TRANSMIT};
use sdk::dev::{Device, DmaBuffer, DmaKind};
use sdk::{Endpoint, Message};

use virtio::transport::{DRIVER_OK, NO_VECTOR};
use virtio::{Context, Queue, Transport, TransportError};

/// Feature bits: the card has a MAC address (5); virtio 1.x (32).
const F_MAC: u64 = 1 << 5;
const F_VERSION_1: u64 = 1 << 32;
/// Entries per queue, and slots per buffer.
const QUEUE: u16 = 128;
/// Bytes of a slot: the virtio-net header and a whole frame.
const SLOT: u32 = 2048;
/// The header before each frame (virtio 1.x: 12 bytes, all zero on transmit).
const HEADER: usize = 12;
/// Queue numbers and the MSI-X entry of the receive queue.
const RX: u16 = 0;
const TX: u16 = 1;
const RX_VECTOR: u16 = 0;

/// The card, brought up.
struct Card {
    transport: Transport,
    rx: Queue,
    tx: Queue,
    rx_slots: DmaBuffer,
    tx_slots: DmaBuffer,
    /// Transmit slots the card is not using.
    tx_free: Vec<u16>,
    mac: [u8; 6],
    counters: Counters,
}

/// What passed through.
#[derive(Default)]
struct Counters {
    received: u64,
    sent: u64,
    /// Frames that arrived while the stack's queue was full.
    rx_dropped: u64,
    /// Frames to send while every transmit slot was busy, or too long.
    tx_dropped: u64,
}

impl Card {
    fn bring_up(device: Device, inbox: &Endpoint) -> Result<Self, TransportError> {
        let transport = Transport::new(device)?;
        transport.reset()?;
        let features = transport.negotiate(F_MAC | F_VERSION_1)?;
        if features & F_VERSION_1 == 0 {
            return Err(TransportError::FeaturesRefused);
        }
        let mut rx = Queue::new(&transport, RX, QUEUE, RX_VECTOR)?;
        let tx = Queue::new(&transport, TX, QUEUE, NO_VECTOR)?;
        tx.quiet()?;
        let device = transport.device();
        device
            .bind_interrupt(RX_VECTOR, inbox, INTERRUPT + u32::from(RX_VECTOR))
            .context("binding the interrupt")?;
        let rx_slots = device
            .dma_buffer(u32::from(rx.size()) * SLOT, DmaKind::Data)
            .context("making receive buffers")?;
        let tx_slots =
            device.dma_buffer(u32::from(tx.size()) * SLOT, DmaKind::Data).context("making send buffers")?;
        let heads: Vec<u16> = (0..rx.size()).collect();
        for &slot in &heads {
            rx.describe(slot, &rx_slots, u32::from(slot) * SLOT, SLOT, true)?;
        }
        rx.publish(&heads)?;
        transport.add_status(DRIVER_OK)?;
        rx.notify(&transport)?;
        let mut mac = [0u8; 6];
        for (i, byte) in mac.iter_mut().enumerate() {
            *byte = if features & F_MAC != 0 { transport.config(i as u32, 1)? as u8 } else { 0 };
        }
        let tx_free = (0..tx.size()).rev().collect();
        Ok(Self { transport, rx, tx, rx_slots, tx_slots, tx_free, mac, counters: Counters::default() })
    }

    /// Hands the frames that arrived to the stack and posts their slots again.
    fn receive(&mut self, up: &Endpoint) -> Result<(), TransportError> {
        let mut used = [(0u16, 0u32); 32];
        loop {
            let n = self.rx.used(&mut used)?;
            if n == 0 {
                return Ok(());
            }
            let mut frame = [0u8; HEADER + MAX_FRAME];
            let mut heads = [0u16; 32];
            for (i, &(slot, len)) in used[..n].iter().enumerate() {
                let len = (len as usize).clamp(HEADER, frame.len());
                self.rx_slots.read(u32::from(slot) * SLOT, &mut frame[..len]).context("reading a frame")?;
                match up.try_send(RECEIVED, &frame[HEADER..len], None) {
                    Ok(()) => self.counters.received += 1,
                    Err(_) => self.counters.rx_dropped += 1,
                }
                heads[i] = slot % self.rx.size();
            }
            self.rx.publish(&heads[..n])?;
            self.rx.notify(&self.transport)?;
        }
    }

    /// Sends `frame`, or drops it when it is too long or every slot is busy.
    fn transmit(&mut self, frame: &[u8]) -> Result<(), TransportError> {
        let mut done = [(0u16, 0u32); 32];
        loop {
            let n = self.tx.used(&mut done)?;
            self.tx_free.extend(done[..n].iter().map(|&(slot, _)| slot % self.tx.size()));
            if n < done.len() {
                break;
            }
        }
        let Some(slot) = self.tx_free.pop().filter(|_| frame.len() <= MAX_FRAME) else {
            self.counters.tx_dropped += 1;
            return Ok(());
        };
        let mut bytes = [0u8; HEADER + MAX_FRAME];
        bytes[HEADER..HEADER + frame.len()].copy_from_slice(frame);
        let (offset, len) = (u32::from(slot) * SLOT, (HEADER + frame.len()) as u32);
        self.tx_slots.write(offset, &bytes[..len as usize]).context("writing a frame")?;
        self.tx.describe(slot, &self.tx_slots, offset, len, false)?;
        self.tx.publish(&[slot])?;
        self.tx.notify(&self.transport)?;
        self.counters.sent += 1;
        Ok(())
    }
}

#[sdk::main]
async fn main() -> Result<(), sdk::Error> {
    let inbox = Endpoint::from_grant(1);
    let up = Endpoint::from_grant(2);
    let mut card = match Card::bring_up(Device::from_grant(0), &inbox) {
        Ok(card) => card,
        Err(e) => {
            sdk::error!("virtio-net: cannot bring the card up: {e}");
            sdk::exit(1);
        }
    };
    let mac = card.mac;
    sdk::debug!(
        "virtio-net: {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, {} receive and {} send slots",
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        card.rx.size(),
        card.tx.size()
    );
    let _ = up.try_send(LINK_UP, &mac, None);
    loop {
        let Message { opcode, payload, .. } = inbox.recv().await?;
        let result = match opcode {
            TRANSMIT => card.transmit(&payload),
            QUERY => {
                let _ = up.try_send(LINK_UP, &mac, None);
                Ok(())
            }
            o if o == INTERRUPT + u32::from(RX_VECTOR) => card.receive(&up),
            _ => Ok(()),
        };
        if let Err(e) = result {
            let c = &card.counters;
            sdk::error!(
                "virtio-net: {e} (received {}, sent {}, dropped {} in, {} out)",
                c.received,
                c.sent,
                c.rx_dropped,
                c.tx_dropped
            );
            sdk::exit(1);
        }
    }
}
