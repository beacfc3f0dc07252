//! [`Program`]: what [`System::start`](crate::System::start) starts: a module and its
//! arguments, environment, directories, standard streams, capabilities and CPU, encoded as the
//! ABI's start spec (`minimalos_abi::StartEntry`).
//!
//! ```ignore
//! let program = Program::new("wasi_hello.wasm")
//!     .arg("world")
//!     .env("HOME", "/tmp")
//!     .files(vfs.capability(Rights::WRITE | Rights::GRANT)?)
//!     .dir("/tmp", "/tmp", true)
//!     .stdout(output.capability(Rights::WRITE | Rights::GRANT)?);
//! let pid = system.start(program)?;
//! ```

use alloc::vec::Vec;

use crate::Capability;
use crate::sys::StartEntry;

/// A program to start, built up entry by entry; every capability it holds moves to the new
/// process when it starts (and comes back in the error when it does not).
#[derive(Debug)]
pub struct Program {
    spec: Vec<u8>,
    moved: Vec<Capability>,
}

impl Program {
    /// The ramdisk module `file` (say `wasi_hello.wasm`), with nothing given yet.
    pub fn new(file: &str) -> Program {
        Program { spec: Vec::new(), moved: Vec::new() }.with(StartEntry::Program(file))
    }

    /// Adds the next argument (WASI programs see the file name as argument 0).
    pub fn arg(self, arg: impl AsRef<[u8]>) -> Program {
        self.with(StartEntry::Arg(arg.as_ref()))
    }

    /// Adds the environment variable `name=value`.
    pub fn env(self, name: &str, value: &str) -> Program {
        let var = [name.as_bytes(), b"=", value.as_bytes()].concat();
        self.with(StartEntry::Env(&var))
    }

    /// Moves `cap` (which needs GRANT) into the program's table, after those moved before.
    pub fn grant(self, cap: Capability) -> Program {
        self.moving(cap, StartEntry::Grant)
    }

    /// Gives the program the vfs endpoint `vfs` (WRITE and GRANT) for its WASI file calls,
    /// which reach only the directories [`dir`](Self::dir) names.
    pub fn files(self, vfs: Capability) -> Program {
        self.moving(vfs, StartEntry::Files)
    }

    /// Preopens the vfs directory `host` as `guest` for WASI, read-only unless `writable`.
    pub fn dir(self, host: &str, guest: &str, writable: bool) -> Program {
        self.with(StartEntry::Dir { writable, host, guest })
    }

    /// Standard input: the endpoint (READ and GRANT) lines arrive on.
    pub fn stdin(self, cap: Capability) -> Program {
        self.moving(cap, StartEntry::Stdin)
    }

    /// Standard output: the endpoint (WRITE and GRANT) its bytes go to.
    pub fn stdout(self, cap: Capability) -> Program {
        self.moving(cap, StartEntry::Stdout)
    }

    /// Standard error: the endpoint (WRITE and GRANT) its bytes go to.
    pub fn stderr(self, cap: Capability) -> Program {
        self.moving(cap, StartEntry::Stderr)
    }

    /// Runs the program on CPU `cpu` and keeps it there (the kernel refuses a CPU it does not
    /// have); without it, the program goes to the least-loaded CPU and may move.
    pub fn cpu(self, cpu: u32) -> Program {
        self.with(StartEntry::Cpu(cpu))
    }

    fn with(mut self, entry: StartEntry<'_>) -> Program {
        entry.encode(|part| self.spec.extend_from_slice(part));
        self
    }

    fn moving(mut self, cap: Capability, entry: fn(i64) -> StartEntry<'static>) -> Program {
        let handle = cap.raw();
        self.moved.push(cap);
        self.with(entry(handle))
    }

    /// The encoded spec and the capabilities it moves.
    pub(crate) fn into_parts(self) -> (Vec<u8>, Vec<Capability>) {
        (self.spec, self.moved)
    }
}
