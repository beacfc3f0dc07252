//! Host side of MinimalOS: builds the boot image and runs it in QEMU.
//!
//! - [`bench`]: `make bench`: the shell's benchmarks run in QEMU, their figures saved.
//! - [`artifacts`]: where `build.rs` put the kernel, the loader and the ramdisk.
//! - [`host`]: the host programs the image and QEMU need, installed when possible.
//! - [`interp`]: the interpreter workloads in the kernel and natively on the host, compared.
//! - [`manifest_check`]: the boot manifest an image boots, checked when it is built.
//! - [`iso`]: the bootable ISO (the project's loader, or real Limine with `LIMINE_DIR`).
//! - [`provenance`]: what a set of figures was measured on (commit, host, QEMU), for results files.
//! - [`profile`]: `make profile`: one IPC round trip's instructions by kernel symbol.
//! - [`ramdisk`]: the ramdisk an image carries, with the actors and files the user adds.
//! - [`qemu`]: QEMU command lines, and a running machine whose serial console tests can read
//!   and type into.
//! - [`screen`]: screenshots of the display, as images tests can look at.
//! - [`yardstick`]: `make yardstick`: the interpreter in MinimalOS against the same one hosted by
//!   Linux in the same QEMU.

pub mod artifacts;
pub mod bench;
pub mod host;
pub mod interp;
pub mod iso;
pub mod manifest_check;
pub mod profile;
pub mod provenance;
pub mod qemu;
pub mod ramdisk;
pub mod screen;
pub mod yardstick;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The code blocks of `doc` that a line "From `PATH`:" introduces, with their paths.
    fn excerpts(doc: &str) -> Vec<(&str, String)> {
        let mut found = Vec::new();
        let mut lines = doc.lines();
        while let Some(line) = lines.next() {
            let Some(path) = line.strip_prefix("From `").and_then(|rest| rest.strip_suffix("`:")) else {
                continue;
            };
            let mut block = lines.by_ref().skip_while(|l| !l.starts_with("```")).skip(1);
            let code: Vec<_> = block.by_ref().take_while(|l| !l.starts_with("```")).collect();
            found.push((path, code.join("\n") + "\n"));
        }
        found
    }

    /// Code the docs show from the tree (README's example actor, the guide's service and client)
    /// is in the tree as shown: those actors are built into the image and run by the boot
    /// tests, so the docs cannot drift from code that works.
    #[test]
    fn every_excerpt_in_the_docs_is_in_its_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = Vec::new();
        for doc in ["README.md", "docs/SDK.md"] {
            let text = std::fs::read_to_string(root.join(doc)).expect("the docs");
            for (path, code) in excerpts(&text) {
                let file =
                    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{doc}: {path}: {e}"));
                assert!(file.contains(&code), "{doc} shows code that is not in {path}:\n{code}");
                checked.push(path.to_owned());
            }
        }
        for shown in
            ["actors/hello/src/lib.rs", "examples/counter/src/lib.rs", "examples/counter_client/src/lib.rs"]
        {
            assert!(checked.iter().any(|c| c == shown), "the docs no longer show {shown}");
        }
    }
}
