//! `httpd.wasm`: the web server, on port 80 through the network stack (grant 0, `net.sock`).
//! `GET /` is a live status page (uptime, CPUs, memory, the network, the process table, from
//! the `system` object, grant 2); `GET` and `HEAD` of any other path serve that file of the vfs
//! (grant 1); `PUT /tmp/NAME` stores the body there, so a program can be sent into a running
//! system (`curl -T prog.wasm http://127.0.0.1:8080/tmp/prog.wasm`, then `run /tmp/prog.wasm`).
//!
//! HTTP/1.1 with keep-alive and `Content-Length` (no chunked coding). Bad input gets its
//! status and the connection closes: 400 malformed, 404 no such file, 405 another method, 413
//! a head over 8 KiB or a body over [`MAX_UPLOAD`], 501 a transfer coding. A client gets
//! [`HEAD_PATIENCE`] to send a head and [`BODY_PATIENCE`] between pieces of a body before the
//! connection is closed; at most [`BACKLOG`] connections are open at once (the stack refuses
//! more).
#![no_std]

extern crate alloc;

mod files;
mod page;
pub mod request;

use alloc::format;
use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use sdk::net::{NetError, Network, TcpStream};
use sdk::rt::{spawn, with_timeout};
use sdk::{Endpoint, System};

use request::{Head, Method, Refusal};

/// The HTTP port.
const PORT: u16 = 80;
/// Connections open at once.
const BACKLOG: u16 = 64;
/// Largest upload, in bytes.
pub const MAX_UPLOAD: u64 = 4 * 1024 * 1024;
/// How long a client may take to send a request head (the first, or the next on a kept-alive
/// connection).
const HEAD_PATIENCE: Duration = Duration::from_secs(10);
/// How long a client may pause within a body.
const BODY_PATIENCE: Duration = Duration::from_secs(10);

/// What every connection's task uses.
struct Services {
    vfs: Endpoint,
    system: System,
    network: Network,
}

/// A response: status, content type, body.
pub struct Response {
    status: (u16, &'static str),
    content_type: &'static str,
    body: Body,
}

/// A response's body.
pub enum Body {
    /// Made in memory.
    Bytes(Vec<u8>),
    /// A file of the vfs of `size` bytes, sent a piece at a time as it is read (so a big file
    /// costs no more memory than a small one).
    File { path: String, size: u64 },
}

impl Response {
    /// A plain-text response.
    fn text(status: (u16, &'static str), text: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Body::Bytes(format!("{text}\n").into_bytes()),
        }
    }
}

#[sdk::main]
async fn main() -> Result<(), NetError> {
    let services = Rc::new(Services {
        network: Network::from_grant(0),
        vfs: Endpoint::from_grant(1),
        system: System::from_grant(2),
    });
    let listener = services.network.listen(PORT, BACKLOG).await?;
    loop {
        let (stream, _peer) = listener.accept().await?;
        let services = Rc::clone(&services);
        spawn(async move { serve(stream, &services).await });
    }
}

/// Answers the requests of one connection until it closes, errs, or stalls.
async fn serve(mut stream: TcpStream, services: &Services) {
    let mut buf = Vec::new();
    loop {
        let head = match with_timeout(HEAD_PATIENCE, read_head(&mut stream, &mut buf)).await {
            Ok(Ok(Some(head))) => head,
            Ok(Err(refusal)) => {
                let (code, reason) = refusal.status();
                let text = match refusal {
                    Refusal::BadRequest(why) => why,
                    Refusal::TooLarge => "the request head is over 8 KiB",
                    _ => reason,
                };
                let _ =
                    respond(&mut stream, &Response::text((code, reason), text), false, false, &services.vfs)
                        .await;
                return;
            }
            // The client closed, the connection broke, or the client stalled.
            _ => return,
        };
        let keep_alive = head.keep_alive;
        let response = match answer(&head, &mut stream, &mut buf, services).await {
            Ok(response) => response,
            Err(()) => return,
        };
        let close = !keep_alive || response.status.0 >= 400 && head.content_length > 0;
        if respond(&mut stream, &response, head.method == Method::Head, !close, &services.vfs).await.is_err()
            || close
        {
            return;
        }
    }
}

/// Reads until `buf` holds a whole head; parses it and takes it off `buf`. `None` if the
/// client closed first.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Head>, Refusal> {
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = request::head_end(buf)? {
            let head = request::parse(&buf[..end]);
            buf.drain(..end);
            return head.map(Some);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What to answer `head`; its body (if any) is read from `buf` and then `stream`. `Err` when
/// the connection is to close without an answer.
async fn answer(
    head: &Head,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    services: &Services,
) -> Result<Response, ()> {
    match head.method {
        Method::Put if head.content_length > MAX_UPLOAD => Ok(Response::text(
            (413, "Content Too Large"),
            &format!("uploads are limited to {MAX_UPLOAD} bytes"),
        )),
        Method::Put => files::upload(head, stream, buf, &services.vfs).await,
        _ if head.content_length > 0 => Ok(Response::text((400, "Bad Request"), "only PUT takes a body")),
        Method::Get | Method::Head if head.path == "/" => Ok(page::status(services).await),
        Method::Get | Method::Head => Ok(files::download(&head.path, &services.vfs).await),
        Method::Other => Ok(Response::text((405, "Method Not Allowed"), "GET, HEAD and PUT only")),
    }
}

/// Sends `response` (its body unless `head_only`); a file's pieces are read from `vfs` as
/// they go. `Err` when the connection broke, or the file shrank while it was sent (the
/// connection must close: the length was promised).
async fn respond(
    stream: &mut TcpStream,
    response: &Response,
    head_only: bool,
    keep_alive: bool,
    vfs: &Endpoint,
) -> Result<(), ()> {
    let (code, reason) = response.status;
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let length = match &response.body {
        Body::Bytes(bytes) => bytes.len() as u64,
        Body::File { size, .. } => *size,
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nServer: MinimalOS httpd\r\nContent-Type: {}\r\nContent-Length: {length}\r\nConnection: {connection}\r\n\r\n",
        response.content_type,
    );
    let mut out = head.into_bytes();
    match &response.body {
        _ if head_only => {}
        // A small answer goes in one message (and one segment).
        Body::Bytes(bytes) if out.len() + bytes.len() <= sdk::net::wire::MAX_CHUNK => {
            out.extend_from_slice(bytes)
        }
        Body::Bytes(bytes) => {
            stream.write_all(&out).await.map_err(drop)?;
            return stream.write_all(bytes).await.map_err(drop);
        }
        Body::File { path, size } => {
            stream.write_all(&out).await.map_err(drop)?;
            let mut sent = 0;
            while sent < *size {
                let piece = files::piece(vfs, path, sent).await.ok_or(())?;
                let take = piece.len().min((*size - sent) as usize);
                stream.write_all(&piece[..take]).await.map_err(drop)?;
                sent += take as u64;
            }
            return Ok(());
        }
    }
    stream.write_all(&out).await.map_err(drop)
}

/// Reads `len` body bytes into `out` (those already in `buf` first), waiting at most
/// [`BODY_PATIENCE`] for each piece; `Err` if the client closed or stalled.
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    len: usize,
    out: &mut Vec<u8>,
) -> Result<(), ()> {
    let from_buf = len.min(buf.len());
    out.extend(buf.drain(..from_buf));
    let mut chunk = [0u8; 4096];
    while out.len() < len {
        let want = (len - out.len()).min(chunk.len());
        match with_timeout(BODY_PATIENCE, stream.read(&mut chunk[..want])).await {
            Ok(Ok(n @ 1..)) => out.extend_from_slice(&chunk[..n]),
            _ => return Err(()),
        }
    }
    Ok(())
}
