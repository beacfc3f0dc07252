//! Boots the hostile-actor manifest (`tests/wasm/hostile.manifest`): beside the usual system
//! (vfs, display, shell), actors that loop for ever, recurse without end (one with frames of
//! 8 KB, against its kernel memory limit: its stacks are charged as they grow), grow their memory
//! until refused, trap in every way the interpreter names, flood the file server's queue with
//! garbage, spawn in a loop against their limit, crash at once under supervision, and (an SDK
//! actor) allocate until their memory limit refuses. Then it
//! uses the shell as a person would: it must answer, list the processes, read the file server,
//! and after the file server is killed, find it restarted.
//!
//! One boot serves every check. The serial log is saved as `build/test/hostile.serial.log`.

mod common;

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::bench::ask;
use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{image, number_after, test_dir};

/// Longest wait for a report or an answer; the endless loop takes half the CPU meanwhile.
const WAIT: Duration = Duration::from_secs(60);

/// Where the serial log goes, under `build/test/`.
const LOG: &str = "hostile.serial.log";

/// What the session saw: the whole console, and the answers to the lines it typed.
struct Session {
    log: String,
    echo: String,
    ps: String,
    ls: String,
    ls_after_restart: String,
}

/// The one boot every check reads.
fn session() -> &'static Session {
    static SESSION: OnceLock<Result<Session, String>> = OnceLock::new();
    let result = SESSION.get_or_init(|| {
        let iso = image("hostile", "on_fatal=exit manifest=test/hostile.manifest")?;
        let accel = Accel::from_env().map_err(|e| e.to_string())?;
        let mut machine = Machine::boot(&QemuOptions { accel, ..QemuOptions::new(iso) })
            .map_err(|e| format!("cannot start QEMU: {e}"))?;
        let session = drive(&mut machine);
        let _ = machine.save_log(&test_dir().join(LOG));
        machine.kill();
        session.map_err(|e| format!("{e}; see build/test/{LOG}"))
    });
    result.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

fn drive(machine: &mut Machine) -> Result<Session, String> {
    common::wait_for_boot(machine)?;
    // The last reports: the crash loop's end takes 100 + 200 + 400 + 800 ms of back-off.
    for report in ["not restarting it again", "flood done: ", "]: spawned ", "exited with status 101"] {
        machine.wait_for(report, WAIT).map_err(|e| e.to_string())?;
    }
    let echo = ask(machine, "echo alive", WAIT)?;
    let ps = ask(machine, "ps", WAIT)?;
    let ls = ask(machine, "ls /", WAIT)?;
    let vfs = started_pid(&machine.output(), "vfs");
    ask(machine, &format!("kill {vfs}"), WAIT)?;
    wait_for_second(machine, "init: started vfs (vfs.wasm)")?;
    let ls_after_restart = ask(machine, "ls /", WAIT)?;
    Ok(Session { log: machine.output(), echo, ps, ls, ls_after_restart })
}

/// Waits until `needle` has been printed twice.
fn wait_for_second(machine: &Machine, needle: &str) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    while machine.output().matches(needle).count() < 2 {
        if Instant::now() > deadline {
            return Err(format!("`{needle}` was not printed again within {} s", WAIT.as_secs()));
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    common::line_with(log, needle, LOG)
}

/// The pid the first `init: started NAME (` line gives `actor`.
fn started_pid(log: &str, actor: &str) -> u64 {
    number_after(line_with(log, &format!("init: started {actor} (")), "as pid ")
}

#[test]
fn every_trap_kills_only_its_actor_and_is_named_with_its_pid() {
    let log = &session().log;
    for (actor, reason) in [
        ("recursion", "stack overflow"),
        // Its stacks' growth is charged at slice boundaries: the limit stops it first.
        ("deep", "out of memory"),
        ("unreachable", "executed unreachable"),
        ("load", "memory access out of bounds"),
        ("store", "memory access out of bounds"),
        ("indirect", "bad indirect call"),
        ("conversion", "invalid conversion to integer"),
        ("overflow", "integer overflow"),
        ("divzero", "integer division by zero"),
    ] {
        line_with(log, &format!("{actor}[{}] trapped: {reason}", started_pid(log, actor)));
    }
    assert!(!log.contains("KERNEL PANIC"), "see build/test/{LOG}");
}

#[test]
fn an_endless_loop_keeps_running_and_the_shell_still_answers() {
    let session = session();
    assert!(session.echo.contains("\r\nalive"), "{:?}", session.echo);
    let spin = started_pid(&session.log, "spin");
    let row = session
        .ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&spin.to_string()))
        .unwrap_or_else(|| panic!("no row for spin in {:?}", session.ps));
    assert!(row.contains("spin") && (row.contains("ready") || row.contains("running")), "{row}");
}

#[test]
fn memory_growth_stops_at_the_manifests_limit() {
    let log = &session().log;
    line_with(log, &format!("grow[{}]: grew to 8 pages, then refused", started_pid(log, "grow")));
}

#[test]
fn a_server_flooded_with_garbage_keeps_serving() {
    let session = session();
    let line =
        line_with(&session.log, &format!("flood[{}]: flood done: ", started_pid(&session.log, "flood")));
    assert!(number_after(line, "done: ") > 0 && line.contains("refused full"), "{line}");
    assert!(session.ls.contains("vfs.wasm"), "{:?}", session.ls);
}

#[test]
fn spawning_in_a_loop_stops_at_the_child_limit() {
    let log = &session().log;
    let spawner = started_pid(log, "spawner");
    line_with(log, &format!("spawner[{spawner}]: spawned 3, then error -14"));
    line_with(
        log,
        &format!("spawner[{spawner}] asked for bench_idle.wasm: the actor already has 3 live children"),
    );
    assert_eq!(
        log.matches(&format!("killed by process {spawner}")).count(),
        3,
        "it killed its three children"
    );
}

#[test]
fn a_crashing_actor_is_restarted_with_growing_delays_then_given_up() {
    let log = &session().log;
    for (restart, delay) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
        line_with(
            log,
            &format!("trapped: executed unreachable; restarting it in {delay} ms (restart {restart})"),
        );
    }
    let last = line_with(log, "not restarting it again");
    assert!(last.contains("crashloop[") && last.contains("for the 5th time in a row"), "{last}");
    assert!(!log.contains("(restart 5)"), "no restart after giving up");
}

#[test]
fn a_killed_server_is_restarted_with_its_grants_and_serves_again() {
    let session = session();
    let vfs = started_pid(&session.log, "vfs");
    line_with(&session.log, &format!("supervisor: vfs[{vfs}] killed by process"));
    let restarted = session.log.lines().filter(|l| l.contains("init: started vfs (vfs.wasm)")).nth(1);
    let restarted =
        restarted.unwrap_or_else(|| panic!("the vfs was not started again; see build/test/{LOG}"));
    assert!(restarted.contains(", restart 1"), "{restarted}");
    assert!(session.ls_after_restart.contains("vfs.wasm"), "{:?}", session.ls_after_restart);
}

#[test]
fn an_sdk_actor_allocating_without_end_panics_alone_at_its_memory_limit() {
    let log = &session().log;
    let hog = started_pid(log, "hog");
    let panic = line_with(log, &format!("hog[{hog}]: panic at "));
    assert!(panic.contains("memory allocation of 65536 bytes failed"), "{panic}");
    assert!(panic.contains("] [ERROR] hog["), "a panic is logged as an error: {panic}");
    let holding = line_with(log, &format!("hog[{hog}]: holding 1024 KiB"));
    // Output has no time or level before the name (a prompt drawn again may come first).
    let name = holding.find(&format!("hog[{hog}]: ")).unwrap_or_default();
    assert!(!holding[..name].contains("] ["), "println! is output, not a log line: {holding:?}");
    let exit = line_with(log, &format!("hog[{hog}] exited with status 101"));
    assert!(exit.contains("] [WARN ] hog["), "a failed exit is a warning: {exit}");
}
