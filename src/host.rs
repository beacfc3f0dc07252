//! Host programs the image builder and QEMU need, found on `PATH` or installed from Debian.
//!
//! When something is missing and we run as root on a Debian-like system, the missing packages
//! are installed with `apt-get`; otherwise the error names the exact command to run.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A host requirement: something to look for, and the Debian package that provides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// What is needed, for messages.
    pub what: &'static str,
    /// Debian package providing it.
    pub package: &'static str,
    probe: Probe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// A program on `PATH`.
    Program(&'static str),
    /// One of these files.
    AnyFile(&'static [&'static str]),
}

/// QEMU for x86_64.
pub const QEMU: Requirement = Requirement {
    what: "qemu-system-x86_64",
    package: "qemu-system-x86",
    probe: Probe::Program("qemu-system-x86_64"),
};
/// xorriso, which writes the ISO.
pub const XORRISO: Requirement =
    Requirement { what: "xorriso", package: "xorriso", probe: Probe::Program("xorriso") };
/// mtools, which writes the FAT image the firmware boots from.
pub const MTOOLS: Requirement =
    Requirement { what: "mtools (mformat, mcopy)", package: "mtools", probe: Probe::Program("mcopy") };
/// gdb with Python, which steps the guest for `make profile`.
pub const GDB: Requirement = Requirement { what: "gdb", package: "gdb", probe: Probe::Program("gdb") };
/// valgrind, whose callgrind counts the host's instructions for `make bench`.
pub const VALGRIND: Requirement =
    Requirement { what: "valgrind", package: "valgrind", probe: Probe::Program("valgrind") };
/// wrk, which loads the guest's web server for `make bench`.
pub const WRK: Requirement = Requirement { what: "wrk", package: "wrk", probe: Probe::Program("wrk") };
/// OVMF, UEFI firmware for QEMU.
pub const OVMF: Requirement =
    Requirement { what: "OVMF UEFI firmware", package: "ovmf", probe: Probe::AnyFile(OVMF_CODE_PATHS) };

/// Where Debian's `ovmf` package puts the firmware code (newest layout first).
const OVMF_CODE_PATHS: &[&str] =
    &["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/ovmf/OVMF.fd"];

/// Some requirements are missing and could not be installed.
#[derive(Debug)]
pub struct MissingTools {
    missing: Vec<Requirement>,
    reason: String,
}

impl fmt::Display for MissingTools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what: Vec<_> = self.missing.iter().map(|r| r.what).collect();
        let packages: Vec<_> = self.missing.iter().map(|r| r.package).collect();
        write!(
            f,
            "missing host tools: {} ({}). Install them with: sudo apt-get install {}",
            what.join(", "),
            self.reason,
            packages.join(" ")
        )
    }
}

impl std::error::Error for MissingTools {}

impl Requirement {
    fn present(&self) -> bool {
        match self.probe {
            Probe::Program(name) => find_program(name).is_some(),
            Probe::AnyFile(paths) => paths.iter().any(|p| Path::new(p).is_file()),
        }
    }
}

/// Makes sure every requirement is present, installing the missing ones when possible.
pub fn ensure(requirements: &[Requirement]) -> Result<(), MissingTools> {
    let missing: Vec<Requirement> = requirements.iter().copied().filter(|r| !r.present()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let fail = |reason: String| MissingTools { missing: missing.clone(), reason };
    if !is_root() {
        return Err(fail("not running as root, so not installing them".into()));
    }
    if find_program("apt-get").is_none() {
        return Err(fail("apt-get is not available".into()));
    }
    let packages: Vec<&str> = missing.iter().map(|r| r.package).collect();
    eprintln!("installing missing host packages: {}", packages.join(" "));
    apt_get(&["update", "-q"]).map_err(&fail)?;
    let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
    install.extend(&packages);
    apt_get(&install).map_err(&fail)?;
    let still: Vec<Requirement> = missing.iter().copied().filter(|r| !r.present()).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(MissingTools { missing: still, reason: "apt-get ran but they are still missing".into() })
    }
}

/// The Debian package `package`, downloaded with `apt-get download` into `dir` and unpacked
/// (not installed) under `dir/PACKAGE/`; that root, kept for the next call.
pub fn unpack_deb(package: &str, dir: &Path) -> Result<PathBuf, String> {
    let root = dir.join(package);
    if root.is_dir() {
        return Ok(root);
    }
    let download = || {
        eprintln!("downloading the Debian package {package}");
        Command::new("apt-get")
            .args(["download", "-q", package])
            .current_dir(dir)
            .status()
            .is_ok_and(|s| s.success())
    };
    // A fresh machine may have no package lists yet.
    if !download() && !(apt_get(&["update", "-q"]).is_ok() && download()) {
        return Err(format!("cannot download the Debian package {package} (apt-get download {package})"));
    }
    let deb = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .find(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with(&format!("{package}_")) && name.ends_with(".deb")
        })
        .ok_or_else(|| format!("apt-get download left no {package}_*.deb in {}", dir.display()))?;
    let unpacking = dir.join(format!("{package}.unpacking"));
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacking)
        .status()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !status.success() {
        return Err(format!("dpkg-deb -x {} failed ({status})", deb.display()));
    }
    std::fs::rename(&unpacking, &root).map_err(|e| format!("{}: {e}", root.display()))?;
    Ok(root)
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let status = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("apt-get {} failed ({status})", args[0])) }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The full path of `name` if it is an executable on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Where OVMF is installed: the firmware code and, for split images, the variable-store template.
#[derive(Debug, Clone, Copy)]
pub struct Firmware {
    /// The read-only firmware code.
    pub code: &'static Path,
    /// Template for the writable variable store, when the firmware is split in two.
    pub vars_template: Option<&'static Path>,
}

/// Finds OVMF, installing it first if needed.
pub fn ovmf() -> Result<Firmware, MissingTools> {
    ensure(&[OVMF])?;
    let code = OVMF_CODE_PATHS.iter().map(Path::new).find(|p| p.is_file()).ok_or_else(|| MissingTools {
        missing: vec![OVMF],
        reason: "none of the known firmware paths exists".into(),
    })?;
    let vars = match code.to_str() {
        Some("/usr/share/OVMF/OVMF_CODE_4M.fd") => Some("/usr/share/OVMF/OVMF_VARS_4M.fd"),
        Some("/usr/share/OVMF/OVMF_CODE.fd") => Some("/usr/share/OVMF/OVMF_VARS.fd"),
        _ => None,
    };
    Ok(Firmware { code, vars_template: vars.map(Path::new).filter(|p| p.is_file()) })
}
