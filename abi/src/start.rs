//! What `sys_proc_start` starts: a program and everything it is given, as a list of entries
//! ([`StartEntry`]) the SDK encodes and the kernel decodes with this one code.
//!
//! Each entry is a tag byte, a little-endian `u32` length, then that many bytes: a name or
//! string as UTF-8 (arguments and environment strings as bytes), a handle as a little-endian
//! `i64`, a directory as a flag byte, the host path's length as a `u16`, the host path, then the
//! guest path.

/// Most bytes a start spec may take.
pub const MAX_START_SPEC: usize = 64 * 1024;
/// Largest module `sys_proc_start` reads from a vfs path.
pub const MAX_START_MODULE: usize = 16 * 1024 * 1024;
/// Most directories one program may be given.
pub const MAX_START_DIRS: usize = 16;

/// One thing a started program is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartEntry<'a> {
    /// The module to run: a file name in the ramdisk, as `sys_proc_spawn` takes it, or an
    /// absolute vfs path (at most [`MAX_START_MODULE`] bytes), read through the
    /// [`StartEntry::Files`] endpoint. Exactly once.
    Program(&'a str),
    /// The next argument after the program's name (WASI `args_get`).
    Arg(&'a [u8]),
    /// An environment string, `NAME=VALUE` (WASI `environ_get`).
    Env(&'a [u8]),
    /// A capability moved into the program's table, at handles 0, 1, 2… in order (needs GRANT).
    Grant(i64),
    /// The vfs endpoint its WASI file calls go through (needs WRITE); the kernel holds it for
    /// the program, outside its table. Needed by [`StartEntry::Dir`].
    Files(i64),
    /// A directory of the vfs preopened for WASI: `host` (a vfs path) seen as `guest`, read-only
    /// unless `writable`.
    Dir { writable: bool, host: &'a str, guest: &'a str },
    /// The endpoint WASI's standard input is read from (needs READ).
    Stdin(i64),
    /// The endpoint WASI's standard output is written to (needs WRITE).
    Stdout(i64),
    /// The endpoint WASI's standard error is written to (needs WRITE).
    Stderr(i64),
    /// The CPU (an index below the number of CPUs) the program runs on, for good: no other CPU
    /// takes it, even when idle. Without it, the least-loaded CPU, which may change.
    Cpu(u32),
}

/// Opcode of the messages on standard input, output and error endpoints: the payload is the
/// bytes read or written (an empty one on standard input means end of file).
pub const STDIO_DATA: u32 = 3;

const PROGRAM: u8 = 1;
const ARG: u8 = 2;
const ENV: u8 = 3;
const GRANT: u8 = 4;
const FILES: u8 = 5;
const DIR: u8 = 6;
const STDIN: u8 = 7;
const STDOUT: u8 = 8;
const STDERR: u8 = 9;
const CPU: u8 = 10;
const WRITABLE: u8 = 1;

/// Why a start spec does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecError {
    /// An entry runs past the end, or its body is not what its tag needs.
    Malformed,
    /// A name or path is not UTF-8.
    NotUtf8,
    /// An unknown tag.
    UnknownTag(u8),
}

impl core::fmt::Display for SpecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed => f.write_str("a start spec entry is cut short or malformed"),
            Self::NotUtf8 => f.write_str("a name or path in the start spec is not UTF-8"),
            Self::UnknownTag(tag) => write!(f, "unknown start spec entry {tag}"),
        }
    }
}

impl StartEntry<'_> {
    /// Hands its bytes to `out`, in pieces.
    pub fn encode(&self, mut out: impl FnMut(&[u8])) {
        let mut entry = |tag: u8, parts: &[&[u8]]| {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            out(&[tag]);
            out(&(len as u32).to_le_bytes());
            for part in parts {
                out(part);
            }
        };
        match *self {
            Self::Program(name) => entry(PROGRAM, &[name.as_bytes()]),
            Self::Arg(arg) => entry(ARG, &[arg]),
            Self::Env(var) => entry(ENV, &[var]),
            Self::Grant(h) => entry(GRANT, &[&h.to_le_bytes()]),
            Self::Files(h) => entry(FILES, &[&h.to_le_bytes()]),
            Self::Stdin(h) => entry(STDIN, &[&h.to_le_bytes()]),
            Self::Stdout(h) => entry(STDOUT, &[&h.to_le_bytes()]),
            Self::Stderr(h) => entry(STDERR, &[&h.to_le_bytes()]),
            Self::Cpu(cpu) => entry(CPU, &[&cpu.to_le_bytes()]),
            Self::Dir { writable, host, guest } => {
                let flags = if writable { WRITABLE } else { 0 };
                let host_len = (host.len().min(u16::MAX as usize) as u16).to_le_bytes();
                entry(DIR, &[&[flags], &host_len, host.as_bytes(), guest.as_bytes()])
            }
        }
    }

    /// The entries of `spec`, in order; the first that does not decode ends them with its error.
    pub fn decode(spec: &[u8]) -> impl Iterator<Item = Result<StartEntry<'_>, SpecError>> {
        let mut rest = spec;
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let decoded = split(rest).and_then(|(tag, body, after)| {
                rest = after;
                parse(tag, body)
            });
            if decoded.is_err() {
                rest = &[];
            }
            Some(decoded)
        })
    }
}

/// The first entry's tag and body, and what follows it.
fn split(bytes: &[u8]) -> Result<(u8, &[u8], &[u8]), SpecError> {
    let (&tag, rest) = bytes.split_first().ok_or(SpecError::Malformed)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or(SpecError::Malformed)?;
    let len = u32::from_le_bytes(*len) as usize;
    (len <= rest.len()).then(|| (tag, &rest[..len], &rest[len..])).ok_or(SpecError::Malformed)
}

fn parse(tag: u8, body: &[u8]) -> Result<StartEntry<'_>, SpecError> {
    let text = |bytes| core::str::from_utf8(bytes).map_err(|_| SpecError::NotUtf8);
    let handle = || body.try_into().map(i64::from_le_bytes).map_err(|_| SpecError::Malformed);
    Ok(match tag {
        PROGRAM => StartEntry::Program(text(body)?),
        ARG => StartEntry::Arg(body),
        ENV => StartEntry::Env(body),
        GRANT => StartEntry::Grant(handle()?),
        FILES => StartEntry::Files(handle()?),
        STDIN => StartEntry::Stdin(handle()?),
        STDOUT => StartEntry::Stdout(handle()?),
        STDERR => StartEntry::Stderr(handle()?),
        CPU => StartEntry::Cpu(body.try_into().map(u32::from_le_bytes).map_err(|_| SpecError::Malformed)?),
        DIR => {
            let (&flags, rest) = body.split_first().ok_or(SpecError::Malformed)?;
            let (host_len, rest) = rest.split_first_chunk::<2>().ok_or(SpecError::Malformed)?;
            let host_len = u16::from_le_bytes(*host_len) as usize;
            if flags & !WRITABLE != 0 || host_len > rest.len() {
                return Err(SpecError::Malformed);
            }
            let (host, guest) = rest.split_at(host_len);
            StartEntry::Dir { writable: flags & WRITABLE != 0, host: text(host)?, guest: text(guest)? }
        }
        other => return Err(SpecError::UnknownTag(other)),
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn encoded(entries: &[StartEntry<'_>]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in entries {
            entry.encode(|part| bytes.extend_from_slice(part));
        }
        bytes
    }

    #[test]
    fn every_entry_reads_back_as_written() {
        let entries = [
            StartEntry::Program("wasi_check.wasm"),
            StartEntry::Arg(b"--stdin"),
            StartEntry::Arg(b""),
            StartEntry::Env(b"HOME=/tmp"),
            StartEntry::Grant(7),
            StartEntry::Files(-2),
            StartEntry::Dir { writable: true, host: "/tmp/data", guest: "/data" },
            StartEntry::Dir { writable: false, host: "/", guest: "/" },
            StartEntry::Stdin(1),
            StartEntry::Stdout(2),
            StartEntry::Stderr(3),
            StartEntry::Cpu(2),
        ];
        let bytes = encoded(&entries);
        let back: Result<Vec<_>, _> = StartEntry::decode(&bytes).collect();
        assert_eq!(back.unwrap(), entries);
    }

    #[test]
    fn cut_or_bad_entries_end_the_list_with_their_error() {
        let bytes = encoded(&[StartEntry::Program("a.wasm"), StartEntry::Grant(1)]);
        // Cut between the two, it is a shorter list.
        let first = encoded(&[StartEntry::Program("a.wasm")]).len();
        for cut in (1..bytes.len()).filter(|&cut| cut != first) {
            let decoded: Vec<_> = StartEntry::decode(&bytes[..cut]).collect();
            assert!(decoded.last().is_some_and(Result::is_err), "cut at {cut}: {decoded:?}");
        }
        let unknown = [42, 0, 0, 0, 0, 1, 1, 0, 0, 0, b'x'];
        assert_eq!(StartEntry::decode(&unknown).collect::<Vec<_>>(), [Err(SpecError::UnknownTag(42))]);
        let short_handle = [GRANT, 4, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(StartEntry::decode(&short_handle).next(), Some(Err(SpecError::Malformed)));
        let not_utf8 = [PROGRAM, 1, 0, 0, 0, 0xff];
        assert_eq!(StartEntry::decode(&not_utf8).next(), Some(Err(SpecError::NotUtf8)));
        let host_too_long = [DIR, 4, 0, 0, 0, 0, 9, 0, b'/'];
        assert_eq!(StartEntry::decode(&host_too_long).next(), Some(Err(SpecError::Malformed)));
    }
}
