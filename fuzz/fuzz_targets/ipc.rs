//! The capability and IPC core driven by arbitrary operations from two processes: creating,
//! deriving, giving away, sending (with a capability moved along), receiving (at once, or
//! waiting: blocking receives polled now and then, or abandoned), closing and ending. Nothing
//! panics; a process's table never holds more than its limit; a received message carries the
//! bytes that were sent; an ended process can do nothing.
//!
//! Each process has a small kernel memory limit, which endpoints (charged with room for a full
//! queue) and payloads of up to 5000 bytes soon reach: the kernel memory charged to a process
//! never passes its limit, and once both have ended and everything they made is gone, every
//! charge has been given back.
#![no_main]

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use arbitrary::Arbitrary;
use kernel::cap::{Capability, Handle, Rights};
use kernel::error::Error;
use kernel::proc::{Exit, Limits, Process, ProcessTable, Received};
use libfuzzer_sys::fuzz_target;

/// One step; `who` picks the process, handles index the ones it was given (or are raw).
#[derive(Arbitrary, Debug)]
enum Op {
    Create {
        who: bool,
        capacity: u8,
    },
    Derive {
        who: bool,
        handle: u8,
        rights: u8,
    },
    Give {
        from: bool,
        handle: u8,
        rights: u8,
    },
    Send {
        who: bool,
        handle: u8,
        opcode: u32,
        len: u16,
        moved: Option<u8>,
    },
    Receive {
        who: bool,
        handle: u8,
    },
    /// Starts a blocking receive and polls it once.
    Wait {
        who: bool,
        handle: u8,
    },
    /// Polls a waiting receive again.
    Poll {
        who: bool,
        index: u8,
    },
    /// Abandons a waiting receive.
    Abandon {
        who: bool,
        index: u8,
    },
    Close {
        who: bool,
        handle: u8,
    },
    End {
        who: bool,
    },
}

/// A blocking receive in progress.
type Waiting = Pin<Box<dyn Future<Output = Result<Received, Error>>>>;

/// Each process's kernel memory limit: a few endpoints and payloads reach it.
const KMEM: u64 = 48 * 1024;

/// Waiting receives a side keeps at most.
const MAX_WAITING: usize = 4;

/// A process, the handles it has been given, in order, and its receives still waiting.
struct Side {
    process: std::sync::Arc<Process>,
    handles: Vec<Handle>,
    waiting: Vec<Waiting>,
}

impl Side {
    /// Polls waiting receive `index`; keeps what a finished one brought.
    fn poll(&mut self, index: usize) {
        if index >= self.waiting.len() {
            return;
        }
        if let Poll::Ready(received) =
            self.waiting[index].as_mut().poll(&mut Context::from_waker(Waker::noop()))
        {
            drop(self.waiting.remove(index));
            if let Ok(message) = received {
                self.keep(message);
            }
        }
    }

    /// Checks a received message and keeps the handle it brought.
    fn keep(&mut self, message: Received) {
        assert!(message.payload.iter().all(|&b| b == message.opcode as u8), "bytes changed in flight");
        if let Some(Ok(handle)) = message.cap {
            self.handles.push(handle);
        }
    }

    /// Handle `index` of those it holds, or a forged one.
    fn handle(&self, index: u8) -> Handle {
        match self.handles.get(usize::from(index)) {
            Some(&handle) => handle,
            None => Handle::from_raw(i64::from(index) - 8),
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut table = ProcessTable::new();
    let limits = Limits { handles: 8, children: 1, queue: 16, kmem: KMEM };
    let mut sides = [false, true].map(|_| {
        let process = table.create_with("fuzz", limits, None);
        Side { process, handles: Vec::new(), waiting: Vec::new() }
    });
    for op in ops.into_iter().take(256) {
        match op {
            Op::Create { who, capacity } => {
                let side = &mut sides[usize::from(who)];
                let capacity = NonZeroUsize::new(usize::from(capacity % 20)).unwrap_or(NonZeroUsize::MIN);
                let account = Some(side.process.account());
                if let Ok(handle) =
                    Capability::endpoint(capacity, account).and_then(|cap| side.process.insert(cap))
                {
                    side.handles.push(handle);
                }
            }
            Op::Derive { who, handle, rights } => {
                let side = &mut sides[usize::from(who)];
                let Some(rights) = Rights::from_bits(rights) else { continue };
                let derived = side
                    .process
                    .with_caps(|caps| caps.get(side.handle(handle), Rights::empty())?.derive(rights));
                if let Ok(handle) = derived.and_then(|cap| side.process.insert(cap)) {
                    side.handles.push(handle);
                }
            }
            Op::Give { from, handle, rights } => {
                let Some(rights) = Rights::from_bits(rights) else { continue };
                let giver = &sides[usize::from(from)];
                let copy = giver
                    .process
                    .with_caps(|caps| caps.get(giver.handle(handle), Rights::GRANT)?.derive(rights));
                let taker = &mut sides[usize::from(!from)];
                if let Ok(handle) = copy.and_then(|cap| taker.process.insert(cap)) {
                    taker.handles.push(handle);
                }
            }
            Op::Send { who, handle, opcode, len, moved } => {
                let side = &sides[usize::from(who)];
                let payload = vec![opcode as u8; usize::from(len % 5000)];
                let moved = moved.map(|m| side.handle(m));
                let _ = side.process.send(side.handle(handle), opcode, &payload, moved);
            }
            Op::Receive { who, handle } => {
                let side = &mut sides[usize::from(who)];
                if let Ok(message) = side.process.try_recv(side.handle(handle), |_| Ok(())) {
                    side.keep(message);
                }
            }
            Op::Wait { who, handle } => {
                let side = &mut sides[usize::from(who)];
                if side.waiting.len() < MAX_WAITING {
                    let (process, handle) = (std::sync::Arc::clone(&side.process), side.handle(handle));
                    side.waiting.push(Box::pin(async move { process.recv(handle, |_| Ok(())).await }));
                    side.poll(side.waiting.len() - 1);
                }
            }
            Op::Poll { who, index } => sides[usize::from(who)].poll(usize::from(index)),
            Op::Abandon { who, index } => {
                let side = &mut sides[usize::from(who)];
                if usize::from(index) < side.waiting.len() {
                    drop(side.waiting.remove(usize::from(index)));
                }
            }
            Op::Close { who, handle } => {
                let side = &sides[usize::from(who)];
                let _ = side.process.close(side.handle(handle));
            }
            Op::End { who } => {
                let side = &sides[usize::from(who)];
                side.process.end(Exit::Killed { by: None });
                assert_eq!(side.process.info().handles, 0, "an ended process holds nothing");
                assert!(side.process.insert(Capability::system()).is_err(), "an ended process takes nothing");
            }
        }
        for side in &sides {
            assert!(side.process.info().handles <= limits.handles);
            assert!(side.process.account().used() <= KMEM, "a charge passed the limit");
        }
    }
    let accounts = sides.each_ref().map(|side| side.process.account().clone());
    for side in &sides {
        side.process.end(Exit::Killed { by: None });
    }
    drop(sides);
    for account in accounts {
        assert_eq!(account.used(), 0, "every charge is given back once its object is gone");
    }
});
