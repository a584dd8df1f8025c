//! The Binance market-data feed (spot or USDⓈ-M futures): one combined-stream WebSocket with
//! `<symbol>@depth@100ms` and `<symbol>@bookTicker` for every instrument, and the REST depth
//! snapshots the book sync needs (spec binance.md §1, §3).
//!
//! Protocol:
//! 1. Connect to `{ws_url}/stream?streams=…` (spot) or `{ws_url}/public/stream?streams=…`
//!    (futures: depth and bookTicker are on the `/public` route since 2026).
//! 2. Once subscribed, ask for a REST depth snapshot of every symbol. Snapshots are fetched on a
//!    separate thread (a REST round trip never blocks the feed) and published on the md ring
//!    like any frame; meanwhile the book stage buffers the stream (§3.2 S2, §3.3 step 2).
//! 3. Poll the socket to empty every time; pings are answered with pongs by the WebSocket layer.
//! 4. A book that loses sync gets a fresh snapshot; a dropped connection publishes `FeedDown`
//!    and reconnects with exponential backoff and jitter, then snapshots every book again.
//! 5. Rotation: Binance closes a connection at 24 h, announcing it with `serverShutdown`
//!    (spec §1.1). When the live connection reaches `rotate_after`, or the server announces the
//!    cut, a second connection with the same streams is opened (off the feed's thread, so the
//!    live one is never stalled) while the live one keeps delivering; each depth stream is
//!    handed over where the update ids chain ([`crate::feed::handover`]), then the old
//!    connection is closed. No `FeedDown`, no snapshot, no book resync: `FeedRotated` is
//!    published instead. If the new connection fails, the old one keeps serving and the
//!    rotation is retried with backoff; if the old one dies first, the new one takes over.
//!
//! `ws://`/`http://` (the simulator) and `wss://`/`https://` (Binance) alike: the WebSocket
//! through [`crate::feed::ws_conn::connect`] trusting [`TlsTrust`], REST through ureq. A parked
//! thread's readiness wait watches the live connection and, during a rotation, the new one
//! ([`Stage::wait_fds`]); snapshots and a rotation's opened connection come back on channels,
//! picked up at the next poll (within `park_us`).

use crate::feed::handover::{Handover, HandoverCounts, Source, Verdict};
use crate::feed::resync::ResyncRequests;
use crate::feed::tls::TlsTrust;
use crate::feed::ws_conn::{
    Backoff, CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain, flush_failed,
    next_conn_id, publish_md, wait_fd,
};
use crate::model::{
    InstrumentId, Instruments, MdEvent, MdKind, SystemCode, SystemEvent, Telemetry,
};
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::binance::{BinanceMarket, BinanceOutcome, BinanceParser};
use crossbeam::channel::{Receiver, Sender, TryRecvError, bounded, unbounded};
use disruptor::Producer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A handover still incomplete after this long (a stream with no traffic cannot chain) is
/// finished by promoting the new connection; the sequencer checks what follows.
const HANDOVER_MAX: Duration = Duration::from_secs(10);
/// A rotation's connection not open after this long counts as failed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct BinanceWsFeedParts {
    pub market: BinanceMarket,
    pub ws_url: String,
    /// Whom a `wss://` URL trusts (unused for `ws://`).
    pub tls: TlsTrust,
    pub rest_url: String,
    pub instruments: Instruments,
    pub md: MdProducer,
    pub resync: Arc<ResyncRequests>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub shutdown: Shutdown,
    /// Connection age at which the feed moves to a fresh connection (config `rotate_after_s`;
    /// tests use milliseconds). `None`: never, not even on `serverShutdown`.
    pub rotate_after: Option<Duration>,
}

/// One open connection.
struct Conn {
    ws: Ws,
    /// [`next_conn_id`]: what the readiness wait knows the socket by.
    id: u64,
    /// Engine clock reading when it opened.
    opened: u64,
    /// The server said it will close this connection soon (`serverShutdown`).
    shutdown_announced: bool,
}

/// Opens the combined stream at `url` (`ws://` or `wss://`), non-blocking after the handshake.
fn open(url: &str, tls: &TlsTrust) -> Result<Ws, ConnectError> {
    connect(url, tls, CONNECT_TIMEOUT).map(|(ws, _)| ws)
}

/// Opens `url` on a short-lived thread, so the feed keeps reading the live connection.
fn open_in_background(url: &str, tls: &TlsTrust) -> Receiver<Result<Ws, ConnectError>> {
    let (tx, rx) = bounded(1);
    let (url, tls) = (url.to_string(), tls.clone());
    // A thread that cannot start drops the sender with it: the receiver then reports failure.
    let _ = std::thread::Builder::new()
        .name("feed.binance.open".into())
        .spawn(move || {
            let _ = tx.send(open(&url, &tls));
        });
    rx
}

pub struct BinanceWsFeed {
    market: BinanceMarket,
    url: String,
    tls: TlsTrust,
    symbols: Vec<(InstrumentId, String)>,
    instruments: Instruments,
    live: Option<Conn>,
    /// The connection being handed over to during a rotation.
    next: Option<Conn>,
    /// A rotation's connection being opened, and when that started.
    opening: Option<(Receiver<Result<Ws, ConnectError>>, Instant)>,
    handover: Handover,
    handover_started: u64,
    rotate_after_ns: Option<u64>,
    next_rotation: Instant,
    rotation_backoff: Backoff,
    parser: BinanceParser,
    md: Option<MdProducer>,
    snapshots: Option<Sender<(InstrumentId, String)>>,
    snapshot_thread: Option<std::thread::JoinHandle<()>>,
    snapshot_errors: Arc<AtomicU64>,
    resync: Arc<ResyncRequests>,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    shutdown: Shutdown,
    next_attempt: Instant,
    backoff: Backoff,
    counts: FeedCounts,
    last_error: Option<ConnectError>,
    /// Connections opened cold (start and reconnects after a loss).
    pub connects: u64,
    /// Connections replaced by a gapless handover.
    pub rotations: u64,
    /// Rotation attempts whose new connection failed (the old one kept serving).
    pub rotation_failures: u64,
}

impl BinanceWsFeed {
    pub fn new(p: BinanceWsFeedParts) -> Result<BinanceWsFeed, String> {
        let venue = p.market.venue();
        let symbols: Vec<(InstrumentId, String)> = p
            .instruments
            .iter()
            .filter(|i| i.venue == venue)
            .map(|i| (i.id, i.symbol.to_string()))
            .collect();
        let streams: Vec<String> = symbols
            .iter()
            .flat_map(|(_, s)| {
                let l = s.to_ascii_lowercase();
                [format!("{l}@depth@100ms"), format!("{l}@bookTicker")]
            })
            .collect();
        let route = if p.market == BinanceMarket::Futures {
            "/public/stream"
        } else {
            "/stream"
        };
        let url = format!(
            "{}{route}?streams={}",
            p.ws_url.trim_end_matches('/'),
            streams.join("/")
        );
        // The snapshot thread: REST off the feed's path, results on the md ring.
        let (tx, rx) = unbounded::<(InstrumentId, String)>();
        let mut md_snap = p.md.clone();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into();
        let path = if p.market == BinanceMarket::Futures {
            "/fapi/v1/depth"
        } else {
            "/api/v3/depth"
        };
        let rest = p.rest_url.trim_end_matches('/').to_string();
        let (market, clock) = (p.market, p.clock.clone());
        let depth: Vec<InstrumentId> = symbols.iter().map(|(id, _)| *id).collect();
        let handover = Handover::new(p.market, p.instruments.len(), &depth);
        let errors = Arc::new(AtomicU64::new(0));
        let errs = errors.clone();
        let thread = std::thread::Builder::new()
            .name("feed.binance.snapshot".into())
            .spawn(move || {
                let mut parser = BinanceParser::new(market);
                while let Ok((id, symbol)) = rx.recv() {
                    let url = format!("{rest}{path}?symbol={symbol}&limit=1000");
                    let body = agent
                        .get(&url)
                        .call()
                        .ok()
                        .filter(|r| r.status().is_success())
                        .and_then(|mut r| r.body_mut().read_to_vec().ok());
                    let Some(body) = body else {
                        errs.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    let ts = clock.raw();
                    let res = parser.parse_depth_snapshot(&body, id, ts, |ev| {
                        let now = clock.raw();
                        md_snap.publish(|slot| {
                            *slot = *ev;
                            slot.ts_parsed = now;
                        });
                    });
                    if res.is_err() {
                        errs.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .map_err(|e| format!("snapshot thread: {e}"))?;
        Ok(BinanceWsFeed {
            market: p.market,
            url,
            tls: p.tls,
            symbols,
            instruments: p.instruments,
            live: None,
            next: None,
            opening: None,
            handover,
            handover_started: 0,
            rotate_after_ns: p.rotate_after.map(|d| d.as_nanos() as u64),
            next_rotation: Instant::now(),
            rotation_backoff: Backoff::new(BACKOFF_MIN, BACKOFF_MAX, 0x9e37_79b9_7f4a_7c15),
            parser: BinanceParser::new(p.market),
            md: Some(p.md),
            snapshots: Some(tx),
            snapshot_thread: Some(thread),
            snapshot_errors: errors,
            resync: p.resync,
            clock: p.clock,
            latency: LatencySet::default(),
            counters: p.counters,
            tele: p.tele,
            shutdown: p.shutdown,
            next_attempt: Instant::now(),
            backoff: Backoff::new(BACKOFF_MIN, BACKOFF_MAX, 0x2545_f491_4f6c_dd1d),
            counts: FeedCounts::default(),
            last_error: None,
            connects: 0,
            rotations: 0,
            rotation_failures: 0,
        })
    }

    pub fn latency(&self) -> &LatencySet {
        &self.latency
    }

    /// How the depth streams were handed over in rotations so far.
    pub fn handover_counts(&self) -> HandoverCounts {
        self.handover.counts()
    }

    /// Why the latest connection attempt (cold or for a rotation) failed (cleared by a
    /// successful one).
    pub fn last_connect_error(&self) -> Option<&ConnectError> {
        self.last_error.as_ref()
    }

    /// REST snapshots that failed (fetch or parse); each is asked again on the next resync.
    pub fn snapshot_errors(&self) -> u64 {
        self.snapshot_errors.load(Ordering::Relaxed)
    }

    fn system(&self, code: SystemCode, detail: u64) {
        self.tele.send(Telemetry::System(SystemEvent {
            code,
            venue: self.market.venue(),
            detail,
            ts: self.clock.raw(),
            ..Default::default()
        }));
    }

    fn request_snapshot(&self, id: InstrumentId, symbol: &str) {
        if let Some(tx) = &self.snapshots {
            let _ = tx.send((id, symbol.to_string()));
        }
    }

    /// A cold connect: the books are snapshotted again.
    fn connect(&mut self) -> Result<(), ConnectError> {
        let ws = open(&self.url, &self.tls)?;
        self.live = Some(Conn {
            ws,
            id: next_conn_id(),
            opened: self.clock.raw(),
            shutdown_announced: false,
        });
        self.handover.reset();
        self.connects += 1;
        self.backoff.reset();
        self.system(SystemCode::FeedUp, self.connects);
        for (id, s) in &self.symbols {
            self.request_snapshot(*id, s);
        }
        Ok(())
    }

    fn disconnected(&mut self) {
        self.live = None;
        self.next = None;
        self.opening = None;
        self.handover.reset();
        let venue = self.market.venue();
        if let Some(md) = self.md.as_mut() {
            let now = self.clock.raw();
            md.publish(|e| {
                *e = MdEvent {
                    kind: MdKind::FeedDown,
                    venue,
                    last_chunk: true,
                    ts_frame: now,
                    ts_parsed: now,
                    ..Default::default()
                }
            });
        }
        self.system(SystemCode::FeedDown, self.connects);
        self.next_attempt = Instant::now() + self.backoff.next_wait();
    }

    /// Reads every frame buffered on one connection and publishes what the handover admits.
    /// Returns the frames read and whether the connection failed.
    fn read(&mut self, from: Source) -> (usize, bool) {
        let BinanceWsFeed {
            live,
            next,
            parser,
            md,
            instruments,
            clock,
            latency,
            counts,
            handover,
            ..
        } = self;
        let conn = match from {
            Source::Live => live,
            Source::Next => next,
        };
        let Some(conn) = conn.as_mut() else {
            return (0, false);
        };
        let mut announced = false;
        let (frames, closed) = drain(&mut conn.ws, clock, |bytes, ts| {
            counts.frames += 1;
            let res = parser.parse_ws(bytes, ts, instruments, |ev| {
                if handover.admit(from, ev) == Verdict::Publish {
                    publish_md(md, clock, latency, &mut counts.md_events, ev);
                }
                if ev.kind == MdKind::BookUpdate && ev.last_chunk {
                    handover.release(ev.instrument, |h| {
                        publish_md(md, clock, latency, &mut counts.md_events, h)
                    });
                }
            });
            match res {
                Ok(BinanceOutcome::ServerShutdown) => announced = true,
                Ok(_) => {}
                Err(_) => counts.parse_errors += 1,
            }
        });
        conn.shutdown_announced |= announced;
        (frames, closed || flush_failed(&mut conn.ws))
    }

    /// Starts, advances or ends a rotation (module doc, step 5).
    fn rotate(&mut self) {
        let Some(live) = &self.live else {
            return;
        };
        if self.next.is_some() {
            let elapsed = self.clock.delta_ns(self.handover_started, self.clock.raw());
            if self.handover.complete() || elapsed >= HANDOVER_MAX.as_nanos() as u64 {
                self.promote();
            }
            return;
        }
        if let Some((rx, since)) = &self.opening {
            match rx.try_recv() {
                Ok(Ok(ws)) => {
                    self.opening = None;
                    self.last_error = None;
                    let now = self.clock.raw();
                    self.next = Some(Conn {
                        ws,
                        id: next_conn_id(),
                        opened: now,
                        shutdown_announced: false,
                    });
                    self.handover.begin();
                    self.handover_started = now;
                }
                Err(TryRecvError::Empty) if since.elapsed() < OPEN_TIMEOUT => {}
                Ok(Err(e)) => {
                    self.last_error = Some(e);
                    self.rotation_failed();
                }
                _ => self.rotation_failed(),
            }
            return;
        }
        let Some(after) = self.rotate_after_ns else {
            return;
        };
        let age = self.clock.delta_ns(live.opened, self.clock.raw());
        if (live.shutdown_announced || age >= after) && Instant::now() >= self.next_rotation {
            self.opening = Some((open_in_background(&self.url, &self.tls), Instant::now()));
        }
    }

    /// The new connection could not be opened or died before the handover ended: the old one
    /// keeps (or takes back) every stream; try again later.
    fn rotation_failed(&mut self) {
        self.opening = None;
        self.next = None;
        self.handover.abort();
        self.rotation_failures += 1;
        self.next_rotation = Instant::now() + self.rotation_backoff.next_wait();
    }

    /// The new connection becomes the live one; the old one is closed.
    fn promote(&mut self) {
        let Some(next) = self.next.take() else {
            return;
        };
        if let Some(mut old) = self.live.take() {
            let _ = old.ws.close(None);
            let _ = old.ws.flush();
        }
        let BinanceWsFeed {
            handover,
            md,
            clock,
            latency,
            counts,
            ..
        } = self;
        handover.promote(|ev| publish_md(md, clock, latency, &mut counts.md_events, ev));
        self.live = Some(next);
        self.rotations += 1;
        self.counters.rotations.add_shared(1);
        self.rotation_backoff.reset();
        self.system(SystemCode::FeedRotated, self.rotations);
    }

    fn finish(&mut self) {
        self.opening = None;
        for conn in [self.live.take(), self.next.take()].into_iter().flatten() {
            let mut ws = conn.ws;
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.snapshots = None;
        if let Some(t) = self.snapshot_thread.take() {
            let _ = t.join();
        }
        self.md = None;
    }
}

impl Drop for BinanceWsFeed {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Stage for BinanceWsFeed {
    fn name(&self) -> &'static str {
        "feed.binance"
    }

    /// Both connections during a rotation: the thread wakes for either.
    fn wait_fds(&self, out: &mut Vec<WaitFd>) {
        for c in [&self.live, &self.next].into_iter().flatten() {
            out.push(wait_fd(&c.ws, c.id));
        }
    }

    fn poll(&mut self) -> Poll {
        if self.shutdown.phase() >= Phase::StopFeeds {
            self.finish();
            return Poll::Finished;
        }
        if self.live.is_none() {
            if Instant::now() < self.next_attempt {
                return Poll::Idle;
            }
            match self.connect() {
                Ok(()) => self.last_error = None,
                Err(e) => {
                    self.last_error = Some(e);
                    self.disconnected();
                    return Poll::Idle;
                }
            }
        }
        for (id, s) in &self.symbols {
            if self.resync.take(*id) {
                self.request_snapshot(*id, s);
            }
        }
        let (n_live, live_failed) = self.read(Source::Live);
        let (n_next, next_failed) = self.read(Source::Next);
        if next_failed {
            self.rotation_failed();
        }
        if live_failed {
            if self.next.is_some() {
                self.promote();
            } else {
                self.disconnected();
            }
        }
        self.rotate();
        self.counts.publish(&self.counters);
        let n = n_live + n_next;
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
