//! Boots the display test (`tests/wasm/ui.manifest`: `ui_server` on the framebuffer and its
//! client `ui_check`) in QEMU, then checks the serial console and a screenshot of the display.
//! The serial log and the screenshot (PPM) are kept under `build/test/`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use minimalos::artifacts;
use minimalos::iso::{self, IsoOptions};
use minimalos::qemu::{Accel, Machine, QemuOptions};

/// Generous for a UEFI boot under TCG on a loaded two-core host.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest wait for the client once the server has started.
const CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// `ui_server`'s background colour (`actors/ui_server/src/screen.rs`).
const BACKGROUND: [u8; 3] = [0x10, 0x18, 0x28];

/// `ui_server`'s character cell in pixels: the font's advance and line height.
const CELL: (usize, usize) = (7, 16);

/// The first line `ui_check` writes, and how many lines it writes in all.
const FIRST_LINE: &str = "MinimalOS ui check";
const LINES: usize = 3;

fn test_dir() -> PathBuf {
    artifacts::repo_root().join("build/test")
}

/// What the boot left: the serial console, and the display as `ui_check` finished.
struct Boot {
    log: String,
    screen: Image,
}

/// An RGB image read from a binary PPM (`P6`, 8 bits per channel).
struct Image {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Image {
    fn parse(ppm: &[u8]) -> Result<Image, String> {
        // The header is four whitespace-separated fields, then one whitespace byte.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while ppm.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            let start = at;
            while ppm.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            if start == at {
                return Err("truncated PPM header".into());
            }
            fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
        }
        let number = |i: usize| fields[i].parse::<usize>().map_err(|e| format!("PPM field {i}: {e}"));
        if fields[0] != "P6" || number(3)? != 255 {
            return Err(format!("not an 8-bit binary PPM: {fields:?}"));
        }
        let (width, height) = (number(1)?, number(2)?);
        let rgb = ppm[at + 1..].to_vec();
        if rgb.len() != width * height * 3 {
            return Err(format!("{width}x{height} PPM with {} bytes of pixels", rgb.len()));
        }
        Ok(Image { width, height, rgb })
    }

    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * 3;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }

    /// The pixels of the rectangle `x` × `y`, clipped to the image.
    fn pixels(
        &self,
        x: std::ops::Range<usize>,
        y: std::ops::Range<usize>,
    ) -> impl Iterator<Item = [u8; 3]> + '_ {
        let x = x.start.min(self.width)..x.end.min(self.width);
        let y = y.start.min(self.height)..y.end.min(self.height);
        y.flat_map(move |y| x.clone().map(move |x| self.pixel(x, y)))
    }
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
        let iso = iso::build(&IsoOptions {
            out: test_dir().join("ui.iso"),
            cmdline: Some("on_fatal=exit manifest=test/ui.manifest".into()),
            ..IsoOptions::default()
        })
        .map_err(|e| format!("building the ui image failed: {e}"))?;
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
    let screen = Image::parse(&ppm).map_err(|e| format!("{}: {e}", screen_path.display()))?;
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
    log.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` on the console; see build/test/ui.serial.log"))
}

/// The number right after `label` in `line`.
fn number_after(line: &str, label: &str) -> u64 {
    let rest = &line[line.find(label).unwrap_or_else(|| panic!("no `{label}` in {line}")) + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
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
