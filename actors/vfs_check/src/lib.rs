//! `vfs_check.wasm`: checks the file-system server end to end, over IPC, as a client would.
//!
//! Grant 0 is the WRITE side of vfs's request endpoint. Each step below logs `STEP ok (DETAIL)`
//! and the run ends with `all ok`; the first step that goes wrong logs `FAILED STEP: WHY` and
//! ends the actor with status 1. `tests/vfs.rs` reads these lines.
#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;

use protocol::vfs::{Error, Kind, MAX_IO, Metadata, Reply, Request, Response, WriteMode};
use sdk::{Capability, Endpoint, Rights, msg};

/// The file the check creates, writes, reads and removes.
const FILE: &str = "/tmp/a.txt";
/// What it writes there.
const TEXT: &[u8] = b"hello from vfs_check\n";

/// What went wrong in a step.
type Why = String;

#[sdk::main]
async fn main() {
    let vfs = Endpoint::from_grant(0);
    match check(&vfs).await {
        Ok(()) => sdk::log("all ok"),
        Err(failure) => {
            sdk::println!("FAILED {failure}");
            sdk::exit(1);
        }
    }
}

/// Runs every step in order; the first failure, as `STEP: WHY`.
async fn check(vfs: &Endpoint) -> Result<(), String> {
    step("list /", list_root(vfs)).await?;
    step("read /vfs.wasm", read_ramdisk(vfs)).await?;
    step("write /tmp/a.txt", write_file(vfs)).await?;
    step("read /tmp/a.txt", read_back(vfs)).await?;
    step("stat /tmp/a.txt", stat_file(vfs)).await?;
    step("missing file", expect_error(vfs, stat("/no/such/file"), Error::NotFound)).await?;
    let outside = Request::Write { path: "/a.txt".into(), mode: WriteMode::Truncate, data: TEXT.into() };
    step("write outside /tmp", expect_error(vfs, outside, Error::ReadOnly)).await?;
    step("malformed request", malformed(vfs)).await?;
    step("abandoned request", abandoned(vfs)).await?;
    step("remove /tmp/a.txt", remove_file(vfs)).await?;
    Ok(())
}

/// Runs one step and logs its success, or returns its failure.
async fn step(name: &str, run: impl Future<Output = Result<String, Why>>) -> Result<(), String> {
    match run.await {
        Ok(detail) => {
            sdk::println!("{name} ok ({detail})");
            Ok(())
        }
        Err(why) => Err(format!("{name}: {why}")),
    }
}

/// `/` lists the ramdisk's files (this very actor's among them) and `/tmp`.
async fn list_root(vfs: &Endpoint) -> Result<String, Why> {
    let mut names: Vec<String> = Vec::new();
    loop {
        let after = names.last().cloned();
        let (entries, more) = match ask(vfs, &Request::List { path: "/".into(), after }).await? {
            Ok(Reply::Entries { entries, more }) => (entries, more),
            other => return Err(format!("answered {other:?}")),
        };
        names.extend(entries.into_iter().map(|entry| entry.name));
        if !more {
            break;
        }
    }
    for expected in ["tmp", "vfs_check.wasm"] {
        if !names.iter().any(|name| name == expected) {
            return Err(format!("no {expected} among {names:?}"));
        }
    }
    Ok(format!("{} entries", names.len()))
}

/// A ramdisk file reads as what the build put there: vfs.wasm starts with the Wasm magic.
async fn read_ramdisk(vfs: &Endpoint) -> Result<String, Why> {
    match ask(vfs, &Request::Read { path: "/vfs.wasm".into(), offset: 0, len: 4 }).await? {
        Ok(Reply::Data(bytes)) if bytes == b"\0asm" => Ok("wasm magic".into()),
        other => Err(format!("answered {other:?}")),
    }
}

/// `/tmp/a.txt` is created with the text.
async fn write_file(vfs: &Endpoint) -> Result<String, Why> {
    let request = Request::Write { path: FILE.into(), mode: WriteMode::Truncate, data: TEXT.into() };
    match ask(vfs, &request).await? {
        Ok(Reply::Written { size }) if size == TEXT.len() as u64 => Ok(format!("{size} bytes")),
        other => Err(format!("answered {other:?}")),
    }
}

/// The text reads back as written.
async fn read_back(vfs: &Endpoint) -> Result<String, Why> {
    match ask(vfs, &Request::Read { path: FILE.into(), offset: 0, len: MAX_IO }).await? {
        Ok(Reply::Data(bytes)) if bytes == TEXT => Ok(format!("{} bytes, as written", bytes.len())),
        other => Err(format!("answered {other:?}")),
    }
}

/// Stat knows the new file and its size.
async fn stat_file(vfs: &Endpoint) -> Result<String, Why> {
    match ask(vfs, &stat(FILE)).await? {
        Ok(Reply::Stat(Metadata { kind: Kind::File, size, .. })) if size == TEXT.len() as u64 => {
            Ok(format!("file, {size} bytes"))
        }
        other => Err(format!("answered {other:?}")),
    }
}

/// `request` fails with `expected`.
async fn expect_error(vfs: &Endpoint, request: Request, expected: Error) -> Result<String, Why> {
    match ask(vfs, &request).await? {
        Err(error) if error == expected => Ok(format!("{error}")),
        other => Err(format!("answered {other:?}, not {expected:?}")),
    }
}

/// Bytes that are no request get an error reply, and the server goes on.
async fn malformed(vfs: &Endpoint) -> Result<String, Why> {
    let (reply, for_server) = reply_endpoint()?;
    vfs.send(msg::REQUEST, &[0xff; 5], Some(for_server)).await.map_err(|e| format!("cannot send: {e}"))?;
    let answer = reply.recv().await.map_err(|e| format!("no answer: {e}"))?;
    match answer.decode::<Response>() {
        Ok(Err(Error::Malformed)) if answer.opcode == msg::REPLY => Ok(format!("{}", Error::Malformed)),
        other => Err(format!("answered {other:?}")),
    }
}

/// A client that goes away before its answer does not stop the server: the next call is
/// answered.
async fn abandoned(vfs: &Endpoint) -> Result<String, Why> {
    let (reply, for_server) = reply_endpoint()?;
    let payload = msg::encode(&stat("/")).map_err(|e| format!("cannot encode: {e}"))?;
    vfs.send(msg::REQUEST, &payload, Some(for_server)).await.map_err(|e| format!("cannot send: {e}"))?;
    drop(reply);
    match ask(vfs, &stat("/tmp")).await? {
        Ok(Reply::Stat(Metadata { kind: Kind::Dir, .. })) => Ok("the next call is answered".into()),
        other => Err(format!("then answered {other:?}")),
    }
}

/// The file is removed, and then gone.
async fn remove_file(vfs: &Endpoint) -> Result<String, Why> {
    match ask(vfs, &Request::Remove { path: FILE.into() }).await? {
        Ok(Reply::Done) => {}
        other => return Err(format!("answered {other:?}")),
    }
    match ask(vfs, &stat(FILE)).await? {
        Err(Error::NotFound) => Ok("gone".into()),
        other => Err(format!("then stat answered {other:?}")),
    }
}

/// A stat request for `path`.
fn stat(path: &str) -> Request {
    Request::Stat { path: path.into() }
}

/// Sends `request` to vfs and returns its answer; a failed call is a failed step.
async fn ask(vfs: &Endpoint, request: &Request) -> Result<Response, Why> {
    vfs.call(request).await.map_err(|e| format!("no answer from vfs: {e}"))
}

/// A fresh endpoint for one reply, as `Endpoint::call` makes it: this actor keeps the READ
/// side, the server gets the WRITE side.
fn reply_endpoint() -> Result<(Endpoint, Capability), Why> {
    let made = Endpoint::create(1).map_err(|e| format!("cannot create an endpoint: {e}"))?;
    let read = made.derive(Rights::READ).map_err(|e| format!("cannot derive: {e}"))?;
    let write = made.capability(Rights::WRITE | Rights::GRANT).map_err(|e| format!("cannot derive: {e}"))?;
    Ok((read, write))
}
