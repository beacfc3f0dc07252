//! `docs/ABI.md` says what the crate says: a heading per host function with the crate's exact
//! signature, no heading for a function the crate lacks, and the error table row for row.

use minimalos_abi::{ERROR_CODES, HOST_FUNCTIONS, HostFunction};

const ABI_MD: &str = include_str!("../../docs/ABI.md");

/// The heading `docs/ABI.md` gives `f`: ``### `sys_name(a: i32, b: i64) -> i64` ``.
fn heading(f: &HostFunction) -> String {
    let params: Vec<String> = f.params.iter().map(|(name, ty)| format!("{name}: {}", ty.name())).collect();
    let result = f.results.first().map(|ty| format!(" -> {}", ty.name())).unwrap_or_default();
    format!("### `{}({}){result}`", f.name, params.join(", "))
}

#[test]
fn every_host_function_has_its_heading_with_its_signature_in_order() {
    let documented: Vec<&str> = ABI_MD.lines().filter(|l| l.starts_with("### `sys_")).collect();
    let declared: Vec<String> = HOST_FUNCTIONS.iter().map(heading).collect();
    assert_eq!(documented, declared, "docs/ABI.md's headings differ from minimalos_abi::HOST_FUNCTIONS");
}

#[test]
fn the_error_table_is_the_crates() {
    let rows: Vec<(String, i32)> = ABI_MD
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.parse::<i32>().ok().filter(|&code| code < 0)?;
            Some((cells.get(2)?.trim_matches('`').to_string(), code))
        })
        .collect();
    let declared: Vec<(String, i32)> =
        ERROR_CODES.iter().map(|&(name, code)| (name.to_string(), code)).collect();
    assert_eq!(rows, declared, "docs/ABI.md's error table differs from minimalos_abi::ERROR_CODES");
}

const WASI_MD: &str = include_str!("../../docs/WASI.md");

#[test]
fn docs_wasi_md_says_what_becomes_of_every_wasi_import_in_order() {
    let documented: Vec<&str> = WASI_MD
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    let declared: Vec<&str> = minimalos_abi::WASI_FUNCTIONS.iter().map(|f| f.name).collect();
    assert_eq!(documented, declared, "docs/WASI.md's table differs from minimalos_abi::WASI_FUNCTIONS");
}
