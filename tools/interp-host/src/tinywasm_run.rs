//! The workloads on tinywasm, called as `kernel/src/wasm/engine/tinywasm` calls an actor:
//! parsed with memories made at instantiation, untyped host functions, and fuel slices resumed
//! until the call completes. Its memory is tinywasm's own (the kernel's backend is not here).

use tinywasm::parser::{Parser, ParserOptions};
use tinywasm::types::{ExportType, ImportType, WasmValue};
use tinywasm::{ExecProgress, ExternItem, HostFunction, Imports, ModuleInstance, Store};

use crate::Workloads;

/// A module instantiated on tinywasm.
pub struct Module {
    store: Store,
    instance: ModuleInstance,
    workloads: Vec<(String, i32)>,
}

impl Module {
    /// Parses `wasm` and instantiates it, every import a host function that returns zeros.
    pub fn new(wasm: &[u8]) -> Result<Self, String> {
        let options = ParserOptions::default().with_local_memory_allocation_optimization(false);
        let module = Parser::with_options(options).parse_module_bytes(wasm).map_err(|e| e.to_string())?;
        let mut store = Store::default();
        let mut imports = Imports::new();
        for import in module.imports() {
            let ImportType::Func(ty) = import.ty else {
                return Err(format!("it imports {}, which is not a function", import.name));
            };
            let zeros: Vec<WasmValue> = ty.results().iter().map(|&t| WasmValue::default_for(t)).collect();
            let host = HostFunction::from_untyped(&mut store, ty, move |_, _| Ok(zeros.clone()));
            imports.define(import.module, import.name, host);
        }
        let names: Vec<String> = module
            .exports()
            .filter(|export| matches!(export.ty, ExportType::Func(_)))
            .map(|export| export.name.to_owned())
            .collect();
        let instance = ModuleInstance::instantiate_no_start(&mut store, &module, Some(imports))
            .map_err(|e| e.to_string())?;
        let mut workloads = Vec::new();
        for name in names {
            if let Ok(WasmValue::I32(n)) = instance.global_get(&store, &format!("{name}_n")) {
                workloads.push((name, n));
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
        let Ok(ExternItem::Func(function)) = self.instance.extern_item(name) else {
            return Err(format!("no function {name}"));
        };
        let args = [WasmValue::I32(n)];
        let results = match fuel_slice {
            None => function.call(&mut self.store, &args).map_err(|e| e.to_string())?,
            Some(fuel) => {
                let mut execution =
                    function.call_resumable(&mut self.store, &args).map_err(|e| e.to_string())?;
                loop {
                    match execution.resume_with_fuel(fuel).map_err(|e| e.to_string())? {
                        ExecProgress::Completed(results) => break results,
                        ExecProgress::Suspended => {}
                    }
                }
            }
        };
        match results.as_slice() {
            [WasmValue::I64(units)] => Ok(*units),
            _ => Err(format!("{name} did not return one i64")),
        }
    }
}
