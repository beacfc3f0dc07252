//! [`Shell`]: carries out a command line through the `system` capability (and the vfs, for the
//! file commands) and returns what to print. Every failure, the kernel's included, becomes a
//! line of text: nothing a line says can end the shell.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use sdk::net::Network;
use sdk::rt::Instant;
use sdk::{Endpoint, Error, Pid, System};

use crate::command::{self, Bench, Command, HELP, PsView, Run};
use crate::endpoints::{self, Endpoints};
use crate::files::{Files, NO_VFS};
use crate::start::{self, Stdio};
use crate::{MAX_LINE, bench, foreground, format, outcome};

/// What the shell acts through, and the processes it must not kill.
#[derive(Debug)]
pub struct Shell {
    system: System,
    /// The vfs, when the manifest grants it.
    files: Option<Files>,
    /// This shell's pid.
    me: Option<Pid>,
    /// The console service's pid (the sender of typed input): killing it would leave the shell
    /// without a terminal.
    console: Option<Pid>,
    /// The endpoints `endpoint` made, which `run` grants.
    endpoints: RefCell<Endpoints>,
    /// The network stack, when the manifest grants it.
    network: Option<Network>,
}

impl Shell {
    /// A shell acting through `system` and `files`, which knows itself as pid `me`.
    pub const fn new(system: System, files: Option<Files>, me: Option<Pid>) -> Shell {
        Shell { system, files, me, console: None, endpoints: RefCell::new(Endpoints::new()), network: None }
    }

    /// Gives the shell the network stack, for `net`.
    pub fn set_network(&mut self, network: Network) {
        self.network = Some(network);
    }

    /// Notes the pid input comes from, so that `kill` spares it.
    pub fn set_console(&mut self, pid: Pid) {
        self.console = Some(pid);
    }

    /// The `system` capability it acts through.
    pub fn system(&self) -> &System {
        &self.system
    }

    /// Carries out `line`; returns the text to print (empty, or whole lines).
    pub async fn execute(&self, line: &str) -> String {
        let command = match command::parse(line) {
            Ok(command) => command,
            Err(error) => return format!("{error}\n"),
        };
        match command {
            Command::Nothing => String::new(),
            Command::Help => format::help(HELP, MAX_LINE),
            Command::Echo(text) => format!("{text}\n"),
            Command::Ps(view) => {
                let long = view == PsView::Long;
                self.system.processes().map_or_else(failed("ps"), |list| format::process_table(&list, long))
            }
            Command::Cpus => self.system.cpus().map_or_else(failed("cpus"), |cpus| format::cpu_table(&cpus)),
            Command::Mem => self.system.memory().map_or_else(failed("mem"), |info| format::memory(&info)),
            Command::Uptime => format::uptime(Instant::now().as_nanos().max(0) as u64),
            Command::Net => match &self.network {
                Some(network) => {
                    network.status().await.map_or_else(|e| format!("net: {e}\n"), |s| format::network(&s))
                }
                None => "net: no network stack (the manifest grants this shell no net.sock)\n".into(),
            },
            Command::Kill(pid) => self.kill(pid),
            Command::Run(run) if run.background => self.background(&run),
            Command::Run(run) => {
                // Without a console: its output is collected, its input is at its end.
                let mut shown = String::new();
                let end = foreground::run(self, &run, None, &mut shown).await;
                shown + &end.unwrap_or_default()
            }
            Command::Wait(pid) => outcome::wait(&self.system, pid, self.me).await,
            Command::Time(timed) => {
                let start = Instant::now();
                let answer = Box::pin(self.execute(timed)).await;
                answer + &format::took(start.elapsed())
            }
            Command::Endpoint(name, capacity) => self.endpoints.borrow_mut().create(name, capacity),
            Command::Eps => {
                let processes = self.system.processes().unwrap_or_default();
                self.endpoints.borrow().list(&processes)
            }
            Command::Dmesg(lines) => {
                self.system.kernel_log().map_or_else(failed("dmesg"), |log| format::log_tail(&log, lines))
            }
            Command::Ls(path) => self.with_files(|files| files.list(path.unwrap_or("/"))).await,
            Command::Cat(path) => self.with_files(|files| files.cat(path)).await,
            Command::Write(path, text) => self.with_files(|files| files.write(path, text)).await,
            Command::Mkdir(path) => self.with_files(|files| files.mkdir(path)).await,
            Command::Rm(path, recursive) => self.with_files(|files| files.remove(path, recursive)).await,
            Command::Mv(from, to) => self.with_files(|files| files.rename(from, to)).await,
            Command::Cp(from, to, recursive) => {
                self.with_files(|files| files.copy(from, to, recursive)).await
            }
            Command::Bench(Bench::Ipc(ipc)) => bench::ipc(&self.system, ipc).await,
            Command::Bench(Bench::IpcNative(trips)) => bench::native(&self.system, trips),
            Command::Bench(Bench::Pairs(pairs, trips)) => bench::pairs(&self.system, pairs, trips).await,
            Command::Bench(Bench::Spawn(count)) => bench::spawn(&self.system, count).await,
            Command::Bench(Bench::Preempt(trips, hog, samples)) => {
                bench::preempt(&self.system, trips, hog, samples).await
            }
            Command::Bench(Bench::Wasm) => bench::wasm(&self.system).await,
            Command::Bench(Bench::Path) => bench::path(&self.system).await,
            Command::Bench(Bench::Console(lines)) => bench::console(&self.system, lines).await,
        }
    }

    /// What `command` answers, or [`NO_VFS`] without a vfs.
    async fn with_files<'a, F>(&'a self, command: impl FnOnce(&'a Files) -> F) -> String
    where
        F: Future<Output = String>,
    {
        match &self.files {
            Some(files) => command(files).await,
            None => NO_VFS.into(),
        }
    }

    fn kill(&self, pid: Pid) -> String {
        if self.me == Some(pid) {
            return format!("kill: {pid} is this shell\n");
        }
        if self.console == Some(pid) {
            return format!("kill: {pid} is the console service this shell reads and writes through\n");
        }
        // Looked up first: once killed, the name is all the person can check the pid against.
        let name = self
            .system
            .processes()
            .ok()
            .and_then(|all| all.into_iter().find(|p| p.pid == pid))
            .map(|p| p.name);
        match (self.system.kill(pid), name) {
            (Ok(()), Some(name)) => format!("killed {name} (pid {pid})\n"),
            (Ok(()), None) => format!("killed pid {pid}\n"),
            (Err(Error::NotFound), _) => format!("kill: no live process has pid {pid}\n"),
            (Err(error), _) => format!("kill: {error}\n"),
        }
    }

    /// `run ... &`: starts the program and says what it holds; its output goes to the console.
    fn background(&self, run: &Run<'_>) -> String {
        let name = run.program;
        match self.start(run, None) {
            Ok(pid) if run.grants.is_empty() => format!(
                "started {name} as pid {pid}, holding no capabilities (--grant ENDPOINT:RIGHTS gives it some)\n"
            ),
            Ok(pid) => {
                let given: Vec<String> = (run.grants.iter().enumerate())
                    .map(|(handle, (endpoint, rights))| {
                        format!("{handle} = {endpoint} ({})", endpoints::letters(*rights))
                    })
                    .collect();
                format!("started {name} as pid {pid}, holding handles {}\n", given.join(", "))
            }
            Err(why) => why,
        }
    }

    /// Starts what `run` asks for, with `stdio` when the shell shows its streams; returns its
    /// pid, or the line saying why nothing started.
    pub fn start(&self, run: &Run<'_>, stdio: Option<Stdio>) -> Result<Pid, String> {
        let mut endpoints = self.endpoints.borrow_mut();
        let grants = run.grants.iter().map(|&(endpoint, rights)| endpoints.grant(endpoint, rights));
        let grants = grants.collect::<Result<Vec<_>, String>>().map_err(|why| format!("run: {why}\n"))?;
        let program = start::program(run, self.files.as_ref(), grants, stdio)?;
        let pid = self.system.start(program).map_err(|error| format!("run: {error}\n"))?;
        for &(endpoint, rights) in &run.grants {
            endpoints.granted(endpoint, pid, rights);
        }
        Ok(pid)
    }
}

/// This actor's pid, learnt from the sender field of a message it sends itself (the ABI has no
/// call for it).
pub fn own_pid() -> Option<Pid> {
    let mirror = Endpoint::create(1).ok()?;
    mirror.try_send(0, &[], None).ok()?;
    mirror.try_recv().ok().map(|message| message.sender)
}

/// The line reporting that `what` failed with a kernel error.
fn failed(what: &'static str) -> impl FnOnce(Error) -> String {
    move |error| format!("{what}: {error}\n")
}

#[cfg(test)]
mod tests {
    use sdk::rt::block_on;
    use sdk::sys;
    use sdk_host::{BROKEN, HELLO, Kernel, SPINNER};

    use super::*;

    /// What `shell` answers to `line`.
    fn run(shell: &Shell, line: &str) -> String {
        block_on(shell.execute(line))
    }

    /// A shell on a fresh kernel with `hello.wasm`, `spinner.wasm` (runs until killed) and a
    /// module the kernel refuses, after the kernel printed a banner.
    fn shell() -> (Kernel, Shell) {
        let kernel = Kernel::start();
        kernel.add_module("hello.wasm", HELLO);
        kernel.add_module("spinner.wasm", SPINNER);
        kernel.add_module("bad.wasm", BROKEN);
        kernel.print("MinimalOS 0.1.0 | banner\n[INFO ] boot complete\n");
        let handle = kernel.grant_system(sys::RIGHT_READ | sys::RIGHT_WRITE) as u32;
        let shell = Shell::new(System::from_grant(handle), None, own_pid());
        (kernel, shell)
    }

    /// What `run ... &` answers when it started `name` as `pid` with no grants.
    fn started(name: &str, pid: Pid) -> String {
        format!(
            "started {name} as pid {pid}, holding no capabilities (--grant ENDPOINT:RIGHTS gives it some)\n"
        )
    }

    #[test]
    fn endpoints_made_at_the_shell_are_granted_by_run_and_listed_with_their_holders() {
        let (kernel, shell) = shell();
        kernel.add_module("sender.wasm", SENDER);
        assert_eq!(run(&shell, "eps"), "no endpoints yet: `endpoint NAME` makes one\n");
        assert_eq!(
            run(&shell, "endpoint box capacity=4"),
            "endpoint box: 4 messages; grant it with run --grant box:RIGHTS PROG\n"
        );
        assert_eq!(run(&shell, "endpoint box"), "endpoint: box exists already (eps lists them)\n");
        assert!(run(&shell, "endpoint b/x").starts_with("endpoint: a name is 1 to 32 letters"));
        run(&shell, "endpoint log");
        let handles = kernel.open_handles();
        let pid = kernel.pid() + 1;
        assert_eq!(
            run(&shell, "run --grant box:w --grant log:rw sender &"),
            format!("started sender as pid {pid}, holding handles 0 = box (w), 1 = log (rw)\n")
        );
        assert_eq!(
            kernel.open_handles(),
            handles,
            "the grants were derived and moved; the shell keeps its own"
        );
        assert_eq!(
            run(&shell, "run --grant nobox:w sender &"),
            "run: no endpoint named nobox (make one with `endpoint nobox`)\n"
        );
        let list = run(&shell, "eps");
        let rows: Vec<&str> = list.lines().collect();
        assert_eq!(rows.len(), 3, "{list}");
        assert!(rows[0].starts_with("ENDPOINT ") && rows[0].ends_with("MESSAGES  GRANTED TO"), "{list}");
        let holder = |rights| [format!("{pid} sender ({rights})"), format!("{pid} ended ({rights})")];
        assert!(
            rows[1].starts_with("box ") && holder("w").iter().any(|h| rows[1].ends_with(h.as_str())),
            "{list}"
        );
        assert!(
            rows[2].starts_with("log ") && holder("rw").iter().any(|h| rows[2].ends_with(h.as_str())),
            "{list}"
        );
        // The sender's send on its grant worked: it exited 0, not with an error code. Each
        // host call lets the kernel run the other actors meanwhile.
        let state = (0..100).find_map(|_| {
            state_of(&run(&shell, "ps"), pid, "sender").filter(|state| state.starts_with("exited"))
        });
        assert_eq!(state.as_deref(), Some("exited 0"));
    }

    /// Sends four bytes on handle 0 and exits with what the send returned.
    const SENDER: &str = r#"(module
        (import "env" "sys_cap_send" (func $send (param i64 i32 i32 i32 i64) (result i32)))
        (import "env" "sys_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start")
            (call $exit (call $send (i64.const 0) (i32.const 7) (i32.const 0) (i32.const 4) (i64.const -1)))))"#;

    /// The state `ps` shows for process `pid`, if its row names it `name`.
    fn state_of(table: &str, pid: Pid, name: &str) -> Option<String> {
        table.lines().find_map(|row| {
            let rest = row.trim_start().strip_prefix(&format!("{pid}  "))?.trim_start();
            let rest = rest.strip_prefix(name)?.strip_prefix("  ")?.trim_start();
            // The state's words, up to the gap before the CPU it is on.
            rest.split("  ").next().map(String::from)
        })
    }

    #[test]
    fn the_shell_learns_its_own_pid() {
        let kernel = Kernel::start();
        assert_eq!(own_pid(), Some(kernel.pid()));
    }

    #[test]
    fn simple_commands() {
        let (_kernel, shell) = shell();
        assert_eq!(run(&shell, ""), "");
        assert_eq!(run(&shell, "echo hi there"), "hi there\n");
        assert_eq!(run(&shell, "bogus"), "unknown command: bogus (try help)\n");
        assert_eq!(run(&shell, "kill"), "usage: kill PID\n");
        let timed = run(&shell, "time echo timed");
        assert!(timed.starts_with("timed\ntime: ") && timed.ends_with("s\n"), "{timed}");
        let help = run(&shell, "help");
        for (usage, _) in HELP {
            assert!(help.contains(usage), "{usage} missing from help");
        }

        let before = Instant::now().as_nanos();
        let uptime = run(&shell, "uptime");
        let after = Instant::now().as_nanos();
        let ns: u64 = uptime
            .strip_suffix(" ns since boot)\n")
            .and_then(|rest| rest.rsplit_once(" ("))
            .and_then(|(_, ns)| ns.parse().ok())
            .unwrap_or_else(|| panic!("no ns figure in {uptime:?}"));
        assert!(before as u64 <= ns && ns <= after as u64, "{before} <= {ns} <= {after}");
        assert_eq!(uptime, format::uptime(ns), "the clock's reading, formatted");

        let cpus = run(&shell, "cpus");
        let rows: alloc::vec::Vec<&str> = cpus.lines().collect();
        assert_eq!(rows.len(), 2, "the header and the host kernel's one CPU: {cpus}");
        assert!(rows[0].starts_with("CPU  APIC  TASKS") && rows[1].starts_with("  0     0  "), "{cpus}");

        let mem = run(&shell, "mem");
        let lines: alloc::vec::Vec<&str> = mem.lines().collect();
        assert_eq!(lines.len(), 3, "{mem}");
        assert!(lines[0].starts_with("physical memory: ") && lines[0].contains(" managed, "), "{mem}");
        assert!(lines[1].starts_with("kernel heap:     ") && lines[1].contains(" used of "), "{mem}");
        assert!(lines[2].starts_with("charged:         ") && lines[2].contains(" to actors of "), "{mem}");
        assert!(lines.iter().all(|line| line.ends_with("%)")) && mem.ends_with('\n'), "{mem}");
    }

    #[test]
    fn run_starts_a_module_and_ps_lists_it() {
        let (kernel, shell) = shell();
        // Pids come from one counter, and the hosted actor was the last process created.
        let (first, second) = (kernel.pid() + 1, kernel.pid() + 2);
        assert_eq!(run(&shell, "run hello &"), started("hello", first));
        assert_eq!(run(&shell, "run spinner.wasm &"), started("spinner.wasm", second));
        let table = run(&shell, "ps");
        assert!(table.starts_with("  PID  NAME"), "{table}");
        assert_eq!(table.lines().count(), 4, "the header, the actor and the two started: {table}");
        assert_eq!(state_of(&table, kernel.pid(), sdk_host::NAME).as_deref(), Some("running"), "{table}");
        // `hello` logs a line and ends, most likely before `ps` asks; it must not have failed.
        let state = state_of(&table, first, "hello");
        assert!(matches!(state.as_deref(), Some("exited 0" | "ready")), "{table}");
        // The spinner computes for ever; the shell holds the one CPU while `ps` runs.
        assert_eq!(state_of(&table, second, "spinner").as_deref(), Some("ready"), "{table}");
    }

    #[test]
    fn run_reports_the_kernels_reason() {
        let (_kernel, shell) = shell();
        assert_eq!(run(&shell, "run nothing"), "run: no file `nothing.wasm` in the ramdisk\n");
        assert_eq!(run(&shell, "run bad"), "run: `bad.wasm` imports unknown function `env.nope`\n");
        let long = "x".repeat(252);
        assert_eq!(run(&shell, &format!("run {long}")), "run: the file name is longer than 255 bytes\n");
        assert_eq!(run(&shell, "run nothing &"), "run: no file `nothing.wasm` in the ramdisk\n");
        assert_eq!(
            run(&shell, "run --dir /tmp hello"),
            "run: --dir needs the vfs, which this shell is not granted\n"
        );
        assert_eq!(run(&shell, "ps").lines().count(), 2, "nothing was started");
    }

    #[test]
    fn run_in_the_foreground_waits_for_the_end_and_says_how_it_ended() {
        let (kernel, shell) = shell();
        let pid = kernel.pid() + 1;
        assert_eq!(run(&shell, "run hello"), "hello exited with status 0\n");
        assert_eq!(state_of(&run(&shell, "ps"), pid, "hello").as_deref(), Some("exited 0"));
        // Its log line is on the console, not in the answer: an SDK actor has no output stream.
        let log = run(&shell, "dmesg");
        assert!(log.contains(&format!("hello[{pid}]: hello")), "{log}");
        assert_eq!(
            run(&shell, "run hello.wasm a b"),
            "hello exited with status 0\n",
            "named as the kernel does"
        );
    }

    #[test]
    fn wait_says_how_a_background_process_ended() {
        let (kernel, shell) = shell();
        let (hello, spinner) = (kernel.pid() + 1, kernel.pid() + 2);
        assert_eq!(run(&shell, "run hello &"), started("hello", hello));
        assert_eq!(run(&shell, &format!("wait {hello}")), "hello exited with status 0\n");
        assert_eq!(run(&shell, &format!("wait {hello}")), "hello exited with status 0\n", "and again");
        assert_eq!(run(&shell, "run spinner &"), started("spinner", spinner));
        run(&shell, &format!("kill {spinner}"));
        assert_eq!(run(&shell, &format!("wait {spinner}")), "spinner was killed\n");
        let me = kernel.pid();
        assert_eq!(run(&shell, &format!("wait {me}")), format!("wait: {me} is this shell\n"));
        assert_eq!(run(&shell, "wait 999"), "wait: no process has pid 999 (ps lists them)\n");
    }

    #[test]
    fn kill_ends_a_process_by_pid_and_spares_the_shell_and_its_console() {
        let (kernel, mut shell) = shell();
        let spinner = kernel.pid() + 1;
        assert_eq!(run(&shell, "run spinner &"), started("spinner", spinner));
        assert_eq!(state_of(&run(&shell, "ps"), spinner, "spinner").as_deref(), Some("ready"));
        assert_eq!(run(&shell, &format!("kill {spinner}")), format!("killed spinner (pid {spinner})\n"));
        assert_eq!(state_of(&run(&shell, "ps"), spinner, "spinner").as_deref(), Some("killed"));
        let again = run(&shell, &format!("kill {spinner}"));
        assert_eq!(again, format!("kill: no live process has pid {spinner}\n"));
        let never = kernel.pid() + 77;
        assert_eq!(run(&shell, &format!("kill {never}")), format!("kill: no live process has pid {never}\n"));
        let me = kernel.pid();
        assert_eq!(run(&shell, &format!("kill {me}")), format!("kill: {me} is this shell\n"));
        let console = kernel.pid() + 40;
        shell.set_console(console);
        let refused = run(&shell, &format!("kill {console}"));
        assert!(refused.starts_with(&format!("kill: {console} is the console service")), "{refused}");
    }

    #[test]
    fn dmesg_prints_the_kernel_log_or_its_tail() {
        let (_kernel, shell) = shell();
        let log = run(&shell, "dmesg");
        assert!(log.ends_with("MinimalOS 0.1.0 | banner\n[INFO ] boot complete\n"), "{log}");
        assert_eq!(run(&shell, "dmesg 1"), "[INFO ] boot complete\n");
        assert_eq!(run(&shell, "dmesg 2"), "MinimalOS 0.1.0 | banner\n[INFO ] boot complete\n");
    }

    #[test]
    fn file_commands_need_the_vfs() {
        let (_kernel, shell) = shell();
        for line in ["ls", "ls /", "cat notes", "write notes hello"] {
            assert_eq!(run(&shell, line), NO_VFS, "{line}");
        }
        assert_eq!(run(&shell, "cat"), "usage: cat FILE\n");
    }

    #[test]
    fn kernel_errors_become_messages() {
        let kernel = Kernel::start();
        kernel.add_module("hello.wasm", HELLO);
        let reader = kernel.grant_system(sys::RIGHT_READ) as u32;
        let shell = Shell::new(System::from_grant(reader), None, None);
        assert_eq!(run(&shell, "run hello"), "run: missing rights\n");
        assert_eq!(run(&shell, &format!("kill {}", kernel.pid())), "kill: missing rights\n");
        let nothing = Shell::new(System::from_grant(reader + 1), None, None);
        for (line, what) in [("ps", "ps"), ("cpus", "cpus"), ("mem", "mem"), ("dmesg", "dmesg")] {
            assert_eq!(run(&nothing, line), format!("{what}: invalid handle\n"));
        }
    }
}
