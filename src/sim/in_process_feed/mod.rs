//! The in-process feed: the synthetic venue stands in for the network.
//!
//! Where a real feed thread reads a frame off a socket, this one asks the synthetic market for
//! the frames due by now, writes them in the venue's exact wire format, stamps the TSC as the
//! frame's arrival and hands it to the same parsers a socket feed uses. Orders taken from the
//! gateway queue go to the synthetic execution venue, whose answers come back as MAX REST
//! replies and private WebSocket frames, parsed and published on the exec ring.
//!
//! The reference rate arrives as the Bank of Taiwan day board CSV and is read by the
//! reference-rate parser, as the real provider will.
//!
//! One concept per file: this one holds the stage ([`SimFeed`]), its state and the reading
//! of a frame back through the venue's parser (`FeedIo::ingest`, the hot path
//! `scripts/instructions` counts); `market.rs` writes the market's frames, `exec.rs` turns the
//! execution venue's answers into MAX replies and frames and publishes what they parse to.

mod exec;
mod market;

use crate::model::{
    FeedLink, InstrumentId, Instruments, SystemEvent, SystemKind, Telemetry, Venue,
};
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::gateway_queue::GatewayQueue;
use crate::pipeline::ring::{ExecProducer, MdProducer};
use crate::pipeline::{EngineClock, Phase, Poll, Shutdown, Stage};
use crate::sim::exec_venue::ExecVenue;
use crate::sim::market::SyntheticMarket;
use crate::telemetry::{EngineCounters, LatencySet, TelemetryTx};
use crate::venue::binance::{BinanceMarket, BinanceParser};
use crate::venue::max::MaxPublicParser;
use crate::venue::md_sink::{MdSink, RingSink};
use crate::venue::refrate::bot_csv;
use std::sync::Arc;
pub struct SimFeedParts {
    pub market: SyntheticMarket,
    pub venue: ExecVenue,
    pub instruments: Instruments,
    pub md: MdProducer,
    pub exec: ExecProducer,
    pub gateway: GatewayQueue,
    pub resync: Arc<ResyncRequests>,
    pub clock: EngineClock,
    pub counters: Arc<EngineCounters>,
    pub tele: TelemetryTx,
    pub shutdown: Shutdown,
    /// Replay mode when > 0: generate this many simulated seconds of frames up front and only
    /// read them back while running, so the feed thread does what a socket feed does (parse and
    /// publish) without the synthetic market's work in between. Resync requests cannot be
    /// served in this mode.
    pub pregenerate_s: f64,
}

/// Parsers, buffers and ring ends: everything but the synthetic venue, so the venue can be
/// polled while its outputs are handled.
struct FeedIo {
    instruments: Instruments,
    spot: BinanceParser,
    futures: BinanceParser,
    max_public: MaxPublicParser,
    answers: crate::sim::exec_answers::ExecAnswers,
    frame: Vec<u8>,
    md: Option<MdProducer>,
    exec: Option<ExecProducer>,
    clock: EngineClock,
    latency: LatencySet,
    counters: Arc<EngineCounters>,
    tele: TelemetryTx,
    frames: u64,
    md_events: u64,
    parse_errors: u64,
    /// Pre-generated frames (replay mode), back to back, and where each one is.
    store: Vec<u8>,
    recorded: Vec<Recorded>,
}

pub struct SimFeed {
    market: SyntheticMarket,
    venue: ExecVenue,
    io: FeedIo,
    gateway: GatewayQueue,
    resync: Arc<ResyncRequests>,
    /// The resync requests already looked at ([`ResyncRequests::take_new`]).
    resync_seen: u64,
    shutdown: Shutdown,
    start_raw: u64,
    /// Replay mode: index of the next pre-generated frame.
    replay_at: usize,
}

impl SimFeed {
    pub fn new(p: SimFeedParts) -> SimFeed {
        let start_raw = p.clock.raw();
        p.tele.send(Telemetry::System(SystemEvent {
            kind: SystemKind::FeedUp(FeedLink::InProcess),
            ts: start_raw,
            ..Default::default()
        }));
        let mut feed = SimFeed {
            market: p.market,
            venue: p.venue,
            io: FeedIo {
                instruments: p.instruments,
                spot: BinanceParser::new(BinanceMarket::Spot),
                futures: BinanceParser::new(BinanceMarket::Futures),
                max_public: MaxPublicParser::new(),
                answers: Default::default(),
                frame: Vec::with_capacity(64 * 1024),
                md: Some(p.md),
                exec: Some(p.exec),
                clock: p.clock,
                latency: LatencySet::default(),
                counters: p.counters,
                tele: p.tele,
                frames: 0,
                md_events: 0,
                parse_errors: 0,
                store: Vec::new(),
                recorded: Vec::new(),
            },
            gateway: p.gateway,
            resync: p.resync,
            resync_seen: 0,
            shutdown: p.shutdown,
            start_raw,
            replay_at: 0,
        };
        if p.pregenerate_s > 0.0 {
            let end = (p.pregenerate_s * 1e9) as u64;
            let mut t = 0;
            while t <= end {
                let io = &mut feed.io;
                feed.market.poll(t, &mut |o| io.record(o, t));
                t += 1_000_000;
            }
        }
        // The clock starts when the feed is ready.
        feed.start_raw = feed.io.clock.raw();
        feed
    }

    pub fn latency(&self) -> &LatencySet {
        &self.io.latency
    }
}

impl Stage for SimFeed {
    fn name(&self) -> &'static str {
        "feed"
    }

    fn poll(&mut self) -> Poll {
        let phase = self.shutdown.phase();
        if phase == Phase::Done {
            // Closing the exec ring lets the order stage finish.
            self.io.md = None;
            self.io.exec = None;
            return Poll::Finished;
        }
        if phase >= Phase::StopFeeds && self.io.md.is_some() {
            // Closing the md ring starts the drain: book, then scanner, then order.
            self.io.md = None;
        }
        let t_ns = self.io.clock.delta_ns(self.start_raw, self.io.clock.raw());
        let before = self.io.frames;
        if self.io.md.is_some() && !self.io.recorded.is_empty() {
            // Replay mode: read back the frames that are due.
            while let Some(r) = self.io.recorded.get(self.replay_at).copied() {
                if r.t_ns > t_ns {
                    break;
                }
                self.replay_at += 1;
                let store = std::mem::take(&mut self.io.store);
                self.io.ingest(r.src, &store[r.start..r.end]);
                self.io.store = store;
            }
        } else if self.io.md.is_some() {
            let (market, io) = (&mut self.market, &mut self.io);
            let n = io.instruments.len();
            self.resync.take_new(
                &mut self.resync_seen,
                (0..n).map(|i| InstrumentId(i as u16)),
                |i| {
                    let inst = *io.instruments.get(InstrumentId(i as u16));
                    match inst.venue {
                        Venue::Max => {
                            market.max_snapshot(inst.symbol.as_str(), &mut |o| io.on_market(o))
                        }
                        Venue::BinanceSpot | Venue::BinanceFutures => {
                            market.binance_snapshot(inst.symbol.as_str())
                        }
                        Venue::RefRate => {}
                    }
                },
            );
            let io = &mut self.io;
            self.market.poll(t_ns, &mut |o| io.on_market(o));
        }
        while let Some(req) = self.gateway.pop() {
            if req.instrument.index() < self.io.instruments.len() {
                let market = self.io.instruments.get(req.instrument).symbol;
                self.venue.submit(&req, market, t_ns);
            }
        }
        let market = &self.market;
        let io = &mut self.io;
        self.venue
            .poll(t_ns, |m: &str| market.max_top(m), |o| io.on_exec(o));
        self.io.publish_counters();
        let n = (self.io.frames - before) as usize;
        if n == 0 { Poll::Idle } else { Poll::Busy(n) }
    }
}

impl FeedIo {
    fn publish_counters(&self) {
        self.counters.frames.set(self.frames);
        self.counters.md.set(self.md_events);
        self.counters.parse_errors.set(self.parse_errors);
    }

    fn parse_error(&mut self, venue: Venue) {
        self.parse_errors += 1;
        self.tele.send(Telemetry::System(SystemEvent {
            kind: SystemKind::ParseError,
            venue,
            ts: self.clock.raw(),
            ..Default::default()
        }));
    }

    /// A frame arrives: stamp it, parse it with the venue's parser, publish the events.
    /// Never inlined: `scripts/instructions` counts the feed's work by this symbol (one call per
    /// frame, so the call costs nothing measurable).
    #[inline(never)]
    fn ingest(&mut self, src: FrameSource, bytes: &[u8]) {
        let FeedIo {
            instruments,
            spot,
            futures,
            max_public,
            md,
            clock,
            latency,
            md_events,
            ..
        } = self;
        let ts = clock.raw();
        let mut out = RingSink {
            md: md.as_mut(),
            clock,
            latency,
            count: md_events,
        };
        let res: Result<(), Venue> = match src {
            FrameSource::Binance(m) => {
                let p = if m == BinanceMarket::Futures {
                    futures
                } else {
                    spot
                };
                p.parse_ws_into(bytes, ts, instruments, out)
                    .map(|_| ())
                    .map_err(|_| m.venue())
            }
            FrameSource::BinanceSnapshot(m, id) => {
                let p = if m == BinanceMarket::Futures {
                    futures
                } else {
                    spot
                };
                p.parse_depth_snapshot_into(bytes, id, ts, out)
                    .map(|_| ())
                    .map_err(|_| m.venue())
            }
            FrameSource::Max => max_public
                .parse_into(bytes, ts, instruments, out)
                .map(|_| ())
                .map_err(|_| Venue::Max),
            FrameSource::BotBoard { instrument, ts_ms } => match bot_csv::parse(bytes, None) {
                Ok(q) => {
                    let ev = crate::venue::refrate::ref_rate_event(instrument, q.mid, ts_ms, ts);
                    out.publish_md(|slot| *slot = ev);
                    Ok(())
                }
                Err(_) => Err(Venue::RefRate),
            },
            FrameSource::Unknown(v) => Err(v),
        };
        self.frames += 1;
        if let Err(v) = res {
            self.parse_error(v);
        }
    }
}

/// How to read a written frame back.
#[derive(Clone, Copy, Debug)]
enum FrameSource {
    Binance(BinanceMarket),
    BinanceSnapshot(BinanceMarket, InstrumentId),
    Max,
    /// A Bank of Taiwan day board (the reference rate's source format).
    BotBoard {
        instrument: InstrumentId,
        ts_ms: u64,
    },
    /// A symbol the engine does not know: counted as a parse error.
    Unknown(Venue),
}

/// A pre-generated frame: `store[start..end]`, due at simulated `t_ns`.
#[derive(Clone, Copy, Debug)]
struct Recorded {
    t_ns: u64,
    src: FrameSource,
    start: usize,
    end: usize,
}
