//! Boots the display test (`tests/wasm/ui.manifest`: `ui_server` on the framebuffer and its
//! client `ui_check`) in QEMU, then checks the serial console and a screenshot of the display.
//! The serial log and the screenshot (PPM) are kept under `build/test/`.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use minimalos::artifacts;
use minimalos::qemu::{Accel, Machine, QemuOptions};
use minimalos::screen::Image;

use common::{BOOT_TIMEOUT, image, number_after, test_dir};

/// Longest wait for the client once the server has started.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// `ui_server`'s background colour (`actors/ui_server/src/screen.rs`).
const BACKGROUND: [u8; 3] = [0x10, 0x18, 0x28];

/// `ui_server`'s character cell in pixels: the font's advance and line height.
const CELL: (usize, usize) = (7, 16);

/// The first line `ui_check` writes, and how many lines it writes in all.
const FIRST_LINE: &str = "MinimalOS ui check";
const LINES: usize = 3;

/// What the boot left: the serial console, and the display as `ui_check` finished.
struct Boot {
    log: String,
    screen: Image,
}

/// Whether a pixel is text rather than background: nearer `ui_server`'s text colour (light
/// grey) than its background in green, as the smoothed glyphs' edges are in between.
fn is_ink([_, green, _]: [u8; 3]) -> bool {
    green > 0x80
}

/// The display test boot, shared by the checks below; `Err` holds why it failed.
fn ui_boot() -> &'static Result<Boot, String> {
    static BOOT: OnceLock<Result<Boot, String>> = OnceLock::new();
    BOOT.get_or_init(|| {
        let iso = image("ui", "on_fatal=exit manifest=test/ui.manifest")?;
        let options = QemuOptions {
            accel: Accel::from_env().map_err(|e| e.to_string())?,
            qmp: Some(artifacts::repo_root().join("build/qemu/ui.qmp")),
            ..QemuOptions::new(iso)
        };
        let machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let log_path = test_dir().join("ui.serial.log");
        let screen_path = test_dir().join("ui.screen.ppm");
        let result = check_done_then_screendump(machine, &log_path, &screen_path);
        result.map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    })
}

/// Waits for `ui_check` to report that its lines were drawn, then saves the screen and the log.
fn check_done_then_screendump(
    mut machine: Machine,
    log_path: &std::path::Path,
    screen_path: &std::path::Path,
) -> Result<Boot, String> {
    let started = machine.wait_for_line("init: started ui_check (", BOOT_TIMEOUT);
    let waited = started.map_err(|e| e.to_string()).and_then(|line| {
        let pid = number_after(&line, "as pid ");
        machine.wait_for_line(&format!("ui_check[{pid}]: done"), CHECK_TIMEOUT).map_err(|e| e.to_string())
    });
    let dumped = waited.and_then(|_| machine.screendump(screen_path).map_err(|e| e.to_string()));
    let _ = machine.save_log(log_path);
    machine.kill();
    dumped?;
    let ppm = std::fs::read(screen_path).map_err(|e| format!("{}: {e}", screen_path.display()))?;
    let screen = Image::from_ppm(&ppm).map_err(|e| format!("{}: {e}", screen_path.display()))?;
    Ok(Boot { log: machine.output(), screen })
}

fn boot() -> &'static Boot {
    match ui_boot() {
        Ok(boot) => boot,
        Err(e) => panic!("the display test boot failed: {e}"),
    }
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    common::line_with(log, needle, "ui.serial.log")
}

/// The pid init gave `name`.
fn pid(name: &str) -> u64 {
    number_after(line_with(&boot().log, &format!("init: started {name} (")), "as pid ")
}

/// The two numbers of `AxB`.
fn size(text: &str) -> (usize, usize) {
    let (a, b) = text.split_once('x').unwrap_or_else(|| panic!("`{text}` is not a size"));
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn the_server_fills_the_display_with_a_text_console() {
    let boot = boot();
    let line = line_with(&boot.log, &format!("ui_server[{}]: ", pid("ui_server")));
    // `COLUMNSxROWS text console on a WIDTHxHEIGHT BPP-bit framebuffer`
    let words: Vec<&str> = line.split("]: ").nth(1).unwrap().split_whitespace().collect();
    assert_eq!(words[1..5], ["text", "console", "on", "a"], "{line}");
    let ((columns, rows), (width, height)) = (size(words[0]), size(words[5]));
    assert_eq!((boot.screen.width, boot.screen.height), (width, height), "{line}");
    assert_eq!((columns, rows), (width / CELL.0, height / CELL.1), "{line}");
    assert!(["16-bit", "24-bit", "32-bit"].contains(&words[6]), "{line}");
}

#[test]
fn the_client_is_answered_once_its_lines_are_drawn() {
    let boot = boot();
    line_with(&boot.log, &format!("ui_check[{}]: done", pid("ui_check")));
    for failure in ["panic at", "main failed", "trapped", "ui_server answered"] {
        assert!(!boot.log.contains(failure), "`{failure}` on the console; see build/test/ui.serial.log");
    }
}

#[test]
fn the_screen_shows_the_lines_and_nothing_else() {
    let screen = &boot().screen;
    let (cell_width, cell_height) = CELL;
    let first = (0..FIRST_LINE.len() * cell_width, 0..cell_height);
    let ink = screen.pixels(first.0.clone(), first.1.clone()).filter(|&p| is_ink(p)).count();
    let background = screen.pixels(first.0, first.1).filter(|&p| p == BACKGROUND).count();
    // Glyphs cover a small part of their cells; a blank or solid line has none or all.
    let area = FIRST_LINE.len() * cell_width * cell_height;
    assert!(ink > area / 20, "{ink} text pixels where `{FIRST_LINE}` is drawn; see build/test/ui.screen.ppm");
    assert!(background > area / 2, "{background} background pixels of {area} in the first line");
    for row in 1..LINES {
        let y = row * cell_height..(row + 1) * cell_height;
        assert!(screen.pixels(0..screen.width, y).any(is_ink), "line {row} is blank");
    }
    let right_of_first = screen.pixels(FIRST_LINE.len() * cell_width..screen.width, 0..cell_height);
    let below = screen.pixels(0..screen.width, LINES * cell_height..screen.height);
    if let Some(stray) = right_of_first.chain(below).find(|&p| p != BACKGROUND) {
        panic!("a pixel {stray:02x?} that is not background outside the lines; see build/test/ui.screen.ppm");
    }
}
