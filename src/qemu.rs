//! QEMU: the command line that boots an image under OVMF, and a running machine whose serial
//! console can be read and typed into (what `make run` shows a person, and what tests drive).
//!
//! With [`QemuOptions::qmp`] set, QEMU also serves its machine protocol (QMP) on a Unix socket,
//! through which [`Machine::screendump`] saves what the display shows.
//!
//! TCG is the default accelerator. KVM is only used when asked for (`ACCEL=kvm`): on some hosts
//! `/dev/kvm` opens but guests hang, so it must never be picked implicitly.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::host;

/// QEMU's status when the kernel reports success through `isa-debug-exit` (`0x10 << 1 | 1`).
pub const EXIT_SUCCESS: i32 = 33;
/// QEMU's status when the kernel reports a failure through `isa-debug-exit` (`0x11 << 1 | 1`).
pub const EXIT_FAILURE: i32 = 35;

/// Which accelerator runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accel {
    /// QEMU's software emulator: slower, works everywhere.
    #[default]
    Tcg,
    /// Hardware virtualisation, opt-in.
    Kvm,
    /// TCG counting instructions: the guest clock advances 1 ns per instruction, so timings
    /// read as instruction counts, the same on every run and every host.
    Icount,
}

impl Accel {
    /// Reads `ACCEL` (`tcg`, the default, `kvm` or `icount`).
    pub fn from_env() -> Result<Self, QemuError> {
        match std::env::var("ACCEL").as_deref() {
            Err(_) | Ok("") | Ok("tcg") => Ok(Self::Tcg),
            Ok("kvm") => Ok(Self::Kvm),
            Ok("icount") => Ok(Self::Icount),
            Ok(other) => Err(QemuError::BadAccel(other.to_owned())),
        }
    }

    /// The name the benchmark files use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcg => "tcg",
            Self::Kvm => "kvm",
            Self::Icount => "icount",
        }
    }

    /// QEMU's options for it. TCG runs each guest CPU on a host thread of its own.
    pub fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Self::Tcg => &["-accel", "tcg,thread=multi"],
            Self::Kvm => &["-accel", "kvm"],
            Self::Icount => &["-accel", "tcg", "-icount", "shift=0,sleep=off"],
        }
    }
}

/// How to start a machine.
#[derive(Debug, Clone)]
pub struct QemuOptions {
    /// The image to boot from (a CD-ROM).
    pub iso: PathBuf,
    /// Accelerator.
    pub accel: Accel,
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// A gdb server on `localhost:1234`, and whether the machine waits for it.
    pub gdb: GdbServer,
    /// Show the framebuffer in a window (needs a display); otherwise run headless.
    pub window: bool,
    /// A Unix socket path for QEMU's machine protocol (QMP), which [`Machine::screendump`]
    /// needs; none by default.
    pub qmp: Option<PathBuf>,
    /// Guest CPUs; `None`: as `SMP` says (see [`cpus_from_env`]), else 1.
    pub cpus: Option<u32>,
    /// A virtio network card on QEMU's user-mode network, with `restrict=on`: the guest
    /// reaches nothing outside QEMU, and only a forwarded port reaches the guest. Off unless
    /// asked for: a machine that does not use the network needs none, and one test boot with
    /// the card and 4 vCPUs under multi-threaded TCG stopped delivering serial input (and the
    /// network) for good, which no boot without it has done.
    pub network: bool,
    /// TCP ports of the host's 127.0.0.1 forwarded to the guest's, as (host, guest), with
    /// [`network`](Self::network).
    pub forwards: Vec<(u16, u16)>,
}

/// Most guest CPUs a machine may be given (the kernel's own limit is 64).
pub const MAX_CPUS: u32 = 64;

/// Reads `SMP`, the number of guest CPUs (1 to [`MAX_CPUS`]); `default` when it is unset.
pub fn cpus_from_env(default: u32) -> Result<u32, QemuError> {
    match std::env::var("SMP").as_deref() {
        Err(_) | Ok("") => Ok(default),
        Ok(text) => match text.parse() {
            Ok(n @ 1..=MAX_CPUS) => Ok(n),
            _ => Err(QemuError::BadCpus(text.to_owned())),
        },
    }
}

impl QemuOptions {
    /// The guest CPUs: [`cpus`](Self::cpus), or `SMP`, or 1.
    pub fn resolved_cpus(&self) -> Result<u32, QemuError> {
        self.cpus.map_or_else(|| cpus_from_env(1), Ok)
    }

    /// Headless TCG defaults for `iso`.
    pub fn new(iso: impl Into<PathBuf>) -> Self {
        Self {
            iso: iso.into(),
            accel: Accel::Tcg,
            memory_mib: 512,
            gdb: GdbServer::Off,
            window: false,
            qmp: None,
            cpus: None,
            network: false,
            forwards: Vec::new(),
        }
    }
}

/// Why QEMU could not be started or did not behave.
#[derive(Debug)]
pub enum QemuError {
    /// A host program is missing.
    Tools(host::MissingTools),
    /// `ACCEL` names an accelerator we do not offer.
    BadAccel(String),
    /// `SMP` is not a CPU count we can give.
    BadCpus(String),
    /// Starting QEMU or preparing its files failed.
    Io { what: String, source: io::Error },
    /// The expected text did not appear on the serial console in time.
    Timeout { waiting_for: String, after: Duration },
    /// QEMU ended before the expected text appeared.
    Exited { waiting_for: String, status: ExitStatus },
}

impl fmt::Display for QemuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tools(e) => e.fmt(f),
            Self::BadAccel(a) => {
                write!(f, "ACCEL={a} is not an accelerator we offer: use tcg (default), kvm or icount")
            }
            Self::BadCpus(n) => write!(f, "SMP={n} is not a number of CPUs from 1 to {MAX_CPUS}"),
            Self::Io { what, source } => write!(f, "{what}: {source}"),
            Self::Timeout { waiting_for, after } => {
                write!(f, "`{waiting_for}` did not appear on the serial console within {after:?}")
            }
            Self::Exited { waiting_for, status } => {
                write!(f, "QEMU ended ({status}) before `{waiting_for}` appeared on the serial console")
            }
        }
    }
}

impl std::error::Error for QemuError {}

impl From<host::MissingTools> for QemuError {
    fn from(e: host::MissingTools) -> Self {
        Self::Tools(e)
    }
}

/// QEMU's gdb server (`make debug`, `make profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GdbServer {
    /// None.
    Off,
    /// On `localhost:1234`, the machine paused until gdb continues it.
    Paused,
    /// On `localhost:1234`, the machine running meanwhile.
    Running,
}

/// The QEMU command for `options`, serial console on QEMU's stdio.
///
/// `vars` is this machine's private copy of the OVMF variable store (the firmware writes it).
pub fn command(options: &QemuOptions, vars: &Path) -> Result<Command, QemuError> {
    host::ensure(&[host::QEMU])?;
    let firmware = host::ovmf()?;
    let cpus = options.resolved_cpus()?;
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-machine", "q35", "-cpu", "max", "-smp", &cpus.to_string(), "-no-reboot"])
        .args(options.accel.qemu_args())
        .args(["-m", &format!("{}M", options.memory_mib)])
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,unit=0,readonly=on,file={}", firmware.code.display()));
    if let Some(template) = firmware.vars_template {
        std::fs::copy(template, vars)
            .map_err(|e| QemuError::Io { what: format!("cannot copy {}", template.display()), source: e })?;
        cmd.arg("-drive").arg(format!("if=pflash,format=raw,unit=1,file={}", vars.display()));
    }
    cmd.arg("-drive").arg(format!("file={},media=cdrom,format=raw,readonly=on", options.iso.display()));
    if options.network {
        let mut netdev = String::from("user,id=net0,restrict=on");
        for (host, guest) in &options.forwards {
            netdev += &format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}");
        }
        cmd.args(["-netdev", &netdev, "-device", "virtio-net-pci,netdev=net0"]);
    }
    // Lets the kernel end a run with a status (see kernel/src/arch/qemu.rs).
    cmd.args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]);
    if !options.window {
        cmd.args(["-display", "none"]);
    }
    match options.gdb {
        GdbServer::Off => {}
        GdbServer::Paused => {
            cmd.args(["-s", "-S"]);
        }
        GdbServer::Running => {
            cmd.arg("-s");
        }
    }
    if let Some(socket) = &options.qmp {
        // QEMU replaces a stale socket file; `wait=off` boots without waiting for a client.
        cmd.arg("-qmp").arg(format!("unix:{},server=on,wait=off", socket.display()));
    }
    Ok(cmd)
}

/// A fresh path for a machine's OVMF variable store under `build/qemu/`.
pub fn vars_path() -> Result<PathBuf, QemuError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = crate::artifacts::repo_root().join("build/qemu");
    std::fs::create_dir_all(&dir)
        .map_err(|e| QemuError::Io { what: format!("cannot create {}", dir.display()), source: e })?;
    Ok(dir.join(format!("ovmf-vars-{}-{}.fd", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))))
}

/// Serial output gathered so far, and a signal for new bytes or the end of the stream.
#[derive(Default)]
struct Console {
    text: Mutex<(String, bool)>,
    changed: Condvar,
}

/// A running QEMU whose serial console is captured.
pub struct Machine {
    child: Child,
    stdin: Option<ChildStdin>,
    console: Arc<Console>,
    vars: PathBuf,
    qmp: Option<PathBuf>,
}

/// A port of the host's 127.0.0.1 free now, for a forward (QEMU takes it right after).
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// The kernel's line at the end of its boot.
const BOOT_COMPLETE: &str = "boot complete; ";
/// Longest wait for it in [`Machine::boot`]: a UEFI boot under TCG on a loaded host.
const BOOT_WAIT: Duration = Duration::from_secs(180);

impl Machine {
    /// Boots `options` headless, capturing the serial console, and waits until the kernel says
    /// its boot is complete (or QEMU ends, or [`BOOT_WAIT`] passes: the caller sees which).
    ///
    /// QEMU 7.2 under multi-threaded TCG with several vCPUs now and then dies by a signal
    /// (SIGSEGV) right after the kernel's banner: an emulator crash, which no guest can cause
    /// on purpose (a guest ends QEMU only through its exit device, with a status). Such a boot
    /// is tried once more, and stderr says so.
    pub fn boot(options: &QemuOptions) -> Result<Self, QemuError> {
        let mut machine = Self::start(options)?;
        let booted =
            machine.wait_until(BOOT_COMPLETE, BOOT_WAIT, |text| text.contains(BOOT_COMPLETE).then_some(()));
        match booted {
            Err(QemuError::Exited { status, .. }) if status.signal().is_some() => {
                eprintln!(
                    "qemu: QEMU died ({status}) before the kernel's boot was complete; booting again, once"
                );
                machine.kill();
                Self::start(options)
            }
            _ => Ok(machine),
        }
    }

    /// Starts QEMU for `options`, capturing the serial console.
    fn start(options: &QemuOptions) -> Result<Self, QemuError> {
        let vars = vars_path()?;
        let mut cmd = command(options, &vars)?;
        cmd.args(["-serial", "stdio"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .map_err(|e| QemuError::Io { what: "cannot start qemu-system-x86_64".into(), source: e })?;
        let mut stdout = child.stdout.take().expect("stdout was piped");
        let console = Arc::new(Console::default());
        let sink = Arc::clone(&console);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = stdout.read(&mut buf).unwrap_or(0);
                let mut text = sink.text.lock().unwrap_or_else(|p| p.into_inner());
                if n == 0 {
                    text.1 = true;
                } else {
                    text.0.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
                sink.changed.notify_all();
                if n == 0 {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Self { child, stdin, console, vars, qmp: options.qmp.clone() })
    }

    /// Everything the serial console printed so far.
    pub fn output(&self) -> String {
        self.console.text.lock().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    /// Waits until the console output contains `needle`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<(), QemuError> {
        self.wait_until(needle, timeout, |text| text.contains(needle).then_some(()))
    }

    /// Waits until a whole line (ended by a newline) contains `needle`, and returns that line.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> Result<String, QemuError> {
        self.wait_until(needle, timeout, |text| {
            let at = text.find(needle)?;
            let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = at + text[at..].find('\n')?;
            Some(text[start..end].trim_end_matches('\r').to_owned())
        })
    }

    /// Waits until `check` finds what it looks for in the console output; `what` names it in
    /// errors.
    fn wait_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&str) -> Option<T>,
    ) -> Result<T, QemuError> {
        let deadline = Instant::now() + timeout;
        let mut text = self.console.text.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(found) = check(&text.0) {
                return Ok(found);
            }
            if text.1 {
                drop(text);
                let status = self
                    .child
                    .wait()
                    .map_err(|e| QemuError::Io { what: "cannot wait for QEMU".into(), source: e })?;
                return Err(QemuError::Exited { waiting_for: what.into(), status });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(QemuError::Timeout { waiting_for: what.into(), after: timeout });
            }
            text =
                self.console.changed.wait_timeout(text, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Types `text` on the serial console.
    pub fn send(&mut self, text: &str) -> Result<(), QemuError> {
        let stdin = self.stdin.as_mut().ok_or_else(|| QemuError::Io {
            what: "serial input".into(),
            source: io::Error::new(io::ErrorKind::BrokenPipe, "closed"),
        })?;
        stdin
            .write_all(text.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| QemuError::Io { what: "cannot type on the serial console".into(), source: e })
    }

    /// Waits for QEMU to end on its own, killing it after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus, QemuError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                Ok(None) => {
                    self.kill();
                    return Err(QemuError::Timeout { waiting_for: "QEMU to exit".into(), after: timeout });
                }
                Err(e) => return Err(QemuError::Io { what: "cannot wait for QEMU".into(), source: e }),
            }
        }
    }

    /// Writes the console output to `path` (tests keep it under `build/` for a post-mortem).
    pub fn save_log(&self, path: &Path) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.output())
    }

    /// Saves what the display shows to `path` as a PPM image (QMP `screendump`), returning once
    /// QEMU has written it; needs [`QemuOptions::qmp`].
    pub fn screendump(&self, path: &Path) -> Result<(), QemuError> {
        let what = format!("cannot save the screen to {}", path.display());
        let Some(socket) = &self.qmp else {
            let source = io::Error::new(io::ErrorKind::NotConnected, "QemuOptions::qmp is not set");
            return Err(QemuError::Io { what, source });
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| QemuError::Io { what: what.clone(), source })?;
        }
        let mut qmp = Qmp::connect(socket).map_err(|source| QemuError::Io { what: what.clone(), source })?;
        let file = path.display().to_string().replace('\\', "\\\\").replace('"', "\\\"");
        qmp.execute(&format!(r#"{{"execute": "screendump", "arguments": {{"filename": "{file}"}}}}"#))
            .map_err(|source| QemuError::Io { what, source })
    }

    /// Stops QEMU now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.vars);
        if let Some(socket) = &self.qmp {
            let _ = std::fs::remove_file(socket);
        }
    }
}

/// Longest wait for one QMP answer.
const QMP_TIMEOUT: Duration = Duration::from_secs(30);

/// A QMP connection: one JSON object per line each way.
struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects to QEMU's QMP socket and negotiates capabilities, after which QEMU takes commands.
    fn connect(socket: &Path) -> io::Result<Qmp> {
        let writer = UnixStream::connect(socket)?;
        writer.set_read_timeout(Some(QMP_TIMEOUT))?;
        let mut qmp = Qmp { reader: BufReader::new(writer.try_clone()?), writer };
        qmp.answer()?;
        qmp.execute(r#"{"execute": "qmp_capabilities"}"#)?;
        Ok(qmp)
    }

    /// Sends `command` and waits for its answer; QEMU's error message becomes an error.
    fn execute(&mut self, command: &str) -> io::Result<()> {
        writeln!(self.writer, "{command}")?;
        let answer = self.answer()?;
        if !answer.starts_with(r#"{"return""#) {
            return Err(io::Error::other(answer.trim().to_owned()));
        }
        Ok(())
    }

    /// The next greeting, return or error line, skipping asynchronous events.
    fn answer(&mut self) -> io::Result<String> {
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "QEMU closed the connection"));
            }
            if [r#"{"QMP""#, r#"{"return""#, r#"{"error""#].iter().any(|start| line.starts_with(start)) {
                return Ok(line);
            }
        }
    }
}
