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
pub mod screen;
pub mod yardstick;

#[cfg(test)]
mod tests {
    /// README's example actor is `actors/hello`, which the image ships and the tests run.
    #[test]
    fn the_readme_example_is_the_hello_actor() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
        let hello = std::fs::read_to_string(root.join("actors/hello/src/lib.rs")).expect("the hello actor");
        let code = &hello[hello.find("\n#![no_std]").expect("hello is no_std") + 1..];
        assert!(
            readme.contains(&format!("```rust\n{code}```")),
            "README's example differs from actors/hello"
        );
    }
}
