//! `vfs.wasm`: the file-system server. It serves the boot ramdisk's files read-only under `/`
//! and a writable in-memory `/tmp`, over the protocol of `protocol::vfs` (which says how a
//! client talks to it).
//!
//! Grants, in order: `ramdisk:r` (the archive, read in place), then the READ side of the
//! request endpoint (`vfs.req:r`).
//!
//! - [`path`]: normalising the paths clients send.
//! - [`ustar`]: finding the files of the ramdisk's tar archive.
//! - [`fs`]: the tree and every operation, plain Rust tested on the host.
//! - here: the server loop, which answers one request at a time and never waits on a client,
//!   and reads the wall clock for the file times (`fs` is given the time, so tests choose it).
//!
//! The server keeps no per-client state and replies without blocking, so a client that dies
//! or stops reading cannot wedge it. It ends, with status 0, once no client is left: then the
//! endpoint has no writer, and no new one can appear.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod fs;
mod path;
mod ustar;

use protocol::vfs::{Error, Request, Response, TMP_CAPACITY};
use sdk::{Endpoint, Message, SharedMem, msg};

use crate::fs::Fs;
use crate::ustar::Image;

impl Image for SharedMem {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let offset = u32::try_from(offset).map_err(|_| Error::Io)?;
        self.read(offset, buf).map_err(|_| Error::Io)
    }
}

#[sdk::main]
async fn main() -> Result<(), sdk::Error> {
    let ramdisk = SharedMem::from_grant(0);
    let requests = Endpoint::from_grant(1);
    let size = ramdisk.size().unwrap_or_else(|error| {
        sdk::println!("no ramdisk ({error}): serving /tmp only");
        0
    });
    let scan = ustar::scan(&ramdisk, size);
    if !scan.intact {
        sdk::println!("the ramdisk archive is damaged after {} entries; serving those", scan.entries.len());
    }
    let mut fs = Fs::new(ramdisk, &scan.entries, TMP_CAPACITY, now());
    sdk::println!("serving {} ramdisk entries and /tmp ({} KiB)", scan.entries.len(), TMP_CAPACITY / 1024);
    drop(scan);
    loop {
        match requests.recv().await {
            Ok(message) => serve(&mut fs, message, now()),
            Err(sdk::Error::Closed) => {
                sdk::println!("no clients left");
                return Ok(());
            }
            Err(error) => return Err(error),
        }
    }
}

/// Nanoseconds since 1970-01-01 UTC, the unit of the file times; a clock set before 1970
/// counts as 1970.
fn now() -> u64 {
    u64::try_from(sdk::rt::wall_clock_ns()).unwrap_or(0)
}

/// Answers `message`, which arrived at `now`, through the reply capability it carries. A
/// message without one cannot be answered and is dropped; a reply the client no longer waits
/// for is dropped too.
fn serve<I: Image>(fs: &mut Fs<I>, message: Message, now: u64) {
    let Message { opcode, payload, cap, .. } = message;
    let Some(reply) = cap.map(Endpoint::from) else { return };
    let response = respond(fs, opcode, &payload, now);
    // An encoding failure or a refused send leaves the client with a closed reply endpoint,
    // which its `call` reports; the server goes on either way.
    if let Ok(bytes) = msg::encode(&response) {
        let _ = reply.try_send(msg::REPLY, &bytes, None);
    }
}

/// The response to a message with `opcode` and `payload` that arrived at `now`: `Malformed`
/// unless it is a request.
fn respond<I: Image>(fs: &mut Fs<I>, opcode: u32, payload: &[u8], now: u64) -> Response {
    if opcode != msg::REQUEST {
        return Err(Error::Malformed);
    }
    let request: Request = msg::decode(payload).map_err(|_| Error::Malformed)?;
    fs.handle(request, now)
}

#[cfg(test)]
mod tests {
    use protocol::vfs::{Metadata, Reply, WriteMode};

    use super::*;
    use crate::ustar::tests::archive;

    /// When the file systems below start.
    const START: u64 = 1_000;

    fn fs() -> Fs<Vec<u8>> {
        let image = archive(&[("hello.wasm", b"\0asm")], &[]);
        let scan = ustar::scan(&image, image.len() as u64);
        Fs::new(image, &scan.entries, TMP_CAPACITY, START)
    }

    /// The response to a request message with `payload`, arriving at `START`.
    fn request(fs: &mut Fs<Vec<u8>>, payload: &[u8]) -> Response {
        respond(fs, msg::REQUEST, payload, START)
    }

    #[test]
    fn an_encoded_request_is_carried_out_at_the_time_it_arrived() {
        let mut fs = fs();
        let stat = msg::encode(&Request::Stat { path: "/hello.wasm".into() }).unwrap();
        assert!(matches!(request(&mut fs, &stat), Ok(Reply::Stat(_))));
        let write = Request::Write { path: "/tmp/x".into(), mode: WriteMode::Truncate, data: vec![1] };
        respond(&mut fs, msg::REQUEST, &msg::encode(&write).unwrap(), START + 5).unwrap();
        let stat = msg::encode(&Request::Stat { path: "/tmp/x".into() }).unwrap();
        let answer = respond(&mut fs, msg::REQUEST, &stat, START + 9);
        assert!(
            matches!(answer, Ok(Reply::Stat(Metadata { modified, .. })) if modified == START + 5),
            "{answer:?}"
        );
    }

    #[test]
    fn anything_else_gets_malformed() {
        let mut fs = fs();
        let stat = msg::encode(&Request::Stat { path: "/hello.wasm".into() }).unwrap();
        assert_eq!(respond(&mut fs, 7, &stat, START), Err(Error::Malformed), "not a request");
        assert_eq!(request(&mut fs, &[]), Err(Error::Malformed), "empty");
        assert_eq!(request(&mut fs, &[0xff; 9]), Err(Error::Malformed), "no such variant");
        let mut trailing = stat.clone();
        trailing.push(0);
        assert_eq!(request(&mut fs, &trailing), Err(Error::Malformed), "trailing bytes");
        assert_eq!(request(&mut fs, &stat[..stat.len() - 1]), Err(Error::Malformed), "cut");
        // A path that is not UTF-8.
        let write = Request::Write { path: "/tmp/x".into(), mode: WriteMode::Truncate, data: vec![] };
        let mut bytes = msg::encode(&write).unwrap();
        bytes[3] = 0xff;
        assert_eq!(request(&mut fs, &bytes), Err(Error::Malformed), "not UTF-8");
        // The server still works.
        assert!(request(&mut fs, &stat).is_ok());
    }

    #[test]
    fn random_and_damaged_requests_never_panic() {
        let mut fs = fs();
        // xorshift64: a fixed sequence, so a failure reproduces.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = [
            Request::Read { path: "/hello.wasm".into(), offset: 1, len: 3 },
            Request::Write { path: "/tmp/f".into(), mode: WriteMode::At(2), data: vec![1, 2, 3] },
            Request::Stat { path: "/tmp".into() },
            Request::List { path: "/".into(), after: Some("a".into()) },
            Request::Mkdir { path: "/tmp/d".into() },
            Request::Remove { path: "/tmp/d".into() },
            Request::Rename { from: "/tmp/f".into(), to: "/tmp/d/f".into() },
            Request::Truncate { path: "/tmp/f".into(), size: 9 },
            Request::SetTimes { path: "/tmp/d".into(), accessed: Some(1), modified: None },
        ]
        .map(|request| msg::encode(&request).unwrap());
        for round in 0..20_000 {
            let mut bytes = if round % 2 == 0 {
                let len = next() % 48;
                (0..len).map(|_| next() as u8).collect()
            } else {
                valid[next() as usize % valid.len()].clone()
            };
            for _ in 0..=next() % 3 {
                if let Some(at) = (!bytes.is_empty()).then(|| next() as usize % bytes.len()) {
                    bytes[at] = next() as u8;
                }
            }
            let _ = respond(&mut fs, msg::REQUEST, &bytes, START + round);
        }
        assert!(fs.handle(Request::Stat { path: "/hello.wasm".into() }, START).is_ok());
    }
}
