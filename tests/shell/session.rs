//! The shell test's one session: boots the image, types every line of [`drive`] in order and
//! keeps what the console showed for each, the pids it learnt and a screenshot at the end; the
//! checks in `tests/shell.rs` read the [`transcript`].

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::artifacts;
use minimalos::qemu::{Accel, Machine, QemuOptions};

use crate::common::{BOOT_TIMEOUT, image, test_dir};

/// Longest wait for the answer to one line.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What ends every answer: the end of its last line, then the prompt.
const ANSWER_END: &str = "\r\nmsh> ";

/// The longest line the shell takes (`actors/shell`, `MAX_LINE`).
pub const MAX_LINE: usize = 256;

/// What the shell writes and reads back through the vfs.
pub const NOTE: &str = "hello from the shell";

/// One line typed and what the console showed for it, up to the next prompt.
struct Exchange {
    /// What the check calls it.
    label: &'static str,
    /// The echo and the answer.
    shown: String,
}

/// Every line of the session in order, the pids the session learnt, and the display at the end.
#[derive(Default)]
pub struct Transcript {
    exchanges: Vec<Exchange>,
    /// The CPUs the kernel said it booted on (`boot complete; N tasks on M CPU(s)`).
    pub booted_cpus: usize,
    /// The pid of the `hello` started in the background (`run hello &`).
    pub hello_pid: Option<u64>,
    /// The pid of the spinner started in the background, which `kill` ends.
    pub spinner_pid: Option<u64>,
    /// The example counter service and its client's two runs (`examples/`, docs/SDK.md).
    pub counter_pids: Option<[u64; 3]>,
    /// The lines the client printed, one per run.
    pub client_lines: Vec<String>,
    /// The console from a kernel log line that came while a line was being typed, to the
    /// answer to that line.
    pub typing_interrupted: String,
    /// The console from typing a long `bench ipc` to the prompt after the Ctrl-C that ended it.
    pub bench_cancelled: String,
    /// The console from `ps -w` to the prompt after the Ctrl-C that ended it.
    pub watched: String,
    /// The console from a foreground `run test/spinner` to the prompt after the Ctrl-C that
    /// killed it, and the spinner's pid.
    pub foreground_cancelled: (String, u64),
    /// The screenshot as binary PPM, or why there is none.
    pub screen: Option<Result<Vec<u8>, String>>,
}

/// The session's transcript, shared by the checks; `Err` holds why it broke off.
pub fn transcript() -> &'static Transcript {
    static SESSION: OnceLock<Result<Transcript, String>> = OnceLock::new();
    let session = SESSION.get_or_init(|| {
        let iso = image("shell", "on_fatal=exit")?;
        let options = QemuOptions {
            accel: Accel::from_env().map_err(|e| e.to_string())?,
            qmp: Some(artifacts::repo_root().join("build/qemu/shell.qmp")),
            ..QemuOptions::new(iso)
        };
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let mut transcript = Transcript::default();
        let driven = drive(&mut machine, &mut transcript);
        if driven.is_ok() {
            transcript.screen = Some(settled_screen(&machine));
        }
        let log_path = test_dir().join("shell.serial.log");
        let _ = machine.save_log(&log_path);
        machine.kill();
        driven.map(|()| transcript).map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    });
    session.as_ref().unwrap_or_else(|e| panic!("the shell session broke off: {e}"))
}

/// A screenshot once the display has caught up with the console: the display draws more slowly
/// than the serial line prints, so screenshots are taken until two in a row are the same.
fn settled_screen(machine: &Machine) -> Result<Vec<u8>, String> {
    let path = test_dir().join("shell.screen.ppm");
    let mut last = Vec::new();
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    loop {
        machine.screendump(&path).map_err(|e| e.to_string())?;
        let screen = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if screen == last || Instant::now() >= deadline {
            return Ok(screen);
        }
        last = screen;
        thread::sleep(Duration::from_millis(500));
    }
}

/// Types the session's lines, one after the other, each once the previous one was answered.
fn drive(machine: &mut Machine, transcript: &mut Transcript) -> Result<(), String> {
    crate::common::wait_for_boot(machine)?;
    // The vfs indexes the ramdisk as it starts, and may say it serves after the prompt: on the
    // same console, its line would land in an answer.
    machine.wait_for_line("]: serving ", BOOT_TIMEOUT).map_err(|e| e.to_string())?;
    let output = machine.output();
    let cpus = output.split("boot complete; ").nth(1).and_then(|line| line.split(" tasks on ").nth(1));
    transcript.booted_cpus =
        cpus.and_then(number).ok_or("no `boot complete` line with a CPU count")? as usize;
    for (label, typed) in [
        ("help", "help"),
        ("echo", "echo hi there"),
        ("unknown", "frobnicate --now"),
        ("too long", &"x".repeat(MAX_LINE + 44)),
        ("after too long", "echo still here"),
        // Two DELs, then a backspace byte: `ecxo` becomes `ec`, `echo edited!` loses its `!`.
        ("backspace", "ecxo\x7f\x7fho edited!\x08"),
        // Control bytes, bytes that are not ASCII and an escape sequence for no key it knows.
        ("garbage", "\x02\x07\u{ff}\u{1f600}\x1b[5~echo clean"),
        // The up arrow brings back the line before, which runs again.
        ("history", "\x1b[A"),
        // `eco`, left, `h` goes in before the `o`, End, and on: `echo there`.
        ("cursor keys", "eco\x1b[Dh\x1b[F there"),
        // Ctrl-L in the middle of a line: the screen is cleared, the prompt and the line shown again.
        ("clear screen", "ec\x0cho after clear"),
        ("uptime", "uptime"),
        ("mem", "mem"),
        ("cpus", "cpus"),
        ("run hello", "run hello"),
        ("run hello &", "run hello &"),
        ("endpoint", "endpoint box capacity=8"),
        ("run with grant", "run --grant box:rw hello &"),
        ("eps", "eps"),
        ("run missing", "run nosuchactor"),
        ("run bad option", "run --foo hello"),
        ("run spinner", "run test/spinner &"),
    ] {
        transcript.exchange(machine, label, typed)?;
    }
    let pid_in = |transcript: &Transcript, label| {
        let shown = transcript.shown(label);
        shown.split("as pid ").nth(1).and_then(number).ok_or(format!("no pid in {shown:?}"))
    };
    let hello = pid_in(transcript, "run hello &")?;
    transcript.hello_pid = Some(hello);
    // The guide's service in the background and its client in the foreground, twice: the total
    // goes on from the first run.
    transcript.exchange(machine, "endpoint counter", "endpoint counter")?;
    transcript.exchange(machine, "run counter", "run --grant counter:r counter &")?;
    let mut pids = [pid_in(transcript, "run counter")?, 0, 0];
    for (run, label) in ["run counter_client", "run counter_client again"].into_iter().enumerate() {
        let from = machine.output().len();
        transcript.exchange(machine, label, "run --grant counter:w counter_client")?;
        // The shell waited for its end: its line is on the console already.
        let output = machine.output();
        let line =
            output[from..].lines().find(|line| line.contains("counter_client[") && line.contains("]: "));
        let line = line.ok_or(format!("no line of counter_client in {:?}", &output[from..]))?;
        let pid = line.split("counter_client[").nth(1).and_then(number);
        pids[run + 1] = pid.ok_or(format!("no pid in {line:?}"))?;
        transcript.client_lines.push(line.to_owned());
    }
    transcript.counter_pids = Some(pids);
    // A log line while a line is half typed: it gets a line of its own, and the prompt and the
    // half line are drawn again after it.
    transcript.exchange(machine, "run late_log", "run test/late_log &")?;
    let late = pid_in(transcript, "run late_log")?;
    machine.send("echo half").map_err(|e| e.to_string())?;
    machine.wait_for("msh> echo half", ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
    let from = machine.output().len();
    machine.wait_for_line(&format!("late_log[{late}]: late"), ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
    transcript.exchange(machine, "finish the line", " typed")?;
    transcript.typing_interrupted = machine.output()[from..].to_owned();
    // Ctrl-C while `bench ipc` runs: the shell answers at once and the pair it started is gone.
    let from = machine.output().len();
    machine.send("bench ipc 1000000\r").map_err(|e| e.to_string())?;
    machine.wait_for_line("started bench_ping", ANSWER_TIMEOUT).ok();
    thread::sleep(Duration::from_millis(300));
    machine.send("\x03").map_err(|e| e.to_string())?;
    wait_after(machine, from, "^C\r\nmsh> ")?;
    transcript.bench_cancelled = machine.output()[from..].to_owned();
    // `ps -w` draws the table every second until Ctrl-C.
    let from = machine.output().len();
    machine.send("ps -w\r").map_err(|e| e.to_string())?;
    wait_after(machine, from, WATCH_FOOTER)?;
    let first = machine.output().len();
    wait_after(machine, first, WATCH_FOOTER)?;
    machine.send("\x03").map_err(|e| e.to_string())?;
    wait_after(machine, first, "^C\r\nmsh> ")?;
    transcript.watched = machine.output()[from..].to_owned();
    // Ctrl-C while a program runs in the foreground kills it.
    let from = machine.output().len();
    machine.send("run test/spinner\r").map_err(|e| e.to_string())?;
    // The kernel's line about the start, the only one since `from`.
    wait_after(machine, from, " on request in ")?;
    let output = machine.output();
    let pid = output[from..].split("started test/spinner.wasm as pid ").nth(1).and_then(number);
    let pid = pid.ok_or(format!("no pid in {:?}", &output[from..]))?;
    thread::sleep(Duration::from_millis(300));
    machine.send("\x03").map_err(|e| e.to_string())?;
    wait_after(machine, from, "^C\r\nmsh> ")?;
    transcript.foreground_cancelled = (machine.output()[from..].to_owned(), pid);
    transcript.exchange(machine, "wait", &format!("wait {hello}"))?;
    // hello logs by itself; its line may come before or after the prompt.
    machine.wait_for_line(&format!("hello[{hello}] exited"), ANSWER_TIMEOUT).map_err(|e| e.to_string())?;
    transcript.exchange(machine, "ps", "ps")?;
    let spinner = pid_in(transcript, "run spinner")?;
    transcript.spinner_pid = Some(spinner);
    transcript.exchange(machine, "kill", &format!("kill {spinner}"))?;
    for (label, typed) in [
        ("ps after kill", "ps"),
        ("kill again", &format!("kill {spinner}")),
        ("dmesg", "dmesg"),
        ("ls", "ls"),
        ("write", &format!("write /tmp/notes.txt {NOTE}")),
        ("cat", "cat /tmp/notes.txt"),
        ("ls tmp", "ls /tmp"),
        ("cat manifest", "cat boot.manifest"),
        ("cat missing", "cat /nope"),
        ("write read-only", "write /hello.wasm x"),
        ("mkdir", "mkdir /tmp/t"),
        ("cp -r", "cp -r test /tmp/t"),
        ("ls copied", "ls /tmp/t/test"),
        ("mv", "mv /tmp/t/test/abi.manifest /tmp/m"),
        ("cat moved", "cat /tmp/m"),
        ("rm dir", "rm /tmp/t"),
        ("rm -r", "rm -r /tmp/t"),
        ("ls tmp after rm", "ls /tmp"),
        ("cp read-only", "cp /tmp/m /hello.wasm"),
    ] {
        transcript.exchange(machine, label, typed)?;
    }
    Ok(())
}

impl Transcript {
    /// Types `typed` and `\r`, and keeps what the console shows up to the next prompt.
    fn exchange(&mut self, machine: &mut Machine, label: &'static str, typed: &str) -> Result<(), String> {
        let start = machine.output().len();
        machine.send(&format!("{typed}\r")).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        // The prompt ends no line, so this looks for it in the output since the line was typed.
        loop {
            let output = machine.output();
            if let Some(at) = output.get(start..).and_then(|new| new.find(ANSWER_END)) {
                let shown = without_log_lines(&output[start..start + at + 2]);
                self.exchanges.push(Exchange { label, shown });
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("no prompt within {ANSWER_TIMEOUT:?} after typing {typed:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the console showed for the line called `label`.
    pub fn shown(&self, label: &str) -> &str {
        let exchange = self.exchanges.iter().find(|e| e.label == label);
        &exchange.unwrap_or_else(|| panic!("nothing was typed as `{label}`")).shown
    }
}

/// `text` without the lines the kernel writes wherever they come (its log lines and actors'
/// output, `NAME[PID]: text`): lines ended by `\n` alone, where the shell ends its own with
/// `\r\n`. (A line the kernel cut into to write one is drawn again after it.)
fn without_log_lines(text: &str) -> String {
    text.split_inclusive('\n').filter(|piece| piece.ends_with("\r\n")).collect()
}

/// Waits until `needle` shows in the console after byte `from` of it.
fn wait_after(machine: &Machine, from: usize, needle: &str) -> Result<(), String> {
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    while !machine.output()[from..].contains(needle) {
        if Instant::now() >= deadline {
            return Err(format!("no {needle:?} within {ANSWER_TIMEOUT:?}"));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// What ends each table `ps -w` draws.
pub const WATCH_FOOTER: &str = "ps -w: every second, Ctrl-C ends it\r\n";

/// The number `text` starts with.
pub fn number(text: &str) -> Option<u64> {
    text.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The answer to `label`: what the console showed after the echo of the line.
pub fn answer(label: &str) -> &'static str {
    let shown = transcript().shown(label);
    shown.split_once("\r\n").map_or("", |(_, answer)| answer)
}

/// The `ps` row of `pid` in the answer to `label`, as its words.
pub fn ps_row(label: &str, pid: u64) -> Vec<&'static str> {
    let table = answer(label);
    table
        .lines()
        .map(|row| row.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&pid.to_string().as_str()))
        .unwrap_or_else(|| panic!("no row for pid {pid} in:\n{table}"))
}
