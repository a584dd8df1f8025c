//! The MAX WebSocket feed over a real loopback socket against the simulator's MAX WS server:
//! local books equal the simulator's own after start, after injected gaps, and after the
//! connection is dropped and re-established; public trades reach the md ring at the touch of
//! the book they followed; a raw client gets book, trade and ticker as the spec writes them.

use arbline::book::{BookStage, BookStageParts};
use arbline::config::Config;
use arbline::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use arbline::model::{BookStatus, InstrumentId, Instruments, Level, MdEvent, MdKind, Side, Venue};
use arbline::pipeline::board::MidBoard;
use arbline::pipeline::board::ResyncRequests;
use arbline::pipeline::ring::{MdPoller, MdProducer};
use arbline::pipeline::{EngineClock, Poll, Rings, Shutdown, Stage};
use arbline::sim::max_ws::MaxWsSim;
use arbline::telemetry::{EngineCounters, telemetry_queue};
use arbline::venue::max::{MaxPublicOutcome, MaxPublicParser};
use disruptor::Producer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/max_fixture.rs"]
mod max_fixture;
#[path = "support/wait.rs"]
mod wait;
use wait::{PATIENCE, spin_within};

/// A public trade as the test saw it, with the local book at that moment.
struct TradeSeen {
    ev: MdEvent,
    /// Local best bid and ask once every event before the trade was applied.
    touch: Option<(Level, Level)>,
    /// Stamped after the market's latest book snapshot: an update, not a snapshot's history.
    after_snapshot: bool,
}

struct Rig {
    feed: MaxWsFeed,
    book: BookStage,
    instruments: Instruments,
    counters: Arc<EngineCounters>,
    /// The feed's md ring is read here first; every event then goes on to the book stage.
    tap: MdPoller,
    relay: MdProducer,
    trades: Vec<TradeSeen>,
    snapshot_ms: HashMap<InstrumentId, u64>,
    _keep: (
        arbline::pipeline::ring::BookPoller,
        arbline::pipeline::ring::BookPoller,
    ),
}

fn rig(url: String) -> Rig {
    let cfg = Config::default();
    let instruments = cfg.instruments().unwrap();
    let rings = Rings::new(cfg.ring_sizes());
    let relay_rings = Rings::new(cfg.ring_sizes());
    let counters = Arc::new(EngineCounters::default());
    let resync = Arc::new(ResyncRequests::default());
    let clock = EngineClock::new();
    let (tx, _rx) = telemetry_queue("t", 1024);
    let (md_prod, tap) = rings.md;
    let (relay, book_md) = relay_rings.md;
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
        md: book_md,
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
        live: Arc::new(arbline::pipeline::board::LiveBoard::new(64)),
        live_timeout_ms: 0,
    });
    Rig {
        feed,
        book,
        instruments,
        counters,
        tap,
        relay,
        trades: Vec::new(),
        snapshot_ms: HashMap::new(),
        _keep: (book_poll, relay_rings.book.1),
    }
}

impl Rig {
    fn drain_book(&mut self) {
        while matches!(self.book.poll(), Poll::Busy(n) if n > 0) {}
    }

    /// One round: the feed reads its socket; each md event is relayed to the book stage, and
    /// each trade is recorded with the local book as it stands once everything before it is
    /// applied.
    fn pump(&mut self) {
        self.feed.poll();
        let mut evs: Vec<MdEvent> = Vec::new();
        while let Ok(mut batch) = self.tap.take(256) {
            for ev in &mut batch {
                evs.push(*ev);
            }
        }
        for ev in evs {
            if ev.kind == MdKind::Trade {
                self.drain_book();
                let local = self.book.book(ev.instrument);
                let touch = (self.book.status(ev.instrument) == BookStatus::Live)
                    .then(|| (local.bids.best(), local.asks.best()))
                    .and_then(|(b, a)| Some((b?, a?)));
                let after_snapshot = self
                    .snapshot_ms
                    .get(&ev.instrument)
                    .is_some_and(|&s| ev.exch_ts_ms > s);
                self.trades.push(TradeSeen {
                    ev,
                    touch,
                    after_snapshot,
                });
                continue;
            }
            if ev.kind == MdKind::BookSnapshot {
                self.snapshot_ms.insert(ev.instrument, ev.exch_ts_ms);
            }
            self.relay.publish(|slot| *slot = ev);
        }
        self.drain_book();
    }
}

/// Drives the feed and the book until every MAX book equals the simulator's (or the deadline:
/// the error says what was waited for and the last difference seen).
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
        for _ in 0..50 {
            r.pump();
        }
        let all = markets.iter().all(|(id, m)| {
            let Some((bids, asks, _)) = sim.book(m) else {
                last = format!("{m}: simulator has no book yet");
                return false;
            };
            let local = r.book.book(*id);
            let ok = r.book.status(*id) == BookStatus::Live
                && local.bids.top(1000).eq(bids.iter().copied())
                && local.asks.top(1000).eq(asks.iter().copied());
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
    Err(format!(
        "gave up after {within:?} waiting for every MAX book to be Live and equal to the \
         simulator's; last difference: {last}"
    ))
}

#[test]
fn books_equal_the_simulators_after_start_and_after_a_dropped_connection() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let mut r = rig(sim.url());
    converge(&mut r, &sim, PATIENCE).expect("after start");
    assert_eq!(r.feed.connects, 1);
    sim.drop_connections();
    // The feed notices, backs off, reconnects, resubscribes; snapshots rebuild the books.
    assert!(
        spin_within(PATIENCE, || {
            r.pump();
            r.feed.connects >= 2
        }),
        "gave up after {PATIENCE:?} waiting for the feed to reconnect"
    );
    assert_eq!(r.feed.connects, 2, "reconnected once");
    converge(&mut r, &sim, PATIENCE).expect("after the reconnect");
    assert_eq!(r.counters.parse_errors.get(), 0);
}

#[test]
fn books_recover_from_injected_gaps_by_resubscribing() {
    let cfg = arbline::config::sim::SimConfig {
        gap_probability: 0.05,
        ..Default::default()
    };
    let sim = MaxWsSim::start("127.0.0.1:0", &cfg).unwrap();
    let mut r = rig(sim.url());
    assert!(
        spin_within(PATIENCE, || {
            r.pump();
            r.counters.resyncs.get() >= 2
        }),
        "gave up after {PATIENCE:?} waiting for two gaps to be noticed: {} resyncs",
        r.counters.resyncs.get()
    );
    // Between gaps every book catches up with the simulator again.
    converge(&mut r, &sim, PATIENCE).expect("books equal the simulator's after resyncing");
}

#[test]
fn a_429_ban_is_honoured_until_its_retry_after_time() {
    let sim = MaxWsSim::start("127.0.0.1:0", &Default::default()).unwrap();
    let mut r = rig(sim.url());
    converge(&mut r, &sim, PATIENCE).expect("after start");
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Far enough out that the feed's retry is refused even on a slow machine.
    let until = now_s + 5;
    sim.ban_until(until);
    sim.drop_connections();
    // The feed is refused with 429 and must not come back before `until`.
    let mut refused_seen = false;
    let back = spin_within(PATIENCE, || {
        r.pump();
        if !r.feed.is_connected()
            && r.feed.next_attempt() > Instant::now() + Duration::from_millis(500)
        {
            refused_seen = true;
            sim.ban_until(0);
        }
        r.feed.connects >= 2
    });
    let back_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        refused_seen,
        "the 429's Retry-After pushed the next attempt out"
    );
    assert!(
        back,
        "gave up after {PATIENCE:?} waiting for the feed to reconnect after the ban"
    );
    assert_eq!(r.feed.connects, 2, "reconnected once, after the ban");
    assert!(
        back_at >= until as f64 - 0.001,
        "came back at {back_at}, before the ban ended at {until}"
    );
    converge(&mut r, &sim, PATIENCE).expect("after the ban");
}

fn sim_with_prints(gap_probability: f64) -> MaxWsSim {
    let cfg = arbline::config::sim::SimConfig {
        max_trade_probability: 0.5,
        gap_probability,
        ..Default::default()
    };
    MaxWsSim::start("127.0.0.1:0", &cfg).unwrap()
}

/// Every trade printed after its book's snapshot sits at the local touch of its side: a taker
/// buy at the best ask, a sell at the best bid, no larger than that level.
fn assert_trades_at_the_touch(r: &Rig) -> usize {
    let mut checked = 0;
    for t in r.trades.iter().filter(|t| t.after_snapshot) {
        let Some((bid, ask)) = t.touch else { continue };
        let l = t.ev.bids()[0];
        let touch = if t.ev.side == Side::Buy { ask } else { bid };
        assert_eq!(l.price, touch.price, "{:?} {:?}", t.ev.side, t.ev);
        assert!(l.qty.raw() > 0 && l.qty <= touch.qty, "{l:?} vs {touch:?}");
        assert_eq!(t.ev.venue, Venue::Max);
        checked += 1;
    }
    checked
}

#[test]
fn public_trades_reach_the_md_ring_at_the_touch_without_parse_errors() {
    let sim = sim_with_prints(0.0);
    let mut r = rig(sim.url());
    assert!(
        spin_within(PATIENCE, || {
            r.pump();
            r.trades.len() >= 30
        }),
        "gave up after {PATIENCE:?} waiting for 30 trades: {} seen",
        r.trades.len()
    );
    let checked = assert_trades_at_the_touch(&r);
    assert!(checked >= 20, "trades checked against the book: {checked}");
    let markets: std::collections::HashSet<_> = r.trades.iter().map(|t| t.ev.instrument).collect();
    assert_eq!(markets.len(), 3, "every MAX market prints");
    converge(&mut r, &sim, PATIENCE).expect("with trades subscribed");
    assert_eq!(
        r.counters.parse_errors.get(),
        0,
        "subscribed to two channels, trades parse"
    );
}

#[test]
fn resubscribing_a_book_keeps_its_trades_flowing_without_repeating_them() {
    let sim = sim_with_prints(0.05);
    let mut r = rig(sim.url());
    assert!(
        spin_within(PATIENCE, || {
            r.pump();
            r.counters.resyncs.get() >= 3
        }),
        "gave up after {PATIENCE:?} waiting for three gaps to be noticed: {} resyncs",
        r.counters.resyncs.get()
    );
    let before = r.trades.len();
    assert!(
        spin_within(PATIENCE, || {
            r.pump();
            r.trades.len() >= before + 20
        }),
        "gave up after {PATIENCE:?} waiting for 20 trades after the resyncs: {} seen",
        r.trades.len() - before
    );
    // A `trade` resubscription would replay the snapshot: the same print twice.
    let mut seen = std::collections::HashSet::new();
    for t in &r.trades {
        let l = t.ev.bids()[0];
        let key = (
            t.ev.instrument,
            t.ev.exch_ts_ms,
            l.price,
            l.qty,
            t.ev.side as u8,
        );
        assert!(seen.insert(key), "print repeated: {:?}", t.ev);
    }
    assert_eq!(r.feed.connects, 1);
    assert_eq!(r.counters.parse_errors.get(), 0);
}

/// A raw WebSocket client: the simulator as MAX's public server, text frame by text frame.
struct RawClient {
    ws: tungstenite::WebSocket<std::net::TcpStream>,
}

impl RawClient {
    fn connect(url: &str) -> RawClient {
        let addr = url.trim_start_matches("ws://").trim_end_matches("/ws");
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let (ws, _) = tungstenite::client(url, stream).unwrap();
        RawClient { ws }
    }

    fn send(&mut self, v: serde_json::Value) {
        self.ws
            .send(tungstenite::Message::text(v.to_string()))
            .unwrap();
    }

    /// The next text frame as JSON and as bytes.
    fn next(&mut self) -> (serde_json::Value, Vec<u8>) {
        loop {
            match self.ws.read().unwrap() {
                tungstenite::Message::Text(t) => {
                    return (
                        serde_json::from_str(t.as_str()).unwrap(),
                        t.as_bytes().to_vec(),
                    );
                }
                _ => continue,
            }
        }
    }
}

fn fixture_keys(name: &str, inner: Option<&str>) -> Vec<String> {
    let text = max_fixture::fixture(name);
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    keys(inner.map_or(&v, |k| &v[k]))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[test]
fn a_raw_client_gets_subscribed_then_snapshots_then_updates_of_book_trade_and_ticker() {
    let cfg = arbline::config::sim::SimConfig {
        max_trade_probability: 1.0,
        ticker_interval_ms: 100,
        ..Default::default()
    };
    let sim = MaxWsSim::start("127.0.0.1:0", &cfg).unwrap();
    let instruments = Config::default().instruments().unwrap();
    // The documented action and the one the v2 SDK and bbgo send.
    for action in ["sub", "subscribe"] {
        let mut c = RawClient::connect(&sim.url());
        let subs = serde_json::json!([
            {"channel": "book", "market": "btcusdt", "depth": 50},
            {"channel": "trade", "market": "btcusdt"},
            {"channel": "ticker", "market": "btcusdt"},
        ]);
        c.send(serde_json::json!({"action": action, "subscriptions": subs, "id": "raw"}));
        let (reply, _) = c.next();
        assert_eq!(reply["e"], "subscribed", "{action}: {reply}");
        assert_eq!(reply["i"], "raw");
        assert_eq!(reply["s"], subs, "{action}: the reply lists all three");

        let mut parser = MaxPublicParser::new();
        let mut events: Vec<(String, String)> = Vec::new();
        let end = Instant::now() + PATIENCE;
        let updates = |evs: &[(String, String)], ch: &str| {
            evs.iter().filter(|(c, e)| c == ch && e == "update").count()
        };
        while ["book", "trade", "ticker"]
            .iter()
            .any(|ch| updates(&events, ch) < 2)
        {
            assert!(
                Instant::now() < end,
                "{action}: gave up after {PATIENCE:?} waiting for two updates of each channel: \
                 {events:?}"
            );
            let (v, bytes) = c.next();
            let (ch, e) = (v["c"].as_str().unwrap(), v["e"].as_str().unwrap());
            assert_eq!(v["M"], "btcusdt");
            let outcome = parser.parse(&bytes, 0, &instruments, |_| {}).unwrap();
            match ch {
                "book" => assert!(matches!(outcome, MaxPublicOutcome::Market { .. })),
                "trade" => {
                    assert!(matches!(outcome, MaxPublicOutcome::Market { .. }));
                    assert_eq!(keys(&v), fixture_keys("ws_trade_update_doc.json", None));
                    for t in v["t"].as_array().unwrap() {
                        assert_eq!(
                            keys(t),
                            keys(&serde_json::from_str(r#"{"p":0,"v":0,"T":0,"tr":0}"#).unwrap())
                        );
                    }
                    if e == "update" {
                        assert!(!v["t"].as_array().unwrap().is_empty());
                    }
                }
                "ticker" => {
                    assert_eq!(outcome, MaxPublicOutcome::Ignored);
                    assert_eq!(keys(&v), fixture_keys("ws_ticker_update_doc.json", None));
                    assert_eq!(
                        keys(&v["tk"]),
                        fixture_keys("ws_ticker_update_doc.json", Some("tk"))
                    );
                    assert_eq!(v["tk"]["M"], "btcusdt");
                }
                other => panic!("{action}: unexpected channel {other}: {v}"),
            }
            events.push((ch.to_string(), e.to_string()));
        }
        // Each channel opens with exactly one snapshot, before any of its updates.
        for ch in ["book", "trade", "ticker"] {
            let mine: Vec<&str> = events
                .iter()
                .filter(|(c, _)| c == ch)
                .map(|(_, e)| e.as_str())
                .collect();
            assert_eq!(mine[0], "snapshot", "{action} {ch}: {mine:?}");
            assert_eq!(mine.iter().filter(|e| **e == "snapshot").count(), 1, "{ch}");
        }
        // The three snapshots come before any update at all: they answer one `sub`.
        let first_update = events.iter().position(|(_, e)| e == "update").unwrap();
        assert_eq!(first_update, 3, "{action}: {events:?}");
    }
}
