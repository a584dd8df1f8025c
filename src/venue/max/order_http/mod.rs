//! The order lane's HTTP/1.1 client: one persistent keep-alive connection to MAX's REST host
//! that carries the two requests the gateway sends on an order's critical path — `POST
//! /api/v3/wallet/{w}/order` (create) and `DELETE /api/v3/order` (cancel) — and nothing else
//! (every other request keeps ureq, `rest_client.rs`).
//!
//! Why not ureq: per create, ureq spent ~44 % of the call's instructions building the request,
//! its header maps and reading the response, and allocated on every request. Here the request
//! is written with one write from a reused buffer and the response is read into reused buffers
//! (parsed in place with `httparse`), so after warm-up a request allocates nothing.
//!
//! Strict by design, because the peer is one known API:
//! - the response must be framed by `Content-Length` or `Transfer-Encoding: chunked` (a 204 or
//!   304 has no body); the header section is at most [`HEAD_LIMIT`] bytes, the body at most
//!   [`BODY_LIMIT`]; anything else is [`HttpError::Malformed`] or [`HttpError::TooLarge`];
//! - the client's timeout bounds each socket read and write, and the whole response;
//! - after any error, a timeout, EOF, `Connection: close` or bytes beyond the response, the
//!   connection is dropped and the next request connects again (lazily).
//!
//! Resend rule (a create must never be sent twice): a request is written again on a new
//! connection only when writing it on a *reused* connection failed — the server cannot act on a
//! request it did not receive whole. Once every byte was written, a failed read is reported
//! ([`HttpError`], a `RestError::Transport` for the caller) and never resent: the order may
//! exist, and the reconciler finds it by its `client_oid`. Before reusing a connection its
//! socket is peeked without blocking: EOF or unsolicited bytes (the server closed it while
//! idle) mean a new connection first, so an idle-closed connection rarely costs a request.
//!
//! The response reader (framing, limits, buffers) is [`response`].

mod response;

pub use response::{BODY_LIMIT, HEAD_LIMIT, Reply, ResponseReader};

use super::sent_stamp::SentStamp;
use super::sign::{SignedBuffers, push_u64};
use crate::pipeline::EngineClock;
use crate::venue::connect::{open_tcp, tls_error};
use crate::venue::tls::TlsTrust;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Why a request got no usable answer. Every one drops the connection.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The REST base URL cannot be used by this client.
    #[error("bad REST URL: {0}")]
    Url(String),
    /// DNS, TCP connect or the TLS handshake failed: nothing was sent.
    #[error("connect: {0}")]
    Connect(String),
    /// Writing the request failed (after the one resend a stale connection allows): the
    /// request did not leave whole.
    #[error("writing the request: {0}")]
    Write(io::Error),
    /// The request was written; reading the answer failed. It may have been executed.
    #[error("reading the response: {0}")]
    Read(io::Error),
    /// The request was written; no complete answer within the timeout. It may have been
    /// executed.
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    /// The server closed the connection before the response was complete (`got` bytes read).
    #[error("connection closed after {got} bytes of the response")]
    Closed { got: usize },
    /// The response is not what a strict HTTP/1.1 reading accepts.
    #[error("malformed response: {0}")]
    Malformed(&'static str),
    /// The response exceeds a limit ([`HEAD_LIMIT`], [`BODY_LIMIT`]).
    #[error("response too large: {0}")]
    TooLarge(&'static str),
}

/// The two methods of the order lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Post,
    Delete,
}

/// Where the REST base URL points.
#[derive(Clone, Debug)]
struct Target {
    secure: bool,
    host: String,
    port: u16,
    /// `host[:port]` as the URL wrote it.
    authority: String,
    /// A path the base URL carries, put before every request's path ("" for none).
    prefix: String,
}

fn parse_base(base: &str) -> Result<Target, String> {
    let (secure, rest) = if let Some(r) = base.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = base.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("{base:?}: expected http:// or https://"));
    };
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{base:?}: no host, or credentials in the URL"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{base:?}: unclosed IPv6 address"))?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("{base:?}: bad port"))?,
        None if secure => 443,
        None => 80,
    };
    if host.is_empty() || authority.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("{base:?}: bad host"));
    }
    Ok(Target {
        secure,
        host: host.to_string(),
        port,
        authority: authority.to_string(),
        prefix: prefix.trim_end_matches('/').to_string(),
    })
}

/// The connection's bytes: plain TCP or TLS over TCP.
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(t) => t,
            Conn::Tls(s) => s.get_ref(),
        }
    }

    /// Writes all of `buf` and flushes TLS's records to the socket.
    fn write_request(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.write_all(buf),
            Conn::Tls(s) => s.write_all(buf).and_then(|_| s.flush()),
        }
    }

    /// Whether an idle keep-alive connection can carry a request: nothing to read yet (no EOF,
    /// no close_notify, no stray bytes).
    fn idle_and_open(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let open = matches!(tcp.peek(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        tcp.set_nonblocking(false).is_ok() && open
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

/// The order lane's connection, request writer and response reader.
pub struct OrderHttp {
    target: Result<Target, String>,
    tls: TlsTrust,
    timeout: Duration,
    conn: Option<Conn>,
    request: Vec<u8>,
    reader: ResponseReader,
    stamp: Option<(SentStamp, EngineClock)>,
    connects: u64,
}

impl std::fmt::Debug for OrderHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderHttp")
            .field("target", &self.target)
            .field("connected", &self.conn.is_some())
            .field("connects", &self.connects)
            .finish()
    }
}

fn header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

impl OrderHttp {
    /// `base_url` as the REST client's (`http://` or `https://`, host, optional port and path);
    /// a URL this client cannot use fails each request with [`HttpError::Url`]. Nothing is
    /// connected until the first request.
    pub fn new(base_url: &str, timeout: Duration) -> OrderHttp {
        OrderHttp {
            target: parse_base(base_url),
            tls: TlsTrust::webpki(),
            timeout,
            conn: None,
            request: Vec::with_capacity(1024),
            reader: ResponseReader::default(),
            stamp: None,
            connects: 0,
        }
    }

    /// Whom `https://` trusts (default: Mozilla's roots); takes effect on the next connection.
    pub fn set_tls(&mut self, tls: TlsTrust) {
        self.tls = tls;
        self.conn = None;
    }

    /// Stamps `stamp` with `clock` when a request's bytes have been written.
    pub fn set_stamp(&mut self, stamp: SentStamp, clock: EngineClock) {
        self.stamp = Some((stamp, clock));
    }

    /// Opens the connection now if there is none or the server has closed it while idle, so
    /// that the next request does not pay for TCP and TLS handshakes. True when it connected.
    pub fn keep_warm(&mut self) -> Result<bool, HttpError> {
        if self.conn.as_ref().is_some_and(Conn::idle_and_open) {
            return Ok(false);
        }
        self.conn = None;
        self.connect()?;
        Ok(true)
    }

    /// Connections opened so far.
    pub fn connects(&self) -> u64 {
        self.connects
    }

    /// Whether a connection is open (kept for the next request).
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// The body and `Retry-After` of the latest reply ([`Self::send`]).
    pub fn reader(&self) -> &ResponseReader {
        &self.reader
    }

    fn connect(&mut self) -> Result<(), HttpError> {
        let t = self
            .target
            .as_ref()
            .map_err(|e| HttpError::Url(e.clone()))?;
        let tcp = open_tcp(&t.host, t.port, self.timeout)
            .map_err(|e| HttpError::Connect(e.to_string()))?;
        self.connects += 1;
        let conn = if t.secure {
            let name = ServerName::try_from(t.host.clone())
                .map_err(|_| HttpError::Url(format!("{:?}: not a DNS name or IP", t.host)))?;
            let mut tls = ClientConnection::new(self.tls.client_config(), name)
                .map_err(|e| HttpError::Connect(format!("{}:{}: {e}", t.host, t.port)))?;
            let mut tcp = tcp;
            while tls.is_handshaking() {
                match tls.complete_io(&mut tcp) {
                    Ok((0, 0)) => {
                        return Err(HttpError::Connect(format!(
                            "{}:{}: closed during the TLS handshake",
                            t.host, t.port
                        )));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(HttpError::Connect(
                            tls_error(&t.host, t.port, e).to_string(),
                        ));
                    }
                }
            }
            Conn::Tls(Box::new(StreamOwned::new(tls, tcp)))
        } else {
            Conn::Plain(tcp)
        };
        self.conn = Some(conn);
        Ok(())
    }

    /// Writes `verb path` with the signed headers and `body` into the reused request buffer.
    fn write_request(
        &mut self,
        verb: Verb,
        path: &str,
        access_key: &str,
        signed: &SignedBuffers,
        body: &[u8],
    ) -> Result<(), HttpError> {
        let t = self
            .target
            .as_ref()
            .map_err(|e| HttpError::Url(e.clone()))?;
        let bad = |v: &[u8]| v.iter().any(|&b| b < b' ' || b == 0x7f);
        if bad(access_key.as_bytes()) || bad(path.as_bytes()) || path.contains(' ') {
            return Err(HttpError::Url(
                "a control character or space in the path or access key".into(),
            ));
        }
        let r = &mut self.request;
        r.clear();
        r.extend_from_slice(match verb {
            Verb::Post => b"POST ",
            Verb::Delete => b"DELETE ",
        });
        r.extend_from_slice(t.prefix.as_bytes());
        r.extend_from_slice(path.as_bytes());
        r.extend_from_slice(b" HTTP/1.1\r\n");
        header(r, b"Host", t.authority.as_bytes());
        header(r, b"User-Agent", b"arbline");
        header(r, b"Accept", b"application/json");
        header(r, b"X-MAX-ACCESSKEY", access_key.as_bytes());
        header(r, b"X-MAX-PAYLOAD", signed.payload_b64.as_bytes());
        header(r, b"X-MAX-SIGNATURE", signed.signature_hex.as_bytes());
        header(r, b"Content-Type", b"application/json");
        r.extend_from_slice(b"Content-Length: ");
        push_u64(r, body.len() as u64);
        r.extend_from_slice(b"\r\n\r\n");
        r.extend_from_slice(body);
        Ok(())
    }

    fn write_once(&mut self) -> io::Result<()> {
        match self.conn.as_mut() {
            Some(c) => c.write_request(&self.request),
            None => Err(io::Error::new(io::ErrorKind::NotConnected, "no connection")),
        }
    }

    /// Sends one signed request and reads its whole response (see the module's resend rule).
    pub fn send(
        &mut self,
        verb: Verb,
        path: &str,
        access_key: &str,
        signed: &SignedBuffers,
        body: &[u8],
    ) -> Result<Reply, HttpError> {
        self.write_request(verb, path, access_key, signed, body)?;
        let deadline = Instant::now() + self.timeout;
        let reused = match &self.conn {
            Some(c) if c.idle_and_open() => true,
            _ => {
                self.conn = None;
                self.connect()?;
                false
            }
        };
        if let Err(e) = self.write_once() {
            self.conn = None;
            if !reused {
                return Err(HttpError::Write(e));
            }
            // A kept connection the server had closed: the request did not arrive whole, so
            // it goes once more, on a new connection.
            self.connect()?;
            if let Err(e) = self.write_once() {
                self.conn = None;
                return Err(HttpError::Write(e));
            }
        }
        if let Some((stamp, clock)) = &self.stamp {
            stamp.store(clock.raw());
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(HttpError::Connect("no connection".into()));
        };
        match self.reader.read_from(conn, deadline, self.timeout) {
            Ok(reply) => {
                if reply.close {
                    self.conn = None;
                }
                Ok(reply)
            }
            Err(e) => {
                self.conn = None;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let t = parse_base("https://max-api.maicoin.com").unwrap();
        assert_eq!(
            (
                t.secure,
                t.host.as_str(),
                t.port,
                t.authority.as_str(),
                t.prefix.as_str()
            ),
            (true, "max-api.maicoin.com", 443, "max-api.maicoin.com", "")
        );
        let t = parse_base("http://127.0.0.1:8080/x/").unwrap();
        assert_eq!((t.port, t.prefix.as_str()), (8080, "/x"));
        let t = parse_base("http://[::1]:9").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9));
        for bad in [
            "ftp://a",
            "http://",
            "http://a:b",
            "http://u@h",
            "http://a b",
        ] {
            assert!(parse_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_request_is_written_whole() {
        let mut c = OrderHttp::new("http://127.0.0.1:9/p", Duration::from_secs(1));
        let signed = SignedBuffers {
            payload_b64: "UEFZ".into(),
            signature_hex: "abcd".into(),
        };
        c.write_request(Verb::Delete, "/api/v3/order", "key", &signed, b"{\"id\":1}")
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&c.request).unwrap(),
            "DELETE /p/api/v3/order HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: arbline\r\n\
             Accept: application/json\r\nX-MAX-ACCESSKEY: key\r\nX-MAX-PAYLOAD: UEFZ\r\n\
             X-MAX-SIGNATURE: abcd\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\
             \r\n{\"id\":1}"
        );
        assert!(matches!(
            c.write_request(Verb::Post, "/a", "k\r\nX: y", &signed, b""),
            Err(HttpError::Url(_))
        ));
    }
}
