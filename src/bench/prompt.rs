//! Talking to the shell of a benchmark machine on its serial console: waiting for the boot,
//! asking a line and taking the answer.

use std::thread;
use std::time::{Duration, Instant};

use super::{ANSWER_END, BOOT_COMPLETE, PROMPT};
use crate::qemu::Machine;

/// Waits until the shell's prompt is up and the kernel's last boot line is written in full (with
/// several CPUs the shell may answer while init still logs the actors it starts); returns the
/// CPUs that line counts.
pub fn wait_for_boot(machine: &mut Machine, timeout: Duration) -> Result<u32, String> {
    machine.wait_for(PROMPT, timeout).map_err(|e| e.to_string())?;
    let line = machine.wait_for_line(BOOT_COMPLETE, timeout).map_err(|e| e.to_string())?;
    booted_cpus(&line).ok_or_else(|| format!("no CPU count in the boot line `{line}`"))
}

/// The CPUs the kernel's line `boot complete; N tasks on M CPU(s)` counts.
pub fn booted_cpus(line: &str) -> Option<u32> {
    let rest = line.split(BOOT_COMPLETE).nth(1)?.split(" tasks on ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Types `line` into the shell and returns what it printed before its next prompt.
pub fn ask(machine: &mut Machine, line: &str, timeout: Duration) -> Result<String, String> {
    let before = machine.output();
    let prompts = before.matches(ANSWER_END).count();
    machine.send(&format!("{line}\r")).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    loop {
        let now = machine.output();
        if now.matches(ANSWER_END).count() > prompts {
            let answer = &now[before.len()..];
            let end = answer.rfind(ANSWER_END).map_or(answer.len(), |at| at + 2);
            return Ok(answer[..end].to_owned());
        }
        if Instant::now() >= deadline {
            return Err(format!("no answer to `{line}` within {} s", timeout.as_secs()));
        }
        thread::sleep(Duration::from_millis(50));
    }
}
