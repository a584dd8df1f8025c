//! What every WebSocket feed does the same way: connect (`ws://` or `wss://`), drain the
//! non-blocking socket, publish parsed events on the md ring with their parse latency, flush
//! queued pongs, back off between reconnects, and add its counts to the engine's shared
//! counters.
//!
//! Connecting, in order (all blocking, each socket operation bounded by the timeout; reconnects
//! happen off the data path):
//! 1. Parse the URL: `ws://` or `wss://`, a host, a port (default 80 / 443).
//! 2. Resolve the host and open TCP to the first address that answers; `TCP_NODELAY` on.
//! 3. `wss://`: the TLS handshake (rustls), the server's certificate checked against
//!    [`TlsTrust`] and the URL's host name (or IP address).
//! 4. The WebSocket upgrade. An HTTP answer other than 101 comes back whole
//!    ([`ConnectError::Http`]): MAX's 429 carries the end of its ban in `Retry-After`.
//! 5. The socket turns non-blocking: from here the feed busy-polls it with [`drain`]. Over TLS a
//!    `WouldBlock` of the socket comes out of rustls, then tungstenite, as the same
//!    `Io(WouldBlock)`, and a frame sent while the socket is full stays queued for
//!    [`flush_failed`].
//!
//! A parked feed thread sleeps in `epoll` on its feeds' sockets ([`wait_fd`],
//! [`crate::pipeline::readiness`]). That wait is edge-triggered, and [`drain`] is what makes it
//! sound: it reads until the socket says `WouldBlock`, which rustls and tungstenite only pass
//! up once their own buffers hold no complete record or frame, so nothing read is left waiting
//! for a new socket event.

use crate::model::{InstrumentId, MdEvent, MdKind, Tally, Telemetry, Venue};
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, WaitFd};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::connect::{NetError, open_tcp, tls_error};
use crate::venue::md_sink::MdSink;
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Response;
use tungstenite::{HandshakeError, Message, WebSocket};

/// How long each blocking step of a connection attempt may take (TCP connect, each read or
/// write of the TLS and WebSocket handshakes).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The TCP socket under a feed's WebSocket (and under its TLS), stamping each read that
/// returns bytes with the engine clock: when the bytes of a frame left the kernel, before TLS
/// decryption and WebSocket decoding. A frame's `ts_frame` is the stamp of the read that
/// completed it (one stamp per read; frames that arrived in the same read share it).
pub struct StampedTcp {
    tcp: TcpStream,
    clock: EngineClock,
    last_read: u64,
}

impl StampedTcp {
    pub fn new(tcp: TcpStream, clock: EngineClock) -> Self {
        StampedTcp {
            tcp,
            clock,
            last_read: 0,
        }
    }
}

impl Read for StampedTcp {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.tcp.read(buf)?;
        if n > 0 {
            self.last_read = self.clock.raw();
        }
        Ok(n)
    }
}

impl Write for StampedTcp {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

/// The bytes under a feed's WebSocket: plain TCP (`ws://`) or TLS over TCP (`wss://`).
pub enum WsStream {
    Plain(StampedTcp),
    Tls(Box<StreamOwned<ClientConnection, StampedTcp>>),
}

/// A feed's WebSocket.
pub type Ws = WebSocket<WsStream>;

impl WsStream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            WsStream::Plain(s) => &s.tcp,
            WsStream::Tls(s) => &s.get_ref().tcp,
        }
    }

    /// The engine-clock stamp of the latest socket read that returned bytes (0: none yet).
    #[inline]
    pub fn last_read(&self) -> u64 {
        match self {
            WsStream::Plain(s) => s.last_read,
            WsStream::Tls(s) => s.get_ref().last_read,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, WsStream::Tls(_))
    }
}

impl Read for WsStream {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            WsStream::Plain(s) => s.read(buf),
            WsStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for WsStream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            WsStream::Plain(s) => s.write(buf),
            WsStream::Tls(s) => s.write(buf),
        }
    }

    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        match self {
            WsStream::Plain(s) => s.flush(),
            WsStream::Tls(s) => s.flush(),
        }
    }
}

/// Why a connection attempt failed, by what the feed does about it. Every kind but `Url` is
/// retried after the feed's backoff; `Url` is a configuration error (also refused at start).
#[derive(Debug)]
pub enum ConnectError {
    /// The URL cannot be used: scheme, host or port.
    Url(String),
    /// DNS, TCP connect, a timeout, or the connection dropped during the handshake.
    Io(String),
    /// The TLS handshake failed, most often on a certificate the roots do not vouch for
    /// (behind a TLS-inspecting proxy: add its CA with `tls_ca_file`).
    Tls(String),
    /// The server answered the upgrade with this HTTP response instead of 101.
    Http(Box<tungstenite::http::Response<Option<Vec<u8>>>>),
    /// The WebSocket handshake failed otherwise (a malformed answer).
    Handshake(String),
}

impl ConnectError {
    /// The HTTP status a refused upgrade carried.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ConnectError::Http(r) => Some(r.status().as_u16()),
            _ => None,
        }
    }

    /// If the venue refused the upgrade with 429 or 418 (a rate limit or an IP ban), records it
    /// in the venue's `gate` with the response's `Retry-After` and returns the Unix ms before
    /// which nothing may be sent to the venue.
    pub fn note_refusal(&self, gate: &VenueGate) -> Option<u64> {
        let ConnectError::Http(resp) = self else {
            return None;
        };
        if !matches!(resp.status().as_u16(), 429 | 418) {
            return None;
        }
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok());
        Some(gate.refused(retry, unix_ms()))
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Url(m) => write!(f, "bad WebSocket URL: {m}"),
            ConnectError::Io(m) => write!(f, "connection failed: {m}"),
            ConnectError::Tls(m) => write!(f, "TLS failed: {m}"),
            ConnectError::Http(r) => write!(f, "handshake refused with HTTP {}", r.status()),
            ConnectError::Handshake(m) => write!(f, "WebSocket handshake failed: {m}"),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<NetError> for ConnectError {
    fn from(e: NetError) -> ConnectError {
        match e {
            NetError::Io(m) => ConnectError::Io(m),
            NetError::Tls(m) => ConnectError::Tls(m),
        }
    }
}

/// Steps 1–5: a connected, non-blocking WebSocket and the server's upgrade response; its socket
/// reads are stamped with `clock` ([`StampedTcp`]).
pub fn connect(
    url: &str,
    tls: &TlsTrust,
    timeout: Duration,
    clock: &EngineClock,
) -> Result<(Ws, Response), ConnectError> {
    // Step 1.
    let request = url
        .into_client_request()
        .map_err(|e| ConnectError::Url(format!("{url:?}: {e}")))?;
    let uri = request.uri();
    let secure = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => {
            return Err(ConnectError::Url(format!(
                "{url:?}: expected ws:// or wss://"
            )));
        }
    };
    let host = uri
        .host()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ConnectError::Url(format!("{url:?}: no host")))?;
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    // Step 2.
    let tcp = StampedTcp::new(open_tcp(&host, port, timeout)?, clock.clone());
    // Step 3.
    let stream = if secure {
        WsStream::Tls(Box::new(tls_handshake(tcp, &host, port, tls)?))
    } else {
        WsStream::Plain(tcp)
    };
    // Step 4.
    let (ws, response) = match tungstenite::client(request, stream) {
        Ok(x) => x,
        Err(HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
            return Err(ConnectError::Http(resp));
        }
        Err(HandshakeError::Failure(tungstenite::Error::Io(e))) => {
            return Err(ConnectError::Io(format!(
                "{host}:{port}: WebSocket handshake: {e}"
            )));
        }
        Err(HandshakeError::Failure(e)) => {
            return Err(ConnectError::Handshake(format!("{host}:{port}: {e}")));
        }
        Err(HandshakeError::Interrupted(_)) => {
            return Err(ConnectError::Io(format!(
                "{host}:{port}: WebSocket handshake timed out after {timeout:?}"
            )));
        }
    };
    // Step 5.
    let tcp = ws.get_ref().tcp();
    tcp.set_nonblocking(true)
        .and_then(|_| tcp.set_read_timeout(None))
        .and_then(|_| tcp.set_write_timeout(None))
        .map_err(|e| ConnectError::Io(format!("{host}:{port}: {e}")))?;
    Ok((ws, response))
}

fn tls_handshake(
    mut tcp: StampedTcp,
    host: &str,
    port: u16,
    tls: &TlsTrust,
) -> Result<StreamOwned<ClientConnection, StampedTcp>, ConnectError> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ConnectError::Url(format!("{host:?}: not a DNS name or IP address")))?;
    let mut conn = ClientConnection::new(tls.client_config(), name)
        .map_err(|e| ConnectError::Tls(format!("{host}:{port}: {e}")))?;
    while conn.is_handshaking() {
        match conn.complete_io(&mut tcp) {
            Ok((0, 0)) => {
                return Err(ConnectError::Io(format!(
                    "{host}:{port}: closed during the TLS handshake"
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(tls_error(host, port, e).into()),
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// A number no other connection of this process had: a feed takes one per connection it opens,
/// so that the readiness wait tells a reconnected socket from the closed one whose fd number
/// it reused ([`WaitFd::conn`]).
pub fn next_conn_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The socket under `ws` (connection `conn`, from [`next_conn_id`]) for
/// [`crate::pipeline::Stage::wait_fds`].
#[inline]
pub fn wait_fd(ws: &Ws, conn: u64) -> WaitFd {
    WaitFd {
        fd: ws.get_ref().tcp().as_raw_fd(),
        conn,
    }
}

pub fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
}

/// What one [`drain_frames`] read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Text frames (handed to `on_text`).
    pub texts: usize,
    /// Every frame: text, binary, ping, pong (what tells the connection is alive).
    pub frames: usize,
    /// Pings from the server: tungstenite queues a pong for each, which counts against the
    /// connection's message budget.
    pub pings: usize,
    /// The connection failed or closed.
    pub closed: bool,
}

/// Reads every frame buffered on `ws`, handing each text frame and its arrival time to
/// `on_text`. Returns the number of text frames and whether the connection failed or closed.
#[inline]
pub fn drain<F: FnMut(&[u8], u64)>(ws: &mut Ws, clock: &EngineClock, on_text: F) -> (usize, bool) {
    let d = drain_frames(ws, clock, on_text);
    (d.texts, d.closed)
}

/// As [`drain`], counting every frame and the server's pings too.
#[inline]
pub fn drain_frames<F: FnMut(&[u8], u64)>(
    ws: &mut Ws,
    clock: &EngineClock,
    mut on_text: F,
) -> Drained {
    let mut d = Drained::default();
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                d.texts += 1;
                d.frames += 1;
                // When the read that completed the frame returned (below TLS and WebSocket
                // decoding); the clock now only if no read was stamped.
                let ts = match ws.get_ref().last_read() {
                    0 => clock.raw(),
                    t => t,
                };
                on_text(t.as_bytes(), ts);
            }
            Ok(Message::Close(_)) => {
                d.closed = true;
                return d;
            }
            Ok(Message::Ping(_)) => {
                d.frames += 1;
                d.pings += 1;
            }
            Ok(_) => d.frames += 1,
            Err(e) if would_block(&e) => return d,
            Err(_) => {
                d.closed = true;
                return d;
            }
        }
    }
}

/// Sends what is queued (pongs, partial writes); true when the connection failed.
pub fn flush_failed(ws: &mut Ws) -> bool {
    matches!(ws.flush(), Err(e) if !would_block(&e))
}

/// Sends `msg` on a non-blocking socket: a full socket keeps it queued for [`flush_failed`].
/// An error means the connection failed.
pub fn send(ws: &mut Ws, msg: Message) -> Result<(), tungstenite::Error> {
    match ws.send(msg) {
        Err(e) if would_block(&e) => Ok(()),
        r => r,
    }
}

/// Publishes an event already built (the Binance feed's hand-over holds some back) through a
/// [`RingSink`].
pub fn publish_md(
    md: &mut Option<MdProducer>,
    clock: &EngineClock,
    latency: &mut LatencySet,
    count: &mut u64,
    ev: &MdEvent,
) {
    crate::venue::md_sink::RingSink {
        md: md.as_mut(),
        clock,
        latency,
        count,
    }
    .publish_md(|slot| *slot = *ev);
}

/// A feed lost its connection: one `FeedDown` per book the connection served (`last_chunk` on
/// the last), so the book stage resets those books and no other feed's (a venue's books may be
/// spread over several connections).
pub fn publish_feed_down(
    md: &mut Option<MdProducer>,
    venue: Venue,
    books: impl ExactSizeIterator<Item = InstrumentId>,
    now: u64,
) {
    use disruptor::Producer;
    let Some(md) = md.as_mut() else {
        return;
    };
    let n = books.len();
    for (i, instrument) in books.enumerate() {
        md.publish(|e| {
            *e = MdEvent {
                kind: MdKind::FeedDown,
                venue,
                instrument,
                last_chunk: i + 1 == n,
                ts_frame: now,
                ts_parsed: now,
                ..Default::default()
            };
        });
    }
}

/// A feed's own counts, added to the engine's shared counters as they grow.
#[derive(Default)]
pub struct FeedCounts {
    /// Which of the venue's feeds these are (0 with one): the metrics add up each feed's totals.
    pub group: u16,
    pub frames: u64,
    pub md_events: u64,
    pub parse_errors: u64,
    published: (u64, u64, u64),
    /// Engine clock of the last [`Tally`] sent, and the counts it carried.
    tallied_at: u64,
    tallied: (u64, u64, u64),
}

/// A feed's running totals go to the side thread (the metrics) at most this often.
const TALLY_EVERY_NS: u64 = 100_000_000;

impl FeedCounts {
    /// The counts of the venue's `group`-th feed.
    pub fn for_group(group: u16) -> FeedCounts {
        FeedCounts {
            group,
            ..FeedCounts::default()
        }
    }

    pub fn publish(&mut self, c: &EngineCounters) {
        let (f, m, e) = self.published;
        c.frames.add_shared(self.frames - f);
        c.md.add_shared(self.md_events - m);
        c.parse_errors.add_shared(self.parse_errors - e);
        self.published = (self.frames, self.md_events, self.parse_errors);
    }

    /// The feed's running totals and its parse latency, for the metrics (see [`Self::tally`] and
    /// [`LatencySet::report`]); `stopping`: now, whatever the time.
    pub fn report(
        &mut self,
        latency: &LatencySet,
        report: &mut crate::telemetry::LatencyReport,
        tele: &TelemetryTx,
        clock: &EngineClock,
        venue: Venue,
        stopping: bool,
    ) {
        self.tally(tele, clock, venue, false, stopping);
        let (stages, source) = (
            &[crate::telemetry::Segment::Parse],
            Some((venue, self.group)),
        );
        if stopping {
            latency.report_now(tele, stages, source);
        } else {
            latency.report(report, clock, clock.raw(), tele, stages, source);
        }
    }

    /// Hands the running totals to the side thread (per venue and stream, for the metrics) when
    /// they changed and the last ones went at least 100 ms ago, or with `now_too` regardless
    /// of the time (a feed that stops).
    pub fn tally(
        &mut self,
        tele: &TelemetryTx,
        clock: &EngineClock,
        venue: Venue,
        private: bool,
        now_too: bool,
    ) {
        let counts = (self.frames, self.md_events, self.parse_errors);
        if counts == self.tallied {
            return;
        }
        let now = clock.raw();
        if !now_too && self.tallied_at != 0 && clock.delta_ns(self.tallied_at, now) < TALLY_EVERY_NS
        {
            return;
        }
        self.tallied_at = now;
        self.tallied = counts;
        tele.send(Telemetry::Tally(Tally::Feed {
            venue,
            private,
            group: self.group,
            frames: counts.0,
            md_events: counts.1,
            parse_errors: counts.2,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    /// A read that returns bytes is stamped between the write and the return; one that finds
    /// nothing leaves the stamp as it was.
    #[test]
    fn a_read_that_returns_bytes_is_stamped() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let clock = EngineClock::new();
        let mut s = StampedTcp::new(ours, clock.clone());
        let mut buf = [0u8; 16];
        let e = s.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(s.last_read, 0, "nothing read, nothing stamped");

        let before = clock.raw();
        peer.write_all(b"frame").unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let n = loop {
            match s.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "the bytes never arrived");
                    std::thread::yield_now();
                }
                Err(e) => panic!("{e}"),
            }
        };
        let after = clock.raw();
        assert_eq!(&buf[..n], b"frame");
        assert!(
            before <= s.last_read && s.last_read <= after,
            "stamp {} outside [{before}, {after}]",
            s.last_read
        );
        let stamped = s.last_read;
        assert!(s.read(&mut buf).is_err(), "nothing more to read");
        assert_eq!(s.last_read, stamped, "an empty read keeps the stamp");
    }
}
