//! Boots the default image (the system manifest, `actors/boot.manifest`) in QEMU and uses the
//! shell on the serial console the way a person would: waits for the prompt, types a line and
//! `\r`, and reads what comes back up to the next prompt.
//!
//! One boot serves every check: the lines are typed once, in the order of [`drive`], and each
//! check reads the answer to its own line; at the end a screenshot shows whether the display
//! mirrored the session. The serial log and the screenshot (PPM) are saved as
//! `build/test/shell.serial.log` and `build/test/shell.screen.ppm`.

mod common;

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::artifacts;
use minimalos::qemu::{Accel, Machine, QemuOptions};
use minimalos::screen::Image;

use common::{BOOT_TIMEOUT, image, screen, test_dir};

/// Longest wait for the answer to one line.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the shell shows when it waits for a line.
const PROMPT: &str = "msh> ";

/// What ends every answer: the end of its last line, then the prompt.
const ANSWER_END: &str = "\r\nmsh> ";

/// How the kernel's banner starts.
const BANNER_START: &str = concat!("MinimalOS ", env!("CARGO_PKG_VERSION"), " |");

/// The longest line the shell takes (`actors/shell`, `MAX_LINE`).
const MAX_LINE: usize = 256;

/// `ui_server`'s character cell height in pixels (`actors/ui_server`).
const CELL_HEIGHT: usize = 16;

/// What the shell writes and reads back through the vfs.
const NOTE: &str = "hello from the shell";

/// One line typed and what the console showed for it, up to the next prompt.
struct Exchange {
    /// What the check calls it.
    label: &'static str,
    /// The echo and the answer.
    shown: String,
}

/// Every line of the session in order, the pids the session learnt, and the display at the end.
#[derive(Default)]
struct Transcript {
    exchanges: Vec<Exchange>,
    /// The CPUs the kernel said it booted on (`boot complete; N tasks on M CPU(s)`).
    booted_cpus: usize,
    hello_pid: Option<u64>,
    spinner_pid: Option<u64>,
    /// The example counter service and its client's two runs (`examples/`, docs/SDK.md).
    counter_pids: Option<[u64; 3]>,
    /// The lines the client printed, one per run.
    client_lines: Vec<String>,
    /// The console from a kernel log line that came while a line was being typed, to the
    /// answer to that line.
    typing_interrupted: String,
    /// The console from typing a long `bench ipc` to the prompt after the Ctrl-C that ended it.
    bench_cancelled: String,
    /// The console from `ps -w` to the prompt after the Ctrl-C that ended it.
    watched: String,
    /// The console from a foreground `run test/spinner` to the prompt after the Ctrl-C that
    /// killed it, and the spinner's pid.
    foreground_cancelled: (String, u64),
    /// The screenshot as binary PPM, or why there is none.
    screen: Option<Result<Vec<u8>, String>>,
}

/// The session's transcript, shared by the checks below; `Err` holds why it broke off.
fn transcript() -> &'static Transcript {
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
    machine.wait_for(PROMPT, BOOT_TIMEOUT).map_err(|e| e.to_string())?;
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
    fn shown(&self, label: &str) -> &str {
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
const WATCH_FOOTER: &str = "ps -w: every second, Ctrl-C ends it\r\n";

/// The number `text` starts with.
fn number(text: &str) -> Option<u64> {
    text.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The answer to `label`: what the console showed after the echo of the line.
fn answer(label: &str) -> &'static str {
    let shown = transcript().shown(label);
    shown.split_once("\r\n").map_or("", |(_, answer)| answer)
}

/// The `ps` row of `pid` in the answer to `label`, as its words.
fn ps_row(label: &str, pid: u64) -> Vec<&'static str> {
    let table = answer(label);
    table
        .lines()
        .map(|row| row.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&pid.to_string().as_str()))
        .unwrap_or_else(|| panic!("no row for pid {pid} in:\n{table}"))
}

#[test]
fn help_lists_every_command() {
    let help = answer("help");
    let commands =
        "help|echo|ps|cpus|mem|uptime|kill PID|run [OPTIONS] PROG|  --dir|wait PID|dmesg|ls|cat|write";
    for command in commands.split('|') {
        assert!(help.contains(&format!("  {command}")), "`{command}` missing from:\n{help}");
    }
}

#[test]
fn echo_prints_its_arguments() {
    assert_eq!(transcript().shown("echo"), "echo hi there\r\nhi there\r\n");
}

#[test]
fn an_unknown_command_is_named() {
    assert_eq!(answer("unknown"), "unknown command: frobnicate (try help)\r\n");
}

#[test]
fn a_line_past_the_limit_is_refused_and_the_shell_goes_on() {
    let too_long = answer("too long");
    assert_eq!(
        too_long,
        format!("line too long: {} bytes, the limit is {MAX_LINE}; nothing was run\r\n", MAX_LINE + 44)
    );
    assert_eq!(answer("after too long"), "still here\r\n");
}

#[test]
fn backspace_and_delete_edit_the_line() {
    // What a terminal shows, not the bytes: the echo moves back, rewrites and blanks.
    assert_eq!(screen(transcript().shown("backspace")), ["echo edited", "edited"]);
}

#[test]
fn garbage_bytes_and_escape_sequences_are_dropped() {
    assert_eq!(transcript().shown("garbage"), "echo clean\r\nclean\r\n");
}

#[test]
fn the_up_arrow_recalls_the_line_before() {
    assert_eq!(transcript().shown("history"), "echo clean\r\nclean\r\n");
}

#[test]
fn ctrl_l_clears_the_screen_and_keeps_the_line() {
    assert_eq!(transcript().shown("clear screen"), "ec\x1b[H\x1b[2Jmsh> echo after clear\r\nafter clear\r\n");
}

#[test]
fn the_cursor_keys_edit_inside_the_line() {
    assert_eq!(screen(transcript().shown("cursor keys")), ["echo there", "there"]);
}

#[test]
fn ps_lists_the_shell_hello_and_the_services() {
    let table = answer("ps");
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header[..5], ["PID", "NAME", "STATE", "ON", "CPU"], "{table}");
    let shell = table.lines().find(|row| row.split_whitespace().nth(1) == Some("shell"));
    let shell: Vec<&str> =
        shell.unwrap_or_else(|| panic!("no shell in:\n{table}")).split_whitespace().collect();
    assert_eq!(shell[2], "running", "the shell runs `ps`: {shell:?}");
    let on: Option<usize> = shell[3].parse().ok();
    assert!(on.is_some_and(|cpu| cpu < transcript().booted_cpus), "on a CPU the kernel booted: {shell:?}");
    let hello = ps_row("ps", transcript().hello_pid.unwrap());
    assert_eq!(hello[1..5], ["hello", "exited", "0", "-"], "ended, so on no CPU: {hello:?}");
    for name in ["console", "vfs", "ui_server"] {
        assert!(
            table.lines().any(|row| row.split_whitespace().nth(1) == Some(name)),
            "no {name} in:\n{table}"
        );
    }
}

#[test]
fn the_guides_counter_serves_its_client_started_twice_from_the_shell() {
    let transcript = transcript();
    let [counter, first, second] = transcript.counter_pids.unwrap();
    assert!(
        answer("run counter").ends_with("holding handles 0 = counter (r)\r\n"),
        "{}",
        answer("run counter")
    );
    let said: Vec<_> =
        transcript.client_lines.iter().map(|line| line.split("]: ").nth(1).unwrap_or(line)).collect();
    assert_eq!(said, ["added 5: the total is 5", "added 5: the total is 10"], "pids {first} and {second}");
    assert_eq!(ps_row("ps", counter)[1..3], ["counter", "blocked"], "the service waits for its next client");
    assert_eq!(ps_row("ps", second)[1..4], ["counter_client", "exited", "0"]);
    assert_eq!(
        answer("run counter_client"),
        "counter_client exited with status 0\r\n",
        "run in the foreground"
    );
}

#[test]
fn a_log_line_while_typing_gets_its_own_line_and_the_typed_line_is_drawn_again() {
    let shown = &transcript().typing_interrupted;
    // The actor's line is its output (no time, no level); the kernel's exit line after it is a
    // log line: both cut in the same way.
    let line = shown.find("test/late_log[").unwrap_or_else(|| panic!("no line of late_log in {shown:?}"));
    assert!(shown[..line].ends_with("\r\x1b[K"), "the half line is erased first: {shown:?}");
    assert!(shown[line..].contains(": late\nmsh> echo half"), "then drawn again: {shown:?}");
    assert!(shown.ends_with("msh> echo half typed\r\nhalf typed\r\nmsh> "), "and finished: {shown:?}");
    assert_eq!(answer("finish the line"), "half typed\r\n");
}

#[test]
fn ctrl_c_cancels_a_running_bench_and_ends_the_actors_it_started() {
    let shown = &transcript().bench_cancelled;
    assert!(shown.ends_with("^C\r\nmsh> "), "{shown:?}");
    assert!(!shown.contains("ipc round trip"), "cancelled before its figures: {shown:?}");
    let table = answer("ps");
    for name in ["bench_ping", "bench_pong"] {
        let rows: Vec<_> = table.lines().filter(|row| row.split_whitespace().nth(1) == Some(name)).collect();
        assert!(!rows.is_empty(), "no {name} in:\n{table}");
        for row in rows {
            assert_eq!(row.split_whitespace().nth(2), Some("killed"), "{table}");
        }
    }
}

#[test]
fn ps_w_draws_the_table_again_each_second_until_ctrl_c() {
    let watched = &transcript().watched;
    let tables: Vec<&str> = watched.split("\x1b[H\x1b[2J").skip(1).collect();
    assert!(tables.len() >= 2, "{watched:?}");
    for table in &tables {
        assert!(table.starts_with("  PID  NAME"), "{table:?}");
        assert!(table.contains(" shell "), "{table:?}");
    }
    assert!(watched.ends_with(&format!("{WATCH_FOOTER}^C\r\nmsh> ")), "{watched:?}");
}

#[test]
fn mkdir_cp_mv_and_rm_change_tmp_and_nothing_else() {
    assert_eq!(answer("mkdir"), "");
    assert_eq!(answer("cp -r"), "", "the ramdisk's test/ copied into /tmp/t");
    let copied = answer("ls copied");
    assert!(copied.contains("  abi.manifest\r\n") && copied.contains("  spinner.wasm\r\n"), "{copied}");
    assert_eq!(answer("mv"), "");
    assert!(answer("cat moved").contains("actor "), "{}", answer("cat moved"));
    assert_eq!(answer("rm dir"), "rm: /tmp/t: is a directory (rm -r removes it and all it holds)\r\n");
    assert_eq!(answer("rm -r"), "");
    let left = answer("ls tmp after rm");
    assert!(left.contains("  m\r\n") && !left.contains("  t/"), "{left}");
    assert_eq!(answer("cp read-only"), "cp: /hello.wasm: read-only file system\r\n");
}

#[test]
fn uptime_reports_the_time_since_boot() {
    let uptime = answer("uptime");
    assert!(uptime.starts_with("up "), "{uptime}");
    let ns = number(uptime.split('(').nth(1).unwrap_or_default()).unwrap_or(0);
    assert!(ns > 0 && uptime.ends_with(" ns since boot)\r\n"), "{uptime}");
}

#[test]
fn cpus_lists_every_cpu_the_kernel_booted_on() {
    let cpus = answer("cpus");
    let mut rows = cpus.lines().map(|row| row.split_whitespace().collect::<Vec<_>>());
    let header = rows.next().unwrap_or_default();
    assert_eq!(header, ["CPU", "APIC", "TASKS", "BUSY", "IDLE", "BUSY%", "POLLS", "STEALS"], "{cpus}");
    let rows: Vec<_> = rows.collect();
    assert_eq!(rows.len(), transcript().booted_cpus, "a row per CPU the boot log counts:\n{cpus}");
    for (index, row) in rows.iter().enumerate() {
        assert_eq!(row[0], index.to_string(), "by index:\n{cpus}");
        // The durations are two words each: figure and unit.
        assert_eq!(row.len(), 10, "every column filled:\n{cpus}");
    }
    let tasks: u32 = rows.iter().filter_map(|row| row[2].parse::<u32>().ok()).sum();
    assert!(tasks > 0, "the shell's task is one of them:\n{cpus}");
}

#[test]
fn mem_reports_physical_memory_and_the_kernel_heap() {
    let mem = answer("mem");
    assert!(mem.starts_with("physical memory: ") && mem.contains(" MiB managed, "), "{mem}");
    assert!(mem.contains("\r\nkernel heap:     ") && mem.contains(" used of "), "{mem}");
}

#[test]
fn run_waits_for_hello_to_end_and_says_how_it_ended() {
    // Its greeting is its log line, on the console: an SDK actor writes no output stream.
    assert_eq!(answer("run hello"), "hello exited with status 0\r\n");
}

#[test]
fn run_with_an_ampersand_starts_hello_in_the_background_and_wait_waits_for_it() {
    let transcript = transcript();
    let pid = transcript.hello_pid.unwrap();
    assert_eq!(
        answer("run hello &"),
        format!(
            "started hello as pid {pid}, holding no capabilities (--grant ENDPOINT:RIGHTS gives it some)\r\n"
        )
    );
    let log = std::fs::read_to_string(test_dir().join("shell.serial.log")).unwrap();
    assert!(log.contains(&format!("hello[{pid}]: hello from a Wasm actor")), "no greeting from pid {pid}");
    assert_eq!(answer("wait"), "hello exited with status 0\r\n");
}

#[test]
fn ctrl_c_kills_a_program_run_in_the_foreground() {
    let (shown, pid) = &transcript().foreground_cancelled;
    // The kernel's line about the start may come before the line's end is echoed.
    assert!(shown.contains("run test/spinner\r\n") && shown.ends_with("^C\r\nmsh> "), "{shown:?}");
    assert_eq!(ps_row("ps after kill", *pid)[1..3], ["test/spinner", "killed"]);
}

#[test]
fn run_grants_an_endpoint_made_at_the_shell_and_eps_lists_it() {
    assert_eq!(answer("endpoint"), "endpoint box: 8 messages; grant it with run --grant box:RIGHTS PROG\r\n");
    let started = answer("run with grant");
    let pid = started.split("as pid ").nth(1).and_then(number).unwrap_or_else(|| panic!("{started}"));
    assert_eq!(started, format!("started hello as pid {pid}, holding handles 0 = box (rw)\r\n"));
    let eps = answer("eps");
    let row = eps.lines().nth(1).unwrap_or_else(|| panic!("no row in {eps}"));
    assert!(row.starts_with("box ") && row.contains("       8  "), "{eps}");
    assert!(
        row.ends_with(&format!("{pid} hello (rw)")) || row.ends_with(&format!("{pid} ended (rw)")),
        "{eps}"
    );
}

#[test]
fn run_of_a_missing_module_gives_the_kernels_reason_and_an_unknown_option_is_named() {
    assert_eq!(answer("run missing"), "run: no file `nosuchactor.wasm` in the ramdisk\r\n");
    let unknown = "run: unknown option --foo (the options are --dir, --env and --grant)\r\n";
    assert_eq!(answer("run bad option"), unknown);
}

#[test]
fn kill_ends_a_running_actor() {
    let pid = transcript().spinner_pid.unwrap();
    assert!(answer("run spinner").starts_with(&format!("started test/spinner as pid {pid}, ")));
    assert_eq!(answer("kill"), format!("killed test/spinner (pid {pid})\r\n"));
    assert_eq!(ps_row("ps after kill", pid)[1..3], ["test/spinner", "killed"]);
    assert_eq!(answer("kill again"), format!("kill: no live process has pid {pid}\r\n"));
}

#[test]
fn dmesg_shows_the_kernel_log_from_the_banner_on() {
    let dmesg = answer("dmesg");
    assert!(dmesg.contains(BANNER_START), "no banner in the log:\n{dmesg}");
    let spinner = transcript().spinner_pid.unwrap();
    assert!(dmesg.contains(&format!("test/spinner[{spinner}] killed by process ")), "{dmesg}");
}

#[test]
fn ls_lists_the_ramdisk_and_tmp() {
    let listing = answer("ls");
    for entry in ["file", "hello.wasm", "shell.wasm", "boot.manifest", "test/", "tmp/"] {
        assert!(listing.contains(entry), "no `{entry}` in:\n{listing}");
    }
}

#[test]
fn write_creates_a_file_that_cat_and_ls_show() {
    let size = NOTE.len() + 1;
    assert_eq!(answer("write"), format!("wrote {size} bytes to /tmp/notes.txt\r\n"));
    assert_eq!(answer("cat"), format!("{NOTE}\r\n"));
    let listing = answer("ls tmp");
    let row: Vec<&str> = listing.split_whitespace().collect();
    assert_eq!(row, ["file", &size.to_string(), "notes.txt"], "{listing}");
}

#[test]
fn cat_reads_a_ramdisk_file() {
    let manifest = answer("cat manifest");
    assert!(manifest.contains("\r\nactor shell restart grant=console.in:r "), "{manifest}");
}

#[test]
fn file_errors_are_the_vfs_reasons() {
    assert_eq!(answer("cat missing"), "cat: /nope: no such file or directory\r\n");
    assert_eq!(answer("write read-only"), "write: /hello.wasm: read-only file system\r\n");
}

#[test]
fn the_display_mirrors_the_session() {
    let ppm = match &transcript().screen {
        Some(Ok(ppm)) => ppm,
        Some(Err(e)) => panic!("no screenshot: {e}"),
        None => panic!("no screenshot was taken"),
    };
    let image = Image::from_ppm(ppm).unwrap_or_else(|e| panic!("build/test/shell.screen.ppm: {e}"));
    let (width, rgb) = (image.width, &image.rgb);
    // Text is light grey on a dark background: a bright green channel is ink.
    let inked_rows = rgb
        .chunks(width * 3 * CELL_HEIGHT)
        .filter(|cells| cells.chunks(3).any(|pixel| pixel[1] > 0x80))
        .count();
    // The session's last screenful (the kernel log and the file commands) fills the display,
    // which starts blank: `ui_server` draws only what it is sent.
    let rows = rgb.len() / (width * 3 * CELL_HEIGHT);
    assert!(
        inked_rows + 2 >= rows,
        "{inked_rows} of {rows} text rows show text; see build/test/shell.screen.ppm"
    );
}
