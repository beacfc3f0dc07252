//! Boots the default image, the one `make run` boots: its console is quiet (at most 15 lines
//! before the prompt, firmware's and loader's included), and the shell's `bench ipc` with few
//! round trips must carry all five percentiles, in order, for the default, the largest and the
//! empty payload, both actors on CPU 0. `bench spawn` with a hundred actors, `bench wasm`, `bench path`, `bench
//! ipc-native`, `bench console` and `bench preempt` beside each hog answer too: the modules they run are in the
//! default image. Across CPUs, as the boot line counts them (`SMP=N`): `bench ipc xcore` and `bench
//! pairs 2` answer with figures on two CPUs or more and with "needs two CPUs" on one, and `bench pairs
//! 1` with figures on any. No timing is asserted (QEMU under TCG on a shared host is too noisy for that;
//! `make bench` reports the figures). The serial log is saved as `build/test/bench.serial.log`.

mod common;

use std::time::Duration;

use minimalos::bench::{
    PROMPT, ask, parse_ipc, parse_native, parse_pairs, parse_path, parse_spawn, wait_for_boot,
};
use minimalos::interp::parse_kernel;
use minimalos::qemu::{Accel, Machine, QemuOptions};

use common::{BOOT_TIMEOUT, default_image, test_dir};

/// Most serial lines before the first prompt of a default boot, besides the line each actor of
/// the manifest may take to say it started: the firmware's, the loader's and the kernel's.
const QUIET_BOOT_LINES: usize = 11;

/// The actors the default image's manifest starts.
fn manifest_actors() -> usize {
    let manifest = minimalos::artifacts::repo_root().join("actors/boot.manifest");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    text.lines().filter(|line| line.starts_with("actor ")).count()
}

/// Longest wait for the benchmark's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn bench_ipc_answers_with_ordered_percentiles() {
    let iso = default_image("bench", "on_fatal=exit").unwrap_or_else(|e| panic!("{e}"));
    let accel = Accel::from_env().expect("ACCEL");
    let mut machine = Machine::boot(&QemuOptions { accel, ..QemuOptions::new(iso) }).expect("starting QEMU");
    let mut cpus = 0;
    let answer = wait_for_boot(&mut machine, BOOT_TIMEOUT).and_then(|booted| {
        cpus = booted;
        let lines = [
            "bench ipc 200",
            "bench ipc 50 4096",
            "bench ipc 50 0",
            "bench spawn 100",
            "bench ipc-native 2000",
            "bench wasm",
            "bench path",
            "bench console 20",
            "bench preempt 20 spin",
            "bench preempt 20 bulk",
            "bench preempt 20 log",
            "bench ipc 50 xcore",
            "bench pairs 1 50",
            "bench pairs 2 50",
        ];
        lines.iter().map(|line| ask(&mut machine, line, ANSWER_TIMEOUT)).collect::<Result<Vec<_>, _>>()
    });
    let log = test_dir().join("bench.serial.log");
    let _ = machine.save_log(&log);
    machine.kill();
    let answers = answer.unwrap_or_else(|e| panic!("{e}; see {}", log.display()));
    let [
        answer,
        largest,
        empty,
        spawn,
        native,
        wasm,
        path,
        console,
        preempts @ ..,
        xcore,
        one_pair,
        two_pairs,
    ] = &answers[..]
    else {
        unreachable!("fourteen lines, fourteen answers")
    };
    assert!(console.contains("console: 20 lines") && console.contains("ui_server CPU: "), "{console}");
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let before_prompt = log_text.find(PROMPT).map(|at| log_text[..at].lines().count());
    assert!(
        before_prompt.is_some_and(|lines| lines <= QUIET_BOOT_LINES + manifest_actors()),
        "{before_prompt:?} lines before the first prompt (at most {QUIET_BOOT_LINES} and one per actor); see {}",
        log.display()
    );
    for preempt in preempts {
        let ipc = parse_ipc(preempt).unwrap_or_else(|| panic!("no figures in {preempt:?}"));
        assert!(ipc.trips == 20 && ipc.rt_ns.ordered(), "{preempt}");
        assert!(preempt.contains("ran throughout on CPU 0"), "the hog shares the pair's CPU: {preempt}");
    }
    across_cpus(cpus, xcore, one_pair, two_pairs);
    let ipc = parse_ipc(answer).unwrap_or_else(|| panic!("no figures in {answer:?}"));
    assert_eq!(ipc.trips, 200, "{answer}");
    assert!(ipc.rt_ns.ordered(), "{answer}");
    assert!(answer.contains("cycles:") && answer.contains(" >"), "{answer}");
    assert!(answer.contains("bench_ping on CPU 0 <-> bench_pong on CPU 0"), "{answer}");
    // The largest and the empty payload: bench_ping reports no figures unless every byte of
    // the last echo came back as sent.
    for (answer, size) in [(largest, 4096), (empty, 0)] {
        let ipc = parse_ipc(answer).unwrap_or_else(|| panic!("no figures in {answer:?}"));
        assert_eq!(ipc.trips, 50, "{answer}");
        assert!(ipc.rt_ns.ordered() && answer.contains(&format!("x {size} bytes")), "{answer}");
    }
    let spawned = parse_spawn(spawn).unwrap_or_else(|| panic!("no figures in {spawn:?}"));
    assert_eq!(spawned.actors, 100, "{spawn}");
    // The kernel's lines about the shell's children are rationed: the first 64 come at once,
    // then 10 a second, and a line says how many were left out.
    let log_text = std::fs::read_to_string(&log).expect("reading the serial log");
    let started = log_text.matches("init: started bench_idle.wasm as pid ").count();
    assert!((1..100).contains(&started), "{started} start lines");
    assert!(log_text.contains(" lines about its children left out of the log (more than 64 at once"));
    // Past ten, the round trip is timed with ten alive and with all hundred.
    let rt = spawned.rt_alive.unwrap_or_else(|| panic!("no round trips in {spawn:?}"));
    assert!(rt.few == 10 && rt.few_ns > 0 && rt.all_ns > 0, "{spawn}");
    assert!(spawned.physical_bytes > 0 && spawned.charged_kib > 0, "{spawn}");
    assert!(!spawn.contains("could not be killed"), "{spawn}");
    let native = parse_native(native).unwrap_or_else(|| panic!("no figures in {native:?}"));
    assert!(native.ordered() && native.min > 0, "{native:?}");
    let workloads = parse_kernel(wasm).unwrap_or_else(|| panic!("no figures in {wasm:?}"));
    let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["calls", "integer", "float", "memory_loop", "host_calls"], "{wasm}");
    assert!(workloads.iter().all(|w| w.units > 0 && w.ns > 0), "{wasm}");
    let path = parse_path(path).unwrap_or_else(|| panic!("no figures in {path:?}"));
    assert!(path.host_call_ns > 0 && path.send_try_recv_ns > 0 && path.yield_ns > 0, "{path:?}");
}

/// The answers of `bench ipc 50 xcore`, `bench pairs 1 50` and `bench pairs 2 50` on a guest of
/// `cpus` CPUs: figures where there are CPUs enough, else the reason.
fn across_cpus(cpus: u32, xcore: &str, one_pair: &str, two_pairs: &str) {
    let pairs = parse_pairs(one_pair).unwrap_or_else(|| panic!("no figures in {one_pair:?}"));
    assert!(pairs.pairs == 1 && pairs.trips_each == 50 && pairs.rt_per_s > 0, "{one_pair}");
    assert!(one_pair.contains("pair 0 on CPU 0: "), "{one_pair}");
    if cpus >= 2 {
        let ipc = parse_ipc(xcore).unwrap_or_else(|| panic!("no figures in {xcore:?}"));
        assert!(ipc.trips == 50 && ipc.rt_ns.ordered(), "{xcore}");
        assert!(xcore.contains("bench_ping on CPU 0 <-> bench_pong on CPU 1"), "{xcore}");
        let pairs = parse_pairs(two_pairs).unwrap_or_else(|| panic!("no figures in {two_pairs:?}"));
        assert!(pairs.pairs == 2 && pairs.rt_per_s > 0, "{two_pairs}");
        assert!(two_pairs.contains("pair 1 on CPU 1: "), "{two_pairs}");
    } else {
        assert_eq!(cpus, 1, "the boot line counts the CPUs");
        assert!(xcore.contains("bench ipc: xcore needs two CPUs"), "{xcore}");
        assert!(two_pairs.contains("bench pairs: 2 pairs need two CPUs; this machine has 1"), "{two_pairs}");
    }
}
