//! Files of the vfs over HTTP: `GET` reads one (or lists a directory), `PUT` writes one into
//! `/tmp`, a piece of at most `vfs::MAX_IO` bytes per request either way.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use protocol::vfs::{Error, Kind, MAX_IO, Reply, Request, Response as VfsResponse, WriteMode};
use sdk::Endpoint;
use sdk::net::TcpStream;

use crate::request::Head;
use crate::{Body, Response, read_body};

/// Asks the vfs; an IPC failure reads as an I/O error.
async fn call(vfs: &Endpoint, request: Request) -> VfsResponse {
    vfs.call(&request).await.unwrap_or(Err(Error::Io))
}

/// The status a vfs error is answered with.
fn failed(error: Error) -> Response {
    let status = match error {
        Error::NotFound | Error::NotADirectory => (404, "Not Found"),
        Error::BadPath | Error::InvalidArgument | Error::IsADirectory => (400, "Bad Request"),
        Error::ReadOnly => (403, "Forbidden"),
        Error::NoSpace => (507, "Insufficient Storage"),
        _ => (500, "Internal Server Error"),
    };
    Response::text(status, &format!("{error}"))
}

/// The file or directory listing at `path` (a file's bytes are read as they are sent).
pub async fn download(path: &str, vfs: &Endpoint) -> Response {
    match call(vfs, Request::Stat { path: path.into() }).await {
        Ok(Reply::Stat(metadata)) if metadata.kind == Kind::Dir => listing(path, vfs).await,
        Ok(Reply::Stat(metadata)) => Response {
            status: (200, "OK"),
            content_type: content_type(path),
            body: Body::File { path: path.into(), size: metadata.size },
        },
        Ok(_) => failed(Error::Io),
        Err(e) => failed(e),
    }
}

/// The next piece of the file at `path`, from `offset`; `None` at its end or on an error.
pub async fn piece(vfs: &Endpoint, path: &str, offset: u64) -> Option<Vec<u8>> {
    match call(vfs, Request::Read { path: path.into(), offset, len: MAX_IO }).await {
        Ok(Reply::Data(bytes)) if !bytes.is_empty() => Some(bytes),
        _ => None,
    }
}

/// A directory's entries, a line each (directories end with `/`).
async fn listing(path: &str, vfs: &Endpoint) -> Response {
    let mut text = String::new();
    let mut after = None;
    loop {
        match call(vfs, Request::List { path: path.into(), after: after.take() }).await {
            Ok(Reply::Entries { entries, more }) => {
                for entry in &entries {
                    let slash = if entry.kind == Kind::Dir { "/" } else { "" };
                    text += &format!("{}{slash}\t{}\n", entry.name, entry.size);
                }
                match (more, entries.last()) {
                    (true, Some(last)) => after = Some(last.name.clone()),
                    _ => break,
                }
            }
            Ok(_) => return failed(Error::Io),
            Err(e) => return failed(e),
        }
    }
    Response {
        status: (200, "OK"),
        content_type: "text/plain; charset=utf-8",
        body: Body::Bytes(text.into_bytes()),
    }
}

/// Stores the body of `head` (its bytes in `buf`, then from `stream`) at its path, which must
/// be inside `/tmp`. `Err` when the client stalls or closes mid-body.
pub async fn upload(
    head: &Head,
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    vfs: &Endpoint,
) -> Result<Response, ()> {
    let total = head.content_length as usize;
    let mut written = 0;
    let mut refused = None;
    let mut piece = Vec::with_capacity(MAX_IO as usize);
    loop {
        piece.clear();
        read_body(stream, buf, (total - written).min(MAX_IO as usize), &mut piece).await?;
        // Once refused, the rest of the body is read and dropped, so the answer is heard.
        if refused.is_none() {
            let mode = if written == 0 { WriteMode::Truncate } else { WriteMode::Append };
            let request = Request::Write { path: head.path.clone(), mode, data: piece.clone() };
            if let Err(e) = call(vfs, request).await {
                refused = Some(e);
            }
        }
        written += piece.len();
        if written == total {
            break;
        }
    }
    Ok(match refused {
        Some(e) => failed(e),
        None => Response::text((201, "Created"), &format!("stored {written} bytes at {}", head.path)),
    })
}

/// The content type of a file by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" | "manifest" | "msh" | "c" | "rs" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}
