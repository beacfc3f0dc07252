//! The bootable ISO.
//!
//! Both flavours hold `/boot/kernel`, `/boot/ramdisk.tar` and `/boot/limine/limine.conf`:
//! - default: a UEFI-bootable ISO whose El Torito image is a FAT filesystem with the project's
//!   loader as `EFI/BOOT/BOOTX64.EFI` and the same three files (UEFI firmware reads FAT, not
//!   ISO 9660, so the loader finds everything there);
//! - with a Limine binary release (`LIMINE_DIR`): the usual hybrid BIOS+UEFI Limine ISO,
//!   finished with `limine bios-install`.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::manifest_check::{self, ManifestErrors};
use crate::ramdisk::{self, Extras};
use crate::{artifacts, host};

/// Room left in the FAT image beyond its files, for directory entries and cluster rounding.
const FAT_SLACK: u64 = 1024 * 1024;

/// Where the boot configuration sits in the image (first place both loaders look).
const CONF_PATH: &str = "boot/limine/limine.conf";

/// The files every image carries, as paths inside it.
const BOOT_FILES: [&str; 3] = ["boot/kernel", "boot/ramdisk.tar", CONF_PATH];

/// Files a Limine binary release must provide for the hybrid ISO.
const LIMINE_FILES: [&str; 4] =
    ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"];

/// How to build an image.
#[derive(Debug, Clone, Default)]
pub struct IsoOptions {
    /// Where the ISO goes.
    pub out: PathBuf,
    /// Replaces the kernel command line of `limine.conf`, when set.
    pub cmdline: Option<String>,
    /// A Limine binary release to boot through instead of the project's loader.
    pub limine_dir: Option<PathBuf>,
    /// What to add to the ramdisk: extra actors, files and directory trees.
    pub extras: Extras,
    /// Whether the ramdisk holds every raw test module ([`artifacts::test_ramdisk`]), as the boot
    /// tests need, or only the default image's ([`artifacts::ramdisk`]).
    pub test_modules: bool,
}

/// The Limine binary release `LIMINE_DIR` names, if it is set and not empty: every image built
/// to boot (`make run`, the boot tests, `make bench`) goes through it then.
pub fn limine_dir_from_env() -> Option<PathBuf> {
    std::env::var_os("LIMINE_DIR").filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// Why an image could not be built.
#[derive(Debug)]
pub enum IsoError {
    /// A host program is missing.
    Tools(host::MissingTools),
    /// A file could not be read or written.
    Io { what: String, source: io::Error },
    /// A host program failed.
    Command { command: String, output: String },
    /// `limine.conf` has no `cmdline:` line to replace.
    NoCmdline,
    /// `LIMINE_DIR` lacks a file the hybrid ISO needs.
    LimineRelease { dir: PathBuf, missing: &'static str },
    /// An extra actor or file cannot be added: not a `.wasm` file, a name the ramdisk has
    /// already, no name.
    Extra { path: PathBuf, why: &'static str },
    /// The manifest the image would boot has mistakes.
    Manifest(ManifestErrors),
}

impl fmt::Display for IsoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tools(e) => e.fmt(f),
            Self::Io { what, source } => write!(f, "{what}: {source}"),
            Self::Command { command, output } => write!(f, "`{command}` failed:\n{output}"),
            Self::NoCmdline => write!(f, "limine.conf has no `cmdline:` line to replace"),
            Self::Manifest(errors) => errors.fmt(f),
            Self::Extra { path, why } => {
                write!(f, "cannot add {} to the ramdisk: {why}", path.display())
            }
            Self::LimineRelease { dir, missing } => write!(
                f,
                "LIMINE_DIR={} is not a Limine binary release: it has no {missing} (build its `limine` tool with `make -C {}`)",
                dir.display(),
                dir.display()
            ),
        }
    }
}

impl std::error::Error for IsoError {}

impl From<host::MissingTools> for IsoError {
    fn from(e: host::MissingTools) -> Self {
        Self::Tools(e)
    }
}

/// Builds the ISO described by `options` and returns its path.
pub fn build(options: &IsoOptions) -> Result<PathBuf, IsoError> {
    host::ensure(&[host::XORRISO, host::MTOOLS])?;
    let conf = read(&artifacts::limine_conf())?;
    let conf = match &options.cmdline {
        Some(cmdline) => with_cmdline(&conf, cmdline).ok_or(IsoError::NoCmdline)?,
        None => conf,
    };

    let root = options.out.with_extension("root");
    remove_dir(&root)?;
    write(&root.join("boot/kernel"), &read_bytes(&artifacts::kernel())?)?;
    let source = if options.test_modules { artifacts::test_ramdisk() } else { artifacts::ramdisk() };
    let ramdisk = ramdisk::with_extras(&source, read_bytes(&source)?, &options.extras)?;
    let cmdline = conf.lines().find_map(|l| l.trim_start().strip_prefix("cmdline:")).unwrap_or_default();
    manifest_check::check(manifest_check::booted_manifest(cmdline), &ramdisk::entries(&source, &ramdisk)?)
        .map_err(IsoError::Manifest)?;
    write(&root.join("boot/ramdisk.tar"), &ramdisk)?;
    write(&root.join(CONF_PATH), conf.as_bytes())?;

    if let Some(parent) = options.out.parent() {
        create_dir(parent)?;
    }
    match &options.limine_dir {
        None => {
            let fat = root.join("boot/efiboot.img");
            let mut files: Vec<(&str, PathBuf)> =
                BOOT_FILES.iter().map(|path| (*path, root.join(path))).collect();
            files.push(("EFI/BOOT/BOOTX64.EFI", artifacts::loader().to_owned()));
            write_fat_image(&fat, &files)?;
            run(&mut mkisofs(&root, &options.out, &[], "boot/efiboot.img"))?;
        }
        Some(dir) => build_limine_iso(dir, &root, &options.out)?,
    }
    Ok(options.out.clone())
}

/// The hybrid BIOS+UEFI ISO through a Limine binary release.
fn build_limine_iso(dir: &Path, root: &Path, out: &Path) -> Result<(), IsoError> {
    for file in LIMINE_FILES {
        if !dir.join(file).is_file() {
            return Err(IsoError::LimineRelease { dir: dir.to_owned(), missing: file });
        }
    }
    let limine_tool = dir.join("limine");
    if !limine_tool.is_file() {
        return Err(IsoError::LimineRelease { dir: dir.to_owned(), missing: "limine tool" });
    }
    for file in &LIMINE_FILES[..3] {
        write(&root.join("boot/limine").join(file), &read_bytes(&dir.join(file))?)?;
    }
    write(&root.join("EFI/BOOT/BOOTX64.EFI"), &read_bytes(&dir.join("BOOTX64.EFI"))?)?;
    let bios = [
        "-b",
        "boot/limine/limine-bios-cd.bin",
        "-no-emul-boot",
        "-boot-load-size",
        "4",
        "-boot-info-table",
        "-hfsplus",
        "-apm-block-size",
        "2048",
    ];
    run(&mut mkisofs(root, out, &bios, "boot/limine/limine-uefi-cd.bin"))?;
    run(Command::new(&limine_tool).arg("bios-install").arg(out))
}

/// xorriso writing `root` to `out` as an ISO whose El Torito UEFI image is `efi_image` (a path
/// inside `root`), with `extra` boot options before it.
fn mkisofs(root: &Path, out: &Path, extra: &[&str], efi_image: &str) -> Command {
    let mut cmd = Command::new("xorriso");
    cmd.args(["-as", "mkisofs", "-R", "-r", "-J", "-V", "MINIMALOS"])
        .args(extra)
        .args(["--efi-boot", efi_image, "-efi-boot-part", "--efi-boot-image", "--protective-msdos-label"])
        .arg(root)
        .arg("-o")
        .arg(out);
    cmd
}

/// Writes a FAT filesystem image holding `files` (path inside the image, file on the host).
fn write_fat_image(image: &Path, files: &[(&str, PathBuf)]) -> Result<(), IsoError> {
    let mut contents = 0;
    for (_, src) in files {
        contents += fs::metadata(src).map_err(|e| io_error(src, "read", e))?.len();
    }
    let size = (contents + FAT_SLACK).next_multiple_of(1024 * 1024);
    let file = fs::File::create(image).map_err(|e| io_error(image, "create", e))?;
    file.set_len(size).map_err(|e| io_error(image, "size", e))?;
    drop(file);

    let img = image.as_os_str();
    run(Command::new("mformat").arg("-i").arg(img).arg("::"))?;
    // Sorted paths put every folder before the folders inside it, as `mmd` needs.
    let folders: BTreeSet<&Path> = files
        .iter()
        .flat_map(|(path, _)| Path::new(path).ancestors().skip(1))
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    for folder in folders {
        run(Command::new("mmd").arg("-i").arg(img).arg(format!("::/{}", folder.display())))?;
    }
    for (path, src) in files {
        run(Command::new("mcopy").arg("-i").arg(img).arg(src).arg(format!("::/{path}")))?;
    }
    Ok(())
}

/// `conf` with the value of every `cmdline:` (or `kernel_cmdline:`) line replaced by
/// `cmdline`, or `None` when there is no such line.
pub fn with_cmdline(conf: &str, cmdline: &str) -> Option<String> {
    let mut replaced = false;
    let lines: Vec<String> = conf
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            match trimmed.split_once(':') {
                Some((key, _)) if key == "cmdline" || key == "kernel_cmdline" => {
                    replaced = true;
                    format!("{indent}{key}: {cmdline}")
                }
                _ => line.to_owned(),
            }
        })
        .collect();
    replaced.then(|| lines.join("\n") + "\n")
}

fn run(cmd: &mut Command) -> Result<(), IsoError> {
    let command = format!("{cmd:?}").replace('"', "");
    let output =
        cmd.output().map_err(|e| IsoError::Command { command: command.clone(), output: e.to_string() })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(IsoError::Command {
            command,
            output: String::from_utf8_lossy(&output.stderr).into_owned()
                + &String::from_utf8_lossy(&output.stdout),
        })
    }
}

pub(crate) fn io_error(path: &Path, action: &str, source: io::Error) -> IsoError {
    IsoError::Io { what: format!("cannot {action} {}", path.display()), source }
}

fn read(path: &Path) -> Result<String, IsoError> {
    fs::read_to_string(path).map_err(|e| io_error(path, "read", e))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, IsoError> {
    fs::read(path).map_err(|e| io_error(path, "read", e))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), IsoError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    fs::write(path, bytes).map_err(|e| io_error(path, "write", e))
}

fn create_dir(path: &Path) -> Result<(), IsoError> {
    fs::create_dir_all(path).map_err(|e| io_error(path, "create", e))
}

fn remove_dir(path: &Path) -> Result<(), IsoError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path, "remove", e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::with_cmdline;

    #[test]
    fn cmdline_is_replaced_keeping_indentation() {
        let conf = "timeout: 0\n/MinimalOS\n    protocol: limine\n    cmdline:\n    module_path: boot():/x\n";
        assert_eq!(
            with_cmdline(conf, "ktest=fault").unwrap(),
            "timeout: 0\n/MinimalOS\n    protocol: limine\n    cmdline: ktest=fault\n    module_path: boot():/x\n"
        );
    }

    #[test]
    fn missing_cmdline_is_reported() {
        assert_eq!(with_cmdline("/MinimalOS\n    protocol: limine\n", "x"), None);
    }
}
