//! Every module the build packs into the ramdisk (the actors, the SDK's and the raw WAT test
//! modules, the WASI programs) imports only host functions and WASI functions the
//! `minimalos-abi` crate declares, each with the crate's signature: an actor built against a
//! stale SDK, or a test module with a typo, fails here rather than at its spawn. (The modules whose point is to be refused are named below.)

use std::io::Read;

use minimalos::artifacts;
use minimalos_abi::{ValType, import as declared_import};
use wasmparser::{FuncType, Parser, Payload, TypeRef};

/// Test modules that import what the kernel must refuse, and why.
const REFUSED_ON_PURPOSE: &[(&str, &str)] =
    &[("test/bad_import.wasm", "imports an unknown function, which the spawn must name")];

/// One imported function: module, name, and its type as the module declares it.
struct Imported {
    module: String,
    name: String,
    ty: FuncType,
}

/// The function imports of `wasm`, or why it cannot be read.
fn function_imports(wasm: &[u8]) -> Result<Vec<Imported>, String> {
    let (mut types, mut imports) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty.map_err(|e| e.to_string())?);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| e.to_string())?;
                    let (TypeRef::Func(index) | TypeRef::FuncExact(index)) = import.ty else {
                        return Err(format!(
                            "imports `{}.{}`, which is not a function",
                            import.module, import.name
                        ));
                    };
                    let ty = types.get(index as usize).ok_or("an import names a type that is not there")?;
                    imports.push(Imported {
                        module: import.module.into(),
                        name: import.name.into(),
                        ty: ty.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(imports)
}

/// What is wrong with `import`, if anything.
fn mismatch(import: &Imported) -> Option<String> {
    let declared = declared_import(&import.module, &import.name);
    let Some(declared) = declared else {
        return Some(format!(
            "imports `{}.{}`, which the ABI crate does not declare",
            import.module, import.name
        ));
    };
    let wasm = |ty: &ValType| match ty {
        ValType::I32 => wasmparser::ValType::I32,
        ValType::I64 => wasmparser::ValType::I64,
    };
    let params: Vec<_> = declared.params.iter().map(|(_, ty)| wasm(ty)).collect();
    let results: Vec<_> = declared.results.iter().map(wasm).collect();
    (import.ty.params() != params || import.ty.results() != results).then(|| {
        format!(
            "imports `{}` as {:?} -> {:?}, but the ABI crate declares {params:?} -> {results:?}",
            import.name,
            import.ty.params(),
            import.ty.results()
        )
    })
}

#[test]
fn every_module_in_the_ramdisk_imports_only_what_the_abi_crate_declares() {
    let tar = std::fs::File::open(artifacts::test_ramdisk()).expect("the build wrote ramdisk-test.tar");
    let mut archive = tar::Archive::new(tar);
    let (mut checked, mut problems) = (0, Vec::new());
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("a tar entry");
        let path = entry.path().expect("a path").to_string_lossy().into_owned();
        if !path.ends_with(".wasm") {
            continue;
        }
        let mut wasm = Vec::new();
        entry.read_to_end(&mut wasm).expect("its bytes");
        let found = match function_imports(&wasm) {
            Ok(imports) => imports.iter().filter_map(mismatch).collect(),
            Err(why) => vec![format!("cannot be read: {why}")],
        };
        let on_purpose = REFUSED_ON_PURPOSE.iter().any(|(name, _)| *name == path);
        assert!(!on_purpose || !found.is_empty(), "{path} should import something the kernel refuses");
        if !on_purpose {
            problems.extend(found.into_iter().map(|problem| format!("{path}: {problem}")));
        }
        checked += 1;
    }
    assert!(checked > 20, "only {checked} modules in the ramdisk");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
