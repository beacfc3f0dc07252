//! The ABI validation layer: a module built from arbitrary calls to the host functions and the
//! WASI imports (a program started without WASI's start, so its file calls find no vfs), with
//! arguments drawn from the values that break careless checks (negative, zero, just past a
//! page, huge, the handles it holds and ones it does not), run against grants of an endpoint,
//! shared memory, a small ramdisk and the read-only `system` object. No call may make the
//! kernel panic; a killed actor must unwind wherever it waits.
#![no_main]

use std::fmt::Write;
use std::num::NonZeroUsize;

use arbitrary::Arbitrary;
use kernel::cap::{Capability, Rights};
use kernel::wasm::engine::{Signature, ValueType};
use libfuzzer_sys::fuzz_target;
use minimalos_abi::{HOST_FUNCTIONS, HostFunction, WASI_FUNCTIONS};

/// Values an argument may take, by index.
const VALUES: [i64; 16] = [
    0,
    1,
    2,
    3,
    -1,
    8,
    16,
    64,
    4096,
    65_535,
    65_536,
    0x7fff_fff0,
    i32::MAX as i64,
    i32::MIN as i64,
    i64::MAX,
    i64::MIN,
];

/// One call: which import, and an index into [`VALUES`] (or a raw value) per argument.
#[derive(Arbitrary, Debug)]
struct Call {
    import: u8,
    // As many as the longest signature (`path_open`) takes.
    args: [(u8, u32); 9],
}

/// A small ustar-shaped byte string; the ramdisk capability only needs bytes.
static RAMDISK: [u8; 1024] = [7; 1024];

fuzz_target!(|calls: Vec<Call>| {
    let mut imports = String::new();
    let mut body = String::new();
    let mut used = Vec::new();
    let all: Vec<&HostFunction> = HOST_FUNCTIONS.iter().chain(WASI_FUNCTIONS).collect();
    for call in calls.iter().take(32) {
        let import = all[usize::from(call.import) % all.len()];
        let ty = Signature::of(import);
        if !used.contains(&import.name) {
            used.push(import.name);
            let types =
                |list: &[ValueType]| list.iter().map(|t| format!(" {}", t.name())).collect::<String>();
            let _ = writeln!(
                imports,
                "(import \"{3}\" \"{0}\" (func ${0} (param{1}) (result{2})))",
                import.name,
                types(&ty.params),
                types(&ty.results),
                import.module
            );
        }
        body.push_str(&format!("(call ${}", import.name));
        for (param, &(pick, raw)) in ty.params.iter().zip(&call.args) {
            let value = if pick < 16 { VALUES[usize::from(pick)] } else { i64::from(raw as i32) };
            let _ = match param {
                ValueType::I64 => write!(body, " (i64.const {value})"),
                _ => write!(body, " (i32.const {})", value as i32),
            };
        }
        body.push(')');
        body.push_str(&"(drop)".repeat(ty.results.len()));
        body.push('\n');
    }
    let text =
        format!("(module\n{imports}(memory (export \"memory\") 1)\n(func (export \"_start\")\n{body}))");
    let module = wat::parse_str(&text).expect("the generated module is valid");
    let grants = [
        Capability::endpoint(NonZeroUsize::new(4).expect("non-zero"), None),
        Capability::shared_memory(4096),
        Ok(Capability::ramdisk(&RAMDISK)),
        Capability::system().derive(Rights::READ),
    ];
    minimalos_fuzz::run_actor(&module, grants.into_iter().flatten().collect());
});
