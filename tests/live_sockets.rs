//! The whole engine against the simulator over real loopback sockets, as `arbline run`
//! against `arbline sim`: market data from the MAX and Binance WebSocket servers, orders signed
//! and sent by the gateway to the MAX REST server.
//!
//! Each run lasts until what the test is about has happened (seen in the engine's counters, at
//! the simulated venue, or in the engine's events file), with a generous deadline, not for a
//! fixed time.

#[path = "support/events_tail.rs"]
mod events_tail;
#[path = "support/wait.rs"]
mod wait;

#[path = "support/trade_often.rs"]
mod trade_often;

use arbline::config::Config;
use arbline::engine::{self, Venues};
use arbline::model::{Fixed, OrderType, Side, Symbol, WalletType};
use arbline::secrets::Secrets;
use arbline::sim::binance_ws::BinanceSim;
use arbline::sim::max_account::{MaxAccount, NewVenueOrder, OrderKey};
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::sim::max_ws::MaxWsSim;
use events_tail::{EventsTail, events_dir};
use serde_json::Value;
use wait::{PATIENCE, run_engine_until};

const KEY: &str = "live-test-key";
const SECRET: &str = "live-test-secret";
const READ_KEY: &str = "live-test-read-key";
const READ_SECRET: &str = "live-test-read-secret";

struct Venue {
    account: std::sync::Arc<MaxAccount>,
    rest: MaxRestSim,
    _ws: MaxWsSim,
    _binance: BinanceSim,
    cfg: Config,
}

fn venue() -> Venue {
    venue_with(Config::default())
}

fn venue_with(cfg: Config) -> Venue {
    venue_with_keys(cfg, &[(KEY, SECRET)])
}

/// The simulated venue accepting `keys` (access key, secret).
fn venue_with_keys(mut cfg: Config, keys: &[(&str, &str)]) -> Venue {
    let sym = |s| Symbol::new(s).unwrap();
    let markets: Vec<SimMarket> = vec![
        SimMarket {
            id: sym("btcusdt"),
            base: sym("btc"),
            quote: sym("usdt"),
            base_precision: 6,
            quote_precision: 2,
            min_volume: arbline::model::Fixed::parse("0.0001").unwrap(),
            min_quote: arbline::model::Fixed::from_int(8),
        },
        SimMarket {
            id: sym("btctwd"),
            base: sym("btc"),
            quote: sym("twd"),
            base_precision: 8,
            quote_precision: 1,
            min_volume: arbline::model::Fixed::parse("0.0001").unwrap(),
            min_quote: arbline::model::Fixed::from_int(250),
        },
        SimMarket::usdttwd(),
    ];
    let account = MaxAccount::new(&cfg.sim).unwrap();
    let rest =
        MaxRestSim::start_with_account("127.0.0.1:0", keys, markets, account.clone()).unwrap();
    let ws = MaxWsSim::start_with_account("127.0.0.1:0", &cfg.sim, keys, account.clone()).unwrap();
    let binance = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg.sim).unwrap();
    cfg.venues.max.rest_url = rest.base_url();
    cfg.venues.max.ws_url = ws.url();
    cfg.venues.binance.ws_url = binance.ws_base();
    cfg.venues.binance.rest_url = binance.rest_base();
    cfg.demo.stats_interval_ms = 0;
    // Trade on nearly every top, so orders flow within seconds.
    trade_often::trade_on_every_top(&mut cfg, Some(arbline::model::OrderType::Limit));
    cfg.order.cancel_after_ms = 300;
    Venue {
        account,
        rest,
        _ws: ws,
        _binance: binance,
        cfg,
    }
}

/// Sends the engine's events to a fresh file of its own, for an [`EventsTail`].
fn events_to_file(v: &mut Venue, name: &str) -> EventsTail {
    let dir = events_dir(name);
    v.cfg.nats.enabled = false;
    v.cfg.nats.file_dir = dir.to_string_lossy().into_owned();
    EventsTail::new(&dir)
}

/// Whether `e` is the system event `event` of the engine configured by `cfg`.
fn is_system(e: &Value, cfg: &Config, event: &str) -> bool {
    e["subject"].as_str() == Some(&format!("system.{}.{event}", cfg.engine.instance_id))
}

fn secrets(secret: &str) -> Secrets {
    Secrets {
        max_api_key: Some(KEY.into()),
        max_secret_key: Some(secret.into()),
        ..Secrets::default()
    }
}

#[test]
fn the_engine_trades_against_the_simulator_over_sockets() {
    let v = venue();
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        "100 market data events, an acknowledged order and an order cancelled at the venue",
        PATIENCE,
        |c| c.md.get() > 100 && c.acks.get() > 0 && v.rest.order_count("cancel") > 0,
    );
    let e = &r.summary.events;
    assert!(e.md > 100, "market data over both WebSockets: {e:?}");
    assert!(
        e.orders_sent > 0 && e.acks > 0,
        "signed orders accepted by the venue: {e:?} {:?}",
        r.order_stats
    );
    assert_eq!(e.rejects, 0, "{:?}", r.order_stats);
    assert!(
        r.order_stats.cancel_requests > 0,
        "unfilled orders cancelled after their time: {:?}",
        r.order_stats
    );
    assert_eq!(r.open_orders_at_exit, 0, "{:?}", r.order_stats);
    assert!(v.rest.order_count("cancel") > 0);
    // Each acknowledged order's bytes were stamped leaving the REST client's socket: frame
    // read → order written is measured for every answered order.
    let w2w = r.summary.latency_ns["wire_to_wire"];
    assert!(
        w2w.count > 0 && w2w.count <= e.acks + e.rejects,
        "wire_to_wire {w2w:?} for {} acks",
        e.acks
    );
    assert!(w2w.p50 > 0);
}

/// Runs the engine while every reply to the reconciler's list reads is held back 400 ms and a
/// round is due every 200 ms (so a read is nearly always pending), until `acks` orders are
/// acknowledged and `slow` replies were held back; returns the venue and the run.
fn trade_while_reads_are_slow(
    read_key: bool,
    acks: u64,
    slow: u64,
    until_also: impl Fn(&MaxRestSim) -> bool + Send + Sync,
) -> (Venue, arbline::engine::RunResult) {
    let keys: &[(&str, &str)] = if read_key {
        &[(KEY, SECRET), (READ_KEY, READ_SECRET)]
    } else {
        &[(KEY, SECRET)]
    };
    let mut v = venue_with_keys(Config::default(), keys);
    v.cfg.venues.max.reconcile_interval_ms = 200;
    v.rest.set_slow_reads(std::time::Duration::from_millis(400));
    let mut s = secrets(SECRET);
    if read_key {
        s.max_read_api_key = Some(READ_KEY.into());
        s.max_read_secret_key = Some(READ_SECRET.into());
    }
    let built = engine::build_for(&v.cfg, false, Venues::Live(s)).unwrap();
    let rest = &v.rest;
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        "acknowledged orders while the reconciler's reads were slow",
        PATIENCE,
        |c| c.acks.get() >= acks && rest.slow_reads_delayed() >= slow && until_also(rest),
    );
    (v, r)
}

#[test]
fn with_a_read_key_orders_go_out_while_a_slow_reconcile_read_is_pending() {
    let (v, r) =
        trade_while_reads_are_slow(true, 5, 3, |rest| rest.orders_during_slow_reads() >= 3);
    let e = &r.summary.events;
    assert!(e.acks >= 5, "{e:?}");
    assert!(v.rest.slow_reads_delayed() >= 3, "the reads were slow");
    assert!(
        v.rest.orders_during_slow_reads() >= 3,
        "orders reached the venue while a read's answer was pending: {}",
        v.rest.orders_during_slow_reads()
    );
    // The trading key signed the orders; the read key the reconciler's reads (and the private
    // WebSocket's auth, which is not a REST request).
    assert!(v.rest.signed_by(KEY) >= e.orders_sent, "{e:?}");
    assert!(v.rest.signed_by(READ_KEY) >= 3);
    // (Rejects may include orders the order lane refused at once for want of a rate-limit
    // token: it never waits for one.)
    assert_eq!(
        v.account.nonce_ledger().refusals(),
        0,
        "no nonce refused on either key, though two threads sign at once: {e:?}"
    );
    assert!(
        r.order_stats.reconcile_rounds > 0,
        "rounds completed despite the slow reads: {:?}",
        r.order_stats
    );
}

#[test]
fn with_one_key_a_slow_reconcile_read_holds_orders_back() {
    // The contrast: one key, one thread, so no order is sent while a read waits for its answer.
    let (v, r) = trade_while_reads_are_slow(false, 5, 3, |_| true);
    let e = &r.summary.events;
    assert!(e.acks >= 5 && v.rest.slow_reads_delayed() >= 3, "{e:?}");
    assert_eq!(v.rest.signed_by(READ_KEY), 0);
    assert_eq!(
        v.rest.orders_during_slow_reads(),
        0,
        "one thread: an order waits until the read it follows is answered"
    );
}

#[test]
fn orders_fill_over_the_private_websocket_and_a_fill_sent_twice_counts_once() {
    let mut cfg = Config::default();
    cfg.sim.duplicate_fill_probability = 1.0;
    cfg.sim.latency_min_ms = 5;
    cfg.sim.latency_max_ms = 20;
    let mut v = venue_with(cfg);
    // IOC limits at the edge-preserving price: those that cross the MAX touch fill.
    for a in &mut v.cfg.scanner.arbitrage {
        a.order_type = OrderType::IocLimit;
    }
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        "a fill applied and a copy of one dropped",
        PATIENCE,
        |c| c.fills.get() > 0 && c.duplicate_fills.get() > 0,
    );
    let st = r.order_stats;
    let venue_trades = v.account.trades(WalletType::Spot, None, None, 1000);
    eprintln!(
        "venue trades {}, sent twice {}, engine {st:?}",
        venue_trades.len(),
        v.account.duplicates_sent()
    );
    assert!(
        !venue_trades.is_empty(),
        "orders filled at the venue: {st:?}"
    );
    assert_eq!(
        st.fills as usize,
        venue_trades.len(),
        "every trade applied once: {st:?}"
    );
    // Copies come from the venue's repeats and from the last reconcile round at shutdown,
    // which reads each recent trade once more from REST.
    assert!(
        st.duplicate_fills > 0
            && st.duplicate_fills <= v.account.duplicates_sent() + venue_trades.len() as u64,
        "the copies were seen and dropped: {st:?}, sent twice: {}",
        v.account.duplicates_sent()
    );
    // The engine's positions are the venue's trades, market by market.
    let insts = v.cfg.instruments().unwrap();
    assert!(
        r.positions.iter().any(|p| p.wallet == WalletType::Spot),
        "the fills made spot positions: {:?}",
        r.positions
    );
    for p in r.positions.iter().filter(|p| p.wallet == WalletType::Spot) {
        let sym = insts.get(p.instrument).symbol.to_lowercase();
        let net: i64 = venue_trades
            .iter()
            .filter(|t| t.market.to_lowercase() == sym)
            .map(|t| match t.side {
                arbline::model::Side::Buy => t.volume.raw(),
                arbline::model::Side::Sell => -t.volume.raw(),
            })
            .sum();
        let engine_net: i64 = r
            .positions
            .iter()
            .filter(|q| q.instrument == p.instrument && q.wallet == WalletType::Spot)
            .map(|q| q.qty.raw())
            .sum();
        assert_eq!(engine_net, net, "{sym}: engine {engine_net} vs venue {net}");
    }
}

#[test]
fn the_reconciler_adopts_an_order_the_engine_did_not_know_and_leaves_it_alone() {
    let mut v = venue();
    v.cfg.venues.max.reconcile_interval_ms = 300;
    // Placed by hand before the engine starts, far below the market: it rests.
    let by_hand = v
        .account
        .create(&NewVenueOrder {
            wallet: WalletType::Spot,
            market: "btcusdt",
            side: Side::Buy,
            ord_type: OrderType::Limit,
            price: Fixed::from_int(1000),
            volume: Fixed::parse("0.001").unwrap(),
            client_oid: Default::default(),
        })
        .unwrap();
    let mut events = events_to_file(&mut v, "adopt");
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let (mut adopted, mut rounds) = (0, 0);
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        "the order placed by hand adopted, and three reconcile rounds",
        PATIENCE,
        |_| {
            events.poll(|e| {
                adopted += usize::from(is_system(e, &v.cfg, "reconcile_adopted"));
                rounds += usize::from(is_system(e, &v.cfg, "reconcile_done"));
            });
            adopted >= 1 && rounds >= 3
        },
    );
    let st = r.order_stats;
    assert_eq!(st.adopted, 1, "{st:?}");
    assert!(
        st.reconcile_rounds >= 3,
        "at start and every 300 ms: {st:?}"
    );
    assert_eq!(
        v.account.get(OrderKey::Id(by_hand.id)).map(|o| o.state),
        Some("wait"),
        "not ours to cancel, at expiry or at shutdown"
    );
}

#[test]
fn fills_the_private_websocket_never_delivered_are_read_back_from_rest() {
    let mut cfg = Config::default();
    cfg.sim.latency_min_ms = 5;
    cfg.sim.latency_max_ms = 20;
    let mut v = venue_with(cfg);
    v.cfg.venues.max.reconcile_interval_ms = 300;
    // IOCs on one market fill; post-only orders on the other cross the touch, so the venue
    // cancels them at once — news the muted WebSocket never brings.
    v.cfg.scanner.arbitrage[0].order_type = OrderType::IocLimit;
    v.cfg.scanner.arbitrage[1].order_type = OrderType::PostOnly;
    // No expiry: only the reconciler can find out that an order finished at the venue.
    v.cfg.order.cancel_after_ms = 60_000;
    v.account.set_private_muted(true);
    let mut events = events_to_file(&mut v, "rest-fills");
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let mut missing = 0;
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        "a fill read from REST and an order found missing from the venue's open orders",
        PATIENCE,
        |c| {
            events.poll(|e| missing += usize::from(is_system(e, &v.cfg, "reconcile_missing")));
            c.fills.get() > 0 && missing > 0
        },
    );
    let st = r.order_stats;
    let venue_trades = v.account.trades(WalletType::Spot, None, None, 1000);
    assert!(!venue_trades.is_empty(), "{st:?}");
    // Trades of the last moments may come after the engine's last round.
    assert!(
        st.fills > 0 && st.fills as usize <= venue_trades.len(),
        "{st:?} vs {}",
        venue_trades.len()
    );
    assert_eq!(
        st.reconcile_fills, st.fills,
        "every fill came from REST: {st:?}"
    );
    assert!(
        st.reconcile_missing > 0,
        "finished orders the WebSocket never closed were read back: {st:?}"
    );
    assert_eq!(r.open_orders_at_exit, 0, "every order resolved: {st:?}");
}

const HALTED: &str = "trading halted, and more than ten signals refused per order sent";

/// Holds once the engine has announced the halt and its refused signals outnumber its orders
/// (at least one) more than ten to one.
fn halted_and_refusing<'a>(
    events: &'a mut EventsTail,
    cfg: &'a Config,
) -> impl FnMut(&arbline::telemetry::EngineCounters) -> bool + Send + 'a {
    let mut halted = false;
    move |c| {
        events.poll(|e| {
            halted |= is_system(e, cfg, "trading_state_changed") && e["trading_state"] == "halted"
        });
        halted && c.risk_rejects.get() > 10 * c.orders_sent.get().max(1)
    }
}

#[test]
fn a_wrong_secret_halts_trading_and_no_order_reaches_the_venue() {
    let mut v = venue();
    let mut events = events_to_file(&mut v, "wrong-secret");
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets("wrong-secret"))).unwrap();
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        HALTED,
        PATIENCE,
        halted_and_refusing(&mut events, &v.cfg),
    );
    // The private WebSocket's auth is refused (E-1007) and halts trading, usually before the
    // first order; any order that did go out is refused by REST (2005).
    assert!(r.order_stats.risk_rejects > 0, "{:?}", r.order_stats);
    assert_eq!(r.summary.events.acks, 0);
    assert_eq!(
        v.rest.order_count("wait") + v.rest.order_count("cancel"),
        0,
        "no order reached the book"
    );
    // The refused credentials halt trading: a handful of orders in flight went out, every later
    // signal is refused by the kill switch.
    let st = r.order_stats;
    assert!(
        st.orders_sent <= 10 && st.risk_rejects > 10 * st.orders_sent,
        "{st:?}"
    );
}

#[test]
fn a_venue_clock_beyond_the_drift_limit_halts_trading() {
    let mut v = venue();
    v.rest.set_clock_offset_ms(20_000);
    v.cfg.venues.max.max_clock_drift_ms = 5_000;
    let mut events = events_to_file(&mut v, "clock-drift");
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let r = run_engine_until(
        built,
        &v.cfg.threads().unwrap(),
        HALTED,
        PATIENCE,
        halted_and_refusing(&mut events, &v.cfg),
    );
    let st = r.order_stats;
    assert!(
        st.orders_sent <= 10 && st.risk_rejects > 10 * st.orders_sent,
        "halted at the first time sync: {st:?}"
    );
    assert!(
        r.order_stats.risk_rejects > 0,
        "signals refused by the halted kill switch: {:?}",
        r.order_stats
    );
}
