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
//!
//! `ws://`/`http://` (the simulator) and `wss://`/`https://` (Binance) alike: the WebSocket
//! through [`crate::feed::ws_conn::connect`] trusting [`TlsTrust`], REST through ureq.

use crate::feed::resync::ResyncRequests;
use crate::feed::tls::TlsTrust;
use crate::feed::ws_conn::{
    Backoff, CONNECT_TIMEOUT, ConnectError, FeedCounts, Ws, connect, drain, flush_failed,
    publish_md,
};
use crate::model::{
    InstrumentId, Instruments, MdEvent, MdKind, SystemCode, SystemEvent, Telemetry,
};
use crate::pipeline::ring::MdProducer;
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage};
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::binance::{BinanceMarket, BinanceParser};
use crossbeam::channel::{Sender, unbounded};
use disruptor::Producer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

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
}

pub struct BinanceWsFeed {
    market: BinanceMarket,
    url: String,
    tls: TlsTrust,
    symbols: Vec<(InstrumentId, String)>,
    instruments: Instruments,
    ws: Option<Ws>,
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
    pub connects: u64,
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
            ws: None,
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
        })
    }

    pub fn latency(&self) -> &LatencySet {
        &self.latency
    }

    /// Why the latest connection attempt failed (cleared by a successful one).
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

    fn connect(&mut self) -> Result<(), ConnectError> {
        let (ws, _) = connect(&self.url, &self.tls, CONNECT_TIMEOUT)?;
        self.ws = Some(ws);
        self.connects += 1;
        self.backoff.reset();
        self.system(SystemCode::FeedUp, self.connects);
        for (id, s) in &self.symbols {
            self.request_snapshot(*id, s);
        }
        Ok(())
    }

    fn disconnected(&mut self) {
        self.ws = None;
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

    fn finish(&mut self) {
        if let Some(mut ws) = self.ws.take() {
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

    fn poll(&mut self) -> Poll {
        if self.shutdown.phase() >= Phase::StopFeeds {
            self.finish();
            return Poll::Finished;
        }
        if self.ws.is_none() {
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
        let mut n = 0;
        let mut failed = false;
        let BinanceWsFeed {
            ws,
            parser,
            md,
            instruments,
            clock,
            latency,
            counts,
            ..
        } = self;
        if let Some(sock) = ws.as_mut() {
            let (frames, closed) = drain(sock, clock, |bytes, ts| {
                counts.frames += 1;
                let ok = parser
                    .parse_ws(bytes, ts, instruments, |ev| {
                        publish_md(md, clock, latency, &mut counts.md_events, ev)
                    })
                    .is_ok();
                if !ok {
                    counts.parse_errors += 1;
                }
            });
            n = frames;
            failed = closed || flush_failed(sock);
        }
        if failed {
            self.disconnected();
        }
        self.counts.publish(&self.counters);
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}
