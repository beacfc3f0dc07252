//! The host ABI: every import an actor may use, in module `"env"`, with its Wasm signature and
//! its handler, in one table. `docs/ABI.md` is the contract; this table implements it.
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
use tinywasm::types::{FuncType, WasmType, WasmValue};
use tinywasm::{FuncContext, HostFunction, Imports, Store};

use super::actor::{ActorContext, cancelled};
use crate::task::fiber;

/// The import module every host function lives in.
pub const MODULE: &str = "env";

type Handler = fn(&ActorContext, FuncContext<'_>, &[WasmValue]) -> Result<Vec<WasmValue>, tinywasm::Error>;

/// One host function.
pub struct Import {
    /// Its import name.
    pub name: &'static str,
    params: &'static [WasmType],
    results: &'static [WasmType],
    handler: Handler,
}

impl Import {
    /// Its Wasm signature.
    pub fn func_type(&self) -> FuncType {
        FuncType::new(self.params, self.results)
    }
}

use WasmType::{I32, I64};

/// Every host function, in the order `docs/ABI.md` lists them.
pub const IMPORTS: &[Import] = &[
    Import { name: "sys_log", params: &[I32, I32], results: &[], handler: process::sys_log },
    Import { name: "sys_exit", params: &[I32], results: &[], handler: process::sys_exit },
    Import { name: "sys_yield", params: &[], results: &[], handler: process::sys_yield },
    Import { name: "sys_clock_ns", params: &[], results: &[I64], handler: process::sys_clock_ns },
    Import { name: "sys_sleep_ns", params: &[I64], results: &[I32], handler: process::sys_sleep_ns },
    Import { name: "sys_tsc_hz", params: &[], results: &[I64], handler: process::sys_tsc_hz },
    Import {
        name: "sys_cap_send",
        params: &[I64, I32, I32, I32, I64],
        results: &[I32],
        handler: ipc::sys_cap_send,
    },
    Import { name: "sys_cap_recv", params: &[I64, I32, I32], results: &[I64], handler: ipc::sys_cap_recv },
    Import {
        name: "sys_cap_try_recv",
        params: &[I64, I32, I32],
        results: &[I64],
        handler: ipc::sys_cap_try_recv,
    },
    Import { name: "sys_cap_call", params: &[I32, I32], results: &[I64], handler: ipc::sys_cap_call },
    Import { name: "sys_cap_wait", params: &[I32, I32, I64], results: &[I32], handler: ipc::sys_cap_wait },
    Import {
        name: "sys_endpoint_create",
        params: &[I32],
        results: &[I64],
        handler: ipc::sys_endpoint_create,
    },
    Import { name: "sys_cap_derive", params: &[I64, I32], results: &[I64], handler: ipc::sys_cap_derive },
    Import { name: "sys_cap_close", params: &[I64], results: &[I32], handler: ipc::sys_cap_close },
    Import {
        name: "sys_cap_mem_read",
        params: &[I64, I32, I32, I32],
        results: &[I32],
        handler: memory::sys_cap_mem_read,
    },
    Import {
        name: "sys_cap_mem_write",
        params: &[I64, I32, I32, I32],
        results: &[I32],
        handler: memory::sys_cap_mem_write,
    },
    Import { name: "sys_cap_mem_size", params: &[I64], results: &[I64], handler: memory::sys_cap_mem_size },
    Import { name: "sys_fb_info", params: &[], results: &[I64], handler: memory::sys_fb_info },
    Import { name: "sys_fb_format", params: &[I32, I32], results: &[I32], handler: memory::sys_fb_format },
    Import {
        name: "sys_proc_list",
        params: &[I64, I32, I32],
        results: &[I32],
        handler: control::sys_proc_list,
    },
    Import { name: "sys_proc_kill", params: &[I64, I64], results: &[I32], handler: control::sys_proc_kill },
    Import {
        name: "sys_proc_spawn",
        params: &[I64, I32, I32, I32, I32, I32, I32],
        results: &[I64],
        handler: control::sys_proc_spawn,
    },
    Import {
        name: "sys_kernel_log",
        params: &[I64, I32, I32],
        results: &[I32],
        handler: control::sys_kernel_log,
    },
    Import {
        name: "sys_mem_info",
        params: &[I64, I32, I32],
        results: &[I32],
        handler: control::sys_mem_info,
    },
    Import {
        name: "sys_bench_ipc_native",
        params: &[I64, I32, I32, I32],
        results: &[I32],
        handler: control::sys_bench_ipc_native,
    },
];

/// The host function called `name`.
pub fn find(name: &str) -> Option<&'static Import> {
    IMPORTS.iter().find(|i| i.name == name)
}

/// Host functions for the imports `names` (already checked against [`IMPORTS`]), bound to the
/// actor `ctx`.
pub fn link<'n>(store: &mut Store, ctx: &Rc<ActorContext>, names: impl Iterator<Item = &'n str>) -> Imports {
    let mut imports = Imports::new();
    for import in names.filter_map(find) {
        let ctx = ctx.clone();
        let handler = import.handler;
        let function = HostFunction::from_untyped(store, &import.func_type(), move |fcx, args| {
            let results = handler(&ctx, fcx, args)?;
            // The interpreter counts a host call as one instruction of fuel, whatever it cost:
            // the slice is looked at after each one, so a loop of costly calls (a log flood)
            // gives way as a loop of instructions does. (Looked at before the call instead,
            // the round trip measured 3 instructions more.)
            fiber::yield_if_expired().map_err(|_| cancelled())?;
            Ok(results)
        });
        imports.define(MODULE, import.name, function);
    }
    imports
}

/// Argument `index` as an `i32` (the signature was checked at spawn, so a mismatch is a kernel
/// bug, reported as an error rather than a panic).
// This and the three below are inlined into every host call, whose arguments and result
// they carry.
#[inline(always)]
fn arg_i32(args: &[WasmValue], index: usize) -> Result<i32, tinywasm::Error> {
    match args.get(index) {
        Some(WasmValue::I32(v)) => Ok(*v),
        _ => Err(bad_argument(index)),
    }
}

/// Argument `index` as an `i64`.
#[inline(always)]
fn arg_i64(args: &[WasmValue], index: usize) -> Result<i64, tinywasm::Error> {
    match args.get(index) {
        Some(WasmValue::I64(v)) => Ok(*v),
        _ => Err(bad_argument(index)),
    }
}

/// A host function's single `i32` result.
#[inline(always)]
fn i32_result(value: i32) -> Result<Vec<WasmValue>, tinywasm::Error> {
    Ok(alloc::vec![WasmValue::I32(value)])
}

/// A host function's single `i64` result.
#[inline(always)]
fn i64_result(value: i64) -> Result<Vec<WasmValue>, tinywasm::Error> {
    Ok(alloc::vec![WasmValue::I64(value)])
}

#[cold]
fn bad_argument(index: usize) -> tinywasm::Error {
    tinywasm::Error::Other(alloc::format!("host call argument {index} has the wrong type"))
}
