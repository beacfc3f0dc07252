//! The MinimalOS host ABI (`docs/ABI.md`) as one crate: every host function (`host`), error
//! codes, rights, limits, buffer layouts and the opcodes of the kernel's services. The kernel
//! (`kernel/src/wasm/abi`) and the SDK (`sdk::sys`) both take them from here, so the two sides
//! cannot drift apart; tests hold `docs/ABI.md` to it.
#![no_std]

mod console_line;
mod device;
mod host;
mod records;
mod start;
mod wasi;

pub use console_line::PartialLine;
pub use device::*;
pub use host::{HOST_FUNCTIONS, HostFunction, ValType, WASI_FUNCTIONS, host_function, import};
pub use records::{CpuRecord, IpcFigures, MemInfo, ProcRecord, WaitEntry};
pub use start::{MAX_START_DIRS, MAX_START_MODULE, MAX_START_SPEC, STDIO_DATA, SpecError, StartEntry};
pub use wasi::WASI_MODULE;

/// The import module every host function lives in.
pub const MODULE: &str = "env";

/// A range lies outside the caller's memory or the object.
pub const E_OUT_OF_BOUNDS: i32 = -1;
/// The handle is negative, closed, or was never given to this actor.
pub const E_INVALID_HANDLE: i32 = -2;
/// The handle names another kind of object than the call needs.
pub const E_WRONG_KIND: i32 = -3;
/// The capability lacks a right, or a derived copy would widen them.
pub const E_NO_RIGHTS: i32 = -4;
/// The endpoint's queue is full; nothing was sent.
pub const E_FULL: i32 = -5;
/// The other side is gone.
pub const E_CLOSED: i32 = -6;
/// The payload or object is larger than the kernel allows.
pub const E_TOO_LARGE: i32 = -7;
/// The kernel is out of memory for this request.
pub const E_NO_MEMORY: i32 = -8;
/// Nothing is queued (non-blocking receive).
pub const E_EMPTY: i32 = -9;
/// The actor's capability table is full.
pub const E_TOO_MANY_HANDLES: i32 = -10;
/// The receive buffer cannot hold the message; it stays queued.
pub const E_BUFFER_TOO_SMALL: i32 = -11;
/// An argument is outside its documented range.
pub const E_INVALID_ARGUMENT: i32 = -12;
/// The named thing does not exist.
pub const E_NOT_FOUND: i32 = -13;
/// A limit the boot manifest sets for this actor would be passed (live children, queue depth).
pub const E_LIMIT: i32 = -14;
/// The capability may not travel in a message: it can receive from an endpoint, and a queue
/// holding it could keep that endpoint alive for ever.
pub const E_NOT_MOVABLE: i32 = -15;
/// The device is another actor's, or the kernel's DMA guard refuses the access: it could aim
/// the device's DMA outside the driver's buffers, or it touches registers the kernel keeps.
pub const E_DENIED: i32 = -16;

/// Every error code with its name, as `docs/ABI.md`'s table lists them.
pub const ERROR_CODES: &[(&str, i32)] = &[
    ("E_OUT_OF_BOUNDS", E_OUT_OF_BOUNDS),
    ("E_INVALID_HANDLE", E_INVALID_HANDLE),
    ("E_WRONG_KIND", E_WRONG_KIND),
    ("E_NO_RIGHTS", E_NO_RIGHTS),
    ("E_FULL", E_FULL),
    ("E_CLOSED", E_CLOSED),
    ("E_TOO_LARGE", E_TOO_LARGE),
    ("E_NO_MEMORY", E_NO_MEMORY),
    ("E_EMPTY", E_EMPTY),
    ("E_TOO_MANY_HANDLES", E_TOO_MANY_HANDLES),
    ("E_BUFFER_TOO_SMALL", E_BUFFER_TOO_SMALL),
    ("E_INVALID_ARGUMENT", E_INVALID_ARGUMENT),
    ("E_NOT_FOUND", E_NOT_FOUND),
    ("E_LIMIT", E_LIMIT),
    ("E_NOT_MOVABLE", E_NOT_MOVABLE),
    ("E_DENIED", E_DENIED),
];

/// Most capabilities a process may hold at once.
pub const MAX_HANDLES: usize = 1024;

/// Right to receive from an endpoint or read memory.
pub const RIGHT_READ: i32 = 1;
/// Right to send to an endpoint or write memory.
pub const RIGHT_WRITE: i32 = 2;
/// Right to move the capability to another actor in a message.
pub const RIGHT_GRANT: i32 = 4;

/// The rights written as letters, as the boot manifest and the shell take them: `r`
/// ([`RIGHT_READ`]), `w` ([`RIGHT_WRITE`]), `g` ([`RIGHT_GRANT`]), in any order; the first
/// other character is the error.
pub fn rights_from_letters(letters: &str) -> Result<i32, char> {
    letters.chars().try_fold(0, |rights, letter| match letter {
        'r' => Ok(rights | RIGHT_READ),
        'w' => Ok(rights | RIGHT_WRITE),
        'g' => Ok(rights | RIGHT_GRANT),
        other => Err(other),
    })
}

/// Rights shown as the letters [`rights_from_letters`] reads (`r`, `w`, `g`, in that order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RightsLetters(pub i32);

impl core::fmt::Display for RightsLetters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (right, letter) in [(RIGHT_READ, "r"), (RIGHT_WRITE, "w"), (RIGHT_GRANT, "g")] {
            if self.0 & right != 0 {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// `cap` argument of `sys_cap_send`, and the header's cap field, when no capability moves.
pub const NO_CAP: i64 = -1;
/// Largest message payload, in bytes.
pub const MAX_PAYLOAD: usize = 4096;
/// Bytes before the payload in a receive buffer: opcode `u32`, length `u32`, cap `i64`.
pub const RECV_HEADER: usize = 16;

/// The header before a message's payload: what a receive writes, and where `sys_cap_call` reads
/// its request from (after the [`CallRoute`]). Little-endian, [`RECV_HEADER`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// The sender's opcode.
    pub opcode: u32,
    /// Payload bytes after the header.
    pub len: u32,
    /// The capability moving with the message, or [`NO_CAP`].
    pub cap: i64,
}

impl MessageHeader {
    /// Its bytes.
    #[inline]
    pub fn to_bytes(self) -> [u8; RECV_HEADER] {
        let [o0, o1, o2, o3] = self.opcode.to_le_bytes();
        let [l0, l1, l2, l3] = self.len.to_le_bytes();
        let [c0, c1, c2, c3, c4, c5, c6, c7] = self.cap.to_le_bytes();
        [o0, o1, o2, o3, l0, l1, l2, l3, c0, c1, c2, c3, c4, c5, c6, c7]
    }

    /// The header these bytes hold.
    #[inline]
    pub fn from_bytes(bytes: &[u8; RECV_HEADER]) -> Self {
        let [o0, o1, o2, o3, l0, l1, l2, l3, c0, c1, c2, c3, c4, c5, c6, c7] = *bytes;
        Self {
            opcode: u32::from_le_bytes([o0, o1, o2, o3]),
            len: u32::from_le_bytes([l0, l1, l2, l3]),
            cap: i64::from_le_bytes([c0, c1, c2, c3, c4, c5, c6, c7]),
        }
    }

    /// The header at the start of `buf`, if it is long enough to hold one.
    #[inline]
    pub fn read(buf: &[u8]) -> Option<Self> {
        buf.first_chunk().map(Self::from_bytes)
    }
}

/// Bytes before the message in a `sys_cap_call` buffer: the [`CallRoute`].
pub const CALL_ROUTE: usize = 16;

/// Where a `sys_cap_call` goes: the first [`CALL_ROUTE`] bytes of its buffer, little-endian.
/// The answer is written after it, so a loop of calls sets it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallRoute {
    /// The endpoint the request is sent on (needs WRITE).
    pub handle: i64,
    /// The endpoint the answer is awaited on (needs READ).
    pub reply: i64,
}

impl CallRoute {
    /// Its bytes.
    #[inline]
    pub fn to_bytes(self) -> [u8; CALL_ROUTE] {
        let [h0, h1, h2, h3, h4, h5, h6, h7] = self.handle.to_le_bytes();
        let [r0, r1, r2, r3, r4, r5, r6, r7] = self.reply.to_le_bytes();
        [h0, h1, h2, h3, h4, h5, h6, h7, r0, r1, r2, r3, r4, r5, r6, r7]
    }

    /// The route these bytes hold.
    #[inline]
    pub fn from_bytes(bytes: &[u8; CALL_ROUTE]) -> Self {
        let [h0, h1, h2, h3, h4, h5, h6, h7, r0, r1, r2, r3, r4, r5, r6, r7] = *bytes;
        Self {
            handle: i64::from_le_bytes([h0, h1, h2, h3, h4, h5, h6, h7]),
            reply: i64::from_le_bytes([r0, r1, r2, r3, r4, r5, r6, r7]),
        }
    }
}

/// Bytes per `sys_cap_wait` entry: handle `i64`, interest `u32`, ready `u32`.
pub const WAIT_ENTRY: usize = 16;
/// Most entries one `sys_cap_wait` takes.
pub const MAX_WAIT_ENTRIES: usize = 64;
/// `sys_cap_wait` deadline meaning "none".
pub const NO_DEADLINE: i64 = -1;
/// Interest and ready bit: a receive would not block.
pub const READABLE: u32 = 1;
/// Interest and ready bit: a send would not return `E_FULL`.
pub const WRITABLE: u32 = 2;
/// Ready bit: the other side is gone.
pub const READY_CLOSED: u32 = 4;
/// Ready bit: the handle is invalid or not an endpoint.
pub const READY_INVALID: u32 = 8;

/// Bytes `sys_fb_format` writes.
pub const FB_FORMAT_LEN: usize = 24;

/// Bytes of one `sys_proc_list` record.
pub const PROC_RECORD: usize = 160;
/// Bytes of a `sys_proc_list` record's name field (the name is cut to fit, zero-padded).
pub const PROC_NAME_LEN: usize = 64;
/// Process state in a `sys_proc_list` record: ready to run.
pub const PROC_READY: u32 = 0;
/// Process state: running.
pub const PROC_RUNNING: u32 = 1;
/// Process state: blocked, waiting for something.
pub const PROC_BLOCKED: u32 = 2;
/// Process state: exited (the record's status field holds its exit status).
pub const PROC_EXITED: u32 = 3;
/// Process state: killed.
pub const PROC_KILLED: u32 = 4;
/// Process state: ended by a trap.
pub const PROC_TRAPPED: u32 = 5;
/// CPU in a `sys_proc_list` record of a process that has no task: not started, or ended.
pub const PROC_NO_CPU: u32 = u32::MAX;
/// Bytes of one `sys_cpu_list` record.
pub const CPU_RECORD: usize = 40;
/// Longest module name `sys_proc_spawn` takes, in bytes.
pub const MAX_SPAWN_NAME: usize = 255;
/// Bytes of kernel log text the kernel keeps for `sys_kernel_log`.
pub const KERNEL_LOG_MAX: usize = 32 * 1024;
/// Bytes `sys_mem_info` writes.
pub const MEM_INFO_LEN: usize = 48;
/// Bytes `sys_bench_ipc_native` writes: five `u64` ns figures.
pub const NATIVE_IPC_LEN: usize = 40;
/// Most round trips `sys_bench_ipc_native` makes.
pub const MAX_NATIVE_TRIPS: i32 = 1_000_000;

/// Opcode of the messages the console service sends to `console.in` (payload: typed bytes).
pub const CONSOLE_INPUT: u32 = 1;
/// Opcode of the messages the log mirror sends (payload: kernel log text): not `1`, so that a
/// display can tell log text from the text its clients write (see [`PartialLine`]).
pub const LOG_TEXT: u32 = 2;
/// Opcode of a request of request/reply (`sdk::Endpoint::call`): a `postcard` payload, and the
/// capability to answer on (opcodes from `0xffff_0000` up belong to request/reply).
pub const REQUEST: u32 = 0xffff_0000;
/// Opcode of the reply to a [`REQUEST`].
pub const REPLY: u32 = 0xffff_0001;
/// Opcode of the answer to a [`REQUEST`] the server could not decode.
pub const REJECTED: u32 = 0xffff_0002;
/// Most capabilities `sys_proc_spawn` moves to a new actor.
pub const MAX_SPAWN_GRANTS: usize = 16;
/// Largest endpoint capacity.
pub const MAX_CAPACITY: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_letters_add_up_and_others_are_named() {
        assert_eq!(rights_from_letters("rw"), Ok(RIGHT_READ | RIGHT_WRITE));
        assert_eq!(rights_from_letters("gwr"), Ok(RIGHT_READ | RIGHT_WRITE | RIGHT_GRANT));
        assert_eq!(rights_from_letters(""), Ok(0));
        assert_eq!(rights_from_letters("rx"), Err('x'));
    }

    #[test]
    fn rights_are_shown_in_the_letters_they_are_read_from() {
        extern crate std;
        use std::string::ToString;
        for letters in ["", "r", "w", "g", "rw", "rg", "wg", "rwg"] {
            let bits = rights_from_letters(letters).unwrap();
            assert_eq!(RightsLetters(bits).to_string(), letters);
        }
    }

    #[test]
    fn a_header_reads_back_as_written() {
        let header = MessageHeader { opcode: 0x0102_0304, len: 4096, cap: NO_CAP };
        let bytes = header.to_bytes();
        assert_eq!(&bytes[..8], &[4, 3, 2, 1, 0, 16, 0, 0]);
        assert_eq!(&bytes[8..], &[0xff; 8]);
        assert_eq!(MessageHeader::from_bytes(&bytes), header);
        assert_eq!(MessageHeader::read(&bytes[..15]), None);
        let mut longer = [0u8; 2 * RECV_HEADER];
        longer[..RECV_HEADER].copy_from_slice(&bytes);
        assert_eq!(MessageHeader::read(&longer), Some(header));
    }

    #[test]
    fn a_call_route_reads_back_as_written() {
        let route = CallRoute { handle: 0x0102, reply: -1 };
        let bytes = route.to_bytes();
        assert_eq!(&bytes[..8], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[8..], &[0xff; 8]);
        assert_eq!(CallRoute::from_bytes(&bytes), route);
    }
}
