//! The cross-built parts of the system, as `build.rs` left them.

use std::path::{Path, PathBuf};

/// The kernel ELF (with symbols; `make debug` hands it to gdb).
pub fn kernel() -> &'static Path {
    Path::new(env!("MINIMALOS_KERNEL"))
}

/// The project's Limine-protocol UEFI loader.
pub fn loader() -> &'static Path {
    Path::new(env!("MINIMALOS_LOADER"))
}

/// `ramdisk.tar` with every actor under `actors/` and the modules the shell's `bench` runs:
/// the default image's.
pub fn ramdisk() -> &'static Path {
    Path::new(env!("MINIMALOS_RAMDISK"))
}

/// The default ramdisk plus every raw test module of `tests/wasm/` (under `test/`): the boot
/// tests' image.
pub fn test_ramdisk() -> &'static Path {
    Path::new(env!("MINIMALOS_TEST_RAMDISK"))
}

/// The raw test module `name` (`tests/wasm/NAME.wat`, assembled), as the ramdisks hold it
/// under `test/`.
pub fn test_module(name: &str) -> PathBuf {
    Path::new(env!("MINIMALOS_TEST_WASM")).join(format!("{name}.wasm"))
}

/// `limine/limine.conf`, the boot configuration both loaders read.
pub fn limine_conf() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/limine/limine.conf"))
}

/// The repository root; `build/` lives here.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
