//! The workloads on wasmi, configured as `kernel/src/wasm/engine/wasmi.rs` configures it for an
//! actor: fuel metering on, eager compilation, and fuel slices resumed until the call completes.

use wasmi::{Config, Engine, Extern, Func, Linker, Store, TypedResumableCall, Val};

use crate::Workloads;

/// A module instantiated on wasmi.
pub struct Module {
    store: Store<()>,
    instance: wasmi::Instance,
    workloads: Vec<(String, i32)>,
}

impl Module {
    /// Compiles `wasm` and instantiates it, every import a host function that returns zeros.
    pub fn new(wasm: &[u8]) -> Result<Self, String> {
        let mut config = Config::default();
        config.consume_fuel(true).compilation_mode(wasmi::CompilationMode::Eager);
        let engine = Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        for import in module.imports() {
            let Some(ty) = import.ty().func() else {
                return Err(format!("it imports {}, which is not a function", import.name()));
            };
            let zeros: Vec<Val> = ty.results().iter().map(|&t| Val::default_for_ty(t)).collect();
            let host = Func::new(&mut store, ty.clone(), move |_, _, results| {
                results.clone_from_slice(&zeros);
                Ok(())
            });
            linker.define(import.module(), import.name(), Extern::Func(host)).map_err(|e| e.to_string())?;
        }
        let instance = linker.instantiate_and_start(&mut store, &module).map_err(|e| e.to_string())?;
        let mut workloads = Vec::new();
        for export in module.exports() {
            if export.ty().func().is_none() {
                continue;
            }
            let global = instance.get_global(&store, &format!("{}_n", export.name()));
            if let Some(Val::I32(n)) = global.map(|g| g.get(&store)) {
                workloads.push((export.name().to_owned(), n));
            }
        }
        Ok(Module { store, instance, workloads })
    }
}

impl Workloads for Module {
    fn list(&self) -> Vec<(String, i32)> {
        self.workloads.clone()
    }

    fn run(&mut self, name: &str, n: i32, fuel_slice: Option<u32>) -> Result<i64, String> {
        let function = self
            .instance
            .get_typed_func::<i32, i64>(&self.store, name)
            .map_err(|e| format!("{name}: {e}"))?;
        let Some(fuel) = fuel_slice else {
            self.store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
            return function.call(&mut self.store, n).map_err(|e| e.to_string());
        };
        self.store.set_fuel(fuel.into()).map_err(|e| e.to_string())?;
        let mut call = function.call_resumable(&mut self.store, n).map_err(|e| e.to_string())?;
        loop {
            match call {
                TypedResumableCall::Finished(units) => return Ok(units),
                TypedResumableCall::OutOfFuel(rest) => {
                    let refill = u64::from(fuel).max(rest.required_fuel());
                    self.store.set_fuel(refill).map_err(|e| e.to_string())?;
                    call = rest.resume(&mut self.store).map_err(|e| e.to_string())?;
                }
                TypedResumableCall::HostTrap(_) => return Err(format!("{name}: a host function failed")),
            }
        }
    }
}
