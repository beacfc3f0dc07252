//! Boots the test image in QEMU and runs WASI programs from the shell as a person would:
//! `wasi_hello` (Rust std's hello world), `wasi_check` (Rust std's files, time, environment,
//! arguments, standard input and exit codes, also run under wasmtime by `programs/README.md`),
//! `c_check` (C through wasi-libc), `sqlite_demo` (SQLite through rusqlite, compared with the
//! same program built for the host), `test/wasi_errors` (bad input to the imports, and `/tmp`
//! filled up), `test/wasi_mixed` (WASI and the ABI in one module) and `test/wasi_flood` (output
//! without end, stopped with Ctrl-C). One boot serves every check; the serial log is kept as
//! `build/test/wasi.serial.log`.

mod common;

use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::artifacts;
use minimalos::bench::{ask, parse_throughput, parse_time, start_to_exit_us};
use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{BOOT_TIMEOUT, image, shell_lines, test_dir};

/// Longest wait for a program's run to end.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the serial log is kept, under `build/test/`.
const LOG: &str = "wasi.serial.log";

/// What a file written before `/tmp` was filled holds.
const KEPT: &str = "written before the flood";

/// The answers to the lines typed, by label.
#[derive(Default)]
struct Session {
    answers: Vec<(&'static str, String)>,
    /// The whole console, once the session is over.
    console: String,
}

impl Session {
    fn answer(&self, label: &str) -> &str {
        let found = self.answers.iter().find(|(l, _)| *l == label);
        &found.unwrap_or_else(|| panic!("nothing was typed as `{label}`; see build/test/{LOG}")).1
    }
}

/// The session, shared by the checks below.
fn session() -> &'static Session {
    static SESSION: OnceLock<Result<Session, String>> = OnceLock::new();
    let session = SESSION.get_or_init(|| {
        let iso = image("wasi", "on_fatal=exit")?;
        let options =
            QemuOptions { accel: Accel::from_env().map_err(|e| e.to_string())?, ..QemuOptions::new(iso) };
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let mut session = Session::default();
        let driven = drive(&mut machine, &mut session);
        session.console = machine.output();
        let _ = machine.save_log(&test_dir().join(LOG));
        machine.kill();
        driven.map(|()| session).map_err(|e| format!("{e}; see build/test/{LOG}"))
    });
    session.as_ref().unwrap_or_else(|e| panic!("the WASI session broke off: {e}"))
}

fn drive(machine: &mut Machine, session: &mut Session) -> Result<(), String> {
    common::wait_for_boot(machine)?;
    machine.wait_for_line("]: serving ", BOOT_TIMEOUT).map_err(|e| e.to_string())?;
    for (label, line) in [
        ("hello", "run wasi_hello a b"),
        ("check", "run --env WASI_CHECK=from-the-shell wasi_check /tmp hello.wasm"),
        ("exit 7", "run wasi_check /tmp/seven --exit 7"),
        ("box", "mkdir /tmp/box"),
        ("boxed", "run --dir /tmp/box::/data wasi_check /data"),
        ("keep", &format!("write /tmp/kept.txt {KEPT}")),
        ("errors", "run test/wasi_errors"),
        ("kept", "cat /tmp/kept.txt"),
        ("c", "run --env C_CHECK=from-the-shell c_check /tmp"),
        ("copy program", "cp /wasi_hello.wasm /tmp/hi.wasm"),
        ("from tmp", "run /tmp/hi x"),
        ("missing program", "run /tmp/none.wasm"),
        ("mixed", "run test/wasi_mixed"),
        ("sqlite", "time run sqlite_demo /tmp"),
        ("read throughput", "run wasi_bench read /hello.wasm"),
    ] {
        session.answers.push((label, ask(machine, line, RUN_TIMEOUT)?));
    }
    // Standard input: two lines typed while the program runs, then Ctrl-D.
    let start = machine.output().len();
    machine.send("run wasi_check /tmp/in --stdin\r").map_err(|e| e.to_string())?;
    wait_after(machine, start, "ok time_system")?;
    machine.send("first line\rsecond line\r\x04").map_err(|e| e.to_string())?;
    // The shell's line, not the kernel's (`wasi_check[PID] exited ...`), which may come first.
    wait_after(machine, start, "wasi_check exited with status")?;
    session.answers.push(("stdin", machine.output()[start..].to_owned()));
    // Output without end, ended with Ctrl-C; the shell and the kernel carry on.
    let start = machine.output().len();
    machine.send("run test/wasi_flood\r").map_err(|e| e.to_string())?;
    wait_after(machine, start, "flood line\r\nflood line")?;
    machine.send("\x03").map_err(|e| e.to_string())?;
    wait_after(machine, start, "^C")?;
    session.answers.push(("flood", machine.output()[start..].to_owned()));
    session.answers.push(("after flood", ask(machine, "echo still here", RUN_TIMEOUT)?));
    session.answers.push(("ps", ask(machine, "ps", RUN_TIMEOUT)?));
    Ok(())
}

/// Waits until `needle` shows in the console after byte `from` of it.
fn wait_after(machine: &Machine, from: usize, needle: &str) -> Result<(), String> {
    let deadline = Instant::now() + RUN_TIMEOUT;
    while !machine.output().get(from..).is_some_and(|new| new.contains(needle)) {
        if Instant::now() >= deadline {
            return Err(format!("no `{needle}` within {RUN_TIMEOUT:?}"));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The `ok`/`FAIL` lines of a `wasi_check` run, and its summary.
fn checks(answer: &str) -> (Vec<&str>, Vec<&str>, &str) {
    let ok = answer.lines().filter(|l| l.starts_with("ok ")).collect();
    let failed = answer.lines().filter(|l| l.starts_with("FAIL")).collect();
    let summary = answer.lines().find(|l| l.starts_with("wasi_check: ")).unwrap_or("no summary line");
    (ok, failed, summary)
}

#[test]
fn a_rust_std_hello_world_prints_its_greeting_and_arguments_and_exits_0() {
    let answer = session().answer("hello");
    assert!(answer.contains("Hello from Rust std on MinimalOS!\r\n"), "{answer}");
    assert!(answer.contains("args: a b\r\n"), "{answer}");
    assert!(answer.contains("wasi_hello exited with status 0\r\n"), "{answer}");
}

#[test]
fn rust_std_files_time_environment_and_arguments_work_as_under_wasmtime() {
    let answer = session().answer("check");
    let (ok, failed, summary) = checks(answer);
    assert!(failed.is_empty(), "{failed:#?}\n{answer}");
    for name in [
        "args",
        "env",
        "stdout",
        "stderr",
        "fs_create_dir_all",
        "fs_write_read",
        "fs_append",
        "fs_seek",
        "fs_set_len",
        "fs_read_dir",
        "fs_metadata",
        "fs_times",
        "fs_rename",
        "fs_remove",
        "fs_not_found",
        "fs_read_directory",
        "fs_read_only_file",
        "fs_write_root_denied",
        "time_monotonic",
        "time_system",
    ] {
        assert!(ok.contains(&format!("ok {name}").as_str()), "no `ok {name}`:\n{answer}");
    }
    assert!(answer.contains("env WASI_CHECK=from-the-shell"), "{answer}");
    assert!(summary.ends_with(" 0 failed"), "{summary}");
    assert!(answer.contains("wasi_check exited with status 0\r\n"), "{answer}");
}

#[test]
fn the_exit_code_is_printed_and_kept_by_ps() {
    let answer = session().answer("exit 7");
    assert!(answer.contains("wasi_check exited with status 7\r\n"), "{answer}");
    let ps = session().answer("ps");
    assert!(ps.lines().any(|l| l.contains("wasi_check") && l.contains("exited 7")), "{ps}");
}

#[test]
fn a_program_given_one_directory_works_inside_it() {
    // Without `/` among its directories, writing under `/` has no directory to go through: the
    // check that expects it to fail passes, as it does under wasmtime.
    let answer = session().answer("boxed");
    let (ok, failed, summary) = checks(answer);
    assert!(failed.is_empty(), "{failed:#?}\n{answer}");
    assert!(ok.contains(&"ok fs_write_read") && ok.contains(&"ok fs_write_root_denied"), "{answer}");
    assert!(summary.ends_with(" 0 failed"), "{summary}");
}

#[test]
fn standard_input_is_the_lines_typed_until_ctrl_d() {
    let answer = session().answer("stdin");
    assert!(answer.contains("stdin line: first line"), "{answer}");
    assert!(answer.contains("stdin line: second line"), "{answer}");
    assert!(answer.contains("stdin: 2 lines"), "{answer}");
    assert!(answer.contains("wasi_check exited with status 0"), "{answer}");
}

#[test]
fn bad_input_to_the_wasi_imports_gets_its_errno() {
    let answer = session().answer("errors");
    for n in 1..=24 {
        assert!(answer.contains(&format!("check {n} ok\r\n")), "check {n}:\n{answer}");
    }
    assert!(answer.contains("checks done"), "{answer}");
    assert!(!answer.contains("FAILED"), "{answer}");
}

#[test]
fn filling_tmp_loses_nothing_written_before() {
    let answer = session().answer("kept");
    assert!(answer.contains(KEPT), "{answer}");
}

#[test]
fn endless_output_stops_at_ctrl_c_and_the_system_carries_on() {
    let flood = session().answer("flood");
    assert!(flood.contains("flood line"), "{flood}");
    assert!(session().answer("after flood").contains("still here"));
    let ps = session().answer("ps");
    assert!(ps.lines().any(|l| l.contains("wasi_flood") && l.contains("killed")), "{ps}");
}

#[test]
fn a_c_program_built_with_wasi_libc_runs() {
    let answer = session().answer("c");
    assert!(answer.contains("env C_CHECK=from-the-shell"), "{answer}");
    assert!(answer.contains("c_check: ") && answer.contains(" ok, 0 failed"), "{answer}");
    assert!(!answer.contains("FAIL"), "{answer}");
    assert!(answer.contains("c_check exited with status 0\r\n"), "{answer}");
}

/// The line `sqlite_demo` prints when built for and run on the host, in a fresh directory.
fn sqlite_on_the_host() -> String {
    let root = artifacts::repo_root();
    let dir = test_dir().join("sqlite-host");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the host's database");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A target directory of its own: the one of this test's build may be busy.
    let output = Command::new(cargo)
        .current_dir(&root)
        .args([
            "run",
            "-q",
            "--release",
            "--locked",
            "-p",
            "sqlite_demo",
            "--target-dir",
            "target/host-programs",
            "--",
        ])
        .arg(&dir)
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "sqlite_demo on the host: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| l.starts_with("sqlite_demo: "))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn sqlite_gives_the_same_checksum_as_on_the_host() {
    let answer = session().answer("sqlite");
    let host = sqlite_on_the_host();
    assert!(host.contains("rows=10000 checksum="), "the host printed {host:?}");
    assert!(answer.contains(&format!("{host}\r\n")), "the host printed {host:?}; MinimalOS:\n{answer}");
    assert!(answer.contains("sqlite_demo exited with status 0"), "{answer}");
}

#[test]
fn make_bench_reads_its_wasi_figures_off_the_console() {
    let session = session();
    // Start to exit of the hello world, from the kernel's log; SQLite's run from `time`.
    let start_to_exit = start_to_exit_us(&session.console, "wasi_hello.wasm");
    assert!(start_to_exit.is_some_and(|us| us > 0), "see build/test/{LOG}");
    let sqlite = session.answer("sqlite");
    assert!(parse_time(sqlite).is_some_and(|ns| ns > 0), "{sqlite}");
    let read = session.answer("read throughput");
    let (bytes, ns) = parse_throughput(read, "read").unwrap_or_else(|| panic!("{read}"));
    assert!(ns > 0, "{read}");
    // The size `wasi_check` read the same file at.
    let check = session.answer("check");
    let size = check.lines().find_map(|l| l.strip_prefix("read /hello.wasm: ")?.strip_suffix(" bytes"));
    assert_eq!(Some(bytes.to_string().as_str()), size, "{read}\n{check}");
}

#[test]
fn a_program_runs_from_a_vfs_path_too() {
    let answer = session().answer("from tmp");
    let shown = shell_lines(answer);
    assert!(shown.contains("Hello from Rust std on MinimalOS!\r\nargs: x\r\n"), "{answer}");
    assert!(answer.contains(" exited with status 0\r\n"), "{answer}");
    let missing = session().answer("missing program");
    assert!(missing.contains("cannot read `/tmp/none.wasm` from the vfs: ENOENT"), "{missing}");
}

#[test]
fn a_wasi_program_may_call_the_abi_too() {
    let session = session();
    let answer = session.answer("mixed");
    assert!(answer.contains("mixed stdout\r\n"), "{answer}");
    assert!(answer.contains("wasi_mixed exited with status 3\r\n"), "{answer}");
    assert!(
        session.console.lines().any(|l| l.contains("wasi_mixed[") && l.ends_with("]: mixed log")),
        "see build/test/{LOG}"
    );
}
