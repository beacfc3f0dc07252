//! `interp-host`: the host half of `make bench`'s interpreter comparison. Runs each workload of
//! a module shaped like `tests/wasm/bench_interp.wat` (an exported function `W` for each
//! exported global `W_n`, called with that global's value) on tinywasm or wasmi, driven as the
//! kernel drives them (see `kernel/src/wasm/engine`), and prints one line per workload:
//! `NAME UNITS NS` (what the function returned, and the wall time of the call).
//!
//! The call runs inside [`measured`], so `valgrind --tool=callgrind
//! --toggle-collect='interp_host::measured'` counts its instructions alone.

use std::process::ExitCode;
use std::time::Instant;

mod tinywasm_run;
mod wasmi_run;

/// The kernel's fuel slice (`Limits::default().fuel_slice` in `kernel/src/wasm/limits.rs`).
const KERNEL_FUEL_SLICE: u32 = 20_000;

/// How to run the workloads.
struct Options {
    engine: Engine,
    /// Fuel per slice, resuming after each as the kernel does; `None` calls straight through.
    fuel_slice: Option<u32>,
    /// Only this workload.
    only: Option<String>,
    wasm: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Engine {
    Tinywasm,
    Wasmi,
}

/// One engine's way to run a module's workloads.
trait Workloads {
    /// The workloads' names and their `_n` arguments, in export order.
    fn list(&self) -> Vec<(String, i32)>;
    /// Runs the workload `name` with `n`; what it returned.
    fn run(&mut self, name: &str, n: i32, fuel_slice: Option<u32>) -> Result<i64, String>;
}

/// The one function whose instructions callgrind counts.
#[inline(never)]
fn measured(run: &mut dyn FnMut() -> Result<i64, String>) -> Result<i64, String> {
    run()
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        engine: Engine::Tinywasm,
        fuel_slice: Some(KERNEL_FUEL_SLICE),
        only: None,
        wasm: Vec::new(),
    };
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--engine" => {
                options.engine = match args.next().as_deref() {
                    Some("tinywasm") => Engine::Tinywasm,
                    Some("wasmi") => Engine::Wasmi,
                    other => {
                        return Err(format!(
                            "--engine {}: the engines are tinywasm and wasmi",
                            other.unwrap_or("")
                        ));
                    }
                }
            }
            "--plain" => options.fuel_slice = None,
            "--only" => options.only = Some(args.next().ok_or("--only needs a workload's name")?),
            _ if path.is_none() && !arg.starts_with('-') => path = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let path =
        path.ok_or("usage: interp-host [--engine tinywasm|wasmi] [--plain] [--only NAME] FILE.wasm")?;
    options.wasm = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(options)
}

fn run(options: &Options) -> Result<(), String> {
    let mut module: Box<dyn Workloads> = match options.engine {
        Engine::Tinywasm => Box::new(tinywasm_run::Module::new(&options.wasm)?),
        Engine::Wasmi => Box::new(wasmi_run::Module::new(&options.wasm)?),
    };
    let workloads = module.list();
    if let Some(only) = &options.only
        && !workloads.iter().any(|(name, _)| name == only)
    {
        return Err(format!("the module has no workload {only}"));
    }
    for (name, n) in workloads {
        if options.only.as_ref().is_some_and(|only| *only != name) {
            continue;
        }
        let start = Instant::now();
        let units = measured(&mut || module.run(&name, n, options.fuel_slice))?;
        let ns = start.elapsed().as_nanos();
        println!("{name} {units} {ns}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("interp-host: {why}");
            ExitCode::FAILURE
        }
    }
}
