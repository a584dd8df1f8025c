//! The Binance futures feed over real loopback sockets against the simulator: combined-stream
//! WebSocket plus REST depth snapshots fetched off the feed's path. The local book equals the
//! simulator's own after start, after injected gaps, and after a dropped connection.

use arbline::book::{BookStage, BookStageParts, MidBoard};
use arbline::config::Config;
use arbline::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
use arbline::feed::resync::ResyncRequests;
use arbline::model::{BookStatus, InstrumentId, Venue};
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::sim::binance_ws::BinanceSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::binance::BinanceMarket;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rig {
    feed: BinanceWsFeed,
    book: BookStage,
    id: InstrumentId,
    counters: Arc<EngineCounters>,
    _keep: arbline::pipeline::ring::BookPoller,
}

fn rig(sim: &BinanceSim) -> Rig {
    let cfg = Config::default();
    let instruments = cfg.instruments().unwrap();
    let id = instruments
        .lookup(Venue::BinanceFutures, b"BTCUSDT")
        .unwrap();
    let rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let resync = Arc::new(ResyncRequests::default());
    let clock = EngineClock::new();
    let (tx, _rx) = telemetry_queue("t", 1024);
    let (md_prod, md_poll) = rings.md;
    let (book_prod, book_poll) = rings.book;
    let feed = BinanceWsFeed::new(BinanceWsFeedParts {
        market: BinanceMarket::Futures,
        ws_url: sim.ws_base(),
        rest_url: sim.rest_base(),
        instruments: instruments.clone(),
        md: md_prod,
        resync: resync.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: tx.clone(),
        shutdown: Shutdown::new(),
        rotate_after: None,
    })
    .unwrap();
    let book = BookStage::new(BookStageParts {
        md: md_poll,
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
    });
    Rig {
        feed,
        book,
        id,
        counters,
        _keep: book_poll,
    }
}

fn converge(r: &mut Rig, sim: &BinanceSim, within: Duration) -> Result<(), String> {
    let end = Instant::now() + within;
    let mut last = String::new();
    while Instant::now() < end {
        for _ in 0..200 {
            r.feed.poll();
            r.book.poll();
        }
        if let Some((bids, asks, _)) = sim.book("BTCUSDT") {
            let local = r.book.book(r.id);
            if r.book.status(r.id) == BookStatus::Live
                && local.bids.top(1000) == bids.as_slice()
                && local.asks.top(1000) == asks.as_slice()
            {
                return Ok(());
            }
            last = format!(
                "status {:?}, {} / {} levels vs {} / {}",
                r.book.status(r.id),
                local.bids.len(),
                local.asks.len(),
                bids.len(),
                asks.len()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(last)
}

#[test]
fn the_futures_book_equals_the_simulators_after_start_and_after_a_dropped_connection() {
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &Default::default()).unwrap();
    let mut r = rig(&sim);
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
    sim.drop_connections();
    let end = Instant::now() + Duration::from_secs(10);
    while r.feed.connects < 2 && Instant::now() < end {
        r.feed.poll();
        r.book.poll();
    }
    assert_eq!(r.feed.connects, 2, "reconnected");
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
    assert_eq!(
        (r.counters.parse_errors.get(), r.feed.snapshot_errors()),
        (0, 0)
    );
}

#[test]
fn gaps_are_repaired_from_fresh_rest_snapshots() {
    let cfg = arbline::sim::SimConfig {
        gap_probability: 0.03,
        ..Default::default()
    };
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg).unwrap();
    let mut r = rig(&sim);
    let end = Instant::now() + Duration::from_secs(10);
    while r.counters.resyncs.get() < 2 && Instant::now() < end {
        r.feed.poll();
        r.book.poll();
    }
    assert!(r.counters.resyncs.get() >= 2, "gaps noticed");
    let ok = (0..20).any(|_| converge(&mut r, &sim, Duration::from_millis(500)).is_ok());
    assert!(ok, "the book equals the simulator's again after resyncing");
}
