//! Why a process ended: one enum that `ps`, the log and supervision all read. The process that
//! records it is in `process`.

use alloc::string::String;
use core::fmt;

use super::Pid;

/// Why a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It ended itself with this status (an actor returning from `_start` ends with 0).
    Exited(i32),
    /// Another process ended it, or the kernel (`None`).
    Killed {
        /// Who ended it.
        by: Option<Pid>,
    },
    /// The sandbox stopped it. New kinds of trap go into [`Trap`]; this enum stays as it is.
    Trapped(Trap),
}

/// How the Wasm sandbox stopped a process: the traps of the Wasm specification and the
/// interpreter's limits, plus whatever else the interpreter reports, in its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    /// It executed `unreachable`.
    Unreachable,
    /// It accessed its linear memory out of bounds.
    MemoryOutOfBounds,
    /// An indirect call found no function, or one of another type.
    IndirectCall,
    /// An integer division by zero.
    DivisionByZero,
    /// An integer operation overflowed where Wasm traps on it.
    IntegerOverflow,
    /// A float did not fit the integer it was converted to.
    InvalidConversion,
    /// Its call or value stack overflowed.
    StackOverflow,
    /// The interpreter could not allocate for it.
    OutOfMemory,
    /// The kernel stack its interpreter and host calls run on overflowed; what was on it is
    /// leaked.
    KernelStackOverflow,
    /// Anything else, as the interpreter said it.
    Other(String),
}

impl Exit {
    /// How loudly the log reports it: a trap is an error, a failure status a warning, the rest
    /// (a clean exit, a kill someone asked for) plain information.
    pub fn level(&self) -> log::Level {
        match self {
            Self::Exited(0) | Self::Killed { .. } => log::Level::Info,
            Self::Exited(_) => log::Level::Warn,
            Self::Trapped(_) => log::Level::Error,
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(status) => write!(f, "exited with status {status}"),
            Self::Killed { by: Some(pid) } => write!(f, "killed by process {pid}"),
            Self::Killed { by: None } => write!(f, "killed by the kernel"),
            Self::Trapped(trap) => write!(f, "trapped: {trap}"),
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unreachable => "executed unreachable",
            Self::MemoryOutOfBounds => "memory access out of bounds",
            Self::IndirectCall => "bad indirect call",
            Self::DivisionByZero => "integer division by zero",
            Self::IntegerOverflow => "integer overflow",
            Self::InvalidConversion => "invalid conversion to integer",
            Self::StackOverflow => "stack overflow",
            Self::OutOfMemory => "out of memory",
            Self::KernelStackOverflow => "overflowed its kernel stack (what was on it is leaked)",
            Self::Other(words) => words,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traps_are_errors_failures_warnings_and_the_rest_information() {
        assert_eq!(Exit::Trapped(Trap::Unreachable).level(), log::Level::Error);
        assert_eq!(Exit::Exited(101).level(), log::Level::Warn);
        assert_eq!(Exit::Exited(0).level(), log::Level::Info);
        assert_eq!(Exit::Killed { by: None }.level(), log::Level::Info);
    }
}
