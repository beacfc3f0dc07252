//! What every QEMU test file shares: where its files go, how long a boot may take, and how to
//! read numbers and lines off the serial console.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use minimalos::artifacts;
use minimalos::iso::{self, IsoOptions};
use minimalos::qemu::Machine;

/// Generous for a UEFI boot under TCG on a loaded two-core host.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Waits until the shell's prompt is up and the kernel's last boot line is written in full:
/// with several CPUs the shell may answer while init still logs the actors it starts.
pub fn wait_for_boot(machine: &mut Machine) -> Result<(), String> {
    minimalos::bench::wait_for_boot(machine, BOOT_TIMEOUT).map(drop)
}

/// Where tests put their images, serial logs and screenshots.
pub fn test_dir() -> PathBuf {
    artifacts::repo_root().join("build/test")
}

/// Builds `build/test/NAME.iso`, the test image (every raw test module in its ramdisk) booting
/// with kernel options `cmdline`.
pub fn image(name: &str, cmdline: &str) -> Result<PathBuf, String> {
    build_image(name, cmdline, true)
}

/// As [`image`], but the image `make run` boots: only the modules the shell needs.
pub fn default_image(name: &str, cmdline: &str) -> Result<PathBuf, String> {
    build_image(name, cmdline, false)
}

fn build_image(name: &str, cmdline: &str, test_modules: bool) -> Result<PathBuf, String> {
    let options = IsoOptions {
        out: test_dir().join(format!("{name}.iso")),
        cmdline: Some(cmdline.into()),
        // `LIMINE_DIR=... make boot-test` runs the suite under real Limine.
        limine_dir: iso::limine_dir_from_env(),
        test_modules,
        ..IsoOptions::default()
    };
    iso::build(&options).map_err(|e| format!("building the {name} image failed: {e}"))
}

/// The console line of `log` that contains `needle`; fails naming `saved_as`, the serial log's
/// file under `build/test/`, so a failed check says where to look.
pub fn line_with<'a>(log: &'a str, needle: &str, saved_as: &str) -> &'a str {
    log.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` on the console; see build/test/{saved_as}"))
}

/// The shell's own lines of `answer`, without the kernel's log lines that other CPUs may print
/// between them: the shell ends its lines with `\r\n`, the kernel its with `\n` alone.
pub fn shell_lines(answer: &str) -> String {
    answer.split_inclusive('\n').filter(|line| line.ends_with("\r\n")).collect()
}

/// The number right after `label` in `line`.
pub fn number_after(line: &str, label: &str) -> u64 {
    let rest = &line[line.find(label).unwrap_or_else(|| panic!("no `{label}` in {line}")) + label.len()..];
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap_or_default();
    digits.parse().unwrap_or_else(|_| panic!("no number after `{label}` in {line}"))
}

/// The lines a terminal shows for `text`: `\r` returns to the left edge, `\n` starts a new
/// line, a backspace moves one column back, other characters overwrite where the cursor is.
pub fn screen(text: &str) -> Vec<String> {
    let mut lines = vec![Vec::new()];
    let mut column = 0usize;
    for c in text.chars() {
        let line = lines.last_mut().expect("there is always a line");
        match c {
            '\r' => column = 0,
            '\n' => {
                lines.push(Vec::new());
                column = 0;
            }
            '\x08' => column = column.saturating_sub(1),
            c if c.is_control() => {}
            c => {
                if column == line.len() {
                    line.push(c);
                } else {
                    line[column] = c;
                }
                column += 1;
            }
        }
    }
    let lines = lines.into_iter().map(|line| line.into_iter().collect::<String>().trim_end().to_owned());
    lines.filter(|line| !line.is_empty()).collect()
}
