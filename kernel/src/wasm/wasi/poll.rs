//! `poll_oneoff`: waits for the first of its subscriptions — a clock reaching a time, a
//! descriptor becoming readable or writable — and writes an event for each that is ready.
//! Files and the output streams are always ready (their writes wait by themselves); standard
//! input is ready once input is waiting or over. Rust's `thread::sleep` is one clock
//! subscription.

use alloc::vec::Vec;
use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::Poll;

use super::fds::{Object, Stream};
use super::memory::Memory;
use super::process::wasi;
use super::{Answer, Args, Errno, Fail, Wasi};
use crate::proc::Wait;
use crate::time::{self, Instant};
use crate::wasm::actor::ActorContext;
use crate::wasm::handoff;

/// Bytes of a `subscription` and of an `event`.
const SUBSCRIPTION: usize = 48;
const EVENT: usize = 32;
/// Most subscriptions one call takes.
const MAX_SUBSCRIPTIONS: usize = 1024;

/// `eventtype`.
const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;
/// `subclockflags::subscription_clock_abstime`.
const ABSTIME: u16 = 1;

/// What one subscription waits for.
#[derive(Debug, Clone, Copy)]
enum Interest {
    /// The monotonic clock reaching this time.
    Clock(Instant),
    /// Descriptor `fd` becoming readable (`FD_READ`) or writable (`FD_WRITE`).
    Fd { fd: i32, kind: u8 },
}

/// One event for the program: its subscription's userdata and kind, and an errno.
struct Event {
    userdata: u64,
    kind: u8,
    error: Errno,
}

impl Event {
    fn to_bytes(&self) -> [u8; EVENT] {
        let mut bytes = [0u8; EVENT];
        bytes[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        bytes[8..10].copy_from_slice(&self.error.0.to_le_bytes());
        bytes[10] = self.kind;
        bytes
    }
}

/// Reads the subscription in `bytes`.
fn parse(bytes: &[u8; SUBSCRIPTION]) -> Result<(u64, Interest), Errno> {
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
    let userdata = u64_at(0);
    let interest = match bytes[8] {
        CLOCK => {
            let id = u32::from_le_bytes(bytes[16..20].try_into().unwrap_or_default());
            let (timeout, flags) = (u64_at(24), u16::from_le_bytes([bytes[40], bytes[41]]));
            let now = time::now().as_nanos();
            let deadline = match (id, flags & ABSTIME != 0) {
                (0 | 1, false) => now.saturating_add(timeout),
                // An absolute monotonic time is since boot; a realtime one is turned into one.
                (1, true) => timeout,
                (0, true) => now.saturating_add(timeout.saturating_sub(time::wall::now_ns())),
                _ => return Err(Errno::INVAL),
            };
            Interest::Clock(Instant::from_nanos(deadline))
        }
        kind @ (FD_READ | FD_WRITE) => {
            Interest::Fd { fd: i32::from_le_bytes(bytes[16..20].try_into().unwrap_or_default()), kind }
        }
        _ => return Err(Errno::INVAL),
    };
    Ok((userdata, interest))
}

/// The event `interest` makes now, if it is ready.
fn ready(wasi: &Wasi, userdata: u64, interest: Interest) -> Option<Event> {
    let event = |kind, error| Some(Event { userdata, kind, error });
    match interest {
        Interest::Clock(deadline) if time::now() >= deadline => event(CLOCK, Errno::SUCCESS),
        Interest::Clock(_) => None,
        Interest::Fd { fd, kind } => {
            let fds = wasi.fds.borrow();
            let Ok(descriptor) = fds.get(fd) else { return event(kind, Errno::BADF) };
            match (&descriptor.object, kind) {
                (Object::Stream(Stream::In), FD_READ) => match wasi.streams.input_to_wait_for() {
                    Some(endpoint) if !endpoint.is_readable() => None,
                    _ => event(kind, Errno::SUCCESS),
                },
                (Object::Stream(Stream::Out | Stream::Err), FD_WRITE) | (Object::File(_), _) => {
                    event(kind, Errno::SUCCESS)
                }
                _ => event(kind, Errno::BADF),
            }
        }
    }
}

pub(super) fn poll_oneoff(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let wasi = wasi(ctx)?;
    let (input, output, count, nevents) = (args.i32(0)?, args.i32(1)?, args.i32(2)?, args.i32(3)?);
    let count =
        usize::try_from(count).ok().filter(|n| (1..=MAX_SUBSCRIPTIONS).contains(n)).ok_or(Errno::INVAL)?;
    let events_area = memory.range(output, count * EVENT)?;
    memory.range(nevents, 4)?;
    let raw = memory.read(input, count * SUBSCRIPTION)?;
    let subscriptions: Vec<(u64, Interest)> =
        raw.as_chunks::<SUBSCRIPTION>().0.iter().map(parse).collect::<Result<_, _>>()?;
    let events = loop {
        let events: Vec<Event> = subscriptions.iter().filter_map(|&(u, i)| ready(wasi, u, i)).collect();
        if !events.is_empty() {
            break events;
        }
        // Nothing yet: wait for the first deadline or for input.
        let deadline = subscriptions.iter().filter_map(|(_, i)| match i {
            Interest::Clock(at) => Some(*at),
            Interest::Fd { .. } => None,
        });
        let mut sleep = deadline.min().map(time::sleep_until);
        let wants_input = subscriptions.iter().any(|&(_, i)| matches!(i, Interest::Fd { kind: FD_READ, .. }));
        let mut input = wasi.streams.input_to_wait_for().filter(|_| wants_input).map(|e| e.readable());
        if sleep.is_none() && input.is_none() {
            return Err(Errno::INVAL.into());
        }
        let _blocked = ctx.process.waiting(Wait::Events);
        handoff::block_on(
            ctx,
            poll_fn(|cx| {
                let slept = sleep.as_mut().is_some_and(|s| Pin::new(s).poll(cx).is_ready());
                let arrived = input.as_mut().is_some_and(|w| Pin::new(w).poll(cx).is_ready());
                if slept || arrived { Poll::Ready(()) } else { Poll::Pending }
            }),
        )
        .map_err(|_| Fail::Host(ctx.ended()))?;
    };
    for (index, event) in events.iter().enumerate() {
        if let Some(slot) = events_area.sub(index * EVENT, EVENT) {
            memory.write_range(slot, &event.to_bytes())?;
        }
    }
    memory.put_u32(nevents, events.len() as u32)
}
