//! HTTP/1.x requests: the head parsed from bytes, with the limits and the answers to bad input
//! decided here (pure code, tested on the host).

use alloc::string::String;
use alloc::vec::Vec;

/// Largest request head (request line and headers), in bytes.
pub const MAX_HEAD: usize = 8 * 1024;

/// A request's method, of those the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: as `GET`, without the body.
    Head,
    /// `PUT`: stores the body.
    Put,
    /// Anything else (answered 405).
    Other,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The method.
    pub method: Method,
    /// The path, percent-decoded, starting with `/` (the query, if any, dropped).
    pub path: String,
    /// The body's length (0 without `Content-Length`).
    pub content_length: u64,
    /// Whether the connection stays open after the answer.
    pub keep_alive: bool,
}

/// Why a head is refused: the status code to answer with, and then close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 400: malformed.
    BadRequest(&'static str),
    /// 413 (here for heads): larger than [`MAX_HEAD`].
    TooLarge,
    /// 501: a transfer coding the server does not read.
    NotImplemented,
    /// 505: not HTTP/1.0 or 1.1.
    Version,
}

impl Refusal {
    /// Its status code and reason.
    pub fn status(self) -> (u16, &'static str) {
        match self {
            Refusal::BadRequest(_) => (400, "Bad Request"),
            Refusal::TooLarge => (413, "Content Too Large"),
            Refusal::NotImplemented => (501, "Not Implemented"),
            Refusal::Version => (505, "HTTP Version Not Supported"),
        }
    }
}

/// Where the head in `bytes` ends (the index after its blank line), if it is all there;
/// `Err` once `bytes` holds more than [`MAX_HEAD`] without one.
pub fn head_end(bytes: &[u8]) -> Result<Option<usize>, Refusal> {
    match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) if at + 4 <= MAX_HEAD => Ok(Some(at + 4)),
        Some(_) => Err(Refusal::TooLarge),
        None if bytes.len() >= MAX_HEAD => Err(Refusal::TooLarge),
        None => Ok(None),
    }
}

/// Parses a complete head (what [`head_end`] delimits).
pub fn parse(head: &[u8]) -> Result<Head, Refusal> {
    let text = core::str::from_utf8(head).map_err(|_| Refusal::BadRequest("the head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::BadRequest("the request line is not METHOD TARGET VERSION"));
    };
    let http_11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => return Err(Refusal::Version),
        _ => return Err(Refusal::BadRequest("no HTTP version")),
    };
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "PUT" => Method::Put,
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => Method::Other,
        _ => return Err(Refusal::BadRequest("malformed method")),
    };
    let path = decode_path(target)?;
    let mut content_length = None;
    let mut keep_alive = http_11;
    for line in lines.take_while(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(Refusal::BadRequest("a header without `:`"))?;
        if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(Refusal::BadRequest("malformed header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if name.eq_ignore_ascii_case("content-length") {
            let length = (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or(Refusal::BadRequest("malformed Content-Length"))?;
            if content_length.is_some_and(|l| l != length) {
                return Err(Refusal::BadRequest("two different Content-Lengths"));
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Refusal::NotImplemented);
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                if option.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if option.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
    }
    Ok(Head { method, path, content_length: content_length.unwrap_or(0), keep_alive })
}

/// The path of an origin-form target, percent-decoded, without its query.
fn decode_path(target: &str) -> Result<String, Refusal> {
    let path = target.split('?').next().unwrap_or("");
    if !path.starts_with('/') {
        return Err(Refusal::BadRequest("the target is not an absolute path"));
    }
    let mut bytes = Vec::with_capacity(path.len());
    let mut rest = path.bytes();
    while let Some(byte) = rest.next() {
        if byte != b'%' {
            bytes.push(byte);
            continue;
        }
        let hex = |b: Option<u8>| b.and_then(|b| (b as char).to_digit(16));
        match (hex(rest.next()), hex(rest.next())) {
            (Some(high), Some(low)) => bytes.push((high * 16 + low) as u8),
            _ => return Err(Refusal::BadRequest("malformed percent escape")),
        }
    }
    if bytes.contains(&0) {
        return Err(Refusal::BadRequest("a NUL in the path"));
    }
    String::from_utf8(bytes).map_err(|_| Refusal::BadRequest("the path is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Head, Refusal> {
        let bytes = text.as_bytes();
        let end = head_end(bytes)?.expect("a whole head");
        parse(&bytes[..end])
    }

    #[test]
    fn a_plain_get_keeps_the_connection_open_in_http_11_only() {
        let get = head("GET /tmp/a%20b.txt?x=1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            get,
            Head { method: Method::Get, path: "/tmp/a b.txt".into(), content_length: 0, keep_alive: true }
        );
        assert!(!head("GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nconnection: close\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn a_put_has_its_length() {
        let put = head("PUT /tmp/prog.wasm HTTP/1.1\r\nContent-Length: 1234\r\n\r\n").unwrap();
        assert_eq!((put.method, put.content_length), (Method::Put, 1234));
        assert_eq!(head("DELETE / HTTP/1.1\r\n\r\n").unwrap().method, Method::Other);
    }

    #[test]
    fn bad_heads_are_refused_with_their_status() {
        let bad = |text: &str| head(text).map(|_| ()).unwrap_err().status().0;
        assert_eq!(bad("GET /\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(bad("GET / FTP/1.0\r\n\r\n"), 400);
        assert_eq!(bad("GET nope HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(bad("GET /%zz HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(bad("GET /%00 HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(bad("GET / HTTP/1.1\r\nNo colon\r\n\r\n"), 400);
        assert_eq!(bad("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        assert_eq!(bad("PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
        assert_eq!(bad("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
        assert_eq!(bad("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
        assert_eq!(bad("get / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(parse(b"\xff\xfe / HTTP/1.1\r\n\r\n").unwrap_err().status().0, 400);
    }

    #[test]
    fn a_head_must_end_within_the_limit() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), Ok(None));
        let long = alloc::vec![b'a'; MAX_HEAD];
        assert_eq!(head_end(&long), Err(Refusal::TooLarge));
        let mut late = alloc::vec![b'a'; MAX_HEAD];
        late.extend_from_slice(b"\r\n\r\n");
        assert_eq!(head_end(&late), Err(Refusal::TooLarge));
    }
}
