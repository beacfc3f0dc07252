//! tinywasm 0.10, the default engine: a validating interpreter whose memory backend is the
//! kernel's own (`linear_memory`), so host calls copy straight into and out of an actor's
//! memory, and bulk memory instructions give way in steps.

mod linear_memory;

use alloc::format;
use alloc::rc::Rc;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use tinywasm::engine::{Config, StackConfig};
use tinywasm::parser::{Parser, ParserOptions};
use tinywasm::types::{ExportType, FuncType, ImportType, ModuleInner, WasmType};
use tinywasm::{Engine, ExecProgress, FuncContext, Function, HostFunction, Imports, ModuleInstance, Store};

pub use tinywasm::types::WasmValue as Value;

use minimalos_abi::{HostFunction as HostFunctionDecl, ValType};

use self::linear_memory::MemoryView;
use super::{Export, Import, Signature, ValueType};
use crate::mem::meter::MeteredCharge;
use crate::proc::{Exit, Process, Trap};
use crate::wasm::abi::{self, Ret};
use crate::wasm::actor::{self, ActorContext};
use crate::wasm::guest::{Guest, MEMORY_EXPORT};
use crate::wasm::limits::{Limits, WASM_PAGE};
use crate::wasm::spawn::{ENTRY_EXPORT, MAX_TABLE_ELEMENTS, SpawnError};

/// Most slots of the 128-bit value stack, which holds only SIMD values (tinywasm's own
/// default).
const V128_SLOTS: usize = 4 * 1024;
/// Kernel memory one table element takes (tinywasm's `TableElement`: a tag and an address).
const TABLE_ELEMENT_BYTES: u64 = 8;

/// Most slots of the 128-bit (SIMD) value stack.
fn v128_slots(limits: &Limits) -> usize {
    limits.value_slots.min(V128_SLOTS)
}

/// A module parsed and validated, its tables capped.
/// Cheap to clone: the parsed code is shared.
#[derive(Clone)]
pub struct Module {
    inner: tinywasm::Module,
    table_bytes: u64,
}

/// Parses and validates `bytes` (whatever the actor's limits: tinywasm applies them when it
/// instantiates).
pub fn parse(bytes: &[u8], _limits: &Limits) -> Result<Module, SpawnError> {
    // Memories made at instantiation, not at first write: a memory the backend refuses (above
    // the limit, no heap) is then a spawn error (tinywasm panics when a lazy one it makes on a
    // write is refused), and the kernel sees the memory from the first host call.
    let options = ParserOptions::default().with_local_memory_allocation_optimization(false);
    let module = Parser::with_options(options)
        .parse_module_bytes(bytes)
        .map_err(|e| SpawnError::Malformed(e.to_string()))?;
    let (inner, table_bytes) = cap_tables(module)?;
    Ok(Module { inner, table_bytes })
}

/// `module` with every table capped at [`MAX_TABLE_ELEMENTS`] (a declared maximum above it
/// lowered, a missing one set), and the kernel memory its tables may take at their largest.
/// Modules whose tables are within the cap (a Rust actor's one table is) are not copied.
fn cap_tables(module: tinywasm::Module) -> Result<(tinywasm::Module, u64), SpawnError> {
    let capped = |max: Option<u64>| max.is_some_and(|max| max <= MAX_TABLE_ELEMENTS);
    let module = if module.table_types.iter().all(|table| capped(table.size_max)) {
        module
    } else {
        let mut inner = ModuleInner::clone(&module);
        for table in inner.table_types.iter_mut() {
            table.size_max =
                Some(table.size_max.map_or(MAX_TABLE_ELEMENTS, |max| max.min(MAX_TABLE_ELEMENTS)));
        }
        tinywasm::Module::from(inner)
    };
    let mut bytes = 0;
    for table in module.table_types.iter() {
        if table.size_initial > MAX_TABLE_ELEMENTS {
            return Err(SpawnError::Instantiate(format!(
                "a table starts at {} elements, above the limit of {MAX_TABLE_ELEMENTS}",
                table.size_initial
            )));
        }
        bytes += table.size_max.unwrap_or(MAX_TABLE_ELEMENTS) * TABLE_ELEMENT_BYTES;
    }
    Ok((module, bytes))
}

impl Module {
    /// What it imports.
    pub fn imports(&self) -> impl Iterator<Item = Import<'_>> {
        self.inner.imports().map(|import| Import {
            module: import.module,
            name: import.name,
            function: match import.ty {
                ImportType::Func(ty) => Some(signature(ty)),
                _ => None,
            },
        })
    }

    /// What it exports, by name.
    pub fn exports(&self) -> impl Iterator<Item = (&str, Export)> {
        self.inner.exports().map(|export| {
            let kind = match export.ty {
                ExportType::Func(ty) => Export::Function(signature(ty)),
                ExportType::Memory(ty) => Export::Memory { initial_bytes: ty.initial_size() },
                _ => Export::Other,
            };
            (export.name, kind)
        })
    }

    /// Kernel memory its tables may take at their largest.
    pub fn table_bytes(&self) -> u64 {
        self.table_bytes
    }
}

fn signature(ty: &FuncType) -> Signature {
    let types = |list: &[WasmType]| list.iter().map(|&ty| value_type(ty)).collect();
    Signature { params: types(ty.params()), results: types(ty.results()) }
}

fn value_type(ty: WasmType) -> ValueType {
    match ty {
        WasmType::I32 => ValueType::I32,
        WasmType::I64 => ValueType::I64,
        WasmType::F32 => ValueType::F32,
        WasmType::F64 => ValueType::F64,
        WasmType::V128 => ValueType::V128,
        _ => ValueType::Ref,
    }
}

/// The interpreter's type for the host function `function`.
fn func_type(function: &HostFunctionDecl) -> FuncType {
    let wasm = |ty: &ValType| match ty {
        ValType::I32 => WasmType::I32,
        ValType::I64 => WasmType::I64,
    };
    let params: Vec<WasmType> = function.params.iter().map(|(_, ty)| wasm(ty)).collect();
    let results: Vec<WasmType> = function.results.iter().map(wasm).collect();
    FuncType::new(&params, &results)
}

/// The calling actor's memory during a host call.
pub struct GuestMemory<'c>(&'c MemoryView);

impl GuestMemory<'_> {
    /// Its size in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.0.len()
    }

    /// Copies `dst.len()` bytes from offset `start`; `None` if they are not all inside.
    #[inline]
    pub fn read(&self, start: usize, dst: &mut [u8]) -> Option<()> {
        self.0.read(start, dst)
    }

    /// Copies `src` to offset `start`; `None` if it does not all fit inside.
    #[inline]
    pub fn write(&mut self, start: usize, src: &[u8]) -> Option<()> {
        self.0.write(start, src)
    }
}

/// What a handler gets of the interpreter: the caller's memory. Only the host functions
/// `link` makes build one, while the interpreter has stopped the actor in the call (it holds
/// the call's `FuncContext`), so its memory holds still.
pub struct HostCall<'c> {
    memory: &'c MemoryView,
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
    store: Store,
    module: ModuleInstance,
    /// Its start function, if any, then `_start`.
    entry: Vec<Function>,
    memory: Arc<MemoryView>,
}

/// Instantiates `module` for the actor `ctx` under `limits`, its imports linked to the ABI's
/// handlers (checked against the ABI before).
pub fn instantiate(module: &Module, ctx: &Rc<ActorContext>, limits: &Limits) -> Result<Instance, SpawnError> {
    let memory = MemoryView::new();
    let mut store = Store::new(Engine::new(config(limits, &ctx.process, &memory, &ctx.grown)));
    let imports = link(&mut store, ctx, &memory, module.inner.imports().map(|i| (i.module, i.name)));
    // The module's own start function runs later, on the fiber, in fuel slices like the rest:
    // run here it could loop forever inside the spawner.
    let instance = ModuleInstance::instantiate_no_start(&mut store, &module.inner, Some(imports))
        .map_err(|e| SpawnError::Instantiate(e.to_string()))?;
    // The memory it exports is the one its backend made: an actor has one.
    instance.memory(MEMORY_EXPORT).map_err(|_| SpawnError::MissingExport(MEMORY_EXPORT))?;
    let mut entry = Vec::new();
    if let Some(start) = instance.start_func(&store).map_err(|e| SpawnError::Instantiate(e.to_string()))? {
        entry.push(start);
    }
    let main =
        instance.func_untyped(&store, ENTRY_EXPORT).map_err(|_| SpawnError::MissingExport(ENTRY_EXPORT))?;
    entry.push(main);
    Ok(Instance { store, module: instance, entry, memory })
}

/// The interpreter configuration for `limits`, for the actor run as `process` whose memory
/// `view` will show and whose interpreter's growth `grown` charges. Stacks start small and grow
/// on demand, so an idle actor costs little; `trap_on_oom` stays off so a refused `memory.grow`
/// returns -1.
fn config(
    limits: &Limits,
    process: &Arc<Process>,
    view: &Arc<MemoryView>,
    grown: &Arc<MeteredCharge>,
) -> Config {
    let max_bytes = limits.memory_pages as usize * WASM_PAGE;
    // Shown from the start; the size follows once the interpreter makes the memory.
    process.set_linear_memory(0, max_bytes as u64);
    let stack = |slots: usize| StackConfig::dynamic(256.min(slots), slots);
    Config::new()
        .with_value_stack_32(stack(limits.value_slots))
        .with_value_stack_64(stack(limits.value_slots))
        .with_value_stack_128(stack(v128_slots(limits)))
        .with_call_stack(StackConfig::dynamic(16.min(limits.call_depth), limits.call_depth))
        .with_memory_backend(linear_memory::backend(view, max_bytes, process, grown))
}

/// Host functions for the imports `names` (already checked against the ABI), bound to the
/// actor `ctx` whose memory `view` shows.
fn link<'n>(
    store: &mut Store,
    ctx: &Rc<ActorContext>,
    view: &Arc<MemoryView>,
    names: impl Iterator<Item = (&'n str, &'n str)>,
) -> Imports {
    let mut imports = Imports::new();
    for (function, handler) in names.filter_map(|(module, name)| abi::find(module, name)) {
        let (ctx, view) = (ctx.clone(), view.clone());
        let ty = func_type(function);
        let host = HostFunction::from_untyped(store, &ty, move |_call: FuncContext<'_>, args| {
            let call = HostCall { memory: &view };
            match abi::dispatch(function, handler, &ctx, call, args) {
                Ok(Ret::None) => Ok(Vec::new()),
                Ok(Ret::I32(value)) => Ok(alloc::vec![Value::I32(value)]),
                Ok(Ret::I64(value)) => Ok(alloc::vec![Value::I64(value)]),
                Err(error) => Err(tinywasm::Error::Other(error.to_string())),
            }
        });
        imports.define(function.module, function.name, host);
    }
    imports
}

impl Instance {
    /// Bytes of its linear memory.
    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    /// Runs its entry functions in fuel slices of `fuel_slice` instructions, giving way when
    /// the time slice is used up, until they return or the actor `ctx` ends.
    pub fn run(&mut self, ctx: &ActorContext, fuel_slice: u32) -> Exit {
        for function in &self.entry {
            let mut execution = match function.call_resumable(&mut self.store, &[]) {
                Ok(execution) => execution,
                Err(e) => return ctx.exit_after(trap(&e)),
            };
            loop {
                match execution.resume_with_fuel(fuel_slice) {
                    Ok(ExecProgress::Completed(_)) => break,
                    Ok(ExecProgress::Suspended) => {
                        if let Err(exit) = actor::between_slices(ctx) {
                            return exit;
                        }
                    }
                    // A host call that stops the interpreter records why before its error.
                    Err(e) => return ctx.exit_after(trap(&e)),
                }
            }
        }
        Exit::Exited(0)
    }

    /// Calls its export `name` with `args` to the end, without fuel slices (a host build's
    /// native actor calls its host functions this way); the trap if it fails.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Trap> {
        let function = self.module.func_untyped(&self.store, name).map_err(|e| trap(&e))?;
        function.call(&mut self.store, args).map_err(|e| trap(&e))
    }

    /// Copies `len` bytes at `offset` out of its memory; `None` if they are not all inside.
    pub fn read_memory(&self, offset: usize, len: usize) -> Option<Vec<u8>> {
        let mut bytes = alloc::vec![0; len];
        self.memory.read(offset, &mut bytes)?;
        Some(bytes)
    }

    /// Copies `bytes` into its memory at `offset`; `None` if they do not all fit.
    pub fn write_memory(&mut self, offset: usize, bytes: &[u8]) -> Option<()> {
        self.memory.write(offset, bytes)
    }
}

/// The sandbox's reason, in the process table's terms.
fn trap(e: &tinywasm::Error) -> Trap {
    use tinywasm::Trap as T;
    match e {
        tinywasm::Error::Trap(t) => match t {
            T::Unreachable => Trap::Unreachable,
            T::MemoryOutOfBounds { .. } => Trap::MemoryOutOfBounds,
            T::TableOutOfBounds { .. }
            | T::UndefinedElement { .. }
            | T::UninitializedElement { .. }
            | T::IndirectCallTypeMismatch { .. } => Trap::IndirectCall,
            T::DivisionByZero => Trap::DivisionByZero,
            T::InvalidConversionToInt => Trap::InvalidConversion,
            T::IntegerOverflow => Trap::IntegerOverflow,
            T::CallStackOverflow | T::ValueStackOverflow => Trap::StackOverflow,
            T::OutOfMemory => Trap::OutOfMemory,
            other => Trap::Other(other.to_string()),
        },
        other => Trap::Other(other.to_string()),
    }
}
