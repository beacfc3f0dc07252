//! Boots the real ISO in QEMU (headless, TCG) and checks what the serial console shows.
//!
//! One boot serves every check of a normal start, including the kernel's scheduling checks
//! (`ktest=sched`) and serial input typed the way a person would; the fault check needs its own
//! boot. A failing check names the serial log it saved under `build/test/`.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use minimalos::artifacts;
use minimalos::iso::{self, IsoOptions};
use minimalos::qemu::{self, Accel, Machine, QemuOptions};
use minimalos::ramdisk::Extras;

use common::{BOOT_TIMEOUT, number_after, test_dir};

/// The line a normal boot prints once the executor runs.
const BOOT_DONE: &str = "boot complete";

/// How the kernel's banner starts (the loader's own lines start with `MinimalOS loader`).
const BANNER_START: &str = concat!("MinimalOS ", env!("CARGO_PKG_VERSION"), " |");

/// Longest wait for each `ktest` report once the boot is complete.
const REPORT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the boot test types on the serial console, and the echo it expects.
const TYPED: &str = "hello kernel";

/// Reports the `sched` checks print; the log is kept once all arrived (or timed out).
const SCHED_REPORTS: [&str; 5] = [
    "ktest sleep: ",
    "ktest spin: ktest-spin-a ",
    "ktest spin: ktest-spin-b ",
    "ktest input: hello kernel",
    "ktest ipc: ",
];

/// Builds an ISO for a test with `cmdline` and `extras` in its ramdisk.
fn build_iso_with(name: &str, cmdline: &str, extras: Extras) -> PathBuf {
    let options = IsoOptions {
        out: test_dir().join(format!("{name}.iso")),
        cmdline: Some(cmdline.to_owned()),
        limine_dir: None,
        extras,
        test_modules: true,
    };
    iso::build(&options).unwrap_or_else(|e| panic!("building the {name} image failed: {e}"))
}

/// Builds an ISO for a test with `cmdline`.
fn build_iso(name: &str, cmdline: &str) -> PathBuf {
    build_iso_with(name, cmdline, Extras::default())
}

/// A directory tree from outside the build, `extra_tree/a/b.txt`: what `FILES=` and
/// `extra-files/` add.
fn extra_tree() -> PathBuf {
    let tree = test_dir().join("extra_tree");
    std::fs::create_dir_all(tree.join("a")).unwrap();
    std::fs::write(tree.join("a/b.txt"), "seven b\n").unwrap();
    tree
}

/// A copy of `hello.wasm`, taken from the ramdisk, as a module from outside the build
/// (`extra_hello.wasm`): what `ACTORS=` and `extra-actors/` add.
fn extra_actor() -> PathBuf {
    let ramdisk = std::fs::read(artifacts::ramdisk()).expect("the ramdisk was built");
    let mut archive = tar::Archive::new(ramdisk.as_slice());
    let mut hello = archive
        .entries()
        .expect("a tar archive")
        .map(|e| e.expect("a tar entry"))
        .find(|e| e.path().is_ok_and(|p| p.as_os_str() == "hello.wasm"))
        .expect("hello.wasm in the ramdisk");
    let path = test_dir().join("extra_hello.wasm");
    std::fs::create_dir_all(test_dir()).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut hello, &mut bytes).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn boot(iso: PathBuf) -> Machine {
    let options = QemuOptions { accel: Accel::from_env().expect("ACCEL"), ..QemuOptions::new(iso) };
    Machine::boot(&options).unwrap_or_else(|e| panic!("cannot start QEMU: {e}"))
}

/// The serial log of one normal boot, shared by the checks below; `Err` holds why it failed.
fn normal_boot() -> &'static Result<String, String> {
    static LOG: OnceLock<Result<String, String>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut machine =
            boot(build_iso("boot", "on_fatal=exit ktest=sched manifest=test/kernel.manifest log=debug"));
        let mut waited = machine.wait_for_line(BOOT_DONE, BOOT_TIMEOUT).map(drop);
        if waited.is_ok() {
            // Typed once the input task runs; each check below looks for its own report, so a
            // missing one fails that check alone.
            waited = machine.send(&format!("{TYPED}\r"));
            for report in SCHED_REPORTS {
                let _ = machine.wait_for_line(report, REPORT_TIMEOUT);
            }
        }
        let log_path = test_dir().join("boot.serial.log");
        let _ = machine.save_log(&log_path);
        machine.kill();
        let output = machine.output();
        waited.map(|()| output).map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    })
}

/// The normal boot's console, or a failed check that says why there is none.
fn console() -> &'static str {
    match normal_boot() {
        Ok(log) => log,
        Err(e) => panic!("the boot did not complete: {e}"),
    }
}

/// The console line that contains `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    common::line_with(log, needle, "boot.serial.log")
}

#[test]
fn banner_names_version_loader_memory_framebuffer_and_boot_time() {
    let banner = line_with(console(), BANNER_START);
    // Firmware may leave terminal escapes in front of the kernel's first line.
    let banner = &banner[banner.find(BANNER_START).unwrap()..];
    assert!(banner.contains("| loader: MinimalOS loader "), "{banner}");
    let field = |name: &str| number_after(banner, name);
    // QEMU was given 512 MiB; firmware and loader keep some of it.
    let usable = field("memory: ");
    assert!((300..=512).contains(&usable), "usable memory {usable} MiB out of 512: {banner}");
    assert!(field("framebuffer: ") > 0, "no framebuffer width: {banner}");
    assert!(field("entry to banner: ") > 0, "no boot time: {banner}");
}

#[test]
fn banner_is_the_first_kernel_line() {
    let log = console();
    let kernel_part = &log[log.find(BANNER_START).expect("banner")..];
    let first = kernel_part.lines().next().unwrap();
    assert!(first.contains("| loader: "), "first kernel line is not the banner: {first}");
}

#[test]
fn ramdisk_lists_every_actor_with_its_size() {
    let log = console();
    let root = artifacts::repo_root();
    let mut checked = 0;
    for actor in ["actors", "examples"].iter().flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap()) {
        let actor = actor.unwrap();
        let is_actor =
            std::fs::read_to_string(actor.path().join("Cargo.toml")).is_ok_and(|m| m.contains("cdylib"));
        if !is_actor {
            continue;
        }
        let name = actor.file_name().into_string().unwrap();
        let line = line_with(log, &format!("ramdisk: {name}.wasm"));
        let size: u64 = line.split_whitespace().rev().nth(1).unwrap().parse().unwrap();
        assert!(size > 0, "{line}");
        checked += 1;
    }
    assert!(checked > 0, "no actors under actors/ or examples/");
}

#[test]
fn interrupts_and_clock_are_reported() {
    let log = console();
    let interrupts = line_with(log, "interrupts: local APIC in ");
    assert!(number_after(interrupts, "APIC timer ") > 0, "{interrupts}");
    let time = line_with(log, "time: TSC ");
    assert!(number_after(time, "TSC ") > 0, "{time}");
    assert!(time.contains("tick 1000 Hz, slice 2000 us"), "{time}");
}

#[test]
fn a_ten_millisecond_sleep_lasts_at_least_ten_milliseconds() {
    let line = line_with(console(), "ktest sleep: ");
    assert_eq!(number_after(line, "asked "), 10_000, "{line}");
    let slept = number_after(line, "slept ");
    // The upper bound only catches a timer that never fires; TCG on a busy host is slow.
    assert!((10_000..2_000_000).contains(&slept), "{line}");
}

#[test]
fn two_cpu_bound_tasks_share_the_cpu_through_time_slices() {
    let log = console();
    for task in ["ktest-spin-a", "ktest-spin-b"] {
        let line = line_with(log, &format!("ktest spin: {task} "));
        assert!(number_after(line, "ran ") > 0, "{line}");
        // Each spins 300 ms in 2 ms slices while the other does the same: with preemption
        // working, each is sliced many times.
        assert!(number_after(line, "iterations in ") >= 10, "too few slices: {line}");
    }
}

#[test]
fn bytes_typed_on_the_serial_console_reach_the_kernel() {
    line_with(console(), &format!("ktest input: {TYPED}"));
}

#[test]
fn kernel_tasks_ping_pong_100000_messages_and_report_latency() {
    let line = line_with(console(), "ktest ipc: ");
    assert!(line.contains("ktest ipc: 100000 round trips, none lost; rt p50 "), "{line}");
    let (p50, p99) = (number_after(line, "p50 "), number_after(line, "p99 "));
    assert!(0 < p50 && p50 <= p99, "{line}");
}

#[test]
fn a_manifest_starts_the_hello_actor() {
    let log = console();
    let started = line_with(log, "init: started hello (hello.wasm) as pid ");
    let pid = number_after(started, "as pid ");
    line_with(log, &format!("hello[{pid}]: hello from a Wasm actor"));
    line_with(log, &format!("hello[{pid}] exited with status 0"));
}

/// The serial log of the ABI test boot (`tests/wasm/abi.manifest`), shared by its checks.
fn abi_boot() -> &'static str {
    static LOG: OnceLock<Result<String, String>> = OnceLock::new();
    let log = LOG.get_or_init(|| {
        let iso = build_iso_with(
            "abi",
            "on_fatal=exit manifest=test/abi.manifest log=debug",
            Extras { actors: vec![extra_actor()], files: vec![extra_tree()] },
        );
        let mut machine = boot(iso);
        let mut waited = machine.wait_for_line(BOOT_DONE, BOOT_TIMEOUT).map(drop);
        if waited.is_ok() {
            waited = machine.send(&format!("{TYPED}\r"));
        }
        if waited.is_ok() {
            waited = machine.wait_for(&format!("echo: {TYPED}"), REPORT_TIMEOUT);
        }
        // The last reports to arrive, each delayed by the spinner's time slices.
        for (actor, end) in [
            ("ticker", "exited"),
            ("recursion", "trapped"),
            ("floats", "exited"),
            ("receiver", "exited"),
            ("ipcerrors", "exited"),
            ("pong", "exited"),
            ("control", "exited"),
            ("extra", "exited"),
            ("logreader", "exited"),
            ("abicheck", "exited"),
        ] {
            if waited.is_ok() {
                let started = machine.output();
                let pid = number_after(line_with(&started, &format!("init: started {actor} (")), "as pid ");
                waited = machine.wait_for_line(&format!("{actor}[{pid}] {end}"), REPORT_TIMEOUT).map(drop);
            }
        }
        let log_path = test_dir().join("abi.serial.log");
        let _ = machine.save_log(&log_path);
        machine.kill();
        waited.map(|()| machine.output()).map_err(|e| format!("{e}; serial log: {}", log_path.display()))
    });
    log.as_deref().unwrap_or_else(|e| panic!("the ABI test boot failed: {e}"))
}

/// The pid init gave the actor called `name` in the ABI boot.
fn abi_pid(name: &str) -> u64 {
    number_after(line_with(abi_boot(), &format!("init: started {name} (")), "as pid ")
}

/// The ABI's behaviour cases (`actors/abi_check`) pass as a Wasm actor, as they do as host
/// tests (`cargo test -p abi_check`): every case the suite declares logged `CASE ok`.
#[test]
fn the_abi_behaviour_cases_pass_in_qemu_as_on_the_host() {
    let source = include_str!("../actors/abi_check/src/cases.rs");
    let list = &source[source.find("cases! {").expect("the suite declares its cases")..];
    let names: Vec<&str> =
        list.lines().filter_map(|line| line.trim_start().strip_prefix("fn ")?.strip_suffix("() {")).collect();
    assert!(names.len() >= 10, "the suite has its cases: {names:?}");
    let log = abi_boot();
    let me = format!("abicheck[{}]: ", abi_pid("abicheck"));
    if let Some(panic) = log.lines().find(|l| l.contains(&me) && l.contains("panic")) {
        panic!("{panic} (the cases are in actors/abi_check/src/cases.rs)");
    }
    for name in &names {
        line_with(log, &format!("{me}{name} ok"));
    }
    line_with(log, &format!("{me}all {} cases ok", names.len()));
}

/// `log=debug` (the ABI boot's) shows what each actor was granted and every host call that
/// failed with an error other than flow control, at `DEBUG`; and never the tar parser's dumps.
#[test]
fn log_debug_shows_grants_and_failed_calls_and_no_parser_dumps() {
    let log = abi_boot();
    let pid = abi_pid("abicheck");
    let grant = line_with(log, &format!("init: abicheck[{pid}] holds handle 0: "));
    assert!(grant.contains("[DEBUG]") && grant.ends_with("System (rw)"), "{grant}");
    let failed = line_with(log, &format!("abicheck[{pid}]: sys_cap_try_recv returned E_INVALID_HANDLE"));
    assert!(failed.contains("[DEBUG]"), "{failed}");
    assert!(!log.contains("returned E_EMPTY"), "flow control is shown only at trace");
    assert!(!log.contains("PosixHeader"), "the tar parser's dump is not shown");
}

/// `FILES=` puts a directory tree into the ramdisk under its own name.
#[test]
fn an_extra_tree_is_in_the_ramdisk_under_its_name() {
    let line = line_with(abi_boot(), "ramdisk: extra_tree/a/b.txt");
    assert!(line.ends_with(" 8 bytes"), "{line}");
}

#[test]
fn host_calls_receive_arguments_in_signature_order() {
    let pid = abi_pid("args");
    let log = abi_boot();
    assert!(log.contains(&format!("args[{pid}]: abc\n")), "sys_log(100, 3) must log `abc`");
    assert!(log.contains(&format!("args[{pid}]: cdef\n")), "sys_log(102, 4) must log `cdef`");
}

#[test]
fn sys_exit_code_is_reported() {
    let pid = abi_pid("exit7");
    line_with(abi_boot(), &format!("exit7[{pid}] exited with status 7"));
}

/// Float arithmetic is IEEE 754's, bit for bit, though the kernel is built soft-float
/// (`tests/wasm/float_ops.wat` exits with the number of the first case that fails).
#[test]
fn float_arithmetic_rounds_and_overflows_as_ieee_754_says() {
    let pid = abi_pid("floats");
    line_with(abi_boot(), &format!("floats[{pid}] exited with status 0"));
}

#[test]
fn a_module_importing_an_unknown_function_is_refused_by_name() {
    let line = line_with(abi_boot(), "actor badimport not started");
    assert!(line.contains("imports unknown function `env.nonexistent`"), "{line}");
    assert!(line.contains("line 6"), "the manifest line is named: {line}");
}

#[test]
fn an_endless_loop_does_not_stop_another_actor() {
    let log = abi_boot();
    let ticker = abi_pid("ticker");
    assert_eq!(log.matches(&format!("ticker[{ticker}]: tick\n")).count(), 3, "three ticks");
    line_with(log, &format!("ticker[{ticker}] exited with status 0"));
    let spinner = abi_pid("spinner");
    assert!(!log.contains(&format!("spinner[{spinner}] exited")), "the spinner never ends on its own");
}

#[test]
fn memory_grow_past_the_limit_returns_minus_one() {
    let log = abi_boot();
    let pid = abi_pid("memlimit");
    line_with(log, &format!("memlimit[{pid}]: grow past the limit refused"));
    line_with(log, &format!("memlimit[{pid}]: grow by one page allowed"));
}

#[test]
fn a_memory_starting_above_the_limit_fails_the_spawn_by_name() {
    let line = line_with(abi_boot(), "actor toobig not started");
    assert!(line.contains("its memory starts at 8 pages, above the limit of 4 pages"), "{line}");
}

#[test]
fn bad_log_buffers_are_refused_and_the_actor_goes_on() {
    let log = abi_boot();
    let pid = abi_pid("badlog");
    assert_eq!(log.matches(&format!("badlog[{pid}]: sys_log ignored: ")).count(), 3);
    line_with(log, &format!("badlog[{pid}]: survived bad log buffers"));
}

#[test]
fn traps_kill_only_the_trapping_actor_and_name_the_trap() {
    let log = abi_boot();
    line_with(log, &format!("divzero[{}] trapped: integer division by zero", abi_pid("divzero")));
    line_with(log, &format!("recursion[{}] trapped: stack overflow", abi_pid("recursion")));
    assert!(!log.contains("KERNEL PANIC"));
}

#[test]
fn sys_cap_recv_blocks_until_a_message_arrives() {
    let log = abi_boot();
    let (receiver, sender) = (abi_pid("receiver"), abi_pid("sender"));
    let at =
        |needle: String| log.find(&needle).unwrap_or_else(|| panic!("no `{needle}` in the ABI boot log"));
    let waiting = at(format!("receiver[{receiver}]: waiting for a message"));
    let sending = at(format!("sender[{sender}]: sending"));
    let received = at(format!("receiver[{receiver}]: received opcode 0x2222 with ping!"));
    assert!(sending < received, "the receiver had the message before it was sent");
    // On one CPU the receiver, started first, runs first and must block until the sender
    // runs; with several, the sender may run (and end) before the receiver starts, and then the
    // message simply waits in the queue.
    let cpus = log.lines().find_map(minimalos::bench::booted_cpus).expect("the boot line");
    assert!(cpus > 1 || waiting < sending, "the receiver did not wait for the message");
    line_with(log, &format!("receiver[{receiver}] exited with status 0"));
}

/// Asserts that the WAT checker `actor` (reporting like `tests/wasm/ipc_errors.wat`) passed all
/// `count` checks.
fn assert_checks(actor: &str, source: &str, count: usize) {
    let log = abi_boot();
    let pid = abi_pid(actor);
    let me = format!("{actor}[{pid}]: ");
    if let Some(failed) = log.lines().find(|l| l.contains(&me) && l.contains("FAILED")) {
        panic!("{failed} (checks are numbered in tests/wasm/{source})");
    }
    for n in 1..=count {
        line_with(log, &format!("{me}check {n} ok"));
    }
    line_with(log, &format!("{me}checks done"));
}

#[test]
fn every_bad_ipc_argument_gets_its_documented_code() {
    assert_checks("ipcerrors", "ipc_errors.wat", 37);
}

#[test]
fn the_system_capability_lists_starts_and_kills_processes() {
    assert_checks("control", "system_calls.wat", 17);
    // Check 13 started an ipc_receiver holding the moved endpoint; check 15 sent it its message.
    let log = abi_boot();
    assert!(
        log.matches("]: received opcode 0x2222 with ping!").count() >= 2,
        "the receiver started with a moved capability got the message"
    );
}

#[test]
fn an_actor_talks_to_the_serial_console_through_console_endpoints() {
    let log = abi_boot();
    assert!(log.contains(&format!("echo: {TYPED}")), "typed text came back through console.in/console.out");
    line_with(log, "init: started console service");
}

#[test]
fn two_wasm_actors_ping_pong_through_the_kernel() {
    let line = line_with(abi_boot(), &format!("ping[{}]: round trips: 200, mean ", abi_pid("ping")));
    assert!(number_after(line, "mean ") > 0, "{line}");
    line_with(abi_boot(), &format!("pong[{}] exited with status 0", abi_pid("pong")));
}

#[test]
fn the_ramdisk_is_readable_and_only_readable() {
    line_with(abi_boot(), &format!("ramdisk[{}]: ramdisk read ok", abi_pid("ramdisk")));
}

#[test]
fn an_actor_added_from_outside_the_build_runs() {
    line_with(abi_boot(), &format!("extra[{}]: hello from a Wasm actor", abi_pid("extra")));
}

#[test]
fn the_kernel_log_is_mirrored_to_the_endpoint_the_manifest_names() {
    line_with(abi_boot(), "init: log mirrored to `klog` by pid ");
    line_with(abi_boot(), &format!("logreader[{}]: kernel log text arrived", abi_pid("logreader")));
}

#[test]
fn kernel_fault_is_reported_and_ends_the_run() {
    let mut machine = boot(build_iso("fault", "ktest=fault on_fatal=exit"));
    let status = machine.wait_exit(BOOT_TIMEOUT);
    let log_path = test_dir().join("fault.serial.log");
    let _ = machine.save_log(&log_path);
    let log = machine.output();
    let status = status.unwrap_or_else(|e| panic!("{e}; serial log: {}", log_path.display()));
    assert_eq!(status.code(), Some(qemu::EXIT_FAILURE), "QEMU status; serial log: {}", log_path.display());
    assert!(log.contains("#PF"), "no page-fault report; serial log: {}", log_path.display());
    assert!(
        log.contains("7ffffffff000"),
        "the report does not name the faulting address; serial log: {}",
        log_path.display()
    );
    assert!(
        !log.contains(BOOT_DONE),
        "the kernel went on after the fault; serial log: {}",
        log_path.display()
    );
    // The backtrace names the faulting function and its caller from the kernel's own symbols.
    let backtrace =
        &log[log.find("backtrace:").unwrap_or_else(|| panic!("no backtrace; see {}", log_path.display()))..];
    assert!(
        backtrace.contains("#0 ") && backtrace.contains("kernel::system::ktest::fault+0x"),
        "{backtrace}"
    );
    assert!(backtrace.contains("#1 ") && backtrace.contains("kernel::startup::"), "{backtrace}");
}

#[test]
fn a_fiber_that_overflows_its_stack_is_abandoned_and_the_kernel_goes_on() {
    let mut machine = boot(build_iso("overflow", "ktest=overflow on_fatal=exit"));
    let went_on = machine.wait_for("ktest overflow: the kernel went on", BOOT_TIMEOUT);
    let log_path = test_dir().join("overflow.serial.log");
    let _ = machine.save_log(&log_path);
    machine.kill();
    let log = machine.output();
    went_on.unwrap_or_else(|e| panic!("{e}; serial log: {}", log_path.display()));
    let report = common::line_with(&log, "fiber stack overflow (", "overflow.serial.log");
    assert!(report.contains("its task is resumed without it"), "{report}");
    common::line_with(&log, "ktest overflow: fiber abandoned", "overflow.serial.log");
    assert!(
        !log.contains("CPU EXCEPTION"),
        "the overflow was not survived; serial log: {}",
        log_path.display()
    );
}
