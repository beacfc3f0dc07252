//! The network card as smoltcp sees it: frames the driver sent up wait in a queue until the
//! interface takes them; frames the interface makes wait until the stack hands them to the
//! driver ([`Link::flush`]). The driver is reached by messages (`protocol::net`).

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use protocol::net::{MAX_FRAME, MTU, TRANSMIT};
use sdk::Endpoint;
use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// Frames kept waiting either way; more are dropped (and counted), as a card drops them.
const QUEUE: usize = 256;

/// The card, by way of its driver.
pub struct Link {
    driver: Endpoint,
    incoming: VecDeque<Vec<u8>>,
    outgoing: VecDeque<Vec<u8>>,
    /// What passed through.
    pub counters: Counters,
}

/// Frames through the link.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    /// Frames received.
    pub received: u64,
    /// Frames sent to the driver.
    pub sent: u64,
    /// Frames dropped because a queue was full.
    pub dropped: u64,
}

impl Link {
    /// A link whose frames go to `driver` (`net.dev`).
    pub fn new(driver: Endpoint) -> Self {
        Self { driver, incoming: VecDeque::new(), outgoing: VecDeque::new(), counters: Counters::default() }
    }

    /// Queues a frame that arrived.
    pub fn arrived(&mut self, frame: Vec<u8>) {
        if self.incoming.len() < QUEUE && frame.len() <= MAX_FRAME {
            self.incoming.push_back(frame);
            self.counters.received += 1;
        } else {
            self.counters.dropped += 1;
        }
    }

    /// Whether frames wait for the interface.
    pub fn has_incoming(&self) -> bool {
        !self.incoming.is_empty()
    }

    /// Hands the frames made so far to the driver, as long as its queue takes them.
    pub fn flush(&mut self) {
        while let Some(frame) = self.outgoing.front() {
            match self.driver.try_send(TRANSMIT, frame, None) {
                Ok(()) => {
                    self.outgoing.pop_front();
                    self.counters.sent += 1;
                }
                // Full: the rest go at the next flush. Closed: the driver is down for good.
                Err(_) => return,
            }
        }
    }
}

impl phy::Device for Link {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let frame = self.incoming.pop_front()?;
        Some((RxToken(frame), TxToken(&mut self.outgoing, &mut self.counters)))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        (self.outgoing.len() < QUEUE).then_some(TxToken(&mut self.outgoing, &mut self.counters))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU + 14;
        caps
    }
}

/// A frame that arrived.
pub struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

/// Room for a frame to send.
pub struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>, &'a mut Counters);

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let result = f(&mut frame);
        if self.0.len() < QUEUE {
            self.0.push_back(frame);
        } else {
            self.1.dropped += 1;
        }
        result
    }
}
