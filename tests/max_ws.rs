//! The MAX WebSocket feed over a real loopback socket against the simulator's MAX WS server:
//! local books equal the simulator's own after start, after injected gaps, and after the
//! connection is dropped and re-established.

use arbline::book::{BookStage, BookStageParts, MidBoard};
use arbline::config::Config;
use arbline::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use arbline::feed::resync::ResyncRequests;
use arbline::model::{BookStatus, Instruments, Venue};
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Rig {
    feed: MaxWsFeed,
    book: BookStage,
    instruments: Instruments,
    counters: Arc<EngineCounters>,
    _keep: arbline::pipeline::ring::BookPoller,
}

fn rig(url: String) -> Rig {
    let cfg = Config::default();
    let instruments = cfg.instruments().unwrap();
    let rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let resync = Arc::new(ResyncRequests::default());
    let clock = EngineClock::new();
    let (tx, _rx) = telemetry_queue("t", 1024);
    let (md_prod, md_poll) = rings.md;
    let (book_prod, book_poll) = rings.book;
    let feed = MaxWsFeed::new(MaxWsFeedParts {
        url,
        tls: Default::default(),
        instruments: instruments.clone(),
        md: md_prod,
        resync: resync.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: tx.clone(),
        shutdown: Shutdown::new(),
    });
    let book = BookStage::new(BookStageParts {
        md: md_poll,
        out: book_prod,
        instruments: instruments.clone(),
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
        instruments,
        counters,
        _keep: book_poll,
    }
}

/// Drives the feed and the book until every MAX book equals the simulator's (or the deadline).
fn converge(r: &mut Rig, sim: &MaxWsSim, within: Duration) -> Result<(), String> {
    let end = Instant::now() + within;
    let markets: Vec<_> = r
        .instruments
        .iter()
        .filter(|i| i.venue == Venue::Max)
        .map(|i| (i.id, i.symbol.to_lowercase()))
        .collect();
    let mut last = String::new();
    while Instant::now() < end {
        for _ in 0..200 {
            r.feed.poll();
            r.book.poll();
        }
        let all = markets.iter().all(|(id, m)| {
            let Some((bids, asks, _)) = sim.book(m) else {
                last = format!("{m}: simulator has no book yet");
                return false;
            };
            let local = r.book.book(*id);
            let ok = r.book.status(*id) == BookStatus::Live
                && local.bids.top(1000) == bids.as_slice()
                && local.asks.top(1000) == asks.as_slice();
            if !ok {
                last = format!(
                    "{m}: status {:?}, {} / {} levels vs {} / {}",
                    r.book.status(*id),
                    local.bids.len(),
                    local.asks.len(),
                    bids.len(),
                    asks.len()
                );
            }
            ok
        });
        if all {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Err(last)
}

#[test]
fn books_equal_the_simulators_after_start_and_after_a_dropped_connection() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let mut r = rig(sim.url());
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
    assert_eq!(r.feed.connects, 1);
    sim.drop_connections();
    // The feed notices, backs off, reconnects, resubscribes; snapshots rebuild the books.
    let end = Instant::now() + Duration::from_secs(10);
    while r.feed.connects < 2 && Instant::now() < end {
        r.feed.poll();
        r.book.poll();
    }
    assert_eq!(r.feed.connects, 2, "reconnected");
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
    assert_eq!(r.counters.parse_errors.get(), 0);
}

#[test]
fn books_recover_from_injected_gaps_by_resubscribing() {
    let cfg = arbline::sim::SimConfig {
        gap_probability: 0.05,
        ..Default::default()
    };
    let sim = MaxWsSim::start("127.0.0.1:0", &cfg).unwrap();
    let mut r = rig(sim.url());
    let end = Instant::now() + Duration::from_secs(10);
    while r.counters.resyncs.get() < 2 && Instant::now() < end {
        r.feed.poll();
        r.book.poll();
    }
    assert!(
        r.counters.resyncs.get() >= 2,
        "gaps noticed: {}",
        r.counters.resyncs.get()
    );
    // Between gaps every book catches up with the simulator again.
    let mut equal_after_gap = false;
    for _ in 0..20 {
        if converge(&mut r, &sim, Duration::from_millis(500)).is_ok() {
            equal_after_gap = true;
            break;
        }
    }
    assert!(
        equal_after_gap,
        "books equal the simulator's after resyncing"
    );
}

#[test]
fn a_429_ban_is_honoured_until_its_retry_after_time() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let mut r = rig(sim.url());
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let until = now_s + 2;
    sim.ban_until(until);
    sim.drop_connections();
    // The feed is refused with 429 and must not come back before `until`.
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut refused_seen = false;
    while r.feed.connects < 2 && Instant::now() < deadline {
        r.feed.poll();
        r.book.poll();
        if !r.feed.is_connected()
            && r.feed.next_attempt() > Instant::now() + Duration::from_millis(500)
        {
            refused_seen = true;
            sim.ban_until(0);
        }
    }
    let back_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        refused_seen,
        "the 429's Retry-After pushed the next attempt out"
    );
    assert_eq!(r.feed.connects, 2, "reconnected after the ban");
    assert!(
        back_at >= until as f64 - 0.001,
        "came back at {back_at}, before the ban ended at {until}"
    );
    converge(&mut r, &sim, Duration::from_secs(10)).unwrap();
}
