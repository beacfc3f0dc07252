//! The host ABI: a handler for every host function the `minimalos-abi` crate declares (module
//! `"env"`), registered under its name with the signature the crate gives it. `docs/ABI.md` is
//! the contract; the crate is its one machine-readable copy, and tests hold the two together.
//!
//! Handlers decode their arguments in Wasm signature order, check every pointer, length and
//! handle (pointers through `guest`), and answer bad input with a negative code from [`errors`];
//! they never panic on anything an actor passes. They are written once, against the engine
//! boundary (`wasm::engine`): each engine links them into its instances through [`dispatch`].

mod control;
mod device;
pub mod errors;
mod ipc;
mod memory;
mod process;

use core::fmt;
use minimalos_abi::HostFunction;

use super::actor::{ActorContext, Stop};
use super::engine::{HostCall, Value};
use crate::mem::meter;
use crate::task::fiber;

pub use minimalos_abi::{MODULE, WASI_MODULE};

/// What a handler answers the actor: nothing, or its one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// No result (`sys_log`, `sys_yield`).
    None,
    /// One `i32`.
    I32(i32),
    /// One `i64`.
    I64(i64),
}

/// Why a host call stops its actor's interpreter instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    /// The actor is to end; its context has recorded why ([`ActorContext::stop`]).
    Stopped,
    /// A kernel bug, caught before it did harm: the actor traps with it.
    Bug(Bug),
}

/// A kernel bug a host call caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// An argument has another type than the signature the module was checked against.
    ArgumentType { index: usize },
    /// A guest range checked against the memory no longer lies inside it.
    RangeLeftMemory { len: usize },
    /// A kernel buffer shorter than the guest range it was to hold.
    ShortBuffer { len: usize },
    /// A handler's result has another type than its signature's.
    ResultType,
    /// A host call came before the actor's memory was known.
    NoMemory,
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ArgumentType { index } => write!(f, "host call argument {index} has the wrong type"),
            Self::RangeLeftMemory { len } => write!(f, "a checked {len}-byte guest range left the memory"),
            Self::ShortBuffer { len } => write!(f, "kernel buffer shorter than a {len}-byte guest range"),
            Self::ResultType => f.write_str("a host function's result has the wrong type"),
            Self::NoMemory => f.write_str("a host call before the actor's memory was known"),
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stopped => f.write_str("stopped by a host call"),
            Self::Bug(bug) => write!(f, "kernel bug in a host call: {bug}"),
        }
    }
}

/// What a handler returns.
pub type HostResult = Result<Ret, HostError>;

/// A host function's handler: the calling actor, its memory for the call, its arguments in
/// Wasm signature order.
pub type Handler = fn(&ActorContext, HostCall<'_>, &[Value]) -> HostResult;

/// The handler of every host function, by name.
const HANDLERS: &[(&str, Handler)] = &[
    ("sys_log", process::sys_log),
    ("sys_log_level", process::sys_log_level),
    ("sys_exit", process::sys_exit),
    ("sys_yield", process::sys_yield),
    ("sys_clock_ns", process::sys_clock_ns),
    ("sys_sleep_ns", process::sys_sleep_ns),
    ("sys_clock_wall_ns", process::sys_clock_wall_ns),
    ("sys_tsc_hz", process::sys_tsc_hz),
    ("sys_cap_send", ipc::sys_cap_send),
    ("sys_cap_recv", ipc::sys_cap_recv),
    ("sys_cap_try_recv", ipc::sys_cap_try_recv),
    ("sys_cap_call", ipc::sys_cap_call),
    ("sys_cap_wait", ipc::sys_cap_wait),
    ("sys_endpoint_create", ipc::sys_endpoint_create),
    ("sys_cap_derive", ipc::sys_cap_derive),
    ("sys_cap_close", ipc::sys_cap_close),
    ("sys_cap_mem_read", memory::sys_cap_mem_read),
    ("sys_cap_mem_write", memory::sys_cap_mem_write),
    ("sys_cap_mem_size", memory::sys_cap_mem_size),
    ("sys_fb_info", memory::sys_fb_info),
    ("sys_fb_format", memory::sys_fb_format),
    ("sys_proc_list", control::sys_proc_list),
    ("sys_cpu_list", control::sys_cpu_list),
    ("sys_proc_kill", control::sys_proc_kill),
    ("sys_proc_spawn", control::sys_proc_spawn),
    ("sys_proc_start", control::sys_proc_start),
    ("sys_kernel_log", control::sys_kernel_log),
    ("sys_mem_info", control::sys_mem_info),
    ("sys_bench_ipc_native", control::sys_bench_ipc_native),
    ("sys_dev_config_read", device::sys_dev_config_read),
    ("sys_dev_read", device::sys_dev_read),
    ("sys_dev_write", device::sys_dev_write),
    ("sys_dev_dma_addr", device::sys_dev_dma_addr),
    ("sys_dev_irq_bind", device::sys_dev_irq_bind),
    ("sys_dma_create", device::sys_dma_create),
    ("sys_dma_desc_set", device::sys_dma_desc_set),
];

/// The import `name` of `module` (`"env"` or WASI's), with its handler: `None` if the ABI has no
/// such function (or, which tests rule out, the kernel no handler for it).
pub fn find(module: &str, name: &str) -> Option<(&'static HostFunction, Handler)> {
    let function = minimalos_abi::import(module, name)?;
    let handlers = if module == MODULE { HANDLERS } else { super::wasi::HANDLERS };
    handlers.iter().find(|(n, _)| *n == name).map(|&(_, handler)| (function, handler))
}

/// Runs `handler`, the host function `function`'s, for `ctx`, then gives the CPU away if the
/// slice is used up. Every engine calls its handlers through here.
#[inline]
pub fn dispatch(
    function: &'static HostFunction,
    handler: Handler,
    ctx: &ActorContext,
    call: HostCall<'_>,
    args: &[Value],
) -> HostResult {
    // What the interpreter took since it last stopped is charged before the call does anything.
    ctx.grown.settle().map_err(|_| ctx.stop(Stop::OutOfMemory))?;
    let ret = handler(ctx, call, args)?;
    // Failures are logged at debug and trace only: below that, one comparison per call.
    if log::max_level() >= log::LevelFilter::Debug {
        note_failure(function, ctx, ret);
    }
    // The interpreter counts a host call as one instruction of fuel, whatever it cost: the
    // slice is looked at after each one, so a loop of costly calls (a log flood) gives way as
    // a loop of instructions does. (Looked at before the call instead, the round trip
    // measured 3 instructions more.)
    fiber::yield_if_expired().map_err(|_| ctx.ended())?;
    meter::begin();
    Ok(ret)
}

/// Logs a call whose result `ret` is an error code: at `debug`, or at `trace` for the codes
/// that are flow control rather than mistakes (an empty or full queue, a buffer to grow).
#[cold]
#[inline(never)]
fn note_failure(function: &HostFunction, ctx: &ActorContext, ret: Ret) {
    let code = match ret {
        Ret::I32(code @ ..0) => i64::from(code),
        Ret::I64(code @ ..0) => code,
        _ => return,
    };
    let flow_control = [errors::E_EMPTY, errors::E_FULL, errors::E_BUFFER_TOO_SMALL].map(i64::from);
    let level = if flow_control.contains(&code) { log::Level::Trace } else { log::Level::Debug };
    if level <= log::max_level() {
        let name =
            minimalos_abi::ERROR_CODES.iter().find(|&&(_, c)| i64::from(c) == code).map_or("?", |(n, _)| n);
        log::log!(level, "{}[{}]: {} returned {name}", ctx.process.name(), ctx.process.pid(), function.name);
    }
}

/// Argument `index` as an `i32` (the signature was checked at spawn, so a mismatch is a kernel
/// bug, reported as an error rather than a panic).
// This and the three below are hints, not forced: forced, the round trip took 18
// instructions more.
#[inline]
pub(in crate::wasm) fn arg_i32(args: &[Value], index: usize) -> Result<i32, HostError> {
    match args.get(index) {
        Some(Value::I32(v)) => Ok(*v),
        _ => Err(HostError::Bug(Bug::ArgumentType { index })),
    }
}

/// Argument `index` as an `i64`.
#[inline]
pub(in crate::wasm) fn arg_i64(args: &[Value], index: usize) -> Result<i64, HostError> {
    match args.get(index) {
        Some(Value::I64(v)) => Ok(*v),
        _ => Err(HostError::Bug(Bug::ArgumentType { index })),
    }
}

/// A host function's single `i32` result.
#[inline]
fn i32_result(value: i32) -> HostResult {
    Ok(Ret::I32(value))
}

/// A host function's single `i64` result.
#[inline]
fn i64_result(value: i64) -> HostResult {
    Ok(Ret::I64(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minimalos_abi::HOST_FUNCTIONS;

    #[test]
    fn every_host_function_of_the_abi_has_one_handler_and_no_handler_is_extra() {
        for function in HOST_FUNCTIONS {
            let handlers = HANDLERS.iter().filter(|(name, _)| *name == function.name).count();
            assert_eq!(handlers, 1, "{} has {handlers} handlers", function.name);
        }
        for (name, _) in HANDLERS {
            assert!(minimalos_abi::host_function(name).is_some(), "{name} is not in the ABI crate");
        }
    }
}
