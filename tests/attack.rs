//! Boots the attack manifest (`tests/wasm/attack.manifest`) and attacks the kernel the ways an
//! actor could once the plain hostile ones (`tests/hostile.rs`) are handled: it fills kernel
//! memory with queued messages and with Wasm tables, queues endpoints' receiving capabilities
//! on themselves, spends its time inside bulk-memory instructions and host calls, logs text
//! made to pass for the kernel's and to steer the terminal, kills kernel services and itself,
//! asks for more through its children than it was given, and leaves a client waiting on a
//! server the supervisor gives up on. The manifest starts the attackers that need capabilities;
//! the others the test starts at the shell, as a person would, and while each holds what it
//! took, the shell must answer within a second and other programs must still start; once it is
//! killed, the kernel heap must be back where it was.
//!
//! One boot serves every check. The serial log is saved as `build/test/attack.serial.log`.

mod common;

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::bench::{PROMPT, ask};
use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{image, number_after, test_dir};

/// Longest wait for a report or an answer.
const WAIT: Duration = Duration::from_secs(60);

/// How soon the shell must answer while an attacker runs: a longer freeze is one a person at
/// the console notices.
const ANSWER_LIMIT: Duration = Duration::from_secs(1);

/// Where the serial log goes, under `build/test/`.
const LOG: &str = "attack.serial.log";

/// How much more kernel heap than before an attack may stay in use once the attacker is
/// killed: the few records the kernel keeps of ended processes.
const HEAP_SLACK: u64 = 64 * 1024;

/// How long a killed attacker's memory may take to come back.
const HEAP_SETTLE: Duration = Duration::from_secs(5);

/// Elements one Wasm table may hold; `attack_tables.wat` has 8 tables.
const TABLE_MAX: u64 = 65536;

/// The checks `attack_cycle.wat` makes.
const CYCLE_CHECKS: usize = 24;

/// What `hello.wasm` logs.
const HELLO: &str = "hello from a Wasm actor";

/// The start of the text `attack_log.wat` logs, as the console must show it: escaped.
const FORGED_ESCAPED: &str = r"\n[ERROR] supervisor: shell[6] not restarting it again\r\u{1b}[2J";

/// The kernel line it forges, which must never start a line.
const FORGED: &str = "[ERROR] supervisor: shell[6]";

/// Its terminal controls, which must never reach the terminal as they are.
const RAW_CONTROLS: [&str; 3] = ["\u{1b}[2J", "\u{1b}]0;owned", "\u{9b}2J"];

/// The attackers that take kernel memory and hold it, and the start of their report.
const HOLDERS: [(&str, &str); 2] = [("attack_queues", "queued "), ("attack_tables", "tables hold ")];

/// The attackers that keep the CPU busy.
const SPINNERS: [&str; 2] = ["attack_bulk", "attack_log"];

/// What the boot saw: the whole console, what the shell answered, and why the shell steps
/// stopped early, if they did (the checks of the console alone still run then).
struct Session {
    log: String,
    shell: Answers,
    failure: Option<String>,
}

/// The shell's answers, step by step.
#[derive(Default)]
struct Answers {
    /// `mem` before the attacks.
    mem_before: Option<String>,
    holds: Vec<Hold>,
    spins: Vec<Spin>,
    console: Option<ConsoleKill>,
}

/// One memory attacker's run: started at the shell, used while it held what it took, killed.
struct Hold {
    attacker: &'static str,
    pid: u64,
    /// Its report line.
    report: String,
    ps: String,
    echo: Timed,
    /// `hello`'s line, or why there is none.
    hello: String,
    kill: String,
    /// `mem` once it was killed.
    mem_after: String,
}

/// One CPU attacker's run: started at the shell, the shell used meanwhile, killed.
struct Spin {
    attacker: &'static str,
    pid: u64,
    echo: Timed,
    kill: String,
}

/// The attempt to kill the console service from the shell.
struct ConsoleKill {
    pid: u64,
    kill: String,
    /// `echo still` after it.
    echo: String,
    /// `ps` after it.
    ps: String,
}

/// An answer and how long it took.
struct Timed {
    answer: String,
    took: Duration,
}

/// The one boot every check reads.
fn session() -> &'static Session {
    static SESSION: OnceLock<Result<Session, String>> = OnceLock::new();
    let result = SESSION.get_or_init(|| {
        let iso = image("attack", "on_fatal=exit manifest=test/attack.manifest")?;
        let accel = Accel::from_env().map_err(|e| e.to_string())?;
        let mut machine = Machine::boot(&QemuOptions { accel, ..QemuOptions::new(iso) })
            .map_err(|e| format!("cannot start QEMU: {e}"))?;
        let mut shell = Answers::default();
        let failure = drive(&mut machine, &mut shell).err();
        let _ = machine.save_log(&test_dir().join(LOG));
        machine.kill();
        Ok(Session { log: machine.output(), shell, failure })
    });
    result.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

fn drive(machine: &mut Machine, shell: &mut Answers) -> Result<(), String> {
    common::wait_for_boot(machine)?;
    manifest_reports(machine);
    // The shell's own memory grows on its first large answers and is never given back, so the
    // heap is measured once it has given one of each.
    ask(machine, "ps", WAIT)?;
    run_hello(machine)?;
    shell.mem_before = Some(ask(machine, "mem", WAIT)?);
    let before = shell.mem_before.clone().unwrap_or_default();
    for (attacker, report) in HOLDERS {
        shell.holds.push(hold(machine, attacker, report, &before)?);
    }
    for attacker in SPINNERS {
        shell.spins.push(spin(machine, attacker)?);
    }
    shell.console = Some(kill_console(machine)?);
    Ok(())
}

/// Waits for the reports of the attackers the manifest starts. Each check looks for its own
/// report, so one missing fails that check alone; the waits share one deadline so that a
/// kernel that breaks several does not cost a minute each.
fn manifest_reports(machine: &mut Machine) {
    let deadline = Instant::now() + WAIT;
    let left = || deadline.saturating_duration_since(Instant::now());
    // The last actor of the manifest: once it is started, every pid below is known.
    let _ = machine.wait_for("init: started cycle (", left());
    let log = machine.output();
    let pid = |actor: &str| {
        let line = log.lines().find(|l| l.contains(&format!("init: started {actor} (")))?;
        Some(number_after(line, "as pid "))
    };
    let mut reports = vec!["]: grew to ".to_owned()];
    for (actor, report) in [
        ("cycle", ": checks done"),
        ("deadclient", ": answer: "),
        ("tree", ": grant kept: "),
        ("selfkill", " killed by process "),
    ] {
        if let Some(pid) = pid(actor) {
            reports.push(format!("{actor}[{pid}]{report}"));
        }
    }
    for report in reports {
        let _ = machine.wait_for(&report, left());
    }
}

/// Starts `name` at the shell in the background; returns its pid.
fn run(machine: &mut Machine, name: &str) -> Result<u64, String> {
    let answer = ask(machine, &format!("run {name} &"), WAIT)?;
    let started = format!("started {name} as pid ");
    match answer.lines().find(|l| l.contains(&started)) {
        Some(line) => Ok(number_after(line, &started)),
        None => Err(format!("`run {name} &` answered {answer:?}")),
    }
}

/// Starts `hello` at the shell in the background; returns its greeting line, or what happened
/// instead.
fn run_hello(machine: &mut Machine) -> Result<String, String> {
    let answer = ask(machine, "run hello &", WAIT)?;
    let Some(line) = answer.lines().find(|l| l.contains("started hello as pid ")) else {
        return Ok(format!("`run hello &` answered {answer:?}"));
    };
    let greeting = format!("hello[{}]: {HELLO}", number_after(line, "as pid "));
    Ok(machine.wait_for_line(&greeting, WAIT).unwrap_or_else(|e| e.to_string()))
}

/// Types `echo WORD` and times the answer.
fn timed_echo(machine: &mut Machine, word: &str) -> Result<Timed, String> {
    let start = Instant::now();
    let answer = ask(machine, &format!("echo {word}"), WAIT)?;
    Ok(Timed { answer, took: start.elapsed() })
}

fn hold(machine: &mut Machine, attacker: &'static str, report: &str, before: &str) -> Result<Hold, String> {
    let pid = run(machine, &format!("test/{attacker}"))?;
    let report = machine
        .wait_for_line(&format!("test/{attacker}[{pid}]: {report}"), WAIT)
        .map_err(|e| format!("test/{attacker} did not report: {e}"))?;
    let ps = ask(machine, "ps", WAIT)?;
    let echo = timed_echo(machine, "alive")?;
    let hello = run_hello(machine)?;
    let kill = ask(machine, &format!("kill {pid}"), WAIT)?;
    // Asked again for a while: the kernel may free some of what it held after the kill returns.
    let settle = Instant::now() + HEAP_SETTLE;
    let mem_after = loop {
        let mem = ask(machine, "mem", WAIT)?;
        let settled = match (heap_used(before), heap_used(&mem)) {
            (Some(before), Some(after)) => heap_back(before, after),
            _ => true,
        };
        if settled || Instant::now() >= settle {
            break mem;
        }
        thread::sleep(Duration::from_millis(500));
    };
    Ok(Hold { attacker, pid, report, ps, echo, hello, kill, mem_after })
}

fn spin(machine: &mut Machine, attacker: &'static str) -> Result<Spin, String> {
    let pid = run(machine, &format!("test/{attacker}"))?;
    // Long enough for it to be deep in its loop, and for many of its time slices to pass.
    thread::sleep(Duration::from_secs(1));
    let echo = timed_echo(machine, "alive")?;
    let kill = ask(machine, &format!("kill {pid}"), WAIT)?;
    Ok(Spin { attacker, pid, echo, kill })
}

fn kill_console(machine: &mut Machine) -> Result<ConsoleKill, String> {
    let ps = ask(machine, "ps", WAIT)?;
    let pid = ps
        .lines()
        .find(|row| row.split_whitespace().nth(1) == Some("console"))
        .and_then(|row| row.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no row for the console service in `ps`: {ps:?}"))?;
    let kill = ask(machine, &format!("kill {pid}"), WAIT)?;
    let echo = ask(machine, "echo still", WAIT)?;
    let ps = ask(machine, "ps", WAIT)?;
    Ok(ConsoleKill { pid, kill, echo, ps })
}

impl Session {
    /// Why a shell step has no answer.
    fn missing(&self, step: &str) -> String {
        let why = self.failure.as_deref().unwrap_or("the steps before it failed");
        format!("the shell step {step} never ran: {why}; see build/test/{LOG}")
    }

    fn mem_before(&self) -> &str {
        self.shell.mem_before.as_deref().unwrap_or_else(|| panic!("{}", self.missing("`mem`")))
    }

    fn hold(&self, attacker: &str) -> &Hold {
        let hold = self.shell.holds.iter().find(|h| h.attacker == attacker);
        hold.unwrap_or_else(|| panic!("{}", self.missing(&format!("`run test/{attacker}`"))))
    }

    fn spin(&self, attacker: &str) -> &Spin {
        let spin = self.shell.spins.iter().find(|s| s.attacker == attacker);
        spin.unwrap_or_else(|| panic!("{}", self.missing(&format!("`run test/{attacker}`"))))
    }

    fn console(&self) -> &ConsoleKill {
        self.shell.console.as_ref().unwrap_or_else(|| panic!("{}", self.missing("`kill` of the console")))
    }
}

/// A size as the shell prints it (`100 B`, `512 KiB`, `1.5 MiB`): the bytes it shows, and how
/// much more the real figure may be (the shell cuts, it does not round).
#[derive(Clone, Copy, Debug)]
struct Size {
    bytes: u64,
    cut: u64,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} KiB", self.bytes / 1024)
    }
}

/// The size at the start of `text`.
fn size(text: &str) -> Option<Size> {
    let mut words = text.split_whitespace();
    let (number, unit) = (words.next()?, words.next()?);
    let unit: u64 = match unit {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    match number.split_once('.') {
        None => Some(Size { bytes: number.parse::<u64>().ok()? * unit, cut: unit }),
        Some((whole, tenth)) if tenth.len() == 1 => {
            let tenths = whole.parse::<u64>().ok()? * 10 + tenth.parse::<u64>().ok()?;
            Some(Size { bytes: tenths * unit / 10, cut: unit.div_ceil(10) })
        }
        Some(_) => None,
    }
}

/// The kernel heap in use, from a `mem` answer (`kernel heap:     X used of Y (P%)`).
fn heap_used(mem: &str) -> Option<Size> {
    let line = mem.lines().find(|l| l.contains("kernel heap:"))?;
    size(line.split_once("kernel heap:")?.1)
}

/// Whether the heap use `after` can be within [`HEAP_SLACK`] of `before`, given what the shell
/// cut off each.
fn heap_back(before: Size, after: Size) -> bool {
    after.bytes < before.bytes + before.cut + HEAP_SLACK
}

/// The kernel memory charged to `pid`, from its row in a `ps` answer: the size right after the
/// CPU time (`1.234 ms`), either alone (`5 KiB`) or over its limit (`5 KiB/56.0 MiB`).
fn kernel_column(ps: &str, pid: u64) -> Option<Size> {
    let row = ps.lines().find(|l| l.split_whitespace().next() == Some(&pid.to_string()))?;
    let words: Vec<&str> = row.split_whitespace().collect();
    let cpu_unit = 2 + words.iter().skip(2).position(|w| matches!(*w, "us" | "ms" | "s"))?;
    let (number, unit) = (words.get(cpu_unit + 1)?, words.get(cpu_unit + 2)?);
    size(&format!("{number} {}", unit.split('/').next()?))
}

/// The signed number right after `label` in `line`.
fn code_after(line: &str, label: &str) -> i64 {
    let rest = &line[line.find(label).unwrap_or_else(|| panic!("no `{label}` in {line}")) + label.len()..];
    let (sign, rest) = rest.strip_prefix('-').map_or((1, rest), |digits| (-1, digits));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    sign * digits.parse::<i64>().unwrap_or_else(|_| panic!("no number after `{label}` in {line}"))
}

/// Whether the shell answered `typed` with `word` (the answer starts with the typed line itself).
fn replied(answer: &str, typed: &str, word: &str) -> bool {
    answer.replacen(typed, "", 1).contains(word)
}

/// Checks that `echo WORD` came back within [`ANSWER_LIMIT`]; `during` says what ran meanwhile.
fn assert_answered_soon(echo: &Timed, word: &str, during: &str) {
    println!("`echo {word}` answered in {} ms {during}", echo.took.as_millis());
    assert!(
        replied(&echo.answer, &format!("echo {word}"), word),
        "`echo {word}` {during}: {:?}",
        echo.answer
    );
    assert!(
        echo.took <= ANSWER_LIMIT,
        "`echo {word}` took {} ms {during}, more than {} ms; see build/test/{LOG}",
        echo.took.as_millis(),
        ANSWER_LIMIT.as_millis()
    );
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    common::line_with(log, needle, LOG)
}

/// The console line that ends with `end` (so that a number at its end is read whole).
fn line_ending<'a>(log: &'a str, end: &str) -> &'a str {
    log.lines()
        .find(|l| l.trim_end().ends_with(end))
        .unwrap_or_else(|| panic!("no line ending with `{end}` on the console; see build/test/{LOG}"))
}

/// The pid the first `init: started NAME (` line gives `actor`.
fn started_pid(log: &str, actor: &str) -> u64 {
    number_after(line_with(log, &format!("init: started {actor} (")), "as pid ")
}

fn assert_no_kernel_fault(log: &str) {
    for fault in ["KERNEL PANIC", "CPU EXCEPTION"] {
        assert!(!log.contains(fault), "{}; see build/test/{LOG}", line_with(log, fault));
    }
}

#[test]
fn filling_kernel_memory_stops_at_the_actors_limit_and_a_kill_gives_it_back() {
    let session = session();
    assert_no_kernel_fault(&session.log);
    let before = heap_used(session.mem_before())
        .unwrap_or_else(|| panic!("no kernel heap figure in {:?}", session.mem_before()));
    let queues = session.hold("attack_queues");
    let error = code_after(&queues.report, "then error ");
    assert!(error == -14 || error == -8, "not refused with E_LIMIT or E_NO_MEMORY: {}", queues.report);
    assert!(number_after(&queues.report, "queued ") > 0, "{}", queues.report);
    let charged = kernel_column(&queues.ps, queues.pid)
        .unwrap_or_else(|| panic!("no KERNEL column for pid {} in {:?}", queues.pid, queues.ps));
    assert!(
        charged.bytes >= 4 << 20,
        "`ps` charges {charged} to the actor holding {}: {:?}",
        queues.report,
        queues.ps
    );
    let tables = session.hold("attack_tables");
    let elements = number_after(&tables.report, "tables hold ");
    assert!(elements > 0 && elements <= 8 * TABLE_MAX, "{}", tables.report);
    for hold in [queues, tables] {
        let during = format!("while test/{} held {}", hold.attacker, hold.report);
        assert_answered_soon(&hold.echo, "alive", &during);
        assert!(hold.hello.contains(HELLO), "`run hello` {during}: {}", hold.hello);
        assert!(hold.kill.contains(&format!("(pid {})", hold.pid)), "{:?}", hold.kill);
        let after = heap_used(&hold.mem_after)
            .unwrap_or_else(|| panic!("no kernel heap figure in {:?}", hold.mem_after));
        println!("kernel heap: {before} before the attacks, {after} once test/{} was killed", hold.attacker);
        assert!(
            heap_back(before, after),
            "the kernel heap held {before} before the attacks and {after} once test/{} was killed \
             ({} s later); see build/test/{LOG}",
            hold.attacker,
            HEAP_SETTLE.as_secs()
        );
    }
}

#[test]
fn no_endpoint_can_be_kept_alive_by_its_own_queue() {
    let log = &session().log;
    assert_no_kernel_fault(log);
    let me = format!("cycle[{}]: ", started_pid(log, "cycle"));
    if let Some(failed) = log.lines().find(|l| l.contains(&me) && l.contains("FAILED")) {
        panic!("{failed} (checks are numbered in tests/wasm/attack_cycle.wat)");
    }
    for n in 1..=CYCLE_CHECKS {
        line_ending(log, &format!("{me}check {n} ok"));
    }
    line_with(log, &format!("{me}checks done"));
}

#[test]
fn bulk_memory_instructions_and_endless_logging_give_the_cpu_back() {
    let session = session();
    assert_no_kernel_fault(&session.log);
    for attacker in SPINNERS {
        let spin = session.spin(attacker);
        assert_answered_soon(&spin.echo, "alive", &format!("while test/{attacker} ran"));
        // A kill that finds it proves it was still running, not trapped.
        let killed = format!("(pid {})", spin.pid);
        assert!(spin.kill.contains("killed ") && spin.kill.contains(&killed), "{:?}", spin.kill);
    }
}

#[test]
fn an_actors_log_line_cannot_pass_for_the_kernels_or_steer_the_terminal() {
    let session = session();
    let log = &session.log;
    let me = format!("test/attack_log[{}]: ", session.spin("attack_log").pid);
    let line = line_with(log, &me).trim_end_matches('\r');
    let text = &line[line.find(&me).unwrap_or_default() + me.len()..];
    assert!(text.starts_with(FORGED_ESCAPED), "not escaped as one line: {line}");
    let shown = text.strip_suffix(" [cut]").unwrap_or_else(|| panic!("not marked as cut: {line}"));
    // Escapes are kept whole, so the cut may come up to one escape (`\u{10ffff}`) short.
    assert!((1024 - 10..=1024).contains(&shown.len()), "{} bytes shown: {line}", shown.len());
    for (at, _) in log.match_indices(FORGED) {
        let forged = log[at..].lines().next().unwrap_or_default();
        assert!(log[..at].ends_with(r"\n"), "a forged line reached the console: {forged}");
    }
    let after_boot = &log[log.find(PROMPT).unwrap_or_default()..];
    for control in RAW_CONTROLS {
        assert!(!after_boot.contains(control), "{control:?} reached the terminal; see build/test/{LOG}");
    }
}

#[test]
fn kernel_services_outlive_kill_and_a_given_up_server_closes_its_queue() {
    let session = session();
    let log = &session.log;
    assert_no_kernel_fault(log);
    let selfkill = started_pid(log, "selfkill");
    line_ending(log, &format!("selfkill[{selfkill}]: killing the console: -4"));
    let console = session.console();
    let refusal = console.kill.lines().find(|l| l.contains("kill: "));
    assert!(refusal.is_some() && !console.kill.contains("killed "), "{:?}", console.kill);
    assert!(
        replied(&console.echo, "echo still", "still"),
        "the console stopped answering: {:?}",
        console.echo
    );
    let row = console.ps.lines().find(|l| l.split_whitespace().next() == Some(&console.pid.to_string()));
    assert!(row.is_some_and(|r| r.contains("console") && !r.contains("killed")), "{:?}", console.ps);
    assert!(!log.contains(&format!("console[{}] killed", console.pid)), "see build/test/{LOG}");

    let server = started_pid(log, "deadserver");
    let gave_up = log
        .lines()
        .position(|l| l.contains("supervisor: deadserver[") && l.contains("not restarting it again"))
        .unwrap_or_else(|| {
            panic!("the supervisor never gave up on deadserver[{server}]; see build/test/{LOG}")
        });
    let client = started_pid(log, "deadclient");
    line_ending(log, &format!("deadclient[{client}]: request queued: 0"));
    let answer = format!("deadclient[{client}]: answer: -6");
    let answered = log.lines().position(|l| l.trim_end().ends_with(&answer));
    let answered = answered.unwrap_or_else(|| {
        panic!("{} (want E_CLOSED, -6)", line_with(log, &format!("deadclient[{client}]: answer: ")))
    });
    assert!(gave_up < answered, "the client's wait ended before the supervisor gave up on its server");
}

#[test]
fn a_child_gets_no_more_than_its_parent_and_an_actor_killing_itself_stops_at_once() {
    let log = &session().log;
    assert_no_kernel_fault(log);
    let tree = started_pid(log, "tree");
    let child = number_after(line_with(log, "init: started test/grow.wasm as pid "), "as pid ");
    line_ending(log, &format!("tree[{tree}]: started test/grow.wasm: {child}"));
    line_with(log, &format!("test/grow[{child}]: grew to 2 pages, then refused"));
    line_ending(log, &format!("tree[{tree}]: duplicate grants: -12"));
    let kept = line_with(log, &format!("tree[{tree}]: grant kept: "));
    assert!(code_after(kept, "grant kept: ") >= 0, "the refused spawn took the grant: {kept}");

    let selfkill = started_pid(log, "selfkill");
    line_ending(log, &format!("selfkill[{selfkill}]: about to kill myself as pid {selfkill}"));
    line_ending(log, &format!("selfkill[{selfkill}] killed by process {selfkill}"));
    assert!(!log.contains("still running after killing myself"), "see build/test/{LOG}");
    assert!(!log.contains(&format!("selfkill[{selfkill}] exited")), "see build/test/{LOG}");
}
