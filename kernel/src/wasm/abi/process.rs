//! Host functions about the calling actor itself: logging, exiting, yielding, time.

use core::time::Duration;

use alloc::string::String;

use super::errors::{E_INVALID_ARGUMENT, E_OUT_OF_BOUNDS};
use super::{HostError, HostResult, Ret, arg_i32, arg_i64, i32_result, i64_result};
use crate::task::fiber;
use crate::wasm::actor::{ActorContext, Stop};
use crate::wasm::engine::{HostCall, Value};
use crate::wasm::handoff;
use crate::{klog, time};

/// Longest log text shown, in bytes, after escaping; the rest is cut and the cut is marked.
pub const MAX_LOG_BYTES: usize = 1024;

/// `sys_log(ptr: i32, len: i32)`: one line of the actor's output on the console,
/// `NAME[PID]: text`, attributed to the actor, its control characters shown escaped so it can
/// neither end the line nor steer the terminal. Not a log line: no time, no level, no filter.
pub fn sys_log(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (ptr, len) = (arg_i32(args, 0)?, arg_i32(args, 1)?);
    match actor_text(&mut call, ptr, len)? {
        Some(text) => klog::print(format_args!("{}[{}]: {text}\n", ctx.process.name(), ctx.process.pid())),
        // The import returns nothing, so the only answer to a bad buffer is a kernel warning.
        None => log::warn!("{}[{}]: sys_log ignored: out of bounds", ctx.process.name(), ctx.process.pid()),
    }
    Ok(Ret::None)
}

/// `sys_log_level(level: i32, ptr: i32, len: i32) -> i32`: the same text as a kernel log line
/// at `level` (1 error to 5 trace), shown only when the kernel logs that level.
pub fn sys_log_level(ctx: &ActorContext, mut call: HostCall<'_>, args: &[Value]) -> HostResult {
    let (level, ptr, len) = (arg_i32(args, 0)?, arg_i32(args, 1)?, arg_i32(args, 2)?);
    let level = match level {
        1 => log::Level::Error,
        2 => log::Level::Warn,
        3 => log::Level::Info,
        4 => log::Level::Debug,
        5 => log::Level::Trace,
        _ => return i32_result(E_INVALID_ARGUMENT),
    };
    // Below the kernel's level the text is not even read.
    if level > log::max_level() {
        return match call.guest().range(ptr, len) {
            Ok(_) => i32_result(0),
            Err(_) => i32_result(E_OUT_OF_BOUNDS),
        };
    }
    match actor_text(&mut call, ptr, len)? {
        Some(text) => {
            log::log!(level, "{}[{}]: {text}", ctx.process.name(), ctx.process.pid());
            i32_result(0)
        }
        None => i32_result(E_OUT_OF_BOUNDS),
    }
}

/// The `len` bytes at `ptr` as one line of text (escaped, cut at [`MAX_LOG_BYTES`] and marked
/// so), or `None` if the range is outside the actor's memory.
fn actor_text(call: &mut HostCall<'_>, ptr: i32, len: i32) -> Result<Option<String>, HostError> {
    let guest = call.guest();
    let Ok(range) = guest.range(ptr, len) else { return Ok(None) };
    let mut raw = [0u8; MAX_LOG_BYTES];
    let kept = range.prefix(MAX_LOG_BYTES);
    guest.read(kept, &mut raw)?;
    let mut text = String::new();
    let whole = klog::escape(&String::from_utf8_lossy(&raw[..kept.len()]), &mut text, MAX_LOG_BYTES);
    if !(whole && kept.len() == range.len()) {
        text.push_str(" [cut]");
    }
    Ok(Some(text))
}

/// `sys_exit(code: i32)`: ends the actor; the interpreter stops before the next instruction.
pub fn sys_exit(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    Err(ctx.stop(Stop::Exit(arg_i32(args, 0)?)))
}

/// `sys_yield()`: lets other tasks run, then continues.
pub fn sys_yield(ctx: &ActorContext, _call: HostCall<'_>, _args: &[Value]) -> HostResult {
    fiber::yield_slice().map_err(|_| ctx.ended())?;
    Ok(Ret::None)
}

/// `sys_clock_ns() -> i64`: nanoseconds on the monotonic clock since boot.
pub fn sys_clock_ns(_ctx: &ActorContext, _call: HostCall<'_>, _args: &[Value]) -> HostResult {
    i64_result(time::now().as_nanos() as i64)
}

/// `sys_clock_wall_ns() -> i64`
pub fn sys_clock_wall_ns(_ctx: &ActorContext, _call: HostCall<'_>, _args: &[Value]) -> HostResult {
    i64_result(time::wall::now_ns() as i64)
}

/// `sys_tsc_hz() -> i64`: the TSC frequency the kernel measured at boot, in Hz.
pub fn sys_tsc_hz(_ctx: &ActorContext, _call: HostCall<'_>, _args: &[Value]) -> HostResult {
    i64_result(time::clock::tsc_hz() as i64)
}

/// `sys_sleep_ns(ns: i64) -> i32`: blocks for at least `ns` nanoseconds; 0, or
/// `E_INVALID_ARGUMENT` for a negative duration.
pub fn sys_sleep_ns(ctx: &ActorContext, _call: HostCall<'_>, args: &[Value]) -> HostResult {
    let Ok(ns) = u64::try_from(arg_i64(args, 0)?) else { return i32_result(E_INVALID_ARGUMENT) };
    handoff::block_on(ctx, ctx.process.sleep(Duration::from_nanos(ns))).map_err(|_| ctx.ended())?;
    i32_result(0)
}
