//! The Binance feed over real loopback sockets against the simulator: combined-stream WebSocket
//! plus REST depth snapshots fetched off the feed's path. The local book equals the simulator's
//! own after start, after injected gaps, after a dropped connection, and across the 24 h
//! rotation (scaled down to milliseconds), which must lose and repeat nothing.
//!
//! Between the feed and the book stage a tap reads every event on the md ring and checks that
//! each depth frame chains onto the previous one of its instrument (futures `pu == u`, spot
//! `U == u + 1`) and that no bookTicker repeats an update id: a depth update published twice
//! or skipped shows there, and in the book's resync count.

use arbline::book::{BookStage, BookStageParts};
use arbline::config::Config;
use arbline::config::sim::SimConfig;
use arbline::config::sim::SimPair;
use arbline::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
use arbline::model::{
    BookStatus, InstrumentId, Instruments, MdEvent, MdKind, SystemCode, SystemKind, Telemetry,
    Venue,
};
use arbline::pipeline::board::MidBoard;
use arbline::pipeline::board::ResyncRequests;
use arbline::pipeline::ring::{BookPoller, MdPoller, MdProducer};
use arbline::pipeline::{EngineClock, Poll, Rings, Shutdown, Stage, WaitFd};
use arbline::sim::binance_ws::BinanceSim;
use arbline::telemetry::{EngineCounters, TelemetryRx, telemetry_queue};
use arbline::venue::binance::BinanceMarket;
use disruptor::Producer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/wait.rs"]
mod wait;
use wait::PATIENCE;

/// Sits on the md ring between the feed and the book and checks the stream's continuity.
struct Tap {
    input: MdPoller,
    out: MdProducer,
    market: BinanceMarket,
    last_depth: HashMap<InstrumentId, u64>,
    last_ticker: HashMap<InstrumentId, u64>,
    depth_frames: u64,
    broken_chains: Vec<String>,
    repeated_tickers: u64,
    feed_downs: u64,
}

impl Tap {
    fn pump(&mut self) -> usize {
        let Tap {
            input,
            out,
            market,
            last_depth,
            last_ticker,
            depth_frames,
            broken_chains,
            repeated_tickers,
            feed_downs,
        } = self;
        let Ok(mut events) = input.take(256) else {
            return 0;
        };
        let mut n = 0;
        for ev in &mut events {
            n += 1;
            match ev.kind {
                MdKind::BookUpdate if ev.chunk == 0 => {
                    *depth_frames += 1;
                    if let Some(&prev) = last_depth.get(&ev.instrument) {
                        let chained = match market {
                            BinanceMarket::Futures => ev.prev_id == prev as i64,
                            BinanceMarket::Spot => ev.first_id == prev + 1,
                        };
                        if !chained && broken_chains.len() < 10 {
                            broken_chains.push(format!(
                                "{:?}: after u={prev} came U={} u={} pu={}",
                                ev.instrument, ev.first_id, ev.last_id, ev.prev_id
                            ));
                        }
                    }
                    last_depth.insert(ev.instrument, ev.last_id);
                }
                MdKind::BookTicker => {
                    let last = last_ticker.entry(ev.instrument).or_default();
                    if ev.last_id <= *last {
                        *repeated_tickers += 1;
                    }
                    *last = ev.last_id;
                }
                MdKind::FeedDown => {
                    // A reconnect legitimately restarts every stream.
                    *feed_downs += 1;
                    last_depth.clear();
                    last_ticker.clear();
                }
                _ => {}
            }
            let copy: MdEvent = *ev;
            out.publish(|slot| *slot = copy);
        }
        n
    }
}

struct Rig {
    feed: BinanceWsFeed,
    book: BookStage,
    tap: Tap,
    tops: BookPoller,
    tele: TelemetryRx,
    ids: Vec<(InstrumentId, &'static str)>,
    counters: Arc<EngineCounters>,
    /// System events seen, in order, with their detail.
    system: Vec<SystemKind>,
    /// Tops that were not `Live` after their book had been live.
    not_live_after_live: u64,
    /// Resyncs and rotations counted before [`Rig::mark`].
    resyncs_before: u64,
    rotations_before: u64,
    live_seen: HashMap<InstrumentId, bool>,
    /// Sockets the feed exposed to the readiness wait after each poll: the most at once, and
    /// every connection id.
    fds: Vec<WaitFd>,
    most_fds: usize,
    conn_ids: std::collections::HashSet<u64>,
}

const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];

fn venue(market: BinanceMarket) -> Venue {
    market.venue()
}

/// A simulator serving `SYMBOLS` on `market`, with `tweak` applied to its config.
fn sim(market: BinanceMarket, tweak: impl FnOnce(&mut SimConfig)) -> BinanceSim {
    let mut cfg = SimConfig::default();
    let base = cfg.pairs[0].clone();
    cfg.pairs = SYMBOLS
        .iter()
        .map(|s| SimPair {
            leader_venue: venue(market),
            leader_symbol: s.to_string(),
            max_symbol: s.to_ascii_lowercase(),
            conversion: String::new(),
            ..base.clone()
        })
        .collect();
    tweak(&mut cfg);
    BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg).unwrap()
}

fn rig(sim: &BinanceSim, market: BinanceMarket, rotate_after: Option<Duration>) -> Rig {
    let cfg = Config::default();
    let mut instruments = Instruments::new();
    let ids: Vec<(InstrumentId, &'static str)> = SYMBOLS
        .iter()
        .map(|s| {
            let id = instruments
                .intern(venue(market), s, &s[..3].to_ascii_lowercase(), "usdt")
                .unwrap();
            (id, *s)
        })
        .collect();
    let feed_rings = Rings::new(cfg.ring_sizes());
    let book_rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let resync = Arc::new(ResyncRequests::default());
    let clock = EngineClock::new();
    let (tx, rx) = telemetry_queue("t", 1 << 16);
    let (md_prod, md_poll) = feed_rings.md;
    let (tap_prod, tap_poll) = book_rings.md;
    let (book_prod, book_poll) = book_rings.book;
    let feed = BinanceWsFeed::new(BinanceWsFeedParts {
        market,
        ws_url: sim.ws_base(),
        tls: Default::default(),
        rest_url: sim.rest_base(),
        instruments: instruments.clone(),
        md: md_prod,
        resync: resync.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: tx.clone(),
        shutdown: Shutdown::new(),
        rotate_after,
    });
    let book = BookStage::new(BookStageParts {
        md: tap_poll,
        out: book_prod,
        instruments,
        binance_ticker_tops: true,
        resync,
        mids: Arc::new(MidBoard::default()),
        clock,
        counters: counters.clone(),
        tele: tx,
        batch: 64,
        stale_after_ms: 5000,
        live: Arc::new(arbline::pipeline::board::LiveBoard::new(64)),
        live_timeout_ms: 0,
    });
    Rig {
        feed,
        book,
        tap: Tap {
            input: md_poll,
            out: tap_prod,
            market,
            last_depth: HashMap::new(),
            last_ticker: HashMap::new(),
            depth_frames: 0,
            broken_chains: Vec::new(),
            repeated_tickers: 0,
            feed_downs: 0,
        },
        tops: book_poll,
        tele: rx,
        ids,
        counters,
        system: Vec::new(),
        not_live_after_live: 0,
        resyncs_before: 0,
        rotations_before: 0,
        live_seen: HashMap::new(),
        fds: Vec::new(),
        most_fds: 0,
        conn_ids: Default::default(),
    }
}

impl Rig {
    /// Runs the feed, the tap and the book for a while, then reads the tops and telemetry.
    fn step(&mut self) {
        for _ in 0..50 {
            self.feed.poll();
            self.fds.clear();
            self.feed.wait_fds(&mut self.fds);
            self.most_fds = self.most_fds.max(self.fds.len());
            self.conn_ids.extend(self.fds.iter().map(|f| f.conn));
            while self.tap.pump() > 0 {
                while let Poll::Busy(_) = self.book.poll() {}
            }
            while let Poll::Busy(_) = self.book.poll() {}
        }
        if let Ok(mut tops) = self.tops.take(4096) {
            for t in &mut tops {
                let live = self.live_seen.entry(t.instrument).or_default();
                if t.status == BookStatus::Live {
                    *live = true;
                } else if *live {
                    self.not_live_after_live += 1;
                }
            }
        }
        while let Some(t) = self.tele.pop() {
            if let Telemetry::System(s) = t {
                self.system.push(s.kind);
            }
        }
    }

    fn run_until(&mut self, within: Duration, mut done: impl FnMut(&Rig) -> bool) -> bool {
        let end = Instant::now() + within;
        while Instant::now() < end {
            self.step();
            if done(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    /// Starts the window the assertions look at: the start-up sync is behind us (a start-up
    /// snapshot may race the stream and cost one resync, which is not what is tested here).
    fn mark(&mut self) {
        self.system.clear();
        self.not_live_after_live = 0;
        self.resyncs_before = self.counters.resyncs.get();
        self.rotations_before = self.feed.rotations;
    }

    /// Rotations since [`Rig::mark`].
    fn rotations(&self) -> u64 {
        self.feed.rotations - self.rotations_before
    }

    fn seen(&self, code: SystemCode) -> usize {
        self.system.iter().filter(|k| k.code() == code).count()
    }

    /// Every book live and equal to the simulator's; the error says what was waited for and
    /// the last difference seen.
    fn converge(&mut self, sim: &BinanceSim, within: Duration) -> Result<(), String> {
        let end = Instant::now() + within;
        let mut last = String::new();
        while Instant::now() < end {
            self.step();
            let mut all = true;
            for (id, sym) in &self.ids {
                let Some((bids, asks, _)) = sim.book(sym) else {
                    all = false;
                    continue;
                };
                let local = self.book.book(*id);
                if !(self.book.status(*id) == BookStatus::Live
                    && local.bids.top(1000).eq(bids.iter().copied())
                    && local.asks.top(1000).eq(asks.iter().copied()))
                {
                    all = false;
                    last = format!(
                        "{sym}: status {:?}, {} / {} levels vs {} / {}",
                        self.book.status(*id),
                        local.bids.len(),
                        local.asks.len(),
                        bids.len(),
                        asks.len()
                    );
                }
            }
            if all {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(format!(
            "gave up after {within:?} waiting for every book to be Live and equal to the \
             simulator's; last difference: {last}"
        ))
    }

    /// Since [`Rig::mark`]: nothing lost, nothing repeated, no resync, no feed down, nothing
    /// unparsed; every rotation announced and counted.
    fn assert_seamless(&self, what: &str) {
        assert!(self.tap.depth_frames > 0, "{what}: depth flowed");
        assert_eq!(
            self.tap.broken_chains,
            Vec::<String>::new(),
            "{what}: every depth frame chains onto the one before"
        );
        assert_eq!(self.tap.repeated_tickers, 0, "{what}: no bookTicker twice");
        assert_eq!(self.tap.feed_downs, 0, "{what}: no FeedDown on the md ring");
        assert_eq!(
            self.seen(SystemCode::FeedDown),
            0,
            "{what}: no FeedDown event"
        );
        assert_eq!(
            self.counters.resyncs.get() - self.resyncs_before,
            0,
            "{what}: no book resync; system events {:?}",
            self.system
        );
        assert_eq!(self.seen(SystemCode::Resync), 0, "{what}: no Resync event");
        assert_eq!(self.not_live_after_live, 0, "{what}: books stayed Live");
        assert_eq!(
            self.counters.parse_errors.get(),
            0,
            "{what}: no parse error"
        );
        assert_eq!(self.feed.connects, 1, "{what}: no cold reconnect");
        assert_eq!(
            self.seen(SystemCode::FeedRotated) as u64,
            self.rotations(),
            "{what}: each rotation announced"
        );
        assert_eq!(self.counters.rotations.get(), self.feed.rotations);
    }
}

#[test]
fn the_futures_book_equals_the_simulators_after_start_and_after_a_dropped_connection() {
    let sim = sim(BinanceMarket::Futures, |_| {});
    let mut r = rig(&sim, BinanceMarket::Futures, None);
    r.converge(&sim, PATIENCE).expect("after start");
    sim.drop_connections();
    assert!(
        r.run_until(PATIENCE, |r| r.feed.connects >= 2),
        "gave up after {PATIENCE:?} waiting for the feed to reconnect: {} connects",
        r.feed.connects
    );
    r.converge(&sim, PATIENCE).expect("after the reconnect");
    assert_eq!(
        (r.counters.parse_errors.get(), r.feed.snapshot_errors()),
        (0, 0)
    );
    assert!(r.tap.depth_frames > 0, "depth flowed through the tap");
    assert_eq!(r.tap.broken_chains, Vec::<String>::new());
}

#[test]
fn gaps_are_repaired_from_fresh_rest_snapshots() {
    let sim = sim(BinanceMarket::Futures, |c| c.gap_probability = 0.03);
    let mut r = rig(&sim, BinanceMarket::Futures, None);
    assert!(
        r.run_until(PATIENCE, |r| r.counters.resyncs.get() >= 2),
        "gave up after {PATIENCE:?} waiting for two gaps to be noticed: {} resyncs",
        r.counters.resyncs.get()
    );
    r.converge(&sim, PATIENCE)
        .expect("the book equals the simulator's again after resyncing");
}

/// Rotates at `rotate_after` several times and checks the handovers were seamless. Every other
/// connection lags by a few depth frames, so the new connection is behind the old one in one
/// rotation (its first events were already published) and ahead in the next (they are held
/// until the old one catches up).
fn rotations_by_age_are_seamless(market: BinanceMarket) {
    let sim = sim(market, |_| {});
    sim.lag_every_other_connection(Duration::from_millis(35));
    let mut r = rig(&sim, market, Some(Duration::from_millis(150)));
    r.converge(&sim, PATIENCE).expect("after start");
    r.mark();
    assert!(
        r.run_until(PATIENCE, |r| r.rotations() >= 4),
        "gave up after {PATIENCE:?} waiting for four rotations, got {}",
        r.rotations()
    );
    r.converge(&sim, PATIENCE).expect("after the rotations");
    r.assert_seamless(&format!("{market:?}"));
    assert_eq!(r.feed.rotation_failures, 0);
    assert_eq!(sim.connections_accepted(), 1 + r.feed.rotations);
    // The readiness wait watched both connections during each handover, every one under its
    // own id.
    assert_eq!(r.most_fds, 2, "both sockets exposed during a handover");
    assert_eq!(r.conn_ids.len() as u64, 1 + r.feed.rotations);
    let h = r.feed.handover_counts();
    assert!(
        h.behind > 0 && h.chained > 0,
        "both ways exercised: new connection behind and ahead, {h:?}"
    );
    assert_eq!(r.feed.snapshot_errors(), 0);
}

#[test]
fn futures_rotations_by_age_lose_and_repeat_nothing() {
    rotations_by_age_are_seamless(BinanceMarket::Futures);
}

#[test]
fn spot_rotations_by_age_lose_and_repeat_nothing() {
    rotations_by_age_are_seamless(BinanceMarket::Spot);
}

#[test]
fn server_shutdown_starts_the_rotation_before_the_cut() {
    let sim = sim(BinanceMarket::Futures, |_| {});
    // The configured age is far away: only `serverShutdown` can trigger the rotation.
    let mut r = rig(
        &sim,
        BinanceMarket::Futures,
        Some(Duration::from_secs(3600)),
    );
    r.converge(&sim, PATIENCE).expect("after start");
    r.mark();
    sim.cut_connections_after(Duration::from_millis(600), Some(Duration::from_millis(300)));
    assert!(
        r.run_until(PATIENCE, |r| r.rotations() >= 2),
        "gave up after {PATIENCE:?} waiting for two rotations on serverShutdown, got {}",
        r.rotations()
    );
    r.converge(&sim, PATIENCE).expect("after the rotations");
    r.assert_seamless("serverShutdown");
}

#[test]
fn a_new_connection_that_fails_leaves_the_old_one_serving() {
    let sim = sim(BinanceMarket::Futures, |_| {});
    let mut r = rig(
        &sim,
        BinanceMarket::Futures,
        Some(Duration::from_millis(100)),
    );
    // The first poll connects; every later connection is refused.
    r.feed.poll();
    assert_eq!(r.feed.connects, 1);
    sim.refuse_connections(true);
    r.converge(&sim, PATIENCE).expect("after start");
    r.mark();
    assert!(
        r.run_until(PATIENCE, |r| r.feed.rotation_failures >= 3),
        "gave up after {PATIENCE:?} waiting for three failed rotations, got {}",
        r.feed.rotation_failures
    );
    assert_eq!(r.feed.rotations, 0);
    assert!(sim.connections_refused() >= 3);
    // The old connection kept serving: the books still follow the simulator.
    r.converge(&sim, PATIENCE)
        .expect("while the new connection fails");
    r.assert_seamless("while the new connection fails");
    // Once the venue accepts again, the retry succeeds.
    sim.refuse_connections(false);
    assert!(
        r.run_until(PATIENCE, |r| r.feed.rotations >= 1),
        "gave up after {PATIENCE:?} waiting for a rotation after the venue came back"
    );
    r.converge(&sim, PATIENCE).expect("after the retry");
    r.assert_seamless("after the retry");
}

#[test]
fn a_cut_without_a_proactive_rotation_falls_back_to_reconnect_and_resync() {
    // (case, rotate_after, serverShutdown notice)
    let cases = [
        (
            "rotation off, notice ignored",
            None,
            Some(Duration::from_millis(100)),
        ),
        (
            "rotation too late, no notice",
            Some(Duration::from_secs(60)),
            None,
        ),
    ];
    for (name, rotate_after, notice) in cases {
        let sim = sim(BinanceMarket::Futures, |_| {});
        let mut r = rig(&sim, BinanceMarket::Futures, rotate_after);
        r.converge(&sim, PATIENCE)
            .unwrap_or_else(|e| panic!("{name}: after start: {e}"));
        r.mark();
        sim.cut_connections_after(Duration::from_millis(300), notice);
        assert!(
            r.run_until(PATIENCE, |r| r.feed.connects >= 2),
            "{name}: gave up after {PATIENCE:?} waiting for the feed to reconnect after the cut"
        );
        assert_eq!(r.feed.rotations, 0, "{name}");
        assert!(r.tap.feed_downs >= 1, "{name}: FeedDown published");
        assert!(r.seen(SystemCode::FeedDown) >= 1, "{name}");
        assert!(r.not_live_after_live >= 1, "{name}: books went Resyncing");
        // Stop cutting so the books can settle, then they equal the simulator's again.
        sim.cut_connections_after(Duration::from_secs(3600), None);
        r.converge(&sim, PATIENCE)
            .unwrap_or_else(|e| panic!("{name}: after the reconnect: {e}"));
        assert_eq!(r.tap.broken_chains, Vec::<String>::new(), "{name}");
        assert_eq!(r.counters.parse_errors.get(), 0, "{name}");
    }
}
