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

use super::abi;
use super::actor::{ActorContext, ActorTask};
use super::engine::{self, Export, Module, Signature};
use super::guest::MEMORY_EXPORT;
use super::limits::{Limits, WASM_PAGE};
use super::wasi::{Start, Wasi};
use crate::cap::Capability;
use crate::error::Error;
use crate::mem::MemError;
use crate::mem::kmem::Charge;
use crate::mem::meter::MeteredCharge;
use crate::proc::{Exit, Process, ProcessTable};
use crate::task::{Executor, Placement};

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
    WrongSignature { module: &'static str, name: &'static str, expected: String, found: String },
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
            Self::WrongSignature { module, name, expected, found } => {
                write!(f, "imports `{module}.{name}` as {found}, but the host provides {expected}")
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

/// Checks that every import is a host function of the ABI with the right signature.
fn check_imports(module: &Module) -> Result<(), SpawnError> {
    for import in module.imports() {
        let known = abi::find(import.module, import.name).map(|(f, _)| f);
        let unknown =
            || SpawnError::UnknownImport { module: import.module.to_string(), name: import.name.to_string() };
        let host = known.ok_or_else(unknown)?;
        let found = import.function.ok_or_else(unknown)?;
        let expected = Signature::of(host);
        if found != expected {
            return Err(SpawnError::WrongSignature {
                module: host.module,
                name: host.name,
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
    }
    Ok(())
}

/// Checks for `_start: () -> ()` and an exported memory that starts within `limits`.
fn check_exports(module: &Module, limits: &Limits) -> Result<(), SpawnError> {
    let mut entry = false;
    let mut memory = None;
    for (name, export) in module.exports() {
        match (name, export) {
            (ENTRY_EXPORT, Export::Function(ty)) => entry = ty.params.is_empty() && ty.results.is_empty(),
            (MEMORY_EXPORT, Export::Memory { initial_bytes }) => memory = Some(initial_bytes),
            _ => {}
        }
    }
    if !entry {
        return Err(SpawnError::MissingExport("_start: () -> ()"));
    }
    let initial = memory.ok_or(SpawnError::MissingExport(MEMORY_EXPORT))?;
    let max = u64::from(limits.memory_pages) * WASM_PAGE as u64;
    if initial > max {
        return Err(SpawnError::Instantiate(format!(
            "its memory starts at {} pages, above the limit of {} pages",
            initial.div_ceil(WASM_PAGE as u64),
            limits.memory_pages
        )));
    }
    Ok(())
}

/// Where a module's bytes come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The ramdisk, whose bytes never change or move: parsed once, then kept
    /// (`wasm::module_cache`).
    Ramdisk(&'static [u8]),
    /// Anywhere else (a vfs path, a test): parsed for this spawn alone.
    Bytes(&'a [u8]),
}

impl Source<'_> {
    /// The module's bytes.
    pub fn bytes(&self) -> &[u8] {
        match *self {
            Source::Ramdisk(bytes) => bytes,
            Source::Bytes(bytes) => bytes,
        }
    }
}

/// What a new actor is given.
#[derive(Default)]
pub struct Given {
    /// Capabilities for its table, at handles 0, 1, 2… in order.
    pub grants: Vec<Capability>,
    /// Its WASI start (arguments, environment, directories, streams), used if it imports WASI.
    pub start: Start,
    /// Which CPU runs it.
    pub placement: Placement,
}

impl Given {
    /// Capabilities alone.
    pub fn grants(grants: Vec<Capability>) -> Self {
        Self { grants, ..Self::default() }
    }
}

/// Starts the Wasm module `source` as a new process `name` with `limits`, started by `parent`
/// if an actor asked for it, holding what it is `given`. Returns the new process.
pub fn spawn_wasm(
    executor: &mut Executor,
    processes: &mut ProcessTable,
    name: &str,
    source: Source<'_>,
    limits: Limits,
    given: Given,
    parent: Option<&Arc<Process>>,
) -> Result<Arc<Process>, SpawnError> {
    let fuel_slice = limits.fuel_slice;
    load(processes, name, source, limits, given, parent)?
        .start(executor, move |context, mut instance| instance.run(&context, fuel_slice))
}

/// An actor loaded and instantiated, its process created and charged, not running yet.
pub struct Loaded {
    context: Rc<ActorContext>,
    instance: engine::Instance,
    charge: Charge,
    fiber_stack: u64,
    placement: Placement,
}

impl Loaded {
    /// What its host functions know of it.
    pub fn context(&self) -> &Rc<ActorContext> {
        &self.context
    }

    /// Hands the actor to `executor` on a fiber of its own that runs `program` (for a Wasm
    /// actor, its entry functions) and ends the process as it returns.
    pub fn start(
        self,
        executor: &mut Executor,
        program: impl FnOnce(Rc<ActorContext>, engine::Instance) -> Exit + 'static,
    ) -> Result<Arc<Process>, SpawnError> {
        let Self { context, instance, charge, fiber_stack, placement } = self;
        let process = context.process.clone();
        let fail = failing(process.clone());
        let task = ActorTask::new(context.clone(), fiber_stack, move || program(context, instance), charge)
            .map_err(|e| fail(SpawnError::NoMemory(e)))?;
        process.start_on(executor, task, placement).map_err(|e| fail(SpawnError::Process(e)))?;
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

/// Loads the Wasm module `source` as the process `name` (see [`spawn_wasm`]), ready to start.
pub fn load(
    processes: &mut ProcessTable,
    name: &str,
    source: Source<'_>,
    limits: Limits,
    given: Given,
    parent: Option<&Arc<Process>>,
) -> Result<Loaded, SpawnError> {
    let (needed, available) = (load_headroom(source.bytes().len()), crate::mem::heap_headroom());
    if needed > available {
        return Err(SpawnError::NoHeap { needed, available });
    }
    // What the module's code and instance take is measured, from here to its instantiation.
    let heap_before = crate::mem::heap::allocated();
    let module = match source {
        Source::Ramdisk(bytes) => super::module_cache::parse(bytes, &limits)?,
        Source::Bytes(bytes) => engine::parse(bytes, &limits)?,
    };
    check_imports(&module)?;
    check_exports(&module, &limits)?;
    let Given { grants, start, placement } = given;
    let wasi = module.imports().any(|import| import.module == abi::WASI_MODULE);

    let process = processes.create_with(name, limits.process, parent);
    let fail = failing(process.clone());
    // What it may hold at its largest, charged before any of it is taken.
    let fixed =
        limits.fixed_kernel_bytes() + module.table_bytes() + if wasi { start.kernel_bytes(name) } else { 0 };
    let mut charge = process
        .account()
        .charge(fixed)
        .map_err(|error| fail(SpawnError::KernelMemory { needed: fixed, error }))?;
    for grant in grants {
        process.insert(grant).map_err(|e| fail(SpawnError::Process(e)))?;
    }
    let wasi = wasi.then(|| Wasi::new(name, format!("{name}[{}]", process.pid()), start));
    let grown = MeteredCharge::new(process.account());
    let context = Rc::new(ActorContext { process: process.clone(), stop: Cell::new(None), wasi, grown });
    let instance = engine::instantiate(&module, &context, &limits).map_err(&fail)?;
    // The code and instance, as measured (its memory is charged by the engine; the table that
    // holds its grants is counted twice, a few bytes).
    let code = crate::mem::heap::allocated()
        .saturating_sub(heap_before)
        .saturating_sub(instance.memory_len() as u64);
    charge.grow(code).map_err(|error| fail(SpawnError::KernelMemory { needed: code, error }))?;
    Ok(Loaded { context, instance, charge, fiber_stack: limits.fiber_stack, placement })
}
