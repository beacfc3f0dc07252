//! Boots the SMP manifest (`tests/wasm/smp.manifest`) with as many CPUs as `SMP` says (1 by
//! default; CI runs the suite with 1 and with 4): an endless loop for each of up to eight CPUs,
//! and `stress.wasm`, whose senders exchange numbered messages with it, across CPUs, while it
//! starts and kills other actors. The check must pass, the shell must answer beside the loops,
//! and every CPU must have been used.
//!
//! One boot serves every check. The serial log is saved as `build/test/smp.serial.log`.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use minimalos::bench::ask;
use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{image, line_with, number_after, test_dir};

/// Longest wait for the check's verdict or an answer: eight loops share the CPUs meanwhile.
const WAIT: Duration = Duration::from_secs(120);

/// Where the serial log goes, under `build/test/`.
const LOG: &str = "smp.serial.log";

/// What the session saw: the whole console, the CPUs QEMU was given, and the answers.
struct Session {
    log: String,
    cpus: u32,
    echo: String,
    ps: String,
    cpus_table: String,
}

/// The one boot every check reads.
fn session() -> &'static Session {
    static SESSION: OnceLock<Result<Session, String>> = OnceLock::new();
    let result = SESSION.get_or_init(|| {
        let iso = image("smp", "on_fatal=exit manifest=test/smp.manifest")?;
        let accel = Accel::from_env().map_err(|e| e.to_string())?;
        let options = QemuOptions { accel, ..QemuOptions::new(iso) };
        let cpus = options.resolved_cpus().map_err(|e| e.to_string())?;
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let session = drive(&mut machine, cpus);
        let _ = machine.save_log(&test_dir().join(LOG));
        machine.kill();
        session.map_err(|e| format!("{e}; see build/test/{LOG}"))
    });
    result.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

fn drive(machine: &mut Machine, cpus: u32) -> Result<Session, String> {
    common::wait_for_boot(machine)?;
    machine.wait_for("stress: ", WAIT).map_err(|e| e.to_string())?;
    // The verdict's line is complete once the next line begins.
    std::thread::sleep(Duration::from_secs(1));
    let echo = ask(machine, "echo alive", WAIT)?;
    let ps = ask(machine, "ps", WAIT)?;
    let cpus_table = ask(machine, "cpus", WAIT)?;
    Ok(Session { log: machine.output(), cpus, echo, ps, cpus_table })
}

#[test]
fn the_kernel_runs_on_every_cpu_it_was_given() {
    let session = session();
    let line = line_with(&session.log, "boot complete; ", LOG);
    assert_eq!(number_after(line, "tasks on "), u64::from(session.cpus), "{line}");
}

#[test]
fn no_message_across_cpus_is_lost_repeated_or_reordered_while_actors_come_and_go() {
    let log = &session().log;
    let verdict = line_with(log, "stress: ", LOG);
    assert!(verdict.contains("stress: ok: 8 senders, "), "{verdict}");
    assert!(number_after(verdict, "senders, ") > 0, "{verdict}");
    assert!(number_after(verdict, "order; ") > 0, "actors were started and killed meanwhile: {verdict}");
}

#[test]
fn endless_loops_on_every_cpu_do_not_stop_the_shell_from_answering() {
    let session = session();
    assert!(session.echo.contains("\r\nalive"), "{:?}", session.echo);
    assert!(!session.log.contains("KERNEL PANIC"), "see build/test/{LOG}");
}

#[test]
fn new_actors_are_spread_over_every_cpu_and_every_cpu_works() {
    let session = session();
    // `ps`: PID NAME STATE ON ...; the loops' states are one word (ready or running).
    let mut on: Vec<u64> = session
        .ps
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|row| row.get(1).is_some_and(|name| name.starts_with("spin")))
        .map(|row| row[3].parse().unwrap_or_else(|_| panic!("no CPU in {row:?}")))
        .collect();
    assert_eq!(on.len(), 8, "{}", session.ps);
    on.sort_unstable();
    on.dedup();
    assert_eq!(on.len() as u32, session.cpus.min(8), "each CPU runs a loop: {}", session.ps);
    // `cpus`: a header, then CPU APIC TASKS BUSY IDLE BUSY% ...: every CPU runs a loop, so
    // none is idle most of the time.
    let rows: Vec<Vec<&str>> = session
        .cpus_table
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .filter(|r: &Vec<&str>| !r.is_empty() && r[0] != "msh>")
        .collect();
    assert_eq!(rows.len() as u32, session.cpus, "{}", session.cpus_table);
    for row in rows {
        let busy: u64 = row[row.len() - 3].parse().unwrap_or_else(|_| panic!("no BUSY% in {row:?}"));
        assert!(busy >= 50, "CPU {} was busy {busy}% with a loop of its own: {}", row[0], session.cpus_table);
    }
}
