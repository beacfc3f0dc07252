//! Boots the real ISO in QEMU (headless, TCG) and checks what the serial console shows.
//!
//! One boot serves every check of a normal start; the fault check needs its own boot. A
//! failing check names the serial log it saved under `build/test/`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use minimalos::artifacts;
use minimalos::iso::{self, IsoOptions};
use minimalos::qemu::{self, Accel, Machine, QemuOptions};

/// Generous for a UEFI boot under TCG on a loaded two-core host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// The last line a normal boot prints.
const BOOT_DONE: &str = "boot complete";

fn test_dir() -> PathBuf {
    artifacts::repo_root().join("build/test")
}

/// Builds an ISO for a test with `cmdline`; panics run on fatal errors so a broken kernel ends
/// the run at once instead of hanging until the timeout.
fn build_iso(name: &str, cmdline: &str) -> PathBuf {
    let options = IsoOptions {
        out: test_dir().join(format!("{name}.iso")),
        cmdline: Some(cmdline.to_owned()),
        limine_dir: None,
    };
    iso::build(&options).unwrap_or_else(|e| panic!("building the {name} image failed: {e}"))
}

fn boot(iso: PathBuf) -> Machine {
    let options = QemuOptions { accel: Accel::from_env().expect("ACCEL"), ..QemuOptions::new(iso) };
    Machine::boot(&options).unwrap_or_else(|e| panic!("cannot start QEMU: {e}"))
}

/// The serial log of one normal boot, shared by the checks below; `Err` holds why it failed.
fn normal_boot() -> &'static Result<String, String> {
    static LOG: OnceLock<Result<String, String>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut machine = boot(build_iso("boot", "on_fatal=exit"));
        let waited = machine.wait_for(BOOT_DONE, BOOT_TIMEOUT);
        let log_path = test_dir().join("boot.serial.log");
        let _ = machine.save_log(&log_path);
        machine.kill();
        let output = machine.output();
        waited.map(|()| output).map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    })
}

/// The normal boot's console, or a failed check that says why there is none.
fn console() -> &'static str {
    match normal_boot() {
        Ok(log) => log,
        Err(e) => panic!("the boot did not complete: {e}"),
    }
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    log.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` on the console; see build/test/boot.serial.log"))
}

#[test]
fn banner_names_version_loader_memory_framebuffer_and_boot_time() {
    let banner = line_with(console(), "MinimalOS ");
    let banner = &banner[banner.find("MinimalOS ").unwrap()..];
    assert!(banner.starts_with(&format!("MinimalOS {} |", env!("CARGO_PKG_VERSION"))), "{banner}");
    assert!(banner.contains("| loader: MinimalOS loader "), "{banner}");
    let field = |name: &str| -> u64 {
        let rest =
            &banner[banner.find(name).unwrap_or_else(|| panic!("no `{name}` in {banner}")) + name.len()..];
        rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    // QEMU was given 512 MiB; firmware and loader keep some of it.
    let usable = field("memory: ");
    assert!((300..=512).contains(&usable), "usable memory {usable} MiB out of 512: {banner}");
    assert!(field("framebuffer: ") > 0, "no framebuffer width: {banner}");
    assert!(field("entry to banner: ") > 0, "no boot time: {banner}");
}

#[test]
fn banner_is_the_first_kernel_line() {
    let log = console();
    let kernel_part = &log[log.find("MinimalOS 0").expect("banner")..];
    let first = kernel_part.lines().next().unwrap();
    assert!(first.contains("| loader: "), "first kernel line is not the banner: {first}");
}

#[test]
fn ramdisk_lists_every_actor_with_its_size() {
    let log = console();
    let actors = std::fs::read_dir(artifacts::repo_root().join("actors")).unwrap();
    let mut checked = 0;
    for actor in actors {
        let name = actor.unwrap().file_name().into_string().unwrap();
        let line = line_with(log, &format!("ramdisk: {name}.wasm"));
        let size: u64 = line.split_whitespace().rev().nth(1).unwrap().parse().unwrap();
        assert!(size > 0, "{line}");
        checked += 1;
    }
    assert!(checked > 0, "no actors under actors/");
}

#[test]
fn kernel_fault_is_reported_and_ends_the_run() {
    let mut machine = boot(build_iso("fault", "ktest=fault on_fatal=exit"));
    let status = machine.wait_exit(BOOT_TIMEOUT);
    let log_path = test_dir().join("fault.serial.log");
    let _ = machine.save_log(&log_path);
    let log = machine.output();
    let status = status.unwrap_or_else(|e| panic!("{e}; serial log: {}", log_path.display()));
    assert_eq!(status.code(), Some(qemu::EXIT_FAILURE), "QEMU status; serial log: {}", log_path.display());
    assert!(log.contains("#PF"), "no page-fault report; serial log: {}", log_path.display());
    assert!(
        log.contains("7ffffffff000"),
        "the report does not name the faulting address; serial log: {}",
        log_path.display()
    );
    assert!(
        !log.contains(BOOT_DONE),
        "the kernel went on after the fault; serial log: {}",
        log_path.display()
    );
}
