//! The host ABI: a handler for every host function the `minimalos-abi` crate declares (module
//! `"env"`), registered under its name with the signature the crate gives it. `docs/ABI.md` is
//! the contract; the crate is its one machine-readable copy, and tests hold the two together.
//!
//! Handlers decode their arguments in Wasm signature order, check every pointer, length and
//! handle (pointers through `guest`), and answer bad input with a negative code from [`errors`];
//! they never panic on anything an actor passes.

mod control;
pub mod errors;
mod ipc;
mod memory;
mod process;

use alloc::rc::Rc;
use alloc::vec::Vec;
use minimalos_abi::{HostFunction, ValType};
use tinywasm::types::{FuncType, WasmType, WasmValue};
use tinywasm::{FuncContext, HostFunction as Host, Imports, Store};

use super::actor::ActorContext;
use crate::task::fiber;

pub use minimalos_abi::MODULE;

type Handler = fn(&ActorContext, FuncContext<'_>, &[WasmValue]) -> Result<Vec<WasmValue>, tinywasm::Error>;

/// The handler of every host function, by name.
const HANDLERS: &[(&str, Handler)] = &[
    ("sys_log", process::sys_log),
    ("sys_exit", process::sys_exit),
    ("sys_yield", process::sys_yield),
    ("sys_clock_ns", process::sys_clock_ns),
    ("sys_sleep_ns", process::sys_sleep_ns),
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
    ("sys_proc_kill", control::sys_proc_kill),
    ("sys_proc_spawn", control::sys_proc_spawn),
    ("sys_kernel_log", control::sys_kernel_log),
    ("sys_mem_info", control::sys_mem_info),
    ("sys_bench_ipc_native", control::sys_bench_ipc_native),
];

/// The host function called `name`, with its handler: `None` if the ABI has no such function
/// (or, which a test rules out, the kernel no handler for it).
pub fn find(name: &str) -> Option<(&'static HostFunction, Handler)> {
    let function = minimalos_abi::host_function(name)?;
    HANDLERS.iter().find(|(n, _)| *n == name).map(|&(_, handler)| (function, handler))
}

/// The interpreter's type for `function`'s signature.
pub fn func_type(function: &HostFunction) -> FuncType {
    let wasm = |ty: &ValType| match ty {
        ValType::I32 => WasmType::I32,
        ValType::I64 => WasmType::I64,
    };
    let params: Vec<WasmType> = function.params.iter().map(|(_, ty)| wasm(ty)).collect();
    let results: Vec<WasmType> = function.results.iter().map(wasm).collect();
    FuncType::new(&params, &results)
}

/// Host functions for the imports `names` (already checked against the ABI), bound to the
/// actor `ctx`.
pub fn link<'n>(store: &mut Store, ctx: &Rc<ActorContext>, names: impl Iterator<Item = &'n str>) -> Imports {
    let mut imports = Imports::new();
    for (function, handler) in names.filter_map(find) {
        let ctx = ctx.clone();
        let host = Host::from_untyped(store, &func_type(function), move |fcx, args| {
            let results = handler(&ctx, fcx, args)?;
            // The interpreter counts a host call as one instruction of fuel, whatever it cost:
            // the slice is looked at after each one, so a loop of costly calls (a log flood)
            // gives way as a loop of instructions does. (Looked at before the call instead,
            // the round trip measured 3 instructions more.)
            fiber::yield_if_expired().map_err(|_| ctx.ended())?;
            Ok(results)
        });
        imports.define(MODULE, function.name, host);
    }
    imports
}

/// Argument `index` as an `i32` (the signature was checked at spawn, so a mismatch is a kernel
/// bug, reported as an error rather than a panic).
// This and the three below are hints, not forced: forced, the round trip took 18
// instructions more.
#[inline]
fn arg_i32(args: &[WasmValue], index: usize) -> Result<i32, tinywasm::Error> {
    match args.get(index) {
        Some(WasmValue::I32(v)) => Ok(*v),
        _ => Err(bad_argument(index)),
    }
}

/// Argument `index` as an `i64`.
#[inline]
fn arg_i64(args: &[WasmValue], index: usize) -> Result<i64, tinywasm::Error> {
    match args.get(index) {
        Some(WasmValue::I64(v)) => Ok(*v),
        _ => Err(bad_argument(index)),
    }
}

/// A host function's single `i32` result.
#[inline]
fn i32_result(value: i32) -> Result<Vec<WasmValue>, tinywasm::Error> {
    Ok(alloc::vec![WasmValue::I32(value)])
}

/// A host function's single `i64` result.
#[inline]
fn i64_result(value: i64) -> Result<Vec<WasmValue>, tinywasm::Error> {
    Ok(alloc::vec![WasmValue::I64(value)])
}

#[cold]
fn bad_argument(index: usize) -> tinywasm::Error {
    tinywasm::Error::Other(alloc::format!("host call argument {index} has the wrong type"))
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
