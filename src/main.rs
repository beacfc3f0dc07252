//! `minimalos`: builds the boot image and runs it (the Makefile's targets call this).
//!
//! ```text
//! minimalos iso   [--out PATH] [--cmdline TEXT]   build the ISO (LIMINE_DIR=... for real Limine)
//! minimalos run   [--iso PATH]                    build, then boot with the serial console here
//! minimalos debug [--iso PATH]                    the same, paused, with a gdb server on :1234
//! minimalos bench                                 run the benchmarks, write build/bench/results.*
//! minimalos profile                               count one IPC round trip's instructions by symbol
//! minimalos yardstick                             bench wasm against the same engine hosted by Linux
//! ```
//! Environment: `CMDLINE="log=debug ..."` for the kernel command line (`--cmdline` wins),
//! `ACCEL=tcg|kvm` (default tcg), `MEMORY=<MiB>` (default 512), `SMP=<CPUs>` (default 2), `GUI=1` to show
//! the framebuffer in a window, `LIMINE_DIR` to boot through a Limine binary release,
//! `ACTORS="a.wasm b.wasm"` to pack extra actors into the ramdisk (as do `.wasm` files in
//! `extra-actors/`), `FILES="notes.txt data/"` to pack files and directory trees (as does
//! whatever is in `extra-files/`).

use std::path::PathBuf;
use std::process::ExitCode;

use minimalos::artifacts;
use minimalos::iso::{self, IsoOptions};
use minimalos::qemu::{self, Accel, GdbServer, QemuOptions};
use minimalos::ramdisk::Extras;

const USAGE: &str =
    "usage: minimalos <iso|run|debug|bench|profile|yardstick> [--out PATH] [--iso PATH] [--cmdline TEXT]";

/// The port of the host's 127.0.0.1 that `make run` forwards to the guest's web server.
const HTTP_PORT: u16 = 8080;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("minimalos: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (command, flags) = args.split_first().ok_or(USAGE)?;
    if command == "yardstick" {
        let results = minimalos::yardstick::run()?;
        eprintln!("minimalos: wrote {}", results.display());
        return Ok(ExitCode::SUCCESS);
    }
    if command == "bench" {
        let history: Vec<PathBuf> =
            std::env::var("HISTORY").unwrap_or_default().split_whitespace().map(PathBuf::from).collect();
        let dir = minimalos::bench::run(&history)?;
        eprintln!(
            "minimalos: wrote {}: results.json, results.md, samples.csv, histograms.csv, plots/",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if command == "profile" {
        let report = minimalos::profile::run()?;
        eprintln!("minimalos: wrote {}", report.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut iso_options = IsoOptions {
        out: artifacts::repo_root().join("build/minimalos.iso"),
        cmdline: std::env::var("CMDLINE").ok().filter(|c| !c.is_empty()),
        limine_dir: iso::limine_dir_from_env(),
        extras: Extras::from_env(
            &std::env::var("ACTORS").unwrap_or_default(),
            &std::env::var("FILES").unwrap_or_default(),
        ),
        test_modules: false,
    };
    let mut flags = flags.iter();
    while let Some(flag) = flags.next() {
        let value = flags.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--out" | "--iso" => iso_options.out = PathBuf::from(value),
            "--cmdline" => iso_options.cmdline = Some(value.clone()),
            _ => return Err(format!("unknown option {flag}\n{USAGE}").into()),
        }
    }

    let iso = iso::build(&iso_options)?;
    eprintln!("minimalos: wrote {}", iso.display());
    if command == "iso" {
        return Ok(ExitCode::SUCCESS);
    }
    let gdb = match command.as_str() {
        "run" => GdbServer::Off,
        "debug" => GdbServer::Paused,
        _ => return Err(USAGE.into()),
    };
    let memory_mib = match std::env::var("MEMORY") {
        Ok(m) => m.parse().map_err(|_| format!("MEMORY={m} is not a number of MiB"))?,
        Err(_) => 512,
    };
    let options = QemuOptions {
        accel: Accel::from_env()?,
        // Two CPUs unless `SMP` says otherwise: enough to see the kernel use more than one,
        // few enough for a laptop's host threads.
        cpus: Some(qemu::cpus_from_env(2)?),
        memory_mib,
        gdb,
        window: std::env::var("GUI").is_ok_and(|v| v == "1"),
        network: true,
        forwards: vec![(HTTP_PORT, 80)],
        ..QemuOptions::new(iso)
    };
    if gdb == GdbServer::Paused {
        eprintln!(
            "minimalos: paused for gdb; in another terminal:\n    gdb {} -ex 'target remote localhost:1234'",
            artifacts::kernel().display()
        );
    }
    eprintln!("minimalos: booting under {} (quit: Ctrl-A then X)", options.accel.name());
    let vars = qemu::vars_path()?;
    let status = qemu::command(&options, &vars)?.args(["-serial", "mon:stdio"]).status()?;
    let _ = std::fs::remove_file(&vars);
    Ok(match status.code() {
        Some(0) | Some(qemu::EXIT_SUCCESS) => ExitCode::SUCCESS,
        _ => {
            eprintln!("minimalos: QEMU ended with {status}");
            ExitCode::FAILURE
        }
    })
}
