//! Starting an actor: parse and validate the module, resolve its imports against the host ABI,
//! instantiate it, and hand it to the executor on a fiber of its own.
//!
//! Everything that can be wrong with a module is found here and named in the error, before the
//! actor runs; the kernel and the other actors go on either way.

use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::Cell;
use tinywasm::parser::{Parser, ParserOptions};
use tinywasm::types::{ExportType, FuncType, ImportType, Module, ModuleInner, WasmType};
use tinywasm::{Engine, Function, ModuleInstance, Store};

use super::abi;
use super::actor::{self, ActorContext, ActorTask};
use super::guest::MEMORY_EXPORT;
use super::limits::Limits;
use super::linear_memory::MemoryView;
use crate::cap::Capability;
use crate::error::Error;
use crate::mem::MemError;
use crate::mem::kmem::Charge;
use crate::proc::{Exit, Process, ProcessTable};
use crate::task::Executor;

/// The function every actor exports and the kernel calls once.
pub const ENTRY_EXPORT: &str = "_start";

/// Why an actor could not be started.
#[derive(Debug, Clone, PartialEq)]
pub enum SpawnError {
    /// The bytes are not a valid Wasm module.
    Malformed(String),
    /// The module imports something the host does not provide.
    UnknownImport { module: String, name: String },
    /// The module imports a host function with another signature.
    WrongSignature { name: &'static str, expected: String, found: String },
    /// A required export is missing or of the wrong kind.
    MissingExport(&'static str),
    /// Instantiation failed (memory above the limit, a bad data segment, ...).
    Instantiate(String),
    /// No memory for the actor's fiber stack.
    NoMemory(MemError),
    /// The kernel heap has too little room left to load a module this large.
    NoHeap { needed: u64, available: u64 },
    /// Its grants or its task could not be set up.
    Process(Error),
    /// What it would hold passes its kernel memory limit, or the pool actors draw from.
    KernelMemory { needed: u64, error: Error },
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "not a valid Wasm module: {why}"),
            Self::UnknownImport { module, name } => write!(f, "imports unknown function `{module}.{name}`"),
            Self::WrongSignature { name, expected, found } => {
                write!(f, "imports `{}.{name}` as {found}, but the host provides {expected}", abi::MODULE)
            }
            Self::MissingExport(name) => write!(f, "does not export `{name}` (see docs/ABI.md)"),
            Self::Instantiate(why) => write!(f, "cannot be instantiated: {why}"),
            Self::NoMemory(e) => write!(f, "no memory for its stack: {e}"),
            Self::NoHeap { needed, available } => write!(
                f,
                "needs about {} KiB of kernel memory to load, and only {} KiB are left",
                needed / 1024,
                available / 1024
            ),
            Self::Process(e) => write!(f, "cannot be set up: {e}"),
            Self::KernelMemory { needed, error } => {
                write!(f, "needs {} KiB more kernel memory: {error}", needed.div_ceil(1024))
            }
        }
    }
}

/// Kernel heap a module of `len` bytes may need while it is parsed and instantiated, not
/// counting its linear memory (whose allocation fails cleanly). Measured: about four times its
/// size plus 150 KiB; this asks for four times that margin, because tinywasm's parser cannot
/// fail gracefully when the heap runs out.
fn load_headroom(len: usize) -> u64 {
    16 * len as u64 + 1024 * 1024
}

/// Most elements a Wasm table may hold: `table.grow` past it returns -1, as `memory.grow` does
/// past the memory limit, and a table that starts above it refuses the module. Small enough
/// that a table instruction's work stays a short step.
pub const MAX_TABLE_ELEMENTS: u64 = 65_536;

/// Kernel memory one table element takes (tinywasm's `TableElement`: a tag and an address).
const TABLE_ELEMENT_BYTES: u64 = 8;

/// `module` with every table capped at [`MAX_TABLE_ELEMENTS`] (a declared maximum above it
/// lowered, a missing one set), and the kernel memory its tables may take at their largest.
/// Modules whose tables are within the cap (a Rust actor's one table is) are not copied.
fn cap_tables(module: Module) -> Result<(Module, u64), SpawnError> {
    let capped = |max: Option<u64>| max.is_some_and(|max| max <= MAX_TABLE_ELEMENTS);
    let module = if module.table_types.iter().all(|table| capped(table.size_max)) {
        module
    } else {
        let mut inner = ModuleInner::clone(&module);
        for table in inner.table_types.iter_mut() {
            table.size_max =
                Some(table.size_max.map_or(MAX_TABLE_ELEMENTS, |max| max.min(MAX_TABLE_ELEMENTS)));
        }
        Module::from(inner)
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

/// Checks that every import is a host function of the ABI with the right signature.
fn check_imports(module: &tinywasm::Module) -> Result<(), SpawnError> {
    for import in module.imports() {
        let known = (import.module == abi::MODULE).then(|| abi::find(import.name)).flatten().map(|(f, _)| f);
        let unknown =
            || SpawnError::UnknownImport { module: import.module.to_string(), name: import.name.to_string() };
        let host = known.ok_or_else(unknown)?;
        let ImportType::Func(found) = import.ty else { return Err(unknown()) };
        let expected = abi::func_type(host);
        if *found != expected {
            return Err(SpawnError::WrongSignature {
                name: host.name,
                expected: signature(&expected),
                found: signature(found),
            });
        }
    }
    Ok(())
}

/// A signature the way `docs/ABI.md` writes it: `(i64, i32) -> i32`.
fn signature(ty: &FuncType) -> String {
    let names = |types: &[WasmType]| {
        let names: Vec<String> = types.iter().map(|t| format!("{t:?}").to_lowercase()).collect();
        names.join(", ")
    };
    match ty.results() {
        [] => format!("({}) -> ()", names(ty.params())),
        [one] => format!("({}) -> {}", names(ty.params()), names(&[*one])),
        many => format!("({}) -> ({})", names(ty.params()), names(many)),
    }
}

/// Checks for `_start: () -> ()` and an exported memory.
fn check_exports(module: &tinywasm::Module) -> Result<(), SpawnError> {
    let mut entry = false;
    let mut memory = false;
    for export in module.exports() {
        match (export.name, export.ty) {
            (ENTRY_EXPORT, ExportType::Func(ty)) => entry = ty.params().is_empty() && ty.results().is_empty(),
            (MEMORY_EXPORT, ExportType::Memory(_)) => memory = true,
            _ => {}
        }
    }
    if !entry {
        return Err(SpawnError::MissingExport("_start: () -> ()"));
    }
    if !memory {
        return Err(SpawnError::MissingExport(MEMORY_EXPORT));
    }
    Ok(())
}

/// Starts the Wasm module `bytes` as a new process `name` with `limits`, started by `parent`
/// if an actor asked for it; `grants` land in its capability table at handles 0, 1, 2… in
/// order. Returns the new process.
pub fn spawn_wasm(
    executor: &mut Executor,
    processes: &mut ProcessTable,
    name: &str,
    bytes: &[u8],
    limits: Limits,
    grants: impl IntoIterator<Item = Capability>,
    parent: Option<&Arc<Process>>,
) -> Result<Arc<Process>, SpawnError> {
    let fuel_slice = limits.fuel_slice;
    load(processes, name, bytes, limits, grants, parent)?.start(executor, move |mut actor| {
        actor::run(&actor.context, &mut actor.store, &actor.entry, fuel_slice)
    })
}

/// An actor loaded and instantiated, its process created and charged, not running yet.
pub struct Loaded {
    instance: Instance,
    charge: Charge,
    fiber_stack: u64,
}

/// What an actor's program runs with, on its fiber.
pub struct Instance {
    /// What its host functions know of it.
    pub context: Rc<ActorContext>,
    /// The interpreter's state.
    pub store: Store,
    /// The module, instantiated.
    pub module: ModuleInstance,
    /// What it runs: its start function, if any, then `_start`.
    pub entry: Vec<Function>,
}

impl Loaded {
    /// Hands the actor to `executor` on a fiber of its own that runs `program` (for a Wasm
    /// actor, its entry functions) and ends the process as it returns.
    pub fn start(
        self,
        executor: &mut Executor,
        program: impl FnOnce(Instance) -> Exit + 'static,
    ) -> Result<Arc<Process>, SpawnError> {
        let Self { instance, charge, fiber_stack } = self;
        let process = instance.context.process.clone();
        let fail = failing(process.clone());
        let context = instance.context.clone();
        let task = ActorTask::new(context, fiber_stack, move || program(instance), charge)
            .map_err(|e| fail(SpawnError::NoMemory(e)))?;
        process.start(executor, task).map_err(|e| fail(SpawnError::Process(e)))?;
        Ok(process)
    }
}

/// What a failure after `process` was created does first: ends it, so it does not linger in
/// the table as Ready.
fn failing(process: Arc<Process>) -> impl Fn(SpawnError) -> SpawnError {
    move |e| {
        process.end(Exit::Killed { by: None });
        e
    }
}

/// Loads the Wasm module `bytes` as the process `name` (see [`spawn_wasm`]), ready to start.
pub fn load(
    processes: &mut ProcessTable,
    name: &str,
    bytes: &[u8],
    limits: Limits,
    grants: impl IntoIterator<Item = Capability>,
    parent: Option<&Arc<Process>>,
) -> Result<Loaded, SpawnError> {
    let (needed, available) = (load_headroom(bytes.len()), crate::mem::heap_headroom());
    if needed > available {
        return Err(SpawnError::NoHeap { needed, available });
    }
    // What the module's code and instance take is measured, from here to its instantiation.
    let heap_before = crate::mem::heap::allocated();
    // Memories made at instantiation, not at first write: a memory the backend refuses (above
    // the limit, no heap) is then a spawn error (tinywasm panics when a lazy one it makes on a
    // write is refused), and the kernel sees the memory from the first host call.
    let options = ParserOptions::default().with_local_memory_allocation_optimization(false);
    let module = Parser::with_options(options)
        .parse_module_bytes(bytes)
        .map_err(|e| SpawnError::Malformed(e.to_string()))?;
    check_imports(&module)?;
    check_exports(&module)?;
    let (module, table_bytes) = cap_tables(module)?;

    let process = processes.create_with(name, limits.process, parent);
    let fail = failing(process.clone());
    // What it may hold at its largest, charged before any of it is taken.
    let fixed = limits.fixed_kernel_bytes() + table_bytes;
    let mut charge = process
        .account()
        .charge(fixed)
        .map_err(|error| fail(SpawnError::KernelMemory { needed: fixed, error }))?;
    for grant in grants {
        process.insert(grant).map_err(|e| fail(SpawnError::Process(e)))?;
    }
    let context =
        Rc::new(ActorContext { process: process.clone(), stop: Cell::new(None), memory: MemoryView::new() });
    let mut store = Store::new(Engine::new(limits.engine_config(&process, &context.memory)));
    let imports = abi::link(&mut store, &context, module.imports().map(|i| i.name));
    // The module's own start function runs later, on the fiber, in fuel slices like the rest:
    // run here it could loop forever inside the spawner.
    let instance = ModuleInstance::instantiate_no_start(&mut store, &module, Some(imports))
        .map_err(|e| fail(SpawnError::Instantiate(e.to_string())))?;
    // The memory it exports is the one its backend made: an actor has one.
    instance.memory(MEMORY_EXPORT).map_err(|_| fail(SpawnError::MissingExport(MEMORY_EXPORT)))?;
    let mut entry = Vec::new();
    if let Some(start) =
        instance.start_func(&store).map_err(|e| fail(SpawnError::Instantiate(e.to_string())))?
    {
        entry.push(start);
    }
    let main = instance
        .func_untyped(&store, ENTRY_EXPORT)
        .map_err(|_| fail(SpawnError::MissingExport(ENTRY_EXPORT)))?;
    entry.push(main);
    // The code and instance, as measured (its memory is charged by its backend; the table
    // that holds its grants is counted twice, a few bytes).
    let code =
        crate::mem::heap::allocated().saturating_sub(heap_before).saturating_sub(context.memory.len() as u64);
    charge.grow(code).map_err(|error| fail(SpawnError::KernelMemory { needed: code, error }))?;
    let instance = Instance { context, store, module: instance, entry };
    Ok(Loaded { instance, charge, fiber_stack: limits.fiber_stack })
}
