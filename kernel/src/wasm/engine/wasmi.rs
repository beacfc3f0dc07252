//! wasmi 2, the fast engine (kernel feature `wasmi`, `ENGINE=wasmi`): Wasm compiled eagerly to
//! wasmi's register bytecode at spawn, run in fuel slices that resume where they ran out.
//!
//! What differs from tinywasm, and why:
//! - An actor's state lives in its store ([`Actor`]): host functions get the context and the
//!   memory from the store the call runs in, so they capture nothing but their handler.
//! - Memory is wasmi's own; the [`Limiter`] caps it, charges it to the actor's kernel memory
//!   and publishes its size for `ps`.
//! - wasmi runs a start function inside instantiation, where it could neither be preempted
//!   nor block: modules with one are refused (no Rust or C toolchain emits one for an actor).
//! - A bulk memory instruction needs its whole fuel at once, so it runs to its end in one
//!   step: one slice may run long by a `memory.fill` of the actor's memory size.
//! - Its instructions are dispatched from a loop (feature `portable-dispatch`): its default,
//!   each handler tail-calling the next, needs the sibling-call optimisation, which LLVM does
//!   not do for the handlers' nine arguments on this soft-float target (their float registers
//!   are passed in general ones and on the stack), so the native stack grew by a frame per
//!   Wasm instruction and overflowed the fiber. With the loop, the whole QEMU suite runs on
//!   32 KiB fibers; actors get the same 64 KiB as with tinywasm.

use alloc::rc::Rc;
use alloc::string::ToString;
use alloc::vec::Vec;
use wasmi::{
    AsContextMut, Caller, CompilationMode, Config, Engine, Error, ExternType, Func, FuncType, Linker, Memory,
    ResourceLimiter, ResumableCall, Store, TrapCode, ValType,
};
use wasmi_core::LimiterError;

pub use wasmi::Val as Value;

use super::{Export, Import, Signature, ValueType};
use crate::mem::kmem::Charge;
use crate::mem::meter;
use crate::proc::{Exit, Trap};
use crate::wasm::abi::{self, Bug, HostError, Ret};
use crate::wasm::actor::{self, ActorContext};
use crate::wasm::guest::{Guest, MEMORY_EXPORT, copy_bytes};
use crate::wasm::limits::{Limits, WASM_PAGE};
use crate::wasm::spawn::{ENTRY_EXPORT, MAX_TABLE_ELEMENTS, SpawnError};

/// Bytes of one value-stack cell.
const CELL_BYTES: u64 = 8;
/// Kernel memory one table element takes (a reference), charged as a table grows.
const TABLE_ELEMENT_BYTES: u64 = 8;

/// A module compiled for its own engine, configured with the actor's limits.
/// Cheap to clone: the parsed code is shared.
#[derive(Clone)]
pub struct Module {
    engine: Engine,
    inner: wasmi::Module,
}

/// Parses, validates and compiles `bytes` for an actor with `limits`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Module, SpawnError> {
    let mut config = Config::default();
    config
        .consume_fuel(true)
        .allow_start_fn(false)
        // Compiled now, so what the code takes is measured and charged at spawn.
        .compilation_mode(CompilationMode::Eager)
        .set_max_recursion_depth(limits.call_depth)
        .set_max_stack_height(limits.value_slots * CELL_BYTES as usize);
    let engine = Engine::new(&config);
    if has_start_section(bytes) {
        return Err(SpawnError::Instantiate(
            "it has a start function, which this kernel's wasmi engine does not run".into(),
        ));
    }
    let inner = wasmi::Module::new(&engine, bytes).map_err(|e| SpawnError::Malformed(e.to_string()))?;
    Ok(Module { engine, inner })
}

/// Whether the module `bytes` has a start section (section 8), read from the section headers
/// alone; `false` for bytes that are not a module, which wasmi then refuses by itself.
fn has_start_section(bytes: &[u8]) -> bool {
    let mut at = 8; // Past the magic number and the version.
    while let Some(&id) = bytes.get(at) {
        if id == 8 {
            return true;
        }
        // The section's size, a LEB128 u32, then its contents.
        let (mut size, mut shift) = (0usize, 0);
        loop {
            at += 1;
            let Some(&byte) = bytes.get(at) else { return false };
            size |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
            if shift > 28 {
                return false;
            }
        }
        at = match (at + 1).checked_add(size) {
            Some(next) => next,
            None => return false,
        };
    }
    false
}

impl Module {
    /// What it imports.
    pub fn imports(&self) -> impl Iterator<Item = Import<'_>> {
        self.inner.imports().map(|import| Import {
            module: import.module(),
            name: import.name(),
            function: match import.ty() {
                ExternType::Func(ty) => Some(signature(ty)),
                _ => None,
            },
        })
    }

    /// What it exports, by name.
    pub fn exports(&self) -> impl Iterator<Item = (&str, Export)> {
        self.inner.exports().map(|export| {
            let kind = match export.ty() {
                ExternType::Func(ty) => Export::Function(signature(ty)),
                // Pages of 64 KiB: the custom-page-sizes proposal is off in wasmi's default config.
                ExternType::Memory(ty) => {
                    Export::Memory { initial_bytes: ty.minimum().saturating_mul(WASM_PAGE as u64) }
                }
                _ => Export::Other,
            };
            (export.name(), kind)
        })
    }

    /// Kernel memory its tables take, charged as they grow (by the [`Limiter`]), not here.
    pub fn table_bytes(&self) -> u64 {
        0
    }
}

fn signature(ty: &FuncType) -> Signature {
    let types = |list: &[ValType]| list.iter().map(|&ty| value_type(ty)).collect();
    Signature { params: types(ty.params()), results: types(ty.results()) }
}

fn value_type(ty: ValType) -> ValueType {
    match ty {
        ValType::I32 => ValueType::I32,
        ValType::I64 => ValueType::I64,
        ValType::F32 => ValueType::F32,
        ValType::F64 => ValueType::F64,
        ValType::V128 => ValueType::V128,
        _ => ValueType::Ref,
    }
}

/// What an actor's store holds besides wasmi's own state.
pub struct Actor {
    context: Rc<ActorContext>,
    /// Its memory, once instantiated.
    memory: Option<Memory>,
    limiter: Limiter,
}

/// Caps an actor's memory and tables, charges them to its kernel memory, and tells `ps` the
/// memory's size.
struct Limiter {
    context: Rc<ActorContext>,
    max_bytes: usize,
    /// Its memory's buffer, charged; created with the memory.
    memory: Option<Charge>,
    /// Bytes the memory's buffer holds room for: wasmi grows it as a `Vec` does, to at least
    /// twice its room, and all of that room is the actor's.
    memory_room: usize,
    /// Its tables' elements, charged as they are made and grow.
    tables: Option<Charge>,
}

impl Limiter {
    /// Charges `bytes` more to `charge` (made on first use); whether the account had room.
    /// What is charged here is left out of what the interpreter took (`mem::meter`): wasmi
    /// allocates it right after.
    fn charge(&self, charge: &mut Option<Charge>, bytes: u64) -> bool {
        let charged = match charge {
            Some(charge) => charge.grow(bytes).is_ok(),
            None => self.context.process.account().charge(bytes).map(|c| *charge = Some(c)).is_ok(),
        };
        if charged {
            meter::discount(bytes as i64);
        }
        charged
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _: Option<usize>,
    ) -> Result<bool, LimiterError> {
        if desired > self.max_bytes {
            return Ok(false);
        }
        // The buffer is made with room for exactly its first size (`current` 0), then grows
        // amortized, like `Vec::try_reserve`.
        let room = match current {
            0 => desired,
            _ if desired <= self.memory_room => self.memory_room,
            _ => desired.max(self.memory_room.saturating_mul(2)),
        };
        let mut charge = self.memory.take();
        let charged = self.charge(&mut charge, room.saturating_sub(self.memory_room) as u64);
        self.memory = charge;
        if charged {
            self.memory_room = room;
        }
        if charged {
            self.context.process.set_linear_memory(desired as u64, self.max_bytes as u64);
        }
        Ok(charged)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _: Option<usize>,
    ) -> Result<bool, LimiterError> {
        if desired as u64 > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        let mut charge = self.tables.take();
        let charged = self.charge(&mut charge, desired.saturating_sub(current) as u64 * TABLE_ELEMENT_BYTES);
        self.tables = charge;
        Ok(charged)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        // Enough for any module a toolchain makes; more refuse to instantiate.
        16
    }

    fn memories(&self) -> usize {
        1
    }
}

/// The calling actor's memory during a host call.
pub struct GuestMemory<'c>(&'c mut [u8]);

impl GuestMemory<'_> {
    /// Its size in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.0.len()
    }

    /// Copies `dst.len()` bytes from offset `start`; `None` if they are not all inside.
    #[inline]
    pub fn read(&self, start: usize, dst: &mut [u8]) -> Option<()> {
        copy_slice(self.0.get(start..start.checked_add(dst.len())?)?, dst);
        Some(())
    }

    /// Copies `src` to offset `start`; `None` if it does not all fit inside.
    #[inline]
    pub fn write(&mut self, start: usize, src: &[u8]) -> Option<()> {
        copy_slice(src, self.0.get_mut(start..start.checked_add(src.len())?)?);
        Some(())
    }
}

/// Copies `src` into the start of `dst` (as many bytes as both hold), short copies in place
/// as [`copy_bytes`] makes them, not through `memcpy`.
#[inline]
fn copy_slice(src: &[u8], dst: &mut [u8]) {
    let len = src.len().min(dst.len());
    // SAFETY: both slices hold `len` bytes, and a shared and an exclusive borrow never overlap.
    unsafe { copy_bytes(src.as_ptr(), dst.as_mut_ptr(), len) }
}

/// What a handler gets of the interpreter: the caller's memory, borrowed from its store for
/// the call.
pub struct HostCall<'c> {
    memory: &'c mut [u8],
}

impl HostCall<'_> {
    /// The calling actor's memory, for the rest of the call.
    #[inline]
    pub fn guest(&mut self) -> Guest<'_> {
        Guest::new(GuestMemory(self.memory))
    }
}

/// A module instantiated for one actor.
pub struct Instance {
    store: Store<Actor>,
    instance: wasmi::Instance,
    entry: Func,
}

/// Instantiates `module` for the actor `ctx` under `limits`, its imports linked to the ABI's
/// handlers (checked against the ABI before).
pub fn instantiate(module: &Module, ctx: &Rc<ActorContext>, limits: &Limits) -> Result<Instance, SpawnError> {
    let max_bytes = limits.memory_pages as usize * WASM_PAGE;
    ctx.process.set_linear_memory(0, max_bytes as u64);
    let limiter = Limiter { context: ctx.clone(), max_bytes, memory: None, memory_room: 0, tables: None };
    let actor = Actor { context: ctx.clone(), memory: None, limiter };
    let mut store = Store::new(&module.engine, actor);
    store.limiter(|actor| &mut actor.limiter);
    let mut linker = Linker::<Actor>::new(&module.engine);
    for import in module.inner.imports() {
        // Imports were checked against the ABI: each names a host function.
        let define =
            if import.module() == abi::WASI_MODULE { wasi_imports::define } else { env_imports::define };
        define(&mut linker, import.name()).map_err(|e| SpawnError::Instantiate(e.to_string()))?;
    }
    let instance = linker
        .instantiate_and_start(&mut store, &module.inner)
        .map_err(|e| SpawnError::Instantiate(e.to_string()))?;
    let memory =
        instance.get_memory(&store, MEMORY_EXPORT).ok_or(SpawnError::MissingExport(MEMORY_EXPORT))?;
    store.data_mut().memory = Some(memory);
    let entry = instance.get_func(&store, ENTRY_EXPORT).ok_or(SpawnError::MissingExport(ENTRY_EXPORT))?;
    Ok(Instance { store, instance, entry })
}

/// Runs `handler`, `function`'s, with `args` for the actor whose store `caller` is.
#[inline]
fn host_call(
    function: &'static minimalos_abi::HostFunction,
    handler: abi::Handler,
    mut caller: Caller<'_, Actor>,
    args: &[Value],
) -> Result<Ret, Error> {
    let Some(memory) = caller.data().memory else {
        return Err(Error::host(HostError::Bug(Bug::NoMemory)));
    };
    let (bytes, actor) = memory.data_and_store_mut(&mut caller);
    abi::dispatch(function, handler, &actor.context, HostCall { memory: bytes }, args).map_err(Error::host)
}

/// A host function's result as its Wasm type.
trait FromRet: Sized {
    fn from_ret(ret: Ret) -> Result<Self, Error>;
}

impl FromRet for () {
    fn from_ret(_: Ret) -> Result<Self, Error> {
        Ok(())
    }
}

impl FromRet for i32 {
    fn from_ret(ret: Ret) -> Result<Self, Error> {
        match ret {
            Ret::I32(value) => Ok(value),
            _ => Err(Error::host(HostError::Bug(Bug::ResultType))),
        }
    }
}

impl FromRet for i64 {
    fn from_ret(ret: Ret) -> Result<Self, Error> {
        match ret {
            Ret::I64(value) => Ok(value),
            _ => Err(Error::host(HostError::Bug(Bug::ResultType))),
        }
    }
}

/// The result type `$ret`, or `()` for a host function without one.
macro_rules! result_type {
    () => {
        ()
    };
    ($ret:ident) => {
        $ret
    };
}

/// `define(linker, name)`: defines the host function `name` of a list of the ABI (of the module
/// `MODULE` in scope) in `linker`, typed, so wasmi passes its arguments without boxing them
/// (`Func::wrap`).
macro_rules! typed_host_functions {
    ($($(#[doc = $doc:literal])* $safety:ident fn $name:ident($($arg:ident: $ty:ident),* $(,)?) $(-> $ret:ident)?;
        needs $needs:literal;)*) => {
        pub(super) fn define(linker: &mut Linker<Actor>, name: &str) -> Result<(), wasmi::errors::LinkerError> {
            match name {
                $(stringify!($name) => {
                    let Some((function, handler)) = abi::find(MODULE, stringify!($name)) else { return Ok(()) };
                    linker.func_wrap(
                        MODULE,
                        stringify!($name),
                        move |caller: Caller<'_, Actor>, $($arg: $ty),*| -> Result<result_type!($($ret)?), Error> {
                            FromRet::from_ret(host_call(function, handler, caller, &[$(Value::from($arg)),*])?)
                        },
                    )?;
                })*
                _ => {}
            }
            Ok(())
        }
    };
}

/// The host functions of module `"env"`.
mod env_imports {
    use super::*;
    const MODULE: &str = abi::MODULE;
    minimalos_abi::with_host_functions!(typed_host_functions);
}

/// The WASI functions.
mod wasi_imports {
    use super::*;
    const MODULE: &str = abi::WASI_MODULE;
    minimalos_abi::with_wasi_functions!(typed_host_functions);
}

impl wasmi::errors::HostError for HostError {}

impl Instance {
    /// Bytes of its linear memory.
    pub fn memory_len(&self) -> usize {
        self.store.data().memory.map_or(0, |memory| memory.data(&self.store).len())
    }

    /// Runs `_start` in fuel slices of `fuel_slice` instructions, giving way when the time
    /// slice is used up, until it returns or the actor `ctx` ends.
    pub fn run(&mut self, ctx: &ActorContext, fuel_slice: u32) -> Exit {
        if self.store.set_fuel(fuel_slice.into()).is_err() {
            return Exit::Trapped(Trap::Other("fuel metering is off".into()));
        }
        let mut call = self.entry.call_resumable(&mut self.store, &[], &mut []);
        loop {
            match call {
                Ok(ResumableCall::Finished) => return Exit::Exited(0),
                Ok(ResumableCall::OutOfFuel(rest)) => {
                    if let Err(exit) = actor::between_slices(ctx) {
                        return exit;
                    }
                    // A bulk instruction may need more than a slice, all at once.
                    let fuel = u64::from(fuel_slice).max(rest.required_fuel());
                    if self.store.set_fuel(fuel).is_err() {
                        return Exit::Trapped(Trap::Other("fuel metering is off".into()));
                    }
                    call = rest.resume(&mut self.store, &mut []);
                }
                // A host call that stops the interpreter records why before its error.
                Ok(ResumableCall::HostTrap(stopped)) => return ctx.exit_after(trap(stopped.host_error())),
                Err(e) => return ctx.exit_after(trap(&e)),
            }
        }
    }

    /// Calls its export `name` with `args` to the end, without fuel slices (a host build's
    /// native actor calls its host functions this way); the trap if it fails.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let function =
            self.instance.get_func(&self.store, name).ok_or_else(|| Trap::Other("no such export".into()))?;
        let results = function.ty(&self.store).results().len();
        let mut out = alloc::vec![Value::I32(0); results];
        // Enough for any one host call; the fuel is not what limits it.
        self.store.set_fuel(u64::MAX).map_err(|e| trap(&e))?;
        function.call(&mut self.store, args, &mut out).map_err(|e| trap(&e))?;
        Ok(out)
    }

    /// Copies `len` bytes at `offset` out of its memory; `None` if they are not all inside.
    pub fn read_memory(&self, offset: usize, len: usize) -> Option<Vec<u8>> {
        let memory = self.store.data().memory?;
        memory.data(&self.store).get(offset..offset.checked_add(len)?).map(<[u8]>::to_vec)
    }

    /// Copies `bytes` into its memory at `offset`; `None` if they do not all fit.
    pub fn write_memory(&mut self, offset: usize, bytes: &[u8]) -> Option<()> {
        let memory = self.store.data().memory?;
        let data = memory.data_mut(self.store.as_context_mut());
        data.get_mut(offset..offset.checked_add(bytes.len())?)?.copy_from_slice(bytes);
        Some(())
    }
}

/// The sandbox's reason, in the process table's terms.
fn trap(error: &Error) -> Trap {
    match error.as_trap_code() {
        Some(TrapCode::UnreachableCodeReached) => Trap::Unreachable,
        Some(TrapCode::MemoryOutOfBounds) => Trap::MemoryOutOfBounds,
        Some(TrapCode::TableOutOfBounds | TrapCode::IndirectCallToNull | TrapCode::BadSignature) => {
            Trap::IndirectCall
        }
        Some(TrapCode::IntegerDivisionByZero) => Trap::DivisionByZero,
        Some(TrapCode::IntegerOverflow) => Trap::IntegerOverflow,
        Some(TrapCode::BadConversionToInteger) => Trap::InvalidConversion,
        Some(TrapCode::StackOverflow) => Trap::StackOverflow,
        Some(TrapCode::OutOfSystemMemory | TrapCode::GrowthOperationLimited) => Trap::OutOfMemory,
        _ => Trap::Other(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_section_is_found_among_the_others_and_garbage_has_none() {
        let with = wat::parse_str("(module (func $s) (memory 1) (start $s))").unwrap();
        let without = wat::parse_str("(module (func $s) (memory 1) (export \"s\" (func $s)))").unwrap();
        assert!(has_start_section(&with));
        assert!(!has_start_section(&without));
        for garbage in [
            &[][..],
            &[0, 97, 115, 109, 1, 0, 0, 0, 8][..],
            &[0; 8][..],
            &[0, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
            let _ = has_start_section(garbage);
        }
        assert!(
            !has_start_section(&[0, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            "a size past the end"
        );
    }
}
