//! The Binance market-data feed (spot or USDⓈ-M futures): one combined-stream WebSocket with
//! `<symbol>@depth@100ms` and `<symbol>@bookTicker` for every instrument it serves, and the
//! REST depth snapshots the book sync needs (spec binance.md §1, §3).
//!
//! A connection carries at most 1024 streams (two a symbol): a venue with more symbols than
//! `[venues.binance] streams_per_connection` allows is served by several feeds, one per group
//! of symbols ([`connection_groups`]), each with its own connection, snapshot thread, resync
//! pacing and rotation, all sharing the venue's ban. A feed handles its own symbols only, and a
//! lost connection resets only its books (one `FeedDown` per book).
//!
//! Protocol:
//! 1. Connect to `{ws_url}/stream?streams=…` (spot) or `{ws_url}/public/stream?streams=…`
//!    (futures: depth and bookTicker are on the `/public` route since 2026).
//! 2. Once subscribed, ask for a REST depth snapshot of every symbol. Snapshots are fetched on a
//!    separate thread (a REST round trip never blocks the feed) and published on the md ring
//!    like any frame; meanwhile the book stage buffers the stream (§3.2 S2, §3.3 step 2).
//! 3. Poll the socket to empty every time; pings are answered with pongs by the WebSocket layer.
//! 4. A book that loses sync gets a fresh snapshot, at most once per growing back-off step
//!    ([`ResyncPacer`]); a dropped connection publishes `FeedDown` and reconnects with
//!    exponential backoff and jitter, then snapshots every book again. A connection from which
//!    neither a frame nor the answer to a probe ping arrived within `liveness_timeout` is dead
//!    and handled the same way ([`ConnUpkeep`]); our pings and the pongs tungstenite sends
//!    count against the connection's budget (5 messages per second on spot, 10 on futures).
//!    A `429`/`418` from the WebSocket handshake or the REST snapshot sets the venue's ban
//!    ([`VenueGate`]): no connection and no snapshot request before the `Retry-After` it gives.
//!    Snapshots spend the venue's REST request weight ([`WeightBudget`], shared by its feeds):
//!    when the minute's weight is spent, the next snapshot waits for room.
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

mod conn;
mod groups;
mod rotation;
mod snapshot_fetcher;

pub use groups::{STREAMS_PER_SYMBOL, connection_groups};

use crate::capture::CaptureTx;
use crate::feed::handover::{Handover, HandoverCounts, Source};
use crate::feed::message_budget::{BINANCE_FUTURES_WS, BINANCE_SPOT_WS};
use crate::feed::resync_pacer::ResyncPacer;
use crate::feed::weight_budget::WeightBudget;
use crate::feed::ws_conn::{
    ConnectError, FeedCounts, Ws, next_conn_id, publish_feed_down, wait_fd,
};
use crate::model::{FeedLink, InstrumentId, Instruments, SystemEvent, SystemKind, Telemetry};
use crate::pipeline::backoff::Backoff;
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage, WaitFd};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::binance::{BinanceMarket, BinanceParser};
use crate::venue::tls::TlsTrust;
use crate::venue::venue_gate::VenueGate;
use crate::venue::wall_clock::local_ms as unix_ms;
use conn::{Conn, UpkeepRules, open};
use crossbeam::channel::{Receiver, Sender, unbounded};
use snapshot_fetcher::SnapshotFetcher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A handover still incomplete after this long (a stream with no traffic cannot chain) is
/// finished by promoting the new connection; the sequencer checks what follows.
const HANDOVER_MAX: Duration = Duration::from_secs(10);
/// A rotation's connection not open after this long counts as failed.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Binance pings us (every 20 s on spot, every 3 min on futures) and we answer; our own pings
/// are the liveness probes, plus one this often so a connection is never quiet on our side.
const PING_EVERY: Duration = Duration::from_secs(60);

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

pub struct BinanceWsFeed {
    market: BinanceMarket,
    url: String,
    tls: TlsTrust,
    symbols: Vec<(InstrumentId, String)>,
    /// Which of the venue's feeds this is (0 with one; the one that reports the shared ban's
    /// refusals).
    group: u16,
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
    /// The snapshot thread's queue, its handle, and what it needs to start (at the first
    /// connection, so that [`BinanceWsFeed::with_gate`] can still change its gate).
    snapshots: Option<Sender<(InstrumentId, String)>>,
    snapshot_thread: Option<std::thread::JoinHandle<()>>,
    snapshot_setup: Option<SnapshotFetcher>,
    snapshot_stop: Arc<AtomicBool>,
    snapshot_errors: Arc<AtomicU64>,
    resync: Arc<ResyncRequests>,
    /// The resync requests already looked at ([`ResyncRequests::take_new`]).
    resync_seen: u64,
    /// Per-book pacing of snapshot requests (indexed like `symbols`).
    pacer: ResyncPacer,
    rules: UpkeepRules,
    gate: Arc<VenueGate>,
    /// Connections declared dead (silent past the deadline), 429/418 refusals seen, and what
    /// has been added to the shared counters: (dead, budget deferred, budget ms, refusals).
    dead: u64,
    budget: (u64, Duration),
    published: (u64, u64, u64, u64),
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
    /// Every frame read, and every snapshot body, also goes here (`--capture`).
    capture: Option<CaptureTx>,
    /// When the parse latency next goes to the metrics.
    latency_report: crate::telemetry::LatencyReport,
}

impl BinanceWsFeed {
    /// One feed for every instrument of the market's venue (on one connection: as many
    /// streams as that takes).
    pub fn new(p: BinanceWsFeedParts) -> BinanceWsFeed {
        let venue = p.market.venue();
        let books: Vec<InstrumentId> = p
            .instruments
            .iter()
            .filter(|i| i.venue == venue)
            .map(|i| i.id)
            .collect();
        Self::serving(p, &books, 0)
    }

    /// A feed for `books` only (one of [`connection_groups`]; ids of another venue or not in
    /// the table are left out), the venue's `group`-th.
    pub fn serving(p: BinanceWsFeedParts, books: &[InstrumentId], group: u16) -> BinanceWsFeed {
        let venue = p.market.venue();
        let symbols: Vec<(InstrumentId, String)> = p
            .instruments
            .iter()
            .filter(|i| i.venue == venue && books.contains(&i.id))
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
        let path = if p.market == BinanceMarket::Futures {
            "/fapi/v1/depth"
        } else {
            "/api/v3/depth"
        };
        let depth: Vec<InstrumentId> = symbols.iter().map(|(id, _)| *id).collect();
        let handover = Handover::new(p.market, p.instruments.len(), &depth);
        let snapshot_errors = Arc::new(AtomicU64::new(0));
        let setup = SnapshotFetcher {
            market: p.market,
            url_prefix: p.rest_url.trim_end_matches('/').to_string() + path,
            md: p.md.clone(),
            clock: p.clock.clone(),
            errors: snapshot_errors.clone(),
            capture: None,
            weight: Arc::new(WeightBudget::per_minute(
                crate::venue::binance::weight::weight_per_minute(p.market),
            )),
            resync: p.resync.clone(),
            counters: p.counters.clone(),
        };
        let pacer = ResyncPacer::new(symbols.len(), 0x2b99_2ddf_a232_49d6);
        let defaults = crate::feed::venue_config::BinanceVenue::default();
        let rules = UpkeepRules {
            limits: if p.market == BinanceMarket::Futures {
                &BINANCE_FUTURES_WS
            } else {
                &BINANCE_SPOT_WS
            },
            timeout: Duration::from_millis(defaults.liveness_timeout_ms),
            ping_every: PING_EVERY,
        };
        BinanceWsFeed {
            market: p.market,
            url,
            tls: p.tls,
            group,
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
            snapshots: None,
            snapshot_thread: None,
            snapshot_setup: Some(setup),
            snapshot_stop: Arc::new(AtomicBool::new(false)),
            snapshot_errors,
            resync: p.resync,
            resync_seen: 0,
            pacer,
            rules,
            gate: Arc::new(VenueGate::new()),
            dead: 0,
            budget: (0, Duration::ZERO),
            published: (0, 0, 0, 0),
            clock: p.clock,
            latency: LatencySet::default(),
            counters: p.counters,
            tele: p.tele,
            shutdown: p.shutdown,
            next_attempt: Instant::now(),
            backoff: Backoff::new(
                BACKOFF_MIN,
                BACKOFF_MAX,
                0x2545_f491_4f6c_dd1d ^ u64::from(group),
            ),
            counts: FeedCounts::for_group(group),
            last_error: None,
            connects: 0,
            rotations: 0,
            rotation_failures: 0,
            capture: None,
            latency_report: Default::default(),
        }
    }

    /// Hands every frame read and every snapshot body to a capture as well.
    pub fn with_capture(mut self, capture: Option<CaptureTx>) -> Self {
        if let Some(setup) = self.snapshot_setup.as_mut() {
            setup.capture.clone_from(&capture);
        }
        self.capture = capture;
        self
    }

    pub fn latency(&self) -> &LatencySet {
        &self.latency
    }

    /// How the depth streams were handed over in rotations so far.
    pub fn handover_counts(&self) -> HandoverCounts {
        self.handover.counts()
    }

    /// The books this feed serves.
    pub fn books(&self) -> impl ExactSizeIterator<Item = InstrumentId> + '_ {
        self.symbols.iter().map(|(id, _)| *id)
    }

    /// Why the latest connection attempt (cold or for a rotation) failed (cleared by a
    /// successful one).
    pub fn last_connect_error(&self) -> Option<&ConnectError> {
        self.last_error.as_ref()
    }

    /// REST snapshots that failed (fetch or parse); each is asked again, paced like a resync.
    pub fn snapshot_errors(&self) -> u64 {
        self.snapshot_errors.load(Ordering::Relaxed)
    }

    /// The venue's ban, shared by the WebSocket connections and the REST snapshots (and, with
    /// `arbline run`, by nothing else: Binance is market data only). Before the first poll.
    pub fn with_gate(mut self, gate: Arc<VenueGate>) -> Self {
        self.gate = gate;
        self
    }

    /// The venue's REST request-weight budget, shared by its feeds (default: a budget of this
    /// feed's own at the market's documented limit). Before the first poll.
    pub fn with_weight_budget(mut self, weight: Arc<WeightBudget>) -> Self {
        if let Some(setup) = self.snapshot_setup.as_mut() {
            setup.weight = weight;
        }
        self
    }

    /// The liveness deadline (config `[venues.binance] liveness_timeout_ms`).
    pub fn with_liveness(mut self, timeout: Duration) -> Self {
        self.rules.timeout = timeout;
        self
    }

    fn publish_counters(&mut self) {
        self.counts.publish(&self.counters);
        let stopping = self.md.is_none();
        self.counts.report(
            &self.latency,
            &mut self.latency_report,
            &self.tele,
            &self.clock,
            self.market.venue(),
            stopping,
        );
        let mut budget = self.budget;
        for c in [&self.live, &self.next].into_iter().flatten() {
            budget.0 += c.upkeep.budget.deferred;
            budget.1 += c.upkeep.budget.waited;
        }
        let now = (
            self.dead,
            budget.0,
            budget.1.as_millis() as u64,
            // The venue's refusals, whichever feed met them: the first feed reports the
            // shared gate's count.
            if self.group == 0 {
                self.gate.refusals()
            } else {
                0
            },
        );
        let c = &self.counters;
        c.dead_connections.add_shared(now.0 - self.published.0);
        c.budget_deferred
            .add_shared(now.1.saturating_sub(self.published.1));
        c.budget_wait_ms
            .add_shared(now.2.saturating_sub(self.published.2));
        c.venue_refusals.add_shared(now.3 - self.published.3);
        self.published = (
            now.0,
            now.1.max(self.published.1),
            now.2.max(self.published.2),
            now.3,
        );
    }

    /// A connection is going away: keep its budget counts.
    fn retire(&mut self, conn: Option<Conn>) {
        if let Some(mut c) = conn {
            self.budget.0 += c.upkeep.budget.deferred;
            self.budget.1 += c.upkeep.budget.waited;
            let _ = c.ws.close(None);
            let _ = c.ws.flush();
        }
    }

    pub(super) fn system(&self, kind: SystemKind) {
        self.tele.send(Telemetry::System(SystemEvent {
            kind,
            venue: self.market.venue(),
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
        if self.snapshot_thread.is_none()
            && let Some(setup) = self.snapshot_setup.take()
        {
            let (tx, rx) = unbounded::<(InstrumentId, String)>();
            let thread = setup
                .spawn(self.gate.clone(), self.snapshot_stop.clone(), rx)
                .map_err(|e| ConnectError::Io(format!("snapshot thread: {e}")))?;
            self.snapshots = Some(tx);
            self.snapshot_thread = Some(thread);
        }
        let refused_before = self.gate.refusals();
        let ws = match open(&self.url, &self.tls, &self.gate, &self.clock) {
            Ok(ws) => ws,
            Err(e) => {
                if self.gate.refusals() > refused_before {
                    self.system(SystemKind::VenueBan {
                        until_unix_ms: self.gate.not_before_ms(),
                    });
                }
                return Err(e);
            }
        };
        self.live = Some(Conn {
            ws,
            id: next_conn_id(),
            opened: self.clock.raw(),
            shutdown_announced: false,
            upkeep: self.rules.upkeep(),
        });
        self.handover.reset();
        self.connects += 1;
        if self.connects > 1 {
            self.counters.reconnects.add_shared(1);
        }
        self.backoff.reset();
        self.system(SystemKind::FeedUp(FeedLink::Connection {
            connects: self.connects,
            group: self.group,
        }));
        for (id, s) in &self.symbols {
            self.request_snapshot(*id, s);
        }
        self.pacer.asked_all(Instant::now());
        Ok(())
    }

    fn disconnected(&mut self) {
        let (live, next) = (self.live.take(), self.next.take());
        self.retire(live);
        self.retire(next);
        self.opening = None;
        self.handover.reset();
        let now = self.clock.raw();
        let books = self.symbols.iter().map(|(id, _)| *id);
        publish_feed_down(&mut self.md, self.market.venue(), books, now);
        self.system(SystemKind::FeedDown(FeedLink::Connection {
            connects: self.connects,
            group: self.group,
        }));
        let mut wait = self.backoff.next_wait();
        if let Some(ban) = self.gate.wait(unix_ms()) {
            wait = wait.max(ban);
        }
        self.next_attempt = Instant::now() + wait;
    }

    fn finish(&mut self) {
        self.opening = None;
        for conn in [self.live.take(), self.next.take()].into_iter().flatten() {
            let mut ws = conn.ws;
            let _ = ws.close(None);
            let _ = ws.flush();
        }
        self.snapshots = None;
        self.snapshot_stop.store(true, Ordering::Release);
        if let Some(t) = self.snapshot_thread.take() {
            let _ = t.join();
        }
        if self.md.take().is_some() {
            // The last running totals (the metrics' final values), once.
            self.publish_counters();
        }
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
        let pacer = &mut self.pacer;
        self.resync.take_new(
            &mut self.resync_seen,
            self.symbols.iter().map(|(id, _)| *id),
            |i| pacer.request(i),
        );
        if self.live.is_none() {
            let now = Instant::now();
            if now < self.next_attempt {
                return Poll::Idle;
            }
            if let Some(ban) = self.gate.wait(unix_ms()) {
                self.next_attempt = now + ban;
                return Poll::Idle;
            }
            match self.connect() {
                Ok(()) => self.last_error = None,
                Err(e) => {
                    self.last_error = Some(e);
                    self.disconnected();
                    self.publish_counters();
                    return Poll::Idle;
                }
            }
        }
        // Snapshots for the books that asked, at most once per step each.
        let mut due = Vec::new();
        self.pacer.take_due(Instant::now(), |i| due.push(i));
        for i in due {
            let (id, s) = &self.symbols[i];
            self.request_snapshot(*id, s);
        }
        let (n_live, live_failed, live_dead) = self.read(Source::Live);
        let (n_next, next_failed, next_dead) = self.read(Source::Next);
        if live_dead || next_dead {
            self.system(SystemKind::ConnectionDead { dead: self.dead });
        }
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
        self.publish_counters();
        let n = n_live + n_next;
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
