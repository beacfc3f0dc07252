//! Cross-builds everything that boots: the kernel (`x86_64-unknown-none`), the project's
//! Limine-protocol loader (`x86_64-unknown-uefi`) and every actor under `actors/`
//! (`wasm32-unknown-unknown`), then packs the actors into `ramdisk.tar`. The runner finds the
//! results through the `MINIMALOS_*` environment variables set at compile time.
//!
//! Cargo's artifact dependencies are nightly-only, so this runs nested `cargo build`s. They use
//! their own target directory: the outer build holds the lock on `target/`, and a nested build
//! waiting for it would wait forever.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Target directory of the nested builds, inside the outer one.
const CROSS_DIR: &str = "target/cross";

/// Kernel, loader, actor targets.
const KERNEL_TARGET: &str = "x86_64-unknown-none";
const LOADER_TARGET: &str = "x86_64-unknown-uefi";
const ACTOR_TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in
        ["kernel", "limine", "actors", "sdk", "Cargo.lock", ".cargo/config.toml", "rust-toolchain.toml"]
    {
        println!("cargo:rerun-if-changed={watched}");
    }

    let kernel = cross_build(&root, "kernel", KERNEL_TARGET).join("kernel");
    let loader = cross_build(&root, "minimalos-loader", LOADER_TARGET).join("loader.efi");

    let actors = actor_crates(&root.join("actors"));
    let mut wasm = Vec::new();
    for name in &actors {
        let built = cross_build(&root, name, ACTOR_TARGET).join(format!("{}.wasm", name.replace('-', "_")));
        wasm.push((format!("{name}.wasm"), built));
    }
    let ramdisk = out_dir.join("ramdisk.tar");
    pack_ramdisk(&ramdisk, &wasm);

    println!("cargo:rustc-env=MINIMALOS_KERNEL={}", kernel.display());
    println!("cargo:rustc-env=MINIMALOS_LOADER={}", loader.display());
    println!("cargo:rustc-env=MINIMALOS_RAMDISK={}", ramdisk.display());
}

/// Builds `package` for `target` in release mode and returns the directory holding its output.
fn cross_build(root: &Path, package: &str, target: &str) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "build",
        "--release",
        "--locked",
        "-p",
        package,
        "--target",
        target,
        "--target-dir",
        CROSS_DIR,
    ]);
    // The outer build's settings describe the host build, not this one: flags, wrappers (clippy
    // sets one) and the target directory must not leak into the nested build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo to build {package}: {e}"));
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        panic!("building {package} for {target} failed (its compiler output is above)");
    }
    root.join(CROSS_DIR).join(target).join("release")
}

/// Names of the crates under `actors/` (each folder with a `Cargo.toml`), sorted.
fn actor_crates(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            path.join("Cargo.toml").is_file().then(|| path.file_name()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

/// Writes `files` (name in the archive, path on disk) into a ustar archive at `out`.
fn pack_ramdisk(out: &Path, files: &[(String, PathBuf)]) {
    let file = fs::File::create(out).unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    let mut tar = tar::Builder::new(file);
    tar.mode(tar::HeaderMode::Deterministic);
    for (name, path) in files {
        tar.append_path_with_name(path, name)
            .unwrap_or_else(|e| panic!("cannot add {} to the ramdisk: {e}", path.display()));
    }
    tar.finish().unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
