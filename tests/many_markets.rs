//! A desk configures dozens of pairs: the engine subscribes to all of them within each venue's
//! limits, over real loopback sockets against a simulator that enforces those limits.
//! - 64 extra pairs (131 markets) with Binance held to 40 streams a connection and MAX to 30
//!   subscriptions a `sub`, on both sides: Binance's symbols spread over several connections,
//!   MAX's board over several messages; every book goes live, signals come from many pairs,
//!   and neither venue refuses or rate-limits anything.
//! - MAX's board at 2 subscriptions a message (67 messages, more than a connection may send in
//!   a second): subscribed over several seconds within 20 messages a second and 200 a minute.
//! - Binance's depth snapshots for every book at once, more request weight than one window
//!   allows (the window scaled down to a second): spread over the windows, never refused.
//!
//! Each run lasts until what the test checks has happened, with a generous deadline.

#[path = "support/events_tail.rs"]
mod events_tail;
#[path = "support/many_pairs.rs"]
mod many_pairs;
#[path = "support/trade_often.rs"]
mod trade_often;
#[path = "support/wait.rs"]
mod wait;

use arbline::config::Config;
use arbline::engine::{self, Venues};
use arbline::feed::binance_ws_feed::connection_groups;
use arbline::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use arbline::model::{InstrumentId, MdKind, OrderType, Venue};
use arbline::pipeline::board::ResyncRequests;
use arbline::pipeline::{EngineClock, Rings, Shutdown, Stage};
use arbline::secrets::Secrets;
use arbline::sim::max_ws::MaxWsSim;
use arbline::sim::servers::SimServers;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use events_tail::{EventsTail, events_dir};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wait::{PATIENCE, run_engine_until, spin_within};

const KEY: &str = "many-markets-key";
const SECRET: &str = "many-markets-secret";
const PAIRS: usize = 64;
/// Streams a Binance connection may carry, on both sides: 20 symbols a connection.
const BINANCE_STREAMS: usize = 40;
/// Subscriptions one MAX `sub` may carry, on both sides: 15 markets a message.
const MAX_SUBS: usize = 30;
/// Distinct pairs that must have signalled.
const SIGNALLING_PAIRS: usize = 8;

/// The example's markets and `PAIRS` extra pairs, every one served by the simulator.
fn many_pairs_config() -> Config {
    Config::from_toml(&many_pairs::with_pairs(
        &many_pairs::example_toml(),
        PAIRS,
        true,
    ))
    .unwrap()
}

#[test]
fn sixty_four_pairs_go_live_within_the_venues_subscription_limits() {
    let mut cfg = many_pairs_config();
    cfg.sim.use_free_ports();
    cfg.sim.binance_max_streams_per_connection = BINANCE_STREAMS as u32;
    cfg.sim.max_subscriptions_per_message = MAX_SUBS as u32;
    cfg.venues.binance.streams_per_connection = BINANCE_STREAMS;
    cfg.venues.max.subscriptions_per_message = MAX_SUBS;
    let sims = SimServers::start(&cfg, &[(KEY, SECRET)]).unwrap();
    sims.point(&mut cfg);
    cfg.demo.stats_interval_ms = 0;
    // Signals on nearly every top (a cooldown keeps the orders few).
    trade_often::trade_on_every_top(&mut cfg, Some(OrderType::Limit));
    for a in &mut cfg.scanner.arbitrage {
        a.cooldown_ms = 2_000;
    }
    let dir = events_dir("many-markets");
    cfg.nats.enabled = false;
    cfg.nats.file_dir = dir.to_string_lossy().into_owned();
    let mut tail = EventsTail::new(&dir);

    let instruments = cfg.instruments().unwrap();
    assert_eq!(
        instruments.len(),
        5 + 2 * PAIRS,
        "the example's 5 markets and the pairs'"
    );
    let binance: Vec<InstrumentId> = instruments
        .iter()
        .filter(|i| i.venue == cfg.venues.binance.market.venue())
        .map(|i| i.id)
        .collect();
    let groups = connection_groups(&binance, BINANCE_STREAMS).len();
    assert!(
        groups >= 2,
        "{} Binance symbols on {groups} connection(s)",
        binance.len()
    );

    let secrets = Secrets {
        max_api_key: Some(KEY.into()),
        max_secret_key: Some(SECRET.into()),
        ..Secrets::default()
    };
    let built = engine::build_for(&cfg, false, Venues::Live(secrets)).unwrap();
    let board = built.books_live.clone();
    let ids: Vec<InstrumentId> = instruments.iter().map(|i| i.id).collect();
    let mut signalled: HashSet<String> = HashSet::new();
    let started = Instant::now();
    let mut all_live_after = None;
    let r = run_engine_until(
        built,
        &cfg.threads().unwrap(),
        "every book live and signals from several pairs",
        PATIENCE * 3,
        |_| {
            tail.poll(|e| {
                if let Some(s) = e["subject"].as_str()
                    && let Some(sym) = s.strip_prefix("signal.arbitrage.")
                {
                    signalled.insert(sym.to_string());
                }
            });
            let all_live = ids.iter().all(|&i| board.ever_live(i));
            if all_live && all_live_after.is_none() {
                all_live_after = Some(started.elapsed());
            }
            all_live && signalled.len() >= SIGNALLING_PAIRS
        },
    );
    println!(
        "{} books live after {:?}; {} pairs signalled; run {:.1} s; events {:?}",
        ids.len(),
        all_live_after,
        signalled.len(),
        r.summary.duration_s,
        r.summary.events
    );
    let books = &r.summary.books;
    assert_eq!(books.configured, ids.len());
    assert_eq!(
        books.went_live,
        ids.len(),
        "never live: {:?}",
        books.never_live
    );
    assert!(books.never_live.is_empty(), "{:?}", books.never_live);
    assert!(signalled.len() >= SIGNALLING_PAIRS, "{signalled:?}");
    // Binance: the symbols over several connections, each within the limit.
    let b = &sims.binance;
    assert!(
        b.connections_accepted() >= groups as u64,
        "{} connections for {groups} groups",
        b.connections_accepted()
    );
    assert_eq!(
        b.too_many_streams(),
        0,
        "a connection over the stream limit"
    );
    assert_eq!(b.rate_limited_connections(), 0);
    // MAX: the board in several messages, each within the cap, within the rate limit.
    let m = &sims.max_ws;
    assert_eq!(m.oversized_subs(), 0, "a sub over the cap");
    assert_eq!(m.rate_limited_connections(), 0);
    assert_eq!(r.summary.events.venue_refusals, 0);
    // The MAX account refuses a sell of what it does not hold (2018) rather than going
    // negative: every private frame parses.
    assert_eq!(r.summary.events.parse_errors, 0);
    // Binance REST: every book's snapshot within the minute's request weight.
    assert_eq!(b.weight_limited(), 0, "a snapshot over the request weight");
}

/// The MAX feed alone against the simulator, every message of a large board's subscription
/// through the connection's budget.
#[test]
fn a_max_board_larger_than_a_seconds_budget_is_subscribed_within_the_rate_limit() {
    let mut cfg = many_pairs_config();
    cfg.sim.max_subscriptions_per_message = 2;
    let sim = MaxWsSim::start("127.0.0.1:0", &cfg.sim).unwrap();
    let instruments = cfg.instruments().unwrap();
    let max: Vec<InstrumentId> = instruments
        .iter()
        .filter(|i| i.venue == Venue::Max)
        .map(|i| i.id)
        .collect();
    assert!(
        max.len() > 20,
        "more markets than messages a second: {}",
        max.len()
    );
    let rings = Rings::new(cfg.ring_sizes());
    let (md, mut tap) = rings.md;
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let counters = Arc::new(EngineCounters::default());
    let mut feed = MaxWsFeed::new(MaxWsFeedParts {
        url: sim.url(),
        tls: Default::default(),
        instruments: instruments.clone(),
        md,
        resync: Arc::new(ResyncRequests::new(instruments.len())),
        clock: EngineClock::new(),
        counters: counters.clone(),
        tele: tx,
        shutdown: Shutdown::new(),
    })
    .with_subscriptions_per_message(2);
    let mut snapshotted: HashSet<InstrumentId> = HashSet::new();
    let mut most_pending = 0;
    let started = Instant::now();
    let done = spin_within(PATIENCE, || {
        feed.poll();
        most_pending = most_pending.max(feed.pending_subscriptions());
        while let Ok(mut batch) = tap.take(256) {
            for ev in &mut batch {
                if ev.kind == MdKind::BookSnapshot {
                    snapshotted.insert(ev.instrument);
                }
            }
        }
        if snapshotted.len() < max.len() {
            std::thread::sleep(Duration::from_millis(1));
        }
        snapshotted.len() == max.len()
    });
    assert!(
        done,
        "{} of {} MAX books snapshotted; {} sub messages waiting",
        snapshotted.len(),
        max.len(),
        feed.pending_subscriptions()
    );
    println!(
        "{} MAX markets in {} messages subscribed in {:?}",
        max.len(),
        max.len(),
        started.elapsed()
    );
    assert!(
        most_pending > 0,
        "some messages waited for the budget (one a market, more than 20)"
    );
    assert_eq!(feed.pending_subscriptions(), 0);
    assert_eq!(counters.parse_errors.get(), 0);
    assert!(feed.is_connected());
    assert_eq!(feed.connects, 1, "one connection, never dropped");
    assert_eq!(sim.oversized_subs(), 0);
    assert_eq!(sim.rate_limited_connections(), 0);
}

/// A venue's books may be spread over several connections: a lost connection resets the books
/// it served (one `FeedDown` each, as every feed publishes them) and no other.
#[test]
fn a_lost_connection_resets_only_the_books_it_served() {
    use arbline::book::{BookStage, BookStageParts};
    use arbline::feed::ws_conn::publish_feed_down;
    use arbline::model::{BookStatus, Fixed, Instruments, Level, MdEvent};
    use arbline::pipeline::board::{LiveBoard, MidBoard};
    use arbline::pipeline::ring::md_ring;
    use disruptor::Producer;
    let mut instruments = Instruments::new();
    let books: Vec<InstrumentId> = ["aaausdt", "bbbusdt", "cccusdt"]
        .iter()
        .map(|m| instruments.intern(Venue::Max, m, &m[..3], "usdt").unwrap())
        .collect();
    let (md, md_poll) = md_ring(64);
    let mut md = Some(md);
    let (_tops, out) = disruptor::build_single_producer(64, Default::default, disruptor::BusySpin)
        .new_event_poller();
    let (tele, _rx) = telemetry_queue("t", 1024);
    let clock = EngineClock::new();
    let mut stage = BookStage::new(BookStageParts {
        md: md_poll,
        out: out.build(),
        instruments: instruments.clone(),
        binance_ticker_tops: false,
        resync: Arc::new(ResyncRequests::new(instruments.len())),
        mids: Arc::new(MidBoard::new(instruments.len())),
        clock: clock.clone(),
        counters: Arc::new(EngineCounters::default()),
        tele,
        batch: 64,
        stale_after_ms: 0,
        live: Arc::new(LiveBoard::new(instruments.len())),
        live_timeout_ms: 0,
    });
    let level = |p: &str| Level {
        price: Fixed::parse(p).unwrap(),
        qty: Fixed::from_int(1),
    };
    for &id in &books {
        let now = clock.raw();
        md.as_mut().unwrap().publish(|e| {
            *e = MdEvent {
                kind: MdKind::BookSnapshot,
                venue: Venue::Max,
                instrument: id,
                last_chunk: true,
                first_id: 1,
                last_id: 1,
                version: 1,
                ts_frame: now,
                ts_parsed: now,
                n_bids: 1,
                n_asks: 1,
                levels: [level("100"), level("101"), Level::default()],
                ..Default::default()
            }
        });
    }
    let drain = |stage: &mut BookStage| {
        while matches!(stage.poll(), arbline::pipeline::Poll::Busy(_)) {}
    };
    drain(&mut stage);
    for &id in &books {
        assert_eq!(
            stage.status(id),
            BookStatus::Live,
            "{id:?} after its snapshot"
        );
    }
    // The connection serving the first two books is lost; the third's connection is not.
    publish_feed_down(&mut md, Venue::Max, books[..2].iter().copied(), clock.raw());
    drain(&mut stage);
    assert_eq!(stage.status(books[0]), BookStatus::Resyncing);
    assert_eq!(stage.status(books[1]), BookStatus::Resyncing);
    assert_eq!(
        stage.status(books[2]),
        BookStatus::Live,
        "served by another connection"
    );
}

/// Binance feeds alone against the simulator: every book's snapshot asked for at once, more
/// weight than one window allows, through the venue's shared weight budget.
#[test]
fn binance_snapshots_for_every_book_keep_within_the_request_weight() {
    use arbline::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
    use arbline::feed::weight_budget::WeightBudget;
    use arbline::sim::binance_ws::BinanceSim;
    use arbline::venue::binance::BinanceMarket;
    // 20 snapshots of 1000 levels (weight 20) a second, on both sides.
    const WEIGHT: u32 = 400;
    let mut cfg = many_pairs_config();
    cfg.sim.binance_futures_request_weight = WEIGHT;
    cfg.sim.binance_weight_window_ms = 1_000;
    let sim = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg.sim).unwrap();
    let instruments = cfg.instruments().unwrap();
    let books: Vec<InstrumentId> = instruments
        .iter()
        .filter(|i| i.venue == Venue::BinanceFutures)
        .map(|i| i.id)
        .collect();
    assert!(
        books.len() * 20 > 2 * WEIGHT as usize,
        "{} books",
        books.len()
    );
    let budget = Arc::new(WeightBudget::new(WEIGHT, Duration::from_secs(1)));
    let (tx, _rx) = telemetry_queue("t", 1 << 16);
    let resync = Arc::new(ResyncRequests::new(instruments.len()));
    let mut feeds = Vec::new();
    let counters = Arc::new(EngineCounters::default());
    let mut taps = Vec::new();
    // Two connections, as the engine would open at 70 streams a connection.
    for (g, group) in connection_groups(&books, books.len() + 4)
        .iter()
        .enumerate()
    {
        let rings = Rings::new(cfg.ring_sizes());
        let (md, tap) = rings.md;
        taps.push(tap);
        let parts = BinanceWsFeedParts {
            market: BinanceMarket::Futures,
            ws_url: sim.ws_base(),
            tls: Default::default(),
            rest_url: sim.rest_base(),
            instruments: instruments.clone(),
            md,
            resync: resync.clone(),
            clock: EngineClock::new(),
            counters: counters.clone(),
            tele: tx.clone(),
            shutdown: Shutdown::new(),
            rotate_after: None,
        };
        feeds.push(
            BinanceWsFeed::serving(parts, group, g as u16).with_weight_budget(budget.clone()),
        );
    }
    assert_eq!(feeds.len(), 2);
    let mut snapshotted: HashSet<InstrumentId> = HashSet::new();
    let started = Instant::now();
    let done = spin_within(PATIENCE, || {
        for f in &mut feeds {
            f.poll();
        }
        for tap in &mut taps {
            while let Ok(mut batch) = tap.take(256) {
                for ev in &mut batch {
                    if ev.kind == MdKind::BookSnapshot {
                        snapshotted.insert(ev.instrument);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
        snapshotted.len() == books.len()
    });
    let errors: u64 = feeds.iter().map(|f| f.snapshot_errors()).sum();
    assert!(
        done,
        "{} of {} books snapshotted; {errors} snapshot errors; {} refused",
        snapshotted.len(),
        books.len(),
        sim.weight_limited()
    );
    println!(
        "{} snapshots of weight 20 at {WEIGHT} a second in {:?}; {} waited",
        books.len(),
        started.elapsed(),
        budget.deferred()
    );
    assert_eq!(
        sim.weight_limited(),
        0,
        "a snapshot over the request weight"
    );
    assert_eq!(errors, 0);
    assert!(budget.deferred() > 0, "snapshots waited for the window");
    assert_eq!(
        counters.weight_waits.get(),
        budget.deferred(),
        "the summary's count of snapshots held for weight"
    );
    // Each feed asked only for its own books.
    for (f, group) in feeds.iter().zip(connection_groups(&books, books.len() + 4)) {
        assert_eq!(f.books().collect::<Vec<_>>(), group);
    }
}
