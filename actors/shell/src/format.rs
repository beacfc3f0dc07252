//! How the shell shows things: the `ps` and `cpus` tables, the `mem` figures, durations and sizes, the
//! `help` list and the tail of the kernel log. Plain functions from values to text; every line
//! they produce ends with `\n`.

use alloc::format;
use alloc::string::{String, ToString};
use core::fmt::Write;

use sdk::{CpuInfo, MemoryInfo, ProcessInfo};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The process table, one row per process, under a header: state and the CPU it is on,
/// counters, then usage against limits (kernel memory charged, Wasm memory, capabilities, live
/// children) and restarts.
pub fn process_table(processes: &[ProcessInfo], long: bool) -> String {
    // Names are never cut: the column is as wide as the longest.
    let name_width = processes.iter().map(|p| p.name.len()).max().unwrap_or(0).max("NAME".len());
    let used_of = |used: u64, limit: u64| match limit {
        0 => size(used),
        limit if long => format!("{}/{}", size(used), size(limit)),
        _ => size(used),
    };
    let (memory_width, count_width) = if long { (19, 9) } else { (9, 4) };
    let mut table = format!(
        "{:>5}  {:<name_width$}  {:<10}  {:>3}  {:>10}  {:>memory_width$}  {:>memory_width$}  {:>count_width$}",
        "PID", "NAME", "STATE", "ON", "CPU", "KERNEL", "WASM", "CAPS"
    );
    if long {
        let _ = write!(table, "  {:>8}  {:>8}  {:>7}  {:>3}", "SENT", "RECEIVED", "KIDS", "RST");
    }
    table.push('\n');
    for p in processes {
        let wasm = match p.linear_memory_limit {
            0 => String::from("-"),
            limit => used_of(p.linear_memory, limit),
        };
        let caps = if long { format!("{}/{}", p.handles, p.handle_limit) } else { p.handles.to_string() };
        let on = p.cpu.map_or_else(|| String::from("-"), |cpu| cpu.to_string());
        // Writing to a String cannot fail.
        let _ = write!(
            table,
            "{:>5}  {:<name_width$}  {:<10}  {on:>3}  {:>10}  {:>memory_width$}  {:>memory_width$}  {:>count_width$}",
            p.pid,
            p.name,
            p.state,
            duration(p.cpu_ns),
            used_of(p.memory_bytes, p.memory_limit),
            wasm,
            caps,
        );
        if long {
            let kids = format!("{}/{}", p.children, p.child_limit);
            let _ = write!(
                table,
                "  {:>8}  {:>8}  {kids:>7}  {:>3}",
                p.messages_sent, p.messages_received, p.restarts
            );
        }
        table.push('\n');
    }
    table
}

/// The CPU table, one row per CPU by index under a header: its APIC id, the tasks whose home
/// it is, the time it was busy and idle (and busy as a share of both), polls and steals.
pub fn cpu_table(cpus: &[CpuInfo]) -> String {
    let mut table = format!(
        "{:>3}  {:>4}  {:>5}  {:>11}  {:>11}  {:>5}  {:>10}  {:>8}\n",
        "CPU", "APIC", "TASKS", "BUSY", "IDLE", "BUSY%", "POLLS", "STEALS"
    );
    for (index, cpu) in cpus.iter().enumerate() {
        let busy = percent(cpu.busy_ns, cpu.busy_ns.saturating_add(cpu.idle_ns));
        // Writing to a String cannot fail.
        let _ = writeln!(
            table,
            "{index:>3}  {:>4}  {:>5}  {:>11}  {:>11}  {busy:>5}  {:>10}  {:>8}",
            cpu.apic_id,
            cpu.tasks,
            duration(cpu.busy_ns),
            duration(cpu.idle_ns),
            cpu.polls,
            cpu.steals,
        );
    }
    table
}

/// The memory figures: physical, kernel heap, and kernel memory charged to actors.
pub fn memory(info: &MemoryInfo) -> String {
    format!(
        "physical memory: {} managed, {} free ({}%)\nkernel heap:     {} used of {} ({}%)\n\
         charged:         {} to actors of {} they may hold ({}%)\n",
        size(info.physical_total),
        size(info.physical_free),
        percent(info.physical_free, info.physical_total),
        size(info.heap_used),
        size(info.heap_size),
        percent(info.heap_used, info.heap_size),
        size(info.charged),
        size(info.charge_capacity),
        percent(info.charged, info.charge_capacity),
    )
}

/// The `uptime` line for `ns` nanoseconds since boot.
/// `net`'s answer: the interface, its address and how it got it, and the figures.
pub fn network(status: &sdk::net::Status) -> String {
    let [a, b, c, d] = status.address;
    let mac = status.mac.map(|byte| format!("{byte:02x}")).join(":");
    let address = match status.addressing {
        0 => "no address yet".into(),
        how => format!("{a}.{b}.{c}.{d}/{} ({})", status.prefix, if how == 1 { "DHCP" } else { "fallback" }),
    };
    format!(
        "eth0  {mac}  {address}\n  frames: {} in, {} out, {} dropped\n  tcp: {} open, {} accepted, {} refused; {} bytes in, {} out\n",
        status.frames_in,
        status.frames_out,
        status.frames_dropped,
        status.connections,
        status.accepted,
        status.refused,
        status.bytes_in,
        status.bytes_out
    )
}

/// `uptime`'s answer.
pub fn uptime(ns: u64) -> String {
    let (ms, s) = ((ns / 1_000_000) % 1000, ns / 1_000_000_000);
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    let time = if h > 0 {
        format!("{h}h {m:02}m {s:02}.{ms:03}s")
    } else if m > 0 {
        format!("{m}m {s:02}.{ms:03}s")
    } else {
        format!("{s}.{ms:03}s")
    };
    format!("up {time} ({ns} ns since boot)\n")
}

/// A short duration: microseconds below a millisecond, then milliseconds, then seconds.
pub fn duration(ns: u64) -> String {
    match ns {
        0..1_000_000 => format!("{} us", ns / 1000),
        1_000_000..1_000_000_000 => format!("{}.{:03} ms", ns / 1_000_000, (ns / 1000) % 1000),
        _ => format!("{}.{:03} s", ns / 1_000_000_000, (ns / 1_000_000) % 1000),
    }
}

/// What `time` adds after the answer of the line it ran.
pub fn took(time: core::time::Duration) -> String {
    format!("time: {}\n", duration(time.as_nanos() as u64))
}

/// A size in bytes, in the largest binary unit that keeps it at least 1 (one decimal above KiB).
pub fn size(bytes: u64) -> String {
    let tenths = |unit: u64| (u128::from(bytes) * 10 / u128::from(unit)) % 10;
    match bytes {
        0..KIB => format!("{bytes} B"),
        KIB..MIB => format!("{} KiB", bytes / KIB),
        MIB..GIB => format!("{}.{} MiB", bytes / MIB, tenths(MIB)),
        _ => format!("{}.{} GiB", bytes / GIB, tenths(GIB)),
    }
}

/// `part` as a whole percentage of `whole` (0 when `whole` is 0).
fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 { 0 } else { (u128::from(part) * 100 / u128::from(whole)) as u64 }
}

/// The command list, usages aligned.
pub fn help(commands: &[(&str, &str)], line_limit: usize) -> String {
    let width = commands.iter().map(|(usage, _)| usage.len()).max().unwrap_or(0);
    let mut text = String::from("commands:\n");
    for (usage, what) in commands {
        let _ = writeln!(text, "  {usage:<width$}  {what}");
    }
    let _ = writeln!(
        text,
        "editing: left/right, Home/End (Ctrl-A/E), backspace and Delete edit; up/down recall earlier \
         lines; Ctrl-C drops the line, Ctrl-L clears the screen; a line holds at most {line_limit} bytes"
    );
    text
}

/// The last `lines` lines of `log`, or all of it; ends with a line break unless empty.
pub fn log_tail(log: &str, lines: Option<usize>) -> String {
    let log = log.trim_end_matches('\n');
    let start = match lines {
        None => 0,
        Some(0) => log.len(),
        Some(n) => log.rmatch_indices('\n').nth(n - 1).map_or(0, |(at, _)| at + 1),
    };
    let mut tail = String::from(&log[start..]);
    if !tail.is_empty() {
        tail.push('\n');
    }
    tail
}

#[cfg(test)]
mod tests {
    use sdk::ProcState;

    use super::*;

    fn process(pid: u64, name: &str, state: ProcState) -> ProcessInfo {
        ProcessInfo {
            pid,
            name: name.into(),
            state,
            cpu: state.is_live().then_some(if pid == 1 { 0 } else { 1 }),
            messages_sent: 3,
            messages_received: 12345,
            cpu_ns: 1_234_567,
            memory_bytes: 5 * KIB,
            memory_limit: if pid == 1 { 0 } else { 56 * MIB },
            handles: 4,
            handle_limit: 1024,
            linear_memory: if pid == 1 { 0 } else { 2 * 64 * KIB },
            linear_memory_limit: if pid == 1 { 0 } else { 16 * MIB },
            children: 0,
            child_limit: 128,
            restarts: if pid == 3 { 2 } else { 0 },
        }
    }

    #[test]
    fn the_process_table_has_a_header_and_aligned_rows() {
        let processes = [
            process(1, "console", ProcState::Blocked),
            process(12, "test/spinner", ProcState::Killed),
            process(3, "hello", ProcState::Exited(0)),
            process(4, "shell", ProcState::Running),
        ];
        let table = process_table(&processes, false);
        let lines: alloc::vec::Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "  PID  NAME          STATE        ON         CPU     KERNEL       WASM  CAPS",
                "    1  console       blocked       0    1.234 ms      5 KiB          -     4",
                "   12  test/spinner  killed        -    1.234 ms      5 KiB    128 KiB     4",
                "    3  hello         exited 0      -    1.234 ms      5 KiB    128 KiB     4",
                "    4  shell         running       1    1.234 ms      5 KiB    128 KiB     4",
            ]
        );
        assert!(table.ends_with('\n'));
        assert!(lines.iter().all(|line| line.len() <= 80), "{table}");
        let long = process_table(&processes, true);
        let lines: alloc::vec::Vec<&str> = long.lines().collect();
        assert_eq!(
            lines,
            [
                "  PID  NAME          STATE        ON         CPU               KERNEL                 WASM       CAPS      SENT  RECEIVED     KIDS  RST",
                "    1  console       blocked       0    1.234 ms                5 KiB                    -     4/1024         3     12345    0/128    0",
                "   12  test/spinner  killed        -    1.234 ms       5 KiB/56.0 MiB     128 KiB/16.0 MiB     4/1024         3     12345    0/128    0",
                "    3  hello         exited 0      -    1.234 ms       5 KiB/56.0 MiB     128 KiB/16.0 MiB     4/1024         3     12345    0/128    2",
                "    4  shell         running       1    1.234 ms       5 KiB/56.0 MiB     128 KiB/16.0 MiB     4/1024         3     12345    0/128    0",
            ]
        );
    }

    #[test]
    fn long_names_widen_the_column_and_are_never_cut() {
        let table = process_table(&[process(7, "a-rather-long-actor-name", ProcState::Ready)], false);
        assert!(
            table
                .lines()
                .nth(1)
                .is_some_and(|row| row.starts_with("    7  a-rather-long-actor-name  ready ")),
            "{table}"
        );
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(0), "0 us");
        assert_eq!(duration(999_999), "999 us");
        assert_eq!(duration(1_000_000), "1.000 ms");
        assert_eq!(duration(12_345_678), "12.345 ms");
        assert_eq!(duration(61_234_000_000), "61.234 s");
        assert_eq!(duration(u64::MAX), "18446744073.709 s");
    }

    #[test]
    fn the_cpu_table_has_a_header_and_aligned_rows() {
        let cpus = [
            CpuInfo { busy_ns: 1_500_000, idle_ns: 4_500_000, polls: 1234, steals: 0, tasks: 9, apic_id: 0 },
            CpuInfo {
                busy_ns: 61_234_000_000,
                idle_ns: 0,
                polls: 9_876_543_210,
                steals: 17,
                tasks: 0,
                apic_id: 12,
            },
            CpuInfo::default(),
        ];
        let table = cpu_table(&cpus);
        let lines: alloc::vec::Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "CPU  APIC  TASKS         BUSY         IDLE  BUSY%       POLLS    STEALS",
                "  0     0      9     1.500 ms     4.500 ms     25        1234         0",
                "  1    12      0     61.234 s         0 us    100  9876543210        17",
                "  2     0      0         0 us         0 us      0           0         0",
            ]
        );
        assert!(table.ends_with('\n') && lines.iter().all(|line| line.len() <= 80), "{table}");
        assert_eq!(cpu_table(&[]), format!("{}\n", lines[0]), "the header alone");
    }

    #[test]
    fn sizes_pick_their_unit() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1 KiB");
        assert_eq!(size(300 * KIB + 1000), "300 KiB");
        assert_eq!(size(MIB + MIB / 2), "1.5 MiB");
        assert_eq!(size(512 * MIB), "512.0 MiB");
        assert_eq!(size(3 * GIB + GIB / 2), "3.5 GiB");
        assert_eq!(size(u64::MAX), "17179869183.9 GiB");
    }

    #[test]
    fn memory_shows_both_pools_with_percentages() {
        let info = MemoryInfo {
            physical_total: 512 * MIB,
            physical_free: 128 * MIB,
            heap_size: 8 * MIB,
            heap_used: 2 * MIB,
            charged: 112 * MIB,
            charge_capacity: 448 * MIB,
        };
        assert_eq!(
            memory(&info),
            "physical memory: 512.0 MiB managed, 128.0 MiB free (25%)\nkernel heap:     2.0 MiB used of 8.0 MiB (25%)\n\
             charged:         112.0 MiB to actors of 448.0 MiB they may hold (25%)\n"
        );
        let empty = MemoryInfo {
            physical_total: 0,
            physical_free: 0,
            heap_size: 0,
            heap_used: 0,
            charged: 0,
            charge_capacity: 0,
        };
        assert!(memory(&empty).contains("0 B managed, 0 B free (0%)"));
    }

    #[test]
    fn uptime_grows_units_as_needed() {
        assert_eq!(uptime(1_234_000_000), "up 1.234s (1234000000 ns since boot)\n");
        assert_eq!(uptime(61_002_000_000), "up 1m 01.002s (61002000000 ns since boot)\n");
        assert_eq!(uptime(3_723_000_000_000), "up 1h 02m 03.000s (3723000000000 ns since boot)\n");
    }

    #[test]
    fn help_aligns_the_descriptions() {
        let text = help(&[("ps", "processes"), ("kill PID", "end one")], 256);
        assert_eq!(
            text,
            "commands:\n  ps        processes\n  kill PID  end one\nediting: left/right, Home/End (Ctrl-A/E), \
             backspace and Delete edit; up/down recall earlier lines; Ctrl-C drops the line, Ctrl-L clears \
             the screen; a line holds at most 256 bytes\n"
        );
    }

    #[test]
    fn the_log_tail_is_whole_lines() {
        let log = "one\ntwo\nthree\n";
        assert_eq!(log_tail(log, None), log);
        assert_eq!(log_tail(log, Some(2)), "two\nthree\n");
        assert_eq!(log_tail(log, Some(3)), log);
        assert_eq!(log_tail(log, Some(99)), log);
        assert_eq!(log_tail(log, Some(0)), "");
        assert_eq!(log_tail("no newline", Some(1)), "no newline\n");
        assert_eq!(log_tail("", None), "");
    }
}
