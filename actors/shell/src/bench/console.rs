//! `bench console`: lines like the kernel log's written to the display, each in a message of
//! its own as the shell's output travels, and the time `ui_server` takes to draw them.

use alloc::format;
use alloc::string::String;
use core::mem::ManuallyDrop;

use protocol::ui;
use sdk::rt::Instant;
use sdk::{Endpoint, Pid, Rights, System};

use super::{MAX_CONSOLE_LINES, failed};

/// The display server whose drawing `bench console` times, by its name in the process table.
const DISPLAY_SERVER: &str = "ui_server";

/// Runs `bench console`: writes `lines` lines like the kernel log's to the display, each in a
/// one-way text message of its own as the shell sends its output, then a request, which
/// `ui_server` answers only once everything sent before it is drawn; reports the wall time from
/// the first line to the answer and the CPU time `ui_server` used meanwhile.
pub async fn console(system: &System, lines: u32) -> String {
    match run_console(system, lines).await {
        Ok(text) => text,
        Err(why) => format!("bench console: {why}\n"),
    }
}

async fn run_console(system: &System, lines: u32) -> Result<String, String> {
    if !(1..=MAX_CONSOLE_LINES).contains(&lines) {
        return Err(format!("N must be 1 to {MAX_CONSOLE_LINES}"));
    }
    let display = display().ok_or("no display: the manifest grants this shell no ui.req")?;
    // What was sent to the display before this command is drawn first, and not counted.
    all_drawn(&display).await?;
    let (pid, cpu_before) = server_cpu(system, None)?;
    let start = Instant::now();
    for line in 1..=lines {
        let text = console_line(line, lines);
        let sent = display.send(ui::TEXT, text.as_bytes(), None).await;
        sent.map_err(|error| format!("sending a line: {error}"))?;
    }
    all_drawn(&display).await?;
    let wall_ns = (Instant::now().as_nanos() - start.as_nanos()).max(0) as u64;
    let (_, cpu_after) = server_cpu(system, Some(pid))?;
    let cpu_ns = cpu_after.saturating_sub(cpu_before);
    let per_line_us = |ns: u64| ns / u64::from(lines) / 1000;
    let width = console_line(lines, lines).len() - 1;
    Ok(format!(
        "console: {lines} lines of {width} characters drawn by {DISPLAY_SERVER}, one message each\n  \
         wall: {} ms, {} us per line\n  {DISPLAY_SERVER} CPU: {} ms, {} us per line\n",
        wall_ns / 1_000_000,
        per_line_us(wall_ns),
        cpu_ns / 1_000_000,
        per_line_us(cpu_ns),
    ))
}

/// Waits until `ui_server` has drawn everything sent to `display` so far: it answers a request
/// only once what came before it is on the screen.
async fn all_drawn(display: &Endpoint) -> Result<(), String> {
    let reply: ui::Reply = display.call(&ui::Request::Write("")).await.map_err(failed("the request"))?;
    reply.map_err(|error| format!("{DISPLAY_SERVER} answered {error:?}"))
}

/// Line `n` of `count`, as long as a typical kernel log line, ending in a new line.
fn console_line(n: u32, count: u32) -> String {
    format!("[INFO ] console: line {n:>6} of {count}, the quick brown fox jumps over the dog\n")
}

/// A handle of the shell's own on the display's endpoint, or `None` without one. The grant
/// itself belongs to the terminal, which mirrors the shell's output through it: it is only
/// borrowed here, never closed. Without the grant, its number names no handle, or one this
/// actor closed (it keeps none of its own between commands, and handles are never reused), so
/// the copy fails.
fn display() -> Option<Endpoint> {
    let grant = ManuallyDrop::new(Endpoint::from_grant(crate::UI));
    grant.derive(Rights::WRITE).ok()
}

/// The pid of the live display server and the CPU time it has used, in ns; if `pid` is given,
/// it must still be that process (a restarted server's time starts again from zero).
fn server_cpu(system: &System, pid: Option<Pid>) -> Result<(Pid, u64), String> {
    let processes = system.processes().map_err(failed("the process table"))?;
    let server = processes
        .iter()
        .find(|p| p.name == DISPLAY_SERVER && p.state.is_live())
        .ok_or_else(|| format!("no {DISPLAY_SERVER} is running"))?;
    match pid {
        Some(pid) if pid != server.pid => Err(format!("{DISPLAY_SERVER} was restarted during the run")),
        _ => Ok((server.pid, server.cpu_ns)),
    }
}

#[cfg(test)]
mod tests {
    use sdk::rt::block_on;
    use sdk::sys;

    use super::*;

    #[test]
    fn the_console_bench_needs_a_display_and_writes_log_sized_lines() {
        let kernel = sdk_host::Kernel::start();
        let system = System::from_grant(kernel.grant_system(sys::RIGHT_READ) as u32);
        assert_eq!(block_on(console(&system, 0)), "bench console: N must be 1 to 100000\n");
        assert_eq!(
            block_on(console(&system, 10)),
            "bench console: no display: the manifest grants this shell no ui.req\n"
        );
        for (n, count) in [(1, 1000), (1000, 1000), (99_999, 100_000)] {
            let line = console_line(n, count);
            assert!((60..=80).contains(&line.trim_end().len()) && line.ends_with('\n'), "{line}");
        }
    }
}
