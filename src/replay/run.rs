//! The replay loop: one thread, the capture's clock, the engine's own stages.
//!
//! The engine is built as for a live run ([`crate::engine::build_capturing`] with
//! [`Venues::External`]) on a mocked clock that stands at the capture time of the frame being
//! replayed, so every stage reads capture time and nothing in the result depends on the wall
//! clock. For each frame, in capture order:
//!
//! 1. the clock moves to the frame's time; on the way, each request due at the simulated venue
//!    arrives at its own time, and while orders are open the order stage's 10 ms timer runs
//!    at its own times too;
//! 2. the frame goes through its live parser onto the md ring ([`ReplayFeed`]);
//! 3. the book stage applies it; the venue then sees the new MAX book and the public trades
//!    (queue positions, crossing fills);
//! 4. book, scanner and order stages are polled in turn until none has work; each request the
//!    order stage hands to the gateway goes to the venue, each answer of the venue is written
//!    as MAX writes it and parsed back onto the exec ring ([`ExecAnswers`]).
//!
//! At the end the md ring closes as at a live shutdown: the order stage cancels what rests
//! (`cancel_on_shutdown`) and the replay runs on in capture time until the cancels are answered.

use super::feed::{ReplayFeed, ReplayFeedCounts, ack_latencies};
use super::journal::{Journal, PnlPoint};
use super::latency_model::LatencyModel;
use super::max_venue::{BookView, ReplayMaxVenue, ReplayVenueStats};
use super::replay_error::ReplayError;
use super::venue_config::ReplayVenueConfig;
use crate::book::BookStage;
use crate::book::l2book::L2Book;
use crate::capture::{CaptureReader, OwnedFrame, TornBlock};
use crate::config::Config;
use crate::config::replay::ReplayLatency;
use crate::engine::{Venues, build_capturing};
use crate::model::{BookStatus, InstrumentId, Telemetry};
use crate::order::OrderStats;
use crate::order::stage::OrderStage;
use crate::pipeline::{EngineClock, Phase, Poll, Stage};
use crate::sim::exec_answers::ExecAnswers;
use crate::sim::exec_venue::ExecOutput;
use crate::telemetry::summary::PositionRow;
use disruptor::Producer;
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The order stage's timer period (its `TIMER_NS`): while orders are open, the replay's clock
/// stops at least this often between frames so timeouts fire when they would have.
const TIMER_STEP_NS: u64 = 10_000_000;
/// After the last frame, how long (capture time) the replay waits for resting orders'
/// cancels at most, beyond `engine.cancel_timeout_ms`.
const END_GRACE_NS: u64 = 1_000_000_000;

/// How fast the capture's time runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as the stages go.
    Max,
    /// This many capture seconds per wall-clock second (`1x` is real time).
    Times(f64),
}

impl std::str::FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Speed, String> {
        if s == "max" {
            return Ok(Speed::Max);
        }
        s.strip_suffix('x')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x > 0.0)
            .map(Speed::Times)
            .ok_or_else(|| format!("{s:?}: \"max\", \"1x\" or a factor like \"10x\""))
    }
}

#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Results start here (Unix ns): earlier frames only warm up the books and the scanners'
    /// averages, with no signal published.
    pub from_ns: Option<u64>,
    /// Frames after this (Unix ns) are not replayed.
    pub to_ns: Option<u64>,
    pub speed: Speed,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            from_ns: None,
            to_ns: None,
            speed: Speed::Max,
        }
    }
}

/// The engine's own compute per frame, measured with the real clock (outside the results'
/// determinism): parse alone, and the frame through every stage until all are idle.
pub struct ComputeLatency {
    pub parse: Histogram<u64>,
    pub frame: Histogram<u64>,
}

impl ComputeLatency {
    fn new() -> ComputeLatency {
        let h = || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
        ComputeLatency {
            parse: h(),
            frame: h(),
        }
    }
}

/// What a replay did.
pub struct ReplayRun {
    pub dir: PathBuf,
    pub journal: Journal,
    pub feed: ReplayFeedCounts,
    pub venue: ReplayVenueStats,
    pub orders: OrderStats,
    pub positions: Vec<PositionRow>,
    pub realized_usdt: f64,
    pub final_usdt: f64,
    /// Fees paid, in USDT (each market's quote currency converted as its P&L is).
    pub fees_usdt: f64,
    /// Capture time of the first and the last frame replayed (Unix ns).
    pub first_ns: u64,
    pub last_ns: u64,
    /// Frames read from the capture, and of them the ones before `--from`.
    pub frames: u64,
    pub warmup_frames: u64,
    /// Signals the scanners found during the warm-up (not published).
    pub warmup_signals: u64,
    pub md_events: u64,
    pub book_tops: u64,
    /// Where the capture is torn, when it is: the replay stopped there.
    pub tear: Option<TornBlock>,
    pub latency_model: String,
    pub open_orders_at_end: usize,
    /// Telemetry the replay could not read (its queues overflowed within one frame).
    pub telemetry_dropped: u64,
    pub compute: ComputeLatency,
    /// Every book at the end, best levels first (at most [`FINAL_BOOK_LEVELS`] a side).
    pub books: Vec<FinalBook>,
    /// Wall-clock seconds the replay took (not part of the results): in all, and the frames'
    /// loop alone (without building the engine and the latency model's first pass).
    pub wall_s: f64,
    pub loop_s: f64,
}

/// Levels per side kept of each book at the end of a replay.
pub const FINAL_BOOK_LEVELS: usize = 20;

/// A book as the replay left it.
#[derive(Clone, Debug, PartialEq)]
pub struct FinalBook {
    pub instrument: InstrumentId,
    pub status: BookStatus,
    pub bids: Vec<crate::model::Level>,
    pub asks: Vec<crate::model::Level>,
}

/// The book stage as the venue reads it: a book only while it is live.
struct LiveBooks<'a>(&'a BookStage);

impl BookView for LiveBooks<'_> {
    fn book(&self, instrument: InstrumentId) -> Option<&L2Book> {
        (self.0.status(instrument) == BookStatus::Live).then(|| self.0.book(instrument))
    }
}

/// The venue's latency model from `[replay] latency`: constant, or the capture's own acks.
fn latency_model(cfg: &Config, dir: &Path) -> Result<LatencyModel, ReplayError> {
    match cfg.replay.latency()? {
        ReplayLatency::Constant(ns) => Ok(LatencyModel::Constant { ns }),
        ReplayLatency::Capture => {
            // A first pass over the capture, keeping only the order answers; a tear ends it
            // like the replay.
            let answers: Vec<OwnedFrame> = CaptureReader::open(dir)?
                .map_while(Result::ok)
                .filter(|f| f.kind == crate::capture::FrameKind::OrderAnswer)
                .collect();
            let samples = ack_latencies(answers.iter().map(OwnedFrame::as_frame));
            if samples.is_empty() {
                return Err(ReplayError::NoLatencySamples(dir.to_path_buf()));
            }
            Ok(LatencyModel::empirical(samples)?)
        }
    }
}

fn work(p: Poll) -> usize {
    match p {
        Poll::Busy(n) => n,
        Poll::Idle | Poll::Finished => 0,
    }
}

/// Replays the capture in `dir` with `cfg`.
pub fn replay(cfg: &Config, dir: &Path, opts: &ReplayOptions) -> Result<ReplayRun, ReplayError> {
    let wall = Instant::now();
    let mut reader = CaptureReader::open(dir)?;
    let first = match reader.next() {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(e.into()),
        None => return Err(ReplayError::Empty(dir.to_path_buf())),
    };
    let latency = latency_model(cfg, dir)?;
    let latency_name = latency.describe();
    let mut cfg = cfg.clone();
    // Nothing leaves the process: no bus, no signal log (the journal has every signal).
    cfg.nats.enabled = false;
    cfg.log.signal_log = false;
    let (clock, mock) = EngineClock::mock(first.ts_utc_ns);
    let mut built = build_capturing(&cfg, false, Venues::External, clock.clone(), None)?;
    let ends = built
        .ends
        .take()
        .expect("Venues::External always hands its ends over");
    let rxs = std::mem::take(&mut built.side.rxs);
    let instruments = built.instruments.clone();
    let mut venue = ReplayMaxVenue::new(
        ReplayVenueConfig {
            latency,
            maker_fee_bps: cfg.replay.maker_fee_bps,
            taker_fee_bps: cfg.replay.taker_fee_bps,
            seed: cfg.replay.seed,
        },
        &instruments,
    )?;
    let tsc = quanta::Clock::new();
    let mut r = Replayer {
        first_ns: first.ts_utc_ns,
        tsc: tsc.clone(),
        shutdown: built.shutdown.clone(),
        instruments: instruments.clone(),
        clock,
        mock,
        now: first.ts_utc_ns,
        md: Some(ends.md),
        exec: Some(ends.exec),
        gateway: ends.gateway,
        feed: ReplayFeed::new(instruments.clone()),
        answers: ExecAnswers::default(),
        journal: Journal::new(instruments.clone()),
        rxs,
        venue: &mut venue,
        book: &mut built.book,
        scanner: &mut built.scanner,
        order: &mut built.order,
        books_touched: Vec::new(),
        trades: Vec::new(),
        pnl_every: cfg.replay.pnl_interval_ms * 1_000_000,
        next_pnl: first.ts_utc_ns,
        fills_seen: 0,
    };
    let mut compute = ComputeLatency::new();
    let from = opts.from_ns.unwrap_or(0);
    let warming = from > first.ts_utc_ns;
    r.scanner.set_muted(warming);
    let (mut frames, mut warmup_frames, mut last_ns) = (0u64, 0u64, first.ts_utc_ns);
    let mut tear = None;
    let mut next = Some(first);
    let loop_start = Instant::now();
    while let Some(f) = next.take() {
        if opts.to_ns.is_some_and(|to| f.ts_utc_ns > to) {
            break;
        }
        if let Speed::Times(x) = opts.speed {
            let due =
                Duration::from_secs_f64((f.ts_utc_ns.saturating_sub(r.first_ns)) as f64 / 1e9 / x);
            if let Some(wait) = due.checked_sub(loop_start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        if f.ts_utc_ns >= from && r.scanner.muted() {
            r.scanner.set_muted(false);
        }
        if f.ts_utc_ns < from {
            warmup_frames += 1;
        }
        r.advance_to(f.ts_utc_ns);
        let t0 = tsc.raw();
        let t1 = r.frame(&f);
        r.settle();
        let t2 = tsc.raw();
        let _ = compute.parse.record(tsc.delta_as_nanos(t0, t1).max(1));
        let _ = compute.frame.record(tsc.delta_as_nanos(t0, t2).max(1));
        r.sample_pnl(false);
        frames += 1;
        last_ns = last_ns.max(f.ts_utc_ns);
        next = match reader.next() {
            Some(Ok(f)) => Some(f),
            Some(Err(crate::capture::CaptureError::Torn(t))) => {
                tracing::warn!("replay stops at the tear: {t}");
                tear = Some(t);
                None
            }
            Some(Err(e)) => return Err(e.into()),
            None => None,
        };
    }
    r.finish(
        last_ns,
        cfg.engine.cancel_timeout_ms * 1_000_000 + END_GRACE_NS,
    );
    let loop_s = loop_start.elapsed().as_secs_f64();
    r.sample_pnl(true);
    let warmup_signals = r.scanner.muted_signals();
    let (realized_usdt, final_usdt) = r.pnl_now();
    let fees_usdt = {
        let book = r.order.manager().positions_book();
        r.order
            .manager()
            .positions()
            .iter()
            .map(|p| p.fees.to_f64() * book.quote_to_usdt(p.instrument))
            .sum()
    };
    let order = &*r.order;
    let positions = crate::telemetry::Summary::new(
        0.0,
        Default::default(),
        &Default::default(),
        &order.manager().positions(),
        &instruments,
    )
    .positions;
    let orders = order.manager().stats();
    let open_orders_at_end = order.manager().open_order_count();
    let telemetry_dropped = r.rxs.iter().map(|q| q.dropped()).sum();
    let first_ns = r.first_ns;
    let books = instruments
        .iter()
        .map(|i| {
            let b = r.book.book(i.id);
            FinalBook {
                instrument: i.id,
                status: r.book.status(i.id),
                bids: b.bids.top(FINAL_BOOK_LEVELS).collect(),
                asks: b.asks.top(FINAL_BOOK_LEVELS).collect(),
            }
        })
        .collect();
    let Replayer { journal, feed, .. } = r;
    let c = &built.counters;
    Ok(ReplayRun {
        dir: dir.to_path_buf(),
        journal,
        feed: feed.counts(),
        venue: venue.stats(),
        orders,
        positions,
        realized_usdt,
        final_usdt,
        fees_usdt,
        first_ns,
        last_ns,
        frames,
        warmup_frames,
        warmup_signals,
        md_events: feed.counts().md_events,
        book_tops: c.book.get(),
        tear,
        latency_model: latency_name,
        open_orders_at_end,
        telemetry_dropped,
        compute,
        books,
        wall_s: wall.elapsed().as_secs_f64(),
        loop_s,
    })
}

/// The replay's moving parts, borrowed from the built engine.
struct Replayer<'a> {
    first_ns: u64,
    /// The real clock, for the compute latency.
    tsc: quanta::Clock,
    shutdown: crate::pipeline::Shutdown,
    instruments: crate::model::Instruments,
    clock: EngineClock,
    mock: std::sync::Arc<quanta::Mock>,
    /// The capture time the clock stands at (Unix ns).
    now: u64,
    md: Option<crate::pipeline::ring::MdProducer>,
    exec: Option<crate::pipeline::ring::ExecProducer>,
    gateway: crate::pipeline::gateway_queue::GatewayQueue,
    feed: ReplayFeed,
    answers: ExecAnswers,
    journal: Journal,
    rxs: Vec<crate::telemetry::TelemetryRx>,
    venue: &'a mut ReplayMaxVenue,
    book: &'a mut BookStage,
    scanner: &'a mut crate::scanner::stage::ScannerStage,
    order: &'a mut OrderStage,
    books_touched: Vec<InstrumentId>,
    trades: Vec<(InstrumentId, crate::model::Level, crate::model::Side)>,
    pnl_every: u64,
    next_pnl: u64,
    fills_seen: u64,
}

impl Replayer<'_> {
    /// Moves the clock forward to `t` (never back: a frame stamped earlier than the one
    /// before it is replayed at the later time).
    fn set_now(&mut self, t: u64) {
        if t > self.now {
            self.mock.increment(t - self.now);
            self.now = t;
        }
    }

    /// Runs the time between the last frame and `t`: requests arriving at the venue, and the
    /// order stage's timer while orders are open.
    fn advance_to(&mut self, t: u64) {
        loop {
            let due = self.venue.next_due_ns().filter(|d| *d <= t);
            let timer = (self.order.manager().open_order_count() > 0)
                .then_some(self.now + TIMER_STEP_NS)
                .filter(|d| *d <= t);
            let step = match (due, timer) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            self.set_now(step);
            self.arrivals();
            self.settle();
            self.sample_pnl(false);
        }
        self.set_now(t);
    }

    /// Parses and publishes one frame, lets the book stage apply it and shows the venue the
    /// books and trades it changed. Returns the TSC after parsing (compute latency).
    fn frame(&mut self, f: &OwnedFrame) -> u64 {
        let ts = self.clock.raw();
        let Some(md) = self.md.as_mut() else {
            return ts;
        };
        let fx = self.feed.ingest(&f.as_frame(), ts, md);
        self.books_touched.clear();
        self.books_touched.extend_from_slice(&fx.max_books);
        self.trades.clear();
        self.trades.extend_from_slice(&fx.trades);
        let parsed = self.tsc.raw();
        while work(self.book.poll()) > 0 {}
        let now = self.now;
        let mut outs = Vec::new();
        for &(i, level, side) in &self.trades {
            self.venue
                .on_trade(i, level.price, level.qty, side, now, &mut |o| outs.push(o));
        }
        for &i in &self.books_touched {
            self.venue
                .on_book(i, &LiveBooks(self.book), now, &mut |o| outs.push(o));
        }
        for o in outs {
            self.answer(o);
        }
        parsed
    }

    /// Requests due at the venue by now.
    fn arrivals(&mut self) {
        let mut outs = Vec::new();
        self.venue
            .arrive_due(self.now, &LiveBooks(self.book), &mut |o| outs.push(o));
        for o in outs {
            self.answer(o);
        }
    }

    /// One answer of the venue: journaled, written as MAX writes it, parsed onto the exec ring.
    fn answer(&mut self, o: ExecOutput) {
        self.journal.answer(self.now, &o);
        let Some(exec) = self.exec.as_mut() else {
            return;
        };
        self.answers
            .answer(o, &self.instruments, &self.clock, |ev| {
                exec.publish(|slot| *slot = *ev)
            });
    }

    /// Polls the stages in turn, hands requests to the venue and reads the telemetry, until
    /// nothing moves.
    fn settle(&mut self) {
        loop {
            let mut n =
                work(self.book.poll()) + work(self.scanner.poll()) + work(self.order.poll());
            while let Some(req) = self.gateway.pop() {
                n += 1;
                self.journal.request(self.now, &req);
                self.venue.submit(&req, self.now);
            }
            if self.venue.next_due_ns().is_some_and(|d| d <= self.now) {
                n += 1;
                self.arrivals();
            }
            for rx in &self.rxs {
                while let Some(t) = rx.pop() {
                    if let Telemetry::Signal(s) = t {
                        self.journal.signal(self.now, &s);
                    }
                }
            }
            if n == 0 {
                break;
            }
        }
    }

    /// Realized and total P&L in USDT, as the order stage's positions value them now.
    fn pnl_now(&self) -> (f64, f64) {
        let book = self.order.manager().positions_book();
        let realized = self
            .order
            .manager()
            .positions()
            .iter()
            .map(|p| p.realized_pnl * book.quote_to_usdt(p.instrument))
            .sum();
        (realized, book.total_pnl_usdt())
    }

    /// A P&L point at every new fill and every `pnl_interval_ms`, or now with `force`.
    fn sample_pnl(&mut self, force: bool) {
        let fills = self.journal.counts().fills;
        if force || fills != self.fills_seen || self.now >= self.next_pnl {
            self.fills_seen = fills;
            while self.next_pnl <= self.now {
                self.next_pnl += self.pnl_every;
            }
            let (realized_usdt, total_usdt) = self.pnl_now();
            self.journal.pnl_at(PnlPoint {
                ts_utc_ns: self.now,
                realized_usdt,
                total_usdt,
            });
        }
    }

    /// Closes the md ring as a live shutdown does and runs on in capture time until the
    /// order stage has its cancels answered (or `limit_ns` after the last frame).
    fn finish(&mut self, last_ns: u64, limit_ns: u64) {
        self.set_now(last_ns);
        self.md = None;
        let end = last_ns + limit_ns;
        let shutdown = self.shutdown.clone();
        shutdown.advance(Phase::StopFeeds);
        self.settle();
        while !shutdown.orders_settled() && self.now < end {
            let step = self
                .venue
                .next_due_ns()
                .unwrap_or(u64::MAX)
                .min(self.now + TIMER_STEP_NS)
                .min(end);
            self.set_now(step);
            self.arrivals();
            self.settle();
        }
        shutdown.advance(Phase::Done);
        self.exec = None;
        while self.order.poll() != Poll::Finished && self.now < end {
            self.set_now(self.now + TIMER_STEP_NS);
        }
        self.settle();
    }
}
