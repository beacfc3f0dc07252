//! `bench_ping.wasm`: the timing half of the shell's `bench ipc`. Grants: `out:w` (requests to
//! `bench_pong`), `back:r` (its answers), `results:w` (the summary, to the shell).
//!
//! The first message on `back` is the parameters (opcode [`PARAMS`], `u32` round trips, `u32`
//! payload size and `u32` flags, little-endian), sent by the shell once both actors are
//! started: waiting for it lines up the start of pairs started one after the other. Flag [`REPORT_SAMPLES`] logs every sample, in order, after the run
//! (`sdk::bench::report`, series `ipc`), for `make bench`'s raw data. Each
//! round trip is timed alone with `sys_clock_ns` around one `sys_cap_call` (the request, then
//! the wait for the echo, in one host call, as a client does); the clock call's own cost is
//! measured beforehand and reported beside the figures, never subtracted. The echo must come
//! back byte for byte, or the run ends with status 4 and no figures.
//!
//! The summary (opcode [`RESULTS`]) is `u64`s, little-endian, in this order: round trips,
//! payload bytes, min, p50, p90, p99, max (ns), the whole run's ns, the clock call's ns, then
//! [`BUCKETS`] histogram counts over `[min, p99]` in equal widths and one count above p99, and
//! last the clock (`sys_clock_ns`) when the round trips began, which puts pairs running at once
//! on one time line (`bench pairs`). The shell's `bench` command reads it in the same order.
//!
//! Raw `sdk::sys` calls only, no async runtime, so the path measured is the kernel's.
#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use sdk::sys::{self, CALL_ROUTE, CallRoute, RECV_HEADER};

const OUT: i64 = 0;
const BACK: i64 = 1;
const RESULTS_EP: i64 = 2;

/// Opcode of the parameters message.
pub const PARAMS: u32 = 1;
/// Opcode of the round trips.
const TRIP: u32 = 2;
/// Opcode of the summary.
pub const RESULTS: u32 = 3;
/// Histogram buckets between min and p99.
pub const BUCKETS: usize = 8;
/// Parameter flag: log the samples.
pub const REPORT_SAMPLES: u32 = 1;
/// Most round trips a run takes (the samples live in this actor's memory).
const MAX_TRIPS: u32 = 1_000_000;
/// Clock calls timed to learn the clock's cost.
const CLOCK_CALLS: i64 = 1000;

/// The actor's entry point: read the parameters, run, report, exit.
#[unsafe(no_mangle)]
pub extern "C" fn _start() {
    let mut buf = [0u8; CALL_ROUTE + RECV_HEADER + 4096];
    let Some((trips, size, flags)) = params(&mut buf) else { sdk::exit(2) };
    // The call buffer: the route (requests out on `out`, echoes back on `back`), then the
    // request in the layout a receive writes: opcode, payload length, no capability, payload.
    // Each echo writes the same bytes back over the request.
    let request = request(size);
    buf[..CALL_ROUTE].copy_from_slice(&CallRoute { handle: OUT, reply: BACK }.to_bytes());
    let message = &mut buf[CALL_ROUTE..];
    message[..request.len()].copy_from_slice(&request);
    let mut samples = Vec::with_capacity(trips);

    let clock_start = sys::sys_clock_ns();
    for _ in 0..CLOCK_CALLS {
        sys::sys_clock_ns();
    }
    let clock_ns = (sys::sys_clock_ns() - clock_start) / (CLOCK_CALLS + 1);

    let (ptr, len) = (sys::ptr_mut(&mut buf), buf.len() as i32);
    let start = sys::sys_clock_ns();
    for _ in 0..trips {
        let t0 = sys::sys_clock_ns();
        // SAFETY: the kernel reads and writes at most `len` bytes at `ptr`, inside `buf`, which
        // nothing else borrows while the loop runs.
        let answered = unsafe { sys::sys_cap_call(ptr, len) };
        if answered < 0 {
            sdk::exit(3);
        }
        samples.push((sys::sys_clock_ns() - t0).max(0) as u64);
    }
    let elapsed = (sys::sys_clock_ns() - start).max(0) as u64;
    if buf[CALL_ROUTE..][..request.len()] != request[..] {
        // The echo came back different: the figures would be of something else.
        sdk::exit(4);
    }

    if flags & REPORT_SAMPLES != 0 {
        sdk::bench::report("ipc", &samples);
    }
    let summary = summarise(&mut samples, size as u64, elapsed, clock_ns.max(0) as u64, start.max(0) as u64);
    let bytes: Vec<u8> = summary.iter().flat_map(|v| v.to_le_bytes()).collect();
    if sys::sys_cap_send(RESULTS_EP, RESULTS as i32, sys::ptr(&bytes), bytes.len() as i32, -1) < 0 {
        sdk::exit(5);
    }
    sdk::exit(0);
}

/// The request of `size` payload bytes, header included.
fn request(size: usize) -> Vec<u8> {
    let mut request =
        sys::MessageHeader { opcode: TRIP, len: size as u32, cap: sys::NO_CAP }.to_bytes().to_vec();
    request.resize(RECV_HEADER + size, 0x5a);
    request
}

/// The round trips, payload size and flags of the parameters message, if it is one and they
/// fit.
fn params(buf: &mut [u8]) -> Option<(usize, usize, u32)> {
    // SAFETY: the kernel writes at most `buf.len()` bytes, inside `buf`.
    if unsafe { sys::sys_cap_recv(BACK, sys::ptr_mut(buf), buf.len() as i32) } < 0 {
        return None;
    }
    let header = sys::MessageHeader::read(buf)?;
    if header.opcode != PARAMS || header.len != 12 {
        return None;
    }
    let word = |at: usize| u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
    let (trips, size, flags) = (word(RECV_HEADER), word(RECV_HEADER + 4), word(RECV_HEADER + 8));
    ((1..=MAX_TRIPS).contains(&trips) && size <= 4096).then_some((trips as usize, size as usize, flags))
}

/// The summary's `u64`s (see the crate documentation) for `samples`, which it sorts, of a run
/// that began at `started` on the kernel clock.
fn summarise(samples: &mut [u64], size: u64, elapsed: u64, clock_ns: u64, started: u64) -> Vec<u64> {
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() - 1) * q / 100];
    let (min, p99) = (samples[0], at(99));
    let mut summary =
        Vec::from([samples.len() as u64, size, min, at(50), at(90), p99, samples[samples.len() - 1]]);
    summary.extend([elapsed, clock_ns]);
    let mut buckets = [0u64; BUCKETS + 1];
    let width = (p99 - min) / BUCKETS as u64 + 1;
    for &s in samples.iter() {
        let bucket = if s > p99 { BUCKETS } else { ((s - min) / width) as usize };
        buckets[bucket.min(BUCKETS)] += 1;
    }
    summary.extend(buckets);
    summary.push(started);
    summary
}
