//! A WASI program's standard streams. Each may be an endpoint its starter gave it
//! (`StartEntry::Stdin`/`Stdout`/`Stderr`): output goes out as [`STDIO_DATA`] messages, which
//! wait while the endpoint is full, and input arrives as such messages (an empty one, or the
//! last writer gone, is the end of the input). Without one, output goes to the console as the
//! program's lines (`NAME[PID]: text`, as `sys_log` prints them) and input is at its end.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use minimalos_abi::{MAX_PAYLOAD, STDIO_DATA};

use super::fds::Stream;
use super::{Errno, Fail};
use crate::cap::{Capability, Object};
use crate::ipc::{Endpoint, Message, Payload};
use crate::klog;
use crate::proc::Wait;
use crate::wasm::actor::ActorContext;
use crate::wasm::handoff;

/// Longest console line kept back waiting for its end; a longer one is printed as it is.
const CONSOLE_LINE: usize = 1024;

/// The three streams of one program.
pub struct Streams {
    input: Option<Capability>,
    output: Option<Capability>,
    error: Option<Capability>,
    /// Input received and not read yet, from `at` on; `ended` once the input is over.
    pending: RefCell<(Vec<u8>, usize, bool)>,
    /// Console output (standard output, standard error) not yet ended by a line break.
    partial: [RefCell<Vec<u8>>; 2],
    /// `NAME[PID]`, which console lines start with.
    who: String,
}

impl Streams {
    /// Streams over the endpoints given, for the program known as `who`.
    pub fn new(
        input: Option<Capability>,
        output: Option<Capability>,
        error: Option<Capability>,
        who: String,
    ) -> Self {
        Self {
            input,
            output,
            error,
            pending: RefCell::new((Vec::new(), 0, false)),
            partial: [RefCell::new(Vec::new()), RefCell::new(Vec::new())],
            who,
        }
    }

    /// Kernel memory the streams may hold at their fullest.
    pub const fn kernel_bytes() -> u64 {
        (MAX_PAYLOAD + 2 * CONSOLE_LINE) as u64
    }

    /// Writes `bytes` to `stream`, all of them or as many as one message holds; returns how
    /// many were taken.
    pub fn write(&self, ctx: &ActorContext, stream: Stream, bytes: &[u8]) -> Result<usize, Fail> {
        let (sink, console) = match stream {
            Stream::Out => (&self.output, &self.partial[0]),
            Stream::Err => (&self.error, &self.partial[1]),
            Stream::In => return Err(Errno::BADF.into()),
        };
        match sink.as_ref().map(Capability::object) {
            Some(Object::Endpoint(endpoint)) => send(ctx, endpoint, &bytes[..bytes.len().min(MAX_PAYLOAD)]),
            Some(_) => Err(Errno::BADF.into()),
            None => {
                self.to_console(&mut console.borrow_mut(), bytes);
                Ok(bytes.len())
            }
        }
    }

    /// Prints the complete lines of `partial` + `bytes` to the console, keeping the rest.
    fn to_console(&self, partial: &mut Vec<u8>, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            partial.extend_from_slice(&bytes[..end]);
            self.print(partial);
            bytes = &bytes[end + 1..];
        }
        partial.extend_from_slice(bytes);
        if partial.len() >= CONSOLE_LINE {
            self.print(partial);
        }
    }

    fn print(&self, line: &mut Vec<u8>) {
        klog::print(format_args!("{}: {}\n", self.who, String::from_utf8_lossy(line)));
        line.clear();
    }

    /// Up to `most` bytes of input, waiting for some; none at the end of the input.
    pub fn read(&self, ctx: &ActorContext, most: usize) -> Result<Vec<u8>, Fail> {
        loop {
            {
                let mut pending = self.pending.borrow_mut();
                let (bytes, at, ended) = &mut *pending;
                if *at < bytes.len() || *ended {
                    let end = bytes.len().min(*at + most);
                    let taken = bytes[*at..end].to_vec();
                    *at = end;
                    return Ok(taken);
                }
            }
            let Some(Object::Endpoint(endpoint)) = self.input.as_ref().map(Capability::object) else {
                self.pending.borrow_mut().2 = true;
                continue;
            };
            let _blocked = ctx.process.waiting(Wait::Kernel);
            let received = handoff::block_on(ctx, endpoint.recv()).map_err(|_| ctx.ended())?;
            let mut pending = self.pending.borrow_mut();
            match received {
                Ok(message) if message.opcode == STDIO_DATA && !message.payload.is_empty() => {
                    *pending = (message.payload.to_vec(), 0, false);
                }
                Ok(message) if message.opcode == STDIO_DATA => pending.2 = true,
                // Other messages are not input.
                Ok(_) => {}
                Err(_) => pending.2 = true,
            }
        }
    }

    /// The endpoint input arrives on, if any input can still come and none is waiting.
    pub fn input_to_wait_for(&self) -> Option<&Endpoint> {
        let pending = self.pending.borrow();
        let (bytes, at, ended) = &*pending;
        if *at < bytes.len() || *ended {
            return None;
        }
        match self.input.as_ref().map(Capability::object) {
            Some(Object::Endpoint(endpoint)) => Some(endpoint),
            _ => None,
        }
    }
}

impl Drop for Streams {
    /// What the program printed to the console without a final line break is shown too.
    fn drop(&mut self) {
        for partial in &self.partial {
            let mut partial = partial.borrow_mut();
            if !partial.is_empty() {
                self.print(&mut partial);
            }
        }
    }
}

/// Sends `bytes` as one output message on `endpoint`, waiting while it is full.
fn send(ctx: &ActorContext, endpoint: &Endpoint, bytes: &[u8]) -> Result<usize, Fail> {
    let payload = Payload::new(bytes, Some(ctx.process.account())).map_err(Errno::from)?;
    let message = Message { sender: ctx.process.pid(), opcode: STDIO_DATA, payload, cap: None };
    super::send_waiting(ctx, endpoint, message)?.map_err(Errno::from)?;
    Ok(bytes.len())
}
