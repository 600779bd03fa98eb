//! A minimal HTTP/1.1 server: request heads parsed within fixed limits, `Content-Length`
//! responses, keep-alive (with `Connection: close` honoured), and the faults decided per
//! request. Nothing here panics on what a client sends.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::State;
use crate::api;
use crate::dataset::Provider;
use crate::fault::Fault;

/// The largest request head accepted (request line and headers).
pub(crate) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 100;
/// The largest request body read (and discarded); GET requests have none.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a kept-alive connection may stay idle between requests.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a client may take to send a request once it has started.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    /// The method, as sent.
    pub(crate) method: String,
    /// The path, still percent-encoded.
    pub(crate) path: String,
    /// The query string, still encoded (empty when there is none).
    pub(crate) query: String,
    headers: Vec<(String, String)>,
    /// Whether the connection stays open after the response.
    pub(crate) keep_alive: bool,
}

impl Request {
    /// The value of the first header named `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to send.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The JSON body.
    pub(crate) body: Vec<u8>,
    /// A `Retry-After` header, in seconds.
    pub(crate) retry_after: Option<u64>,
}

impl Response {
    /// A JSON response.
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        Response {
            status,
            body,
            retry_after: None,
        }
    }

    /// The status line and headers.
    fn head(&self, close: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.status,
            reason(self.status),
            self.body.len()
        );
        if let Some(secs) = self.retry_after {
            head.push_str(&format!("Retry-After: {secs}\r\n"));
        }
        if self.status == 405 {
            head.push_str("Allow: GET\r\n");
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Why no request could be read.
enum ReadError {
    /// The connection ended or failed: nothing to answer.
    Closed,
    /// The request is not acceptable: answer with this status and close.
    Reject(u16, &'static str),
}

/// Where the head ends (the index just past the blank line), accepting CRLF or bare LF.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(pos) = buf.get(i..)?.iter().position(|&b| b == b'\n') {
        let at = i + pos;
        match buf.get(at + 1) {
            Some(b'\n') => return Some(at + 2),
            Some(b'\r') if buf.get(at + 2) == Some(&b'\n') => return Some(at + 3),
            _ => i = at + 1,
        }
    }
    None
}

/// Reads one request from `stream`, using and refilling `buf` (which may already hold the
/// start of it, pipelined after the previous one). `Ok(None)` when the client closed the
/// connection between requests.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<Option<Request>, ReadError> {
    let mut scanned: usize = 0;
    let end = loop {
        if let Some(end) = head_end(buf, scanned.saturating_sub(3)) {
            break end;
        }
        scanned = buf.len();
        if buf.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Reject(431, "the request head is too large"));
        }
        let timeout = if buf.is_empty() {
            IDLE_TIMEOUT
        } else {
            REQUEST_TIMEOUT
        };
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(timeout, stream.read(&mut chunk)).await {
            Ok(Ok(0)) if buf.iter().all(u8::is_ascii_whitespace) => return Ok(None),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadError::Closed),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) if buf.is_empty() => return Ok(None),
            Err(_) => return Err(ReadError::Reject(408, "the request took too long")),
        }
    };
    if end > MAX_HEAD_BYTES {
        return Err(ReadError::Reject(431, "the request head is too large"));
    }
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| ReadError::Reject(400, "the request head is not UTF-8"))?;
    let request = parse_head(head)?;
    let body_len = body_length(&request)?;
    buf.drain(..end);
    // The body, if any, is read and thrown away.
    while buf.len() < body_len {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(REQUEST_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Err(ReadError::Closed),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => return Err(ReadError::Reject(408, "the request body took too long")),
        }
    }
    buf.drain(..body_len);
    Ok(Some(request))
}

fn parse_head(head: &str) -> Result<Request, ReadError> {
    let bad = |why| ReadError::Reject(400, why);
    // Tolerate blank lines before the request line (RFC 9112, section 2.2).
    let mut lines = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .skip_while(|l| l.is_empty());
    let request_line = lines.next().ok_or_else(|| bad("no request line"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(bad("malformed method"));
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => {
            return Err(ReadError::Reject(
                505,
                "only HTTP/1.0 and HTTP/1.1 are spoken",
            ));
        }
        _ => return Err(bad("malformed HTTP version")),
    };
    // Origin form (`/path?query`), or absolute form through a proxy.
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    if !target.starts_with('/') {
        return Err(bad("malformed request target"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Reject(431, "too many header fields"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad("malformed header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut request = Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        keep_alive: http11,
    };
    let connection = request.header("connection").unwrap_or("").to_owned();
    let has = |token: &str| {
        connection
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    request.keep_alive = if http11 {
        !has("close")
    } else {
        has("keep-alive")
    };
    Ok(request)
}

fn body_length(request: &Request) -> Result<usize, ReadError> {
    if request.header("transfer-encoding").is_some() {
        return Err(ReadError::Reject(
            501,
            "request bodies with Transfer-Encoding are not supported",
        ));
    }
    let mut length = None;
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .parse()
                .map_err(|_| ReadError::Reject(400, "malformed Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ReadError::Reject(400, "conflicting Content-Length"));
            }
            length = Some(n);
        }
    }
    match length {
        Some(n) if n > MAX_BODY_BYTES => {
            Err(ReadError::Reject(413, "the request body is too large"))
        }
        other => Ok(other.unwrap_or(0)),
    }
}

/// Serves one connection until the client closes it, asks to, or a fault ends it.
pub(crate) async fn serve_connection(mut stream: TcpStream, state: Arc<State>, provider: Provider) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Reject(status, why)) => {
                state.count_request(provider);
                let response = api::error(provider, status, why);
                let _ = write_response(&mut stream, &response, true, None).await;
                return;
            }
        };
        let arrived = tokio::time::Instant::now();
        state.count_request(provider);
        let fault = state.decide_fault();
        let mut delay = state.config.latency;
        if fault == Fault::Slow {
            delay += state.config.faults.slow_delay;
        }
        // The answer is built first and leaves `delay` after the request arrived: the
        // latency is what the client sees, whatever building the answer cost.
        let response = match fault {
            Fault::Drop => None,
            Fault::RateLimited => Some(api::rate_limited(
                provider,
                state.config.faults.retry_after_secs,
            )),
            Fault::ServerError(status) => Some(api::server_error(provider, status)),
            Fault::None | Fault::Slow | Fault::CutBody => {
                Some(api::handle(&state, provider, &request))
            }
        };
        if !delay.is_zero() {
            tokio::time::sleep_until(arrived + delay).await;
        }
        let Some(response) = response else { return };
        let mut cut = (fault == Fault::CutBody).then_some(response.body.len() / 2);
        if request.method == "HEAD" {
            // A response to HEAD has no body, whatever its Content-Length says.
            cut = Some(0);
        }
        let close = !request.keep_alive || fault == Fault::CutBody;
        if write_response(&mut stream, &response, close, cut)
            .await
            .is_err()
            || close
        {
            return;
        }
    }
}

/// Writes a response; with `cut`, only that many body bytes (the head still announces the
/// whole body: a body cut short, or the answer to a HEAD). Shuts the connection down when
/// `close`.
async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
    cut: Option<usize>,
) -> std::io::Result<()> {
    let head = response.head(close);
    let body = match cut {
        Some(n) => response.body.get(..n).unwrap_or_default(),
        None => &response.body,
    };
    // Head and body go out in one vectored write where the kernel takes them, without first
    // copying the body behind the head.
    let mut parts = [std::io::IoSlice::new(&head), std::io::IoSlice::new(body)];
    let mut parts: &mut [std::io::IoSlice<'_>] = &mut parts;
    while !parts.is_empty() {
        let written = stream.write_vectored(parts).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        std::io::IoSlice::advance_slices(&mut parts, written);
    }
    stream.flush().await?;
    if close {
        stream.shutdown().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_the_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\n", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
        assert_eq!(head_end(b"", 0), None);
        assert_eq!(head_end(b"\n", 5), None);
    }

    #[test]
    fn parses_heads_and_refuses_bad_ones() {
        let r = parse_head("GET /v2/messages?a=1 HTTP/1.1\r\nX-APIKey:  k \r\nConnection: Keep-Alive, close\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("GET", "/v2/messages", "a=1")
        );
        assert_eq!(r.header("x-apikey"), Some("k"));
        assert!(!r.keep_alive);
        let r = parse_head("GET http://127.0.0.1:1/x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .ok()
            .unwrap();
        assert_eq!(r.path, "/x");
        assert!(r.keep_alive);
        assert!(
            !parse_head("GET / HTTP/1.0\r\n\r\n")
                .ok()
                .unwrap()
                .keep_alive
        );
        for bad in [
            "GET /\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "GET / HTTP/2\r\n\r\n",
            "GET / FTP/1.0\r\n\r\n",
            "G3T / HTTP/1.1\r\n\r\n",
            "GET x HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "\r\n\r\n",
        ] {
            assert!(parse_head(bad).is_err(), "{bad:?}");
        }
    }
}
