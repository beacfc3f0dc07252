//! The interpreter boundary: everything the actor runtime asks of a Wasm engine, in one place.
//! The engine is chosen when the kernel is built (tinywasm by default, wasmi with the `wasmi`
//! feature: `ENGINE=wasmi`), so nothing on the IPC path pays for a choice at run time.
//!
//! An engine provides, under the same names:
//! - `Value`: a Wasm value, with `I32(i32)` and `I64(i64)` variants and `From<i32>`/`From<i64>`.
//! - `Module`: a module parsed and validated for an actor's limits ([`parse`]), whose
//!   [`Import`]s and [`Export`]s the runtime checks against the ABI, and the kernel memory its
//!   tables take if the engine charges them at spawn.
//! - `Instance`: a module instantiated for one actor ([`instantiate`]), its host functions
//!   linked to the handlers of `wasm::abi` (written once, against [`HostCall`]): it runs its
//!   entry functions in fuel slices on the actor's fiber (`run`), or one export at a time
//!   (`call`, for a host build's native actor), and reads and writes its memory from outside a
//!   call (`read_memory`, `write_memory`).
//! - `HostCall`: what a handler gets besides its arguments: the calling actor's memory, as a
//!   [`Guest`](super::guest::Guest) over a `GuestMemory`, for as long as the call runs.
//!
//! Each engine caps the actor's memory at its limit (a refused `memory.grow` returns -1),
//! charges it to the actor's kernel memory (and leaves it out of what `mem::meter` counts for
//! its stacks, which grow inside the engine and are charged as they do), publishes its size for `ps`, and names every trap
//! in the process table's terms (`proc::Trap`).

use alloc::vec::Vec;
use core::fmt;

#[cfg(not(feature = "wasmi"))]
mod tinywasm;
#[cfg(not(feature = "wasmi"))]
pub use self::tinywasm::{GuestMemory, HostCall, Instance, Module, Value, instantiate, parse};

#[cfg(feature = "wasmi")]
mod wasmi;
#[cfg(feature = "wasmi")]
pub use self::wasmi::{GuestMemory, HostCall, Instance, Module, Value, instantiate, parse};

/// The engine this kernel was built with, as the boot log and `bench` name it.
pub const NAME: &str = if cfg!(feature = "wasmi") { "wasmi" } else { "tinywasm" };

/// A Wasm value type, as imports and exports declare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `v128`.
    V128,
    /// A reference (`funcref`, `externref`).
    Ref,
}

impl ValueType {
    /// Its name in Wasm text.
    pub const fn name(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::V128 => "v128",
            Self::Ref => "ref",
        }
    }
}

impl From<minimalos_abi::ValType> for ValueType {
    fn from(ty: minimalos_abi::ValType) -> Self {
        match ty {
            minimalos_abi::ValType::I32 => Self::I32,
            minimalos_abi::ValType::I64 => Self::I64,
        }
    }
}

/// A function's parameter and result types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Its parameters, in order.
    pub params: Vec<ValueType>,
    /// Its results, in order.
    pub results: Vec<ValueType>,
}

impl Signature {
    /// The signature the ABI gives a host function.
    pub fn of(function: &minimalos_abi::HostFunction) -> Self {
        Self {
            params: function.params.iter().map(|&(_, ty)| ty.into()).collect(),
            results: function.results.iter().map(|&ty| ty.into()).collect(),
        }
    }
}

impl fmt::Display for Signature {
    /// As `docs/ABI.md` writes it: `(i64, i32) -> i32`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, types: &[ValueType]| {
            for (i, ty) in types.iter().enumerate() {
                write!(f, "{}{}", if i == 0 { "" } else { ", " }, ty.name())?;
            }
            Ok(())
        };
        f.write_str("(")?;
        list(f, &self.params)?;
        match &self.results[..] {
            [] => f.write_str(") -> ()"),
            [one] => write!(f, ") -> {}", one.name()),
            many => {
                f.write_str(") -> (")?;
                list(f, many)?;
                f.write_str(")")
            }
        }
    }
}

/// One import of a module.
pub struct Import<'m> {
    /// Its module name.
    pub module: &'m str,
    /// Its name.
    pub name: &'m str,
    /// Its signature, if it is a function (an actor may import nothing else).
    pub function: Option<Signature>,
}

/// What a module exports under a name.
pub enum Export {
    /// A function with this signature.
    Function(Signature),
    /// A linear memory, starting at this many bytes.
    Memory { initial_bytes: u64 },
    /// A table or a global.
    Other,
}
