//! The whole engine against the simulator over real loopback sockets, as `arbline run`
//! against `arbline sim`: market data from the MAX and Binance WebSocket servers, orders signed
//! and sent by the gateway to the MAX REST server.

use arbline::config::Config;
use arbline::engine::{self, Venues};
use arbline::secrets::Secrets;
use arbline::sim::binance_ws::BinanceSim;
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::sim::max_ws::MaxWsSim;
use std::time::Duration;

const KEY: &str = "live-test-key";
const SECRET: &str = "live-test-secret";

struct Venue {
    rest: MaxRestSim,
    _ws: MaxWsSim,
    _binance: BinanceSim,
    cfg: Config,
}

fn venue() -> Venue {
    let mut cfg = Config::default();
    let markets: Vec<SimMarket> = vec![
        SimMarket {
            id: "btcusdt".into(),
            base: "btc".into(),
            quote: "usdt".into(),
            base_precision: 6,
            quote_precision: 2,
            min_volume: arbline::model::Fixed::parse("0.0001").unwrap(),
            min_quote: arbline::model::Fixed::from_int(8),
        },
        SimMarket {
            id: "btctwd".into(),
            base: "btc".into(),
            quote: "twd".into(),
            base_precision: 8,
            quote_precision: 1,
            min_volume: arbline::model::Fixed::parse("0.0001").unwrap(),
            min_quote: arbline::model::Fixed::from_int(250),
        },
        SimMarket::usdttwd(),
    ];
    let rest = MaxRestSim::start("127.0.0.1:0", &[(KEY, SECRET)], markets).unwrap();
    let ws = MaxWsSim::start_with_keys("127.0.0.1:0", &cfg.sim, &[(KEY, SECRET)]).unwrap();
    let binance = BinanceSim::start("127.0.0.1:0", "127.0.0.1:0", &cfg.sim).unwrap();
    cfg.venues.max.rest_url = rest.base_url();
    cfg.venues.max.ws_url = ws.url();
    cfg.venues.binance.ws_url = binance.ws_base();
    cfg.venues.binance.rest_url = binance.rest_base();
    cfg.demo.stats_interval_ms = 0;
    // Trade on nearly every top, so orders flow within seconds.
    for a in &mut cfg.scanner.arbitrage {
        a.min_samples = 5;
        a.cooldown_ms = 0;
        a.taker_fee_bps = 0.0;
        a.edge_bps = 0.0;
        a.order_type = arbline::model::OrderType::Limit;
    }
    cfg.order.cancel_after_ms = 300;
    Venue {
        rest,
        _ws: ws,
        _binance: binance,
        cfg,
    }
}

fn secrets(secret: &str) -> Secrets {
    Secrets {
        max_api_key: Some(KEY.into()),
        max_secret_key: Some(secret.into()),
    }
}

#[test]
fn the_engine_trades_against_the_simulator_over_sockets() {
    let v = venue();
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let r = engine::run(built, &v.cfg.threads().unwrap(), Duration::from_secs(4)).unwrap();
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
}

#[test]
fn a_wrong_secret_halts_trading_and_no_order_reaches_the_venue() {
    let v = venue();
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets("wrong-secret"))).unwrap();
    let r = engine::run(built, &v.cfg.threads().unwrap(), Duration::from_secs(3)).unwrap();
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
    let built = engine::build_for(&v.cfg, false, Venues::Live(secrets(SECRET))).unwrap();
    let r = engine::run(built, &v.cfg.threads().unwrap(), Duration::from_secs(3)).unwrap();
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
