//! Boots the file-system test (`tests/wasm/vfs.manifest`: `vfs` over the ramdisk and its client
//! `vfs_check`) in QEMU, and checks each step the client logs, one check per step, all reading
//! the same boot. The serial log is kept as `build/test/vfs.serial.log`.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{BOOT_TIMEOUT, image, number_after, test_dir};

/// Longest wait for the client to finish once it has started.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// Longest wait for the server to end once its client has.
const END_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the serial log is kept, for failure messages.
const LOG: &str = "build/test/vfs.serial.log";

/// The serial log of the file-system boot, shared by the checks below; `Err` holds why it
/// failed.
fn vfs_boot() -> &'static Result<String, String> {
    static BOOT: OnceLock<Result<String, String>> = OnceLock::new();
    BOOT.get_or_init(|| {
        let iso = image("vfs", "on_fatal=exit manifest=test/vfs.manifest")?;
        let options =
            QemuOptions { accel: Accel::from_env().map_err(|e| e.to_string())?, ..QemuOptions::new(iso) };
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let waited = wait_for_both_ends(&mut machine);
        let log_path = test_dir().join("vfs.serial.log");
        let _ = machine.save_log(&log_path);
        machine.kill();
        waited.map(|()| machine.output()).map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    })
}

/// Waits until `vfs_check` has ended, whether after `all ok`, a `FAILED` line or a trap (the
/// kernel's line `vfs_check[PID] exited ...` or `... trapped: ...`), then gives the server a
/// moment to end too.
fn wait_for_both_ends(machine: &mut Machine) -> Result<(), String> {
    let check =
        machine.wait_for_line("init: started vfs_check (", BOOT_TIMEOUT).map_err(|e| e.to_string())?;
    let check = number_after(&check, "as pid ");
    machine.wait_for_line(&format!("vfs_check[{check}] "), CHECK_TIMEOUT).map_err(|e| e.to_string())?;
    // A server that did not start or does not end fails its own checks below.
    let output = machine.output();
    if let Some(started) = output.lines().find(|l| l.contains("init: started vfs (")) {
        let server = number_after(started, "as pid ");
        let _ = machine.wait_for_line(&format!("vfs[{server}] "), END_TIMEOUT);
    }
    Ok(())
}

/// The file-system boot's console, or a failed check that says why there is none.
fn console() -> &'static str {
    match vfs_boot() {
        Ok(log) => log,
        Err(e) => panic!("the vfs test boot failed: {e}"),
    }
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    common::line_with(log, needle, "vfs.serial.log")
}

/// The pid init gave `name`.
fn pid(name: &str) -> u64 {
    number_after(line_with(console(), &format!("init: started {name} (")), "as pid ")
}

/// The text of `vfs_check`'s line `STEP ok (DETAIL)`, from `STEP` on. Without one, the check
/// fails with the client's `FAILED` line, which names the step that stopped the run.
fn step(name: &str) -> &'static str {
    let me = format!("vfs_check[{}]: ", pid("vfs_check"));
    let ok = format!("{me}{name} ok (");
    match console().lines().find(|l| l.contains(&ok)) {
        Some(line) => &line[line.find(&me).unwrap() + me.len()..],
        None => match console().lines().find(|l| l.contains(&me) && l.contains("FAILED")) {
            Some(failed) => panic!("no `{name} ok`, as the run stopped at: {failed} (see {LOG})"),
            None => panic!("no line with `{ok}` on the console; see {LOG}"),
        },
    }
}

#[test]
fn the_server_indexes_the_ramdisk_and_serves_tmp() {
    let line = line_with(console(), &format!("vfs[{}]: serving ", pid("vfs")));
    assert!(number_after(line, "serving ") > 3, "{line}");
    assert!(line.ends_with("ramdisk entries and /tmp (8192 KiB)"), "{line}");
    assert!(!console().contains("ramdisk archive is damaged"), "see {LOG}");
}

#[test]
fn listing_the_root_shows_the_ramdisk_and_tmp() {
    // vfs_check also checks that tmp and its own module are among the names.
    let line = step("list /");
    assert!(number_after(line, "ok (") >= 4, "{line}");
    assert!(line.ends_with(" entries)"), "{line}");
}

#[test]
fn a_ramdisk_file_reads_as_built() {
    assert_eq!(step("read /vfs.wasm"), "read /vfs.wasm ok (wasm magic)");
}

#[test]
fn a_file_is_written_in_tmp() {
    assert_eq!(step("write /tmp/a.txt"), "write /tmp/a.txt ok (21 bytes)");
}

#[test]
fn the_file_reads_back_as_written() {
    assert_eq!(step("read /tmp/a.txt"), "read /tmp/a.txt ok (21 bytes, as written)");
}

#[test]
fn stat_gives_the_file_and_its_size() {
    assert_eq!(step("stat /tmp/a.txt"), "stat /tmp/a.txt ok (file, 21 bytes)");
}

#[test]
fn a_missing_file_is_not_found() {
    assert_eq!(step("missing file"), "missing file ok (no such file or directory)");
}

#[test]
fn writing_outside_tmp_is_refused_as_read_only() {
    assert_eq!(step("write outside /tmp"), "write outside /tmp ok (read-only file system)");
}

#[test]
fn a_malformed_request_gets_an_error_reply() {
    assert_eq!(step("malformed request"), "malformed request ok (malformed request)");
}

#[test]
fn a_client_gone_before_its_reply_does_not_stop_the_server() {
    assert_eq!(step("abandoned request"), "abandoned request ok (the next call is answered)");
}

#[test]
fn the_file_is_removed() {
    assert_eq!(step("remove /tmp/a.txt"), "remove /tmp/a.txt ok (gone)");
}

#[test]
fn every_step_passes_and_nothing_crashes() {
    line_with(console(), &format!("vfs_check[{}]: all ok", pid("vfs_check")));
    line_with(console(), &format!("vfs_check[{}] exited with status 0", pid("vfs_check")));
    for failure in ["FAILED", "panic at", "main failed", "trapped", "KERNEL PANIC"] {
        assert!(!console().contains(failure), "`{failure}` on the console; see {LOG}");
    }
}

#[test]
fn the_server_ends_once_its_last_client_is_gone() {
    let vfs = pid("vfs");
    line_with(console(), &format!("vfs[{vfs}]: no clients left"));
    line_with(console(), &format!("vfs[{vfs}] exited with status 0"));
}
