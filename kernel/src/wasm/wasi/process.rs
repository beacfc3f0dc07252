//! WASI calls about the program itself: arguments, environment, clocks, randomness, exit,
//! yielding, and the socket calls that wait for a network.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::memory::Memory;
use super::{Answer, Args, Errno, Fail};
use crate::task::fiber;
use crate::time::{self, clock};
use crate::wasm::actor::{ActorContext, Stop};

/// `clockid::realtime`.
const REALTIME: i32 = 0;
/// `clockid::monotonic`.
const MONOTONIC: i32 = 1;

/// The program's WASI state: every program that imports WASI has one.
pub(super) fn wasi(ctx: &ActorContext) -> Result<&super::Wasi, Fail> {
    ctx.wasi.as_ref().ok_or(Fail::Errno(Errno::NOSYS))
}

/// Writes `strings` as `args_get` and `environ_get` do: a pointer to each at `pointers`, their
/// bytes, each NUL-terminated, from `buffer` on.
fn put_strings(memory: &mut Memory<'_, '_>, strings: &[Vec<u8>], pointers: i32, buffer: i32) -> Answer {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    // Both areas are checked whole before a byte is written.
    memory.range(pointers, strings.len() * 4)?;
    memory.range(buffer, total)?;
    let mut at = buffer as u32;
    for (index, string) in strings.iter().enumerate() {
        memory.put_u32(pointers.wrapping_add(4 * index as i32), at)?;
        memory.write(at as i32, string)?;
        memory.write(at.wrapping_add(string.len() as u32) as i32, &[0])?;
        at = at.wrapping_add(string.len() as u32 + 1);
    }
    Ok(())
}

/// Writes how many `strings` there are and the bytes they take with their NULs.
fn put_sizes(memory: &mut Memory<'_, '_>, strings: &[Vec<u8>], count: i32, size: i32) -> Answer {
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    memory.put_u32(count, strings.len() as u32)?;
    memory.put_u32(size, total as u32)
}

pub(super) fn args_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    put_strings(memory, &wasi(ctx)?.args, args.i32(0)?, args.i32(1)?)
}

pub(super) fn args_sizes_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    put_sizes(memory, &wasi(ctx)?.args, args.i32(0)?, args.i32(1)?)
}

pub(super) fn environ_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    put_strings(memory, &wasi(ctx)?.env, args.i32(0)?, args.i32(1)?)
}

pub(super) fn environ_sizes_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    put_sizes(memory, &wasi(ctx)?.env, args.i32(0)?, args.i32(1)?)
}

/// The time of clock `id` in nanoseconds: monotonic (since boot) or realtime (since 1970). The
/// CPU-time clocks are not kept per program: `EINVAL`, as for an unknown clock.
fn clock_now(id: i32) -> Result<u64, Errno> {
    match id {
        REALTIME => Ok(time::wall::now_ns()),
        MONOTONIC => Ok(time::now().as_nanos()),
        _ => Err(Errno::INVAL),
    }
}

pub(super) fn clock_res_get(_ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    clock_now(args.i32(0)?)?;
    // Both clocks count TSC cycles: one cycle, rounded up to whole nanoseconds.
    let resolution = 1_000_000_000u64.div_ceil(clock::tsc_hz().max(1)).max(1);
    memory.put_u64(args.i32(1)?, resolution)
}

pub(super) fn clock_time_get(_ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let now = clock_now(args.i32(0)?)?;
    memory.put_u64(args.i32(2)?, now)
}

pub(super) fn proc_exit(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    Err(Fail::Host(ctx.stop(Stop::Exit(args.i32(0)?))))
}

pub(super) fn proc_raise(_ctx: &ActorContext, _memory: &mut Memory<'_, '_>, _args: Args<'_>) -> Answer {
    Err(Errno::NOTSUP.into())
}

pub(super) fn sched_yield(ctx: &ActorContext, _memory: &mut Memory<'_, '_>, _args: Args<'_>) -> Answer {
    fiber::yield_slice().map_err(|_| ctx.ended())?;
    Ok(())
}

pub(super) fn random_get(ctx: &ActorContext, memory: &mut Memory<'_, '_>, args: Args<'_>) -> Answer {
    let (ptr, len) = (args.i32(0)?, args.i32(1)?);
    let range = memory.range(ptr, len as u32 as usize)?;
    // In pieces, so a large request needs no large kernel buffer.
    let mut done = 0;
    while done < range.len() {
        let mut piece = [0u8; 256];
        let n = piece.len().min(range.len() - done);
        for chunk in piece[..n].chunks_mut(8) {
            let word = random_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        let (_, rest) = range.split_at(done);
        memory.write_range(rest, &piece[..n])?;
        done += n;
        // A request as large as the memory takes a while: the time slice still ends on time.
        fiber::yield_if_expired().map_err(|_| ctx.ended())?;
    }
    Ok(())
}

pub(super) fn no_network(_ctx: &ActorContext, _memory: &mut Memory<'_, '_>, _args: Args<'_>) -> Answer {
    Err(Errno::NOSYS.into())
}

/// State of the generator used where the CPU has no RDRAND (0: not seeded yet).
static FALLBACK: AtomicU64 = AtomicU64::new(0);

/// 64 random bits: from RDRAND when the CPU has it, else from a SplitMix64 generator seeded
/// with the TSC and the wall clock (unpredictable enough for hash seeds, not for keys).
fn random_u64() -> u64 {
    if let Some(word) = x86_64::instructions::random::RdRand::new().and_then(|r| r.get_u64()) {
        return word;
    }
    let seed = || crate::arch::cpu::rdtsc() ^ time::wall::now_ns().rotate_left(32) | 1;
    let _ = FALLBACK.compare_exchange(0, seed(), Ordering::Relaxed, Ordering::Relaxed);
    let mut z =
        FALLBACK.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
