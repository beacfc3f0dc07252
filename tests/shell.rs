//! Boots the default image (the system manifest, `actors/boot.manifest`) in QEMU and uses the
//! shell on the serial console the way a person would: waits for the prompt, types a line and
//! `\r`, and reads what comes back up to the next prompt.
//!
//! One boot serves every check: the lines are typed once, in the order of `session::drive`, and
//! each check reads the answer to its own line; at the end a screenshot shows whether the
//! display mirrored the session. The serial log and the screenshot (PPM) are saved as
//! `build/test/shell.serial.log` and `build/test/shell.screen.ppm`.

mod common;
// Beside this file, not in `tests/`, where Cargo would build it as a test of its own.
#[path = "shell/session.rs"]
mod session;

use minimalos::screen::Image;

use common::{screen, test_dir};
use session::{MAX_LINE, NOTE, WATCH_FOOTER, answer, number, ps_row, transcript};

/// How the kernel's banner starts.
const BANNER_START: &str = concat!("MinimalOS ", env!("CARGO_PKG_VERSION"), " |");

/// `ui_server`'s character cell height in pixels (`actors/ui_server`).
const CELL_HEIGHT: usize = 16;

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
        // Killed, or, on another CPU, ended on its own first because its peer was killed.
        for row in rows {
            let state = row.split_whitespace().nth(2);
            assert!(matches!(state, Some("killed" | "exited")), "{table}");
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
    let unknown = "run: unknown option --foo (the options are --dir, --env, --grant and --cpu)\r\n";
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
    assert!(manifest.contains("\r\nactor shell restart children=16384 grant=console.in:r "), "{manifest}");
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
