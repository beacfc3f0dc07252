//! The cross-built parts of the system, as `build.rs` left them, found from the repository
//! this runner is run in: `build.rs` names them relative to the repository's root, and the
//! root is looked up when the runner runs, so a copied checkout uses its own files even when
//! cargo did not rebuild the runner after the copy.

use std::path::PathBuf;

/// The repository root; `build/` and `target/` live here. Cargo says where when it runs the
/// runner or its tests (`CARGO_MANIFEST_DIR`); run any other way, it is where it was built.
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("limine/limine.conf").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A path `build.rs` gave relative to the repository's root (or absolute, when outside it).
fn built(path: &str) -> PathBuf {
    repo_root().join(path)
}

/// The kernel ELF (with symbols; `make debug` hands it to gdb).
pub fn kernel() -> PathBuf {
    built(env!("MINIMALOS_KERNEL"))
}

/// The project's Limine-protocol UEFI loader.
pub fn loader() -> PathBuf {
    built(env!("MINIMALOS_LOADER"))
}

/// `ramdisk.tar` with every actor under `actors/` and `examples/`, the manifests and the
/// modules the shell's `bench` runs: the default image's.
pub fn ramdisk() -> PathBuf {
    built(env!("MINIMALOS_RAMDISK"))
}

/// The default ramdisk plus every raw test module of `tests/wasm/` (under `test/`): the boot
/// tests' image.
pub fn test_ramdisk() -> PathBuf {
    built(env!("MINIMALOS_TEST_RAMDISK"))
}

/// The raw test module `name` (`tests/wasm/NAME.wat`, assembled), as the ramdisks hold it
/// under `test/`.
pub fn test_module(name: &str) -> PathBuf {
    built(env!("MINIMALOS_TEST_WASM")).join(format!("{name}.wasm"))
}

/// The Rust program `name` of `programs/`, built for `wasm32-wasip1` as the ramdisks hold it.
pub fn program(name: &str) -> PathBuf {
    built(env!("MINIMALOS_PROGRAMS")).join(format!("{name}.wasm"))
}

/// `limine/limine.conf`, the boot configuration both loaders read.
pub fn limine_conf() -> PathBuf {
    repo_root().join("limine/limine.conf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_artifact_is_under_this_checkout() {
        let root = repo_root();
        for path in
            [kernel(), loader(), ramdisk(), test_ramdisk(), test_module("spinner"), program("wasi_hello")]
        {
            assert!(path.starts_with(&root), "{} is not under {}", path.display(), root.display());
        }
    }
}
