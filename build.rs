//! Cross-builds everything that boots: the kernel (`x86_64-unknown-none`), the project's
//! Limine-protocol loader (`x86_64-unknown-uefi`), every actor under `actors/` and
//! `examples/` (`wasm32-unknown-unknown`) and every program under `programs/` (`wasm32-wasip1`:
//! Rust crates, and C files compiled by Debian's clang against its wasi-libc), then packs two
//! ramdisks: `ramdisk.tar`, the default image's, with the actors, the programs, the boot
//! manifest (`actors/boot.manifest`) and the few raw modules the shell's `bench` commands run;
//! and `ramdisk-test.tar`, which adds every raw ABI test module of `tests/wasm/` (`*.wat`,
//! assembled here, under `test/`, with their manifests) for the boot tests. The runner finds
//! the results through the `MINIMALOS_*` environment variables.
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

/// The raw modules of `tests/wasm/` the shell's `bench` commands run, so the default image has
/// them: the interpreter and path benchmarks, and the hogs of `bench preempt`.
const BENCH_MODULES: [&str; 5] = ["bench_interp", "bench_path", "spinner", "attack_bulk", "attack_log"];

/// Kernel, loader, actor and program targets.
const KERNEL_TARGET: &str = "x86_64-unknown-none";
const LOADER_TARGET: &str = "x86_64-unknown-uefi";
const ACTOR_TARGET: &str = "wasm32-unknown-unknown";
const PROGRAM_TARGET: &str = "wasm32-wasip1";

/// The Debian packages C for WASI needs, with what build.rs looks for to know each is there
/// (the Makefile's `toolchain` target installs them): clang, its linker `wasm-ld`, `llvm-ar`
/// (the cc crate archives wasm objects with it), wasi-libc, and compiler-rt's builtins for
/// wasm32, which clang links into every C program.
const WASI_C_PACKAGES: [&str; 5] = ["clang", "lld", "llvm", "wasi-libc", "libclang-rt-dev-wasm32"];
/// Where Debian 12's wasi-libc puts its headers and its C library.
const WASI_INCLUDE: &str = "/usr/include/wasm32-wasi";
const WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";

/// How the cc crate compiles the C inside program crates (SQLite's, in `sqlite_demo`): the
/// variables of their nested build. Debian's clang finds wasi-libc's headers by itself only
/// for the target spelled `wasm32-wasi`; for cc's `wasm32-wasip1` it would search
/// `/usr/include`, the host's glibc, so the standard directories are replaced by wasi-libc's
/// (after clang's own, as usual). `-Os`: SQLite comes out a third smaller than at cargo's
/// `-O3` (1.27 MB against 1.95 MB) and runs as many Wasm instructions, and the kernel
/// interprets it, loading the whole module first. The Makefile's lint uses the same.
const PROGRAM_C_ENV: [(&str, &str); 3] = [
    ("CC_wasm32_wasip1", "clang"),
    ("AR_wasm32_wasip1", "llvm-ar"),
    ("CFLAGS_wasm32_wasip1", "-nostdlibinc -idirafter /usr/include/wasm32-wasi -Os"),
];

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The interpreter the kernel runs actors on: `ENGINE=tinywasm` (the default) or `wasmi`.
    let engine = env::var("ENGINE").unwrap_or_else(|_| "tinywasm".into());
    let features: &[&str] = match engine.as_str() {
        "tinywasm" => &[],
        "wasmi" => &["wasmi"],
        other => panic!("ENGINE={other}: the engines are `tinywasm` (the default) and `wasmi`"),
    };
    // Before the long builds: a missing C toolchain is one line, not a failure minutes later.
    check_wasi_c();
    let kernel = cross_build(&root, "kernel", KERNEL_TARGET, features, &[]).join("kernel");
    let loader = cross_build(&root, "minimalos-loader", LOADER_TARGET, &[], &[]).join("loader.efi");

    // Actor crates build a `cdylib` (a `.wasm` module); the other crates beside them are
    // libraries actors share, such as their message protocols.
    let is_actor = |manifest: &str| manifest.contains("cdylib");
    let actors =
        [crates_in(&root.join("actors"), is_actor), crates_in(&root.join("examples"), is_actor)].concat();
    let mut files = Vec::new();
    for name in &actors {
        let built =
            cross_build(&root, name, ACTOR_TARGET, &[], &[]).join(format!("{}.wasm", name.replace('-', "_")));
        files.push((format!("{name}.wasm"), built));
    }
    // Every crate of `programs/` is a plain `std` binary, and a binary keeps its package's name.
    let mut programs = None;
    for name in crates_in(&root.join("programs"), |_| true) {
        let dir = cross_build(&root, &name, PROGRAM_TARGET, &[], &PROGRAM_C_ENV);
        files.push((format!("{name}.wasm"), dir.join(format!("{name}.wasm"))));
        programs = Some(dir);
    }
    // Every `NAME.c` beside them is a whole C program (a folder would be taken for a crate).
    for name in c_programs(&root.join("programs")) {
        let source = root.join("programs").join(format!("{name}.c"));
        let built = out_dir.join(format!("{name}.wasm"));
        compile_c(&source, &built);
        files.push((format!("{name}.wasm"), built));
    }
    files.push(("boot.manifest".into(), root.join("actors/boot.manifest")));
    // What `make bench` boots instead (`manifest=bench.manifest`): the system actors alone.
    files.push(("bench.manifest".into(), root.join("actors/bench.manifest")));
    let test_wasm = out_dir.join("test-wasm");
    let tests = test_modules(&root.join("tests/wasm"), &test_wasm);
    let for_bench = |name: &String| BENCH_MODULES.iter().any(|m| *name == format!("test/{m}.wasm"));
    // The checks (`*_check` actors and programs) drive tests; the default image leaves them out.
    let default: Vec<_> = files
        .iter()
        .filter(|(n, _)| !n.ends_with("_check.wasm"))
        .chain(tests.iter().filter(|(n, _)| for_bench(n)))
        .cloned()
        .collect();
    let ramdisk = out_dir.join("ramdisk.tar");
    pack_ramdisk(&ramdisk, &default);
    files.extend(tests);
    let test_ramdisk = out_dir.join("ramdisk-test.tar");
    pack_ramdisk(&test_ramdisk, &files);

    // Said only once everything built: a failed run prints nothing but the compiler's messages
    // (and a build script that failed runs again anyway).
    for watched in [
        "kernel",
        "abi",
        "manifest",
        "limine",
        "actors",
        "examples",
        "programs",
        "sdk",
        "tests/wasm",
        "Cargo.lock",
        ".cargo/config.toml",
        "rust-toolchain.toml",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    println!("cargo:rerun-if-env-changed=ENGINE");
    // Relative to the repository's root, which the runner looks up when it runs: a copied
    // checkout must not use the original's files (`src/artifacts.rs`).
    let under_root = |path: &Path| path.strip_prefix(&root).unwrap_or(path).display().to_string();
    println!("cargo:rustc-env=MINIMALOS_KERNEL={}", under_root(&kernel));
    println!("cargo:rustc-env=MINIMALOS_ENGINE={engine}");
    println!("cargo:rustc-env=MINIMALOS_LOADER={}", under_root(&loader));
    println!("cargo:rustc-env=MINIMALOS_RAMDISK={}", under_root(&ramdisk));
    println!("cargo:rustc-env=MINIMALOS_TEST_RAMDISK={}", under_root(&test_ramdisk));
    println!("cargo:rustc-env=MINIMALOS_TEST_WASM={}", under_root(&test_wasm));
    if let Some(programs) = programs {
        println!("cargo:rustc-env=MINIMALOS_PROGRAMS={}", under_root(&programs));
    }
}

/// Builds `package` for `target` in release mode with `features` and the environment variables
/// `vars`, and returns the directory holding its output (one per set of features, so switching
/// engines rebuilds nothing twice).
fn cross_build(
    root: &Path,
    package: &str,
    target: &str,
    features: &[&str],
    vars: &[(&str, &str)],
) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dir = match features {
        [] => CROSS_DIR.to_string(),
        some => format!("{CROSS_DIR}-{}", some.join("-")),
    };
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
        &dir,
    ]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
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
    cmd.envs(vars.iter().copied());
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run cargo to build {package}: {e}"));
    if !output.status.success() {
        // The compiler's own messages, then one line; no panic, whose backtrace would bury them.
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        eprintln!("error: building {package} for {target} failed: the compiler's messages are above");
        std::process::exit(1);
    }
    root.join(dir).join(target).join("release")
}

/// Names of the crates in `dir`, sorted: folders with a `Cargo.toml` for which `wanted` holds
/// of its text (the package is named like its folder).
fn crates_in(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let manifest = fs::read_to_string(path.join("Cargo.toml")).ok()?;
            wanted(&manifest).then(|| path.file_name()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

/// Names of the C programs in `dir` (`NAME.c`), sorted.
fn c_programs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let is_c = path.extension().is_some_and(|e| e == "c") && path.is_file();
            is_c.then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    names
}

/// Stops the build with one line naming the Debian packages to install when the C toolchain
/// for WASI is incomplete.
fn check_wasi_c() {
    let on_path = |name: &str| {
        env::var_os("PATH").is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    // Where clang looks for compiler-rt's builtins when it links for WASI.
    let builtins = || {
        let output =
            Command::new("clang").args(["--target=wasm32-wasi", "-print-libgcc-file-name"]).output().ok()?;
        let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
        path.is_file().then_some(())
    };
    let present = [
        on_path("clang"),
        on_path("wasm-ld"),
        on_path("llvm-ar"),
        Path::new(WASI_LIBC).is_file() && Path::new(WASI_INCLUDE).join("stdio.h").is_file(),
        builtins().is_some(),
    ];
    let missing: Vec<&str> = WASI_C_PACKAGES
        .iter()
        .zip(present)
        .filter(|(_, there)| !there)
        .map(|(package, _)| *package)
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "error: the C toolchain for wasm32-wasi (programs/*.c, SQLite in programs/sqlite_demo) lacks the \
             Debian packages {}: run `apt-get install {}` as root (`make run` and `make test` do it)",
            missing.join(" "),
            WASI_C_PACKAGES.join(" ")
        );
        std::process::exit(1);
    }
}

/// Compiles the C program `source` into the WASI module `out` with Debian's clang, which finds
/// wasi-libc and the builtins by itself for `wasm32-wasi`. Debian builds wasi-libc with debug
/// information; the module leaves it out (a fifth of the size).
fn compile_c(source: &Path, out: &Path) {
    let output = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Wl,--strip-debug", "-o"])
        .arg(out)
        .arg(source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run clang to compile {}: {e}", source.display()));
    let messages = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        eprint!("{messages}");
        eprintln!("error: compiling {} for wasm32-wasi failed: clang's messages are above", source.display());
        std::process::exit(1);
    }
    // Warnings, which a build script's output would otherwise hide.
    for line in messages.lines() {
        println!("cargo:warning={line}");
    }
}

/// Assembles each `*.wat` of `dir` into `out` and returns them, with each `*.manifest`, as
/// ramdisk entries under `test/`.
fn test_modules(dir: &Path, out: &Path) -> Vec<(String, PathBuf)> {
    fs::create_dir_all(out).unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        match path.extension().and_then(|e| e.to_str()) {
            Some("wat") => {
                let wasm = wat::parse_str(with_includes(&path, &dir.join("include")))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let built = out.join(name.replace(".wat", ".wasm"));
                fs::write(&built, wasm).unwrap_or_else(|e| panic!("cannot write {}: {e}", built.display()));
                files.push((format!("test/{}", name.replace(".wat", ".wasm")), built));
            }
            Some("manifest") => files.push((format!("test/{name}"), path)),
            _ => {}
        }
    }
    files
}

/// The text of the WAT file `path` with each `;; include: NAME` line replaced by the text of
/// `includes/NAME`: module fields several test modules share (the checkers' reporting).
fn with_includes(path: &Path, includes: &Path) -> String {
    let read =
        |p: &Path| fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
    read(path)
        .lines()
        .map(|line| match line.trim().strip_prefix(";; include: ") {
            Some(name) => read(&includes.join(name)),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
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
