//! Unit tests of `src/scanner/scanners.rs` (in their own file to keep that one short).
use super::*;
use crate::model::{Fixed, Level, Side, Strategy, Venue};

fn f(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn instruments() -> Instruments {
    let mut t = Instruments::new();
    let r = |tick: &str, lot: &str, mq: &str, mn: &str| crate::model::MarketRules {
        tick: f(tick),
        lot: f(lot),
        min_qty: f(mq),
        min_notional: f(mn),
    };
    t.intern_with_rules(
        Venue::BinanceFutures,
        "BTCUSDT",
        "btc",
        "usdt",
        r("0.1", "0.001", "0", "0"),
    )
    .unwrap();
    t.intern_with_rules(
        Venue::Max,
        "btcusdt",
        "btc",
        "usdt",
        r("0.01", "0.000001", "0.0001", "8"),
    )
    .unwrap();
    t.intern_with_rules(
        Venue::Max,
        "btctwd",
        "btc",
        "twd",
        r("0.1", "0.00000001", "0.0001", "250"),
    )
    .unwrap();
    t.intern_with_rules(
        Venue::Max,
        "usdttwd",
        "usdt",
        "twd",
        r("0.001", "0.01", "8", "250"),
    )
    .unwrap();
    t.intern_with_rules(
        Venue::RefRate,
        "USDTWD",
        "usd",
        "twd",
        r("0.0001", "0.0001", "0", "0"),
    )
    .unwrap();
    t
}

fn top(i: u16, venue: Venue, bid: &str, ask: &str, size: &str, ts: u64) -> BookTop {
    BookTop {
        venue,
        instrument: InstrumentId(i),
        status: BookStatus::Live,
        bid: Level {
            price: f(bid),
            qty: f(size),
        },
        ask: Level {
            price: f(ask),
            qty: f(size),
        },
        ts_frame: ts,
        ..Default::default()
    }
}

fn cfg() -> ScannerConfig {
    let mut c = ScannerConfig::default();
    c.arbitrage.truncate(1);
    c.arbitrage[0].min_samples = 5;
    c.arbitrage[0].allow_short = false;
    c.stable_coin.enabled = false;
    c
}

/// Warms the basis at zero, then moves MAX's ask far below the leader.
#[test]
fn a_stale_max_ask_below_fair_value_is_bought_at_the_ask() {
    let clock = EngineClock::new();
    let board = PositionBoard::default();
    let mut s = Scanners::new(&cfg(), &instruments()).unwrap();
    let mut sigs = Vec::new();
    for _ in 0..10 {
        let now = clock.raw();
        s.on_top(
            &top(0, Venue::BinanceFutures, "94999.9", "95000.1", "5", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
        s.on_top(
            &top(1, Venue::Max, "94990", "95010", "1", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
    }
    assert!(sigs.is_empty(), "no edge while MAX sits at fair value");
    let now = clock.raw();
    s.on_top(
        &top(1, Venue::Max, "94700", "94750.005", "0.5", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(sigs.len(), 1);
    let g = sigs[0];
    assert_eq!(
        (g.strategy, g.side, g.instrument),
        (Strategy::Arbitrage, Side::Buy, InstrumentId(1))
    );
    // An IOC's limit is the worst price that keeps the edge: at or through the ask, never
    // beyond fair value less fees and edge, and on the tick.
    assert!(
        g.price >= f("94750.005") && g.price.to_f64() <= g.fair_value * (1.0 - 0.002),
        "{g:?}"
    );
    assert!(g.price.is_multiple_of(f("0.01")));
    assert_eq!(g.qty, f("0.001"));
    assert!(g.edge_bps > 5.0 && g.fair_value > 94_990.0);
    // Cooldown: the same opportunity right away gives nothing.
    s.on_top(
        &top(1, Venue::Max, "94700", "94750", "0.5", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(sigs.len(), 1);
    assert_eq!(s.stats().cooldown, 1);
}

#[test]
fn no_sell_from_a_flat_position_without_shorting_and_caps_hold() {
    let clock = EngineClock::new();
    let board = PositionBoard::default();
    let mut c = cfg();
    c.arbitrage[0].cooldown_ms = 0;
    let mut s = Scanners::new(&c, &instruments()).unwrap();
    let mut sigs = Vec::new();
    for _ in 0..10 {
        let now = clock.raw();
        s.on_top(
            &top(0, Venue::BinanceFutures, "94999.9", "95000.1", "5", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
        s.on_top(
            &top(1, Venue::Max, "94990", "95010", "1", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
    }
    let now = clock.raw();
    s.on_top(
        &top(1, Venue::Max, "95400", "95450", "1", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert!(sigs.is_empty(), "MAX rich but nothing to sell");
    assert_eq!(s.stats().no_room, 1);
    board.set(Strategy::Arbitrage, InstrumentId(1), f("0.0004"));
    s.on_top(
        &top(1, Venue::Max, "95400", "95450", "1", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(
        (sigs[0].side, sigs[0].qty),
        (Side::Sell, f("0.0004")),
        "sells only what it holds"
    );
    board.set(Strategy::Arbitrage, InstrumentId(1), f("0.0095"));
    s.on_top(
        &top(1, Venue::Max, "94500", "94550", "1", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(
        (sigs[1].side, sigs[1].qty),
        (Side::Buy, f("0.0005")),
        "buys only up to the cap"
    );
}

#[test]
fn a_book_that_is_not_live_or_a_stale_leader_gives_no_signal() {
    let clock = EngineClock::new();
    let board = PositionBoard::default();
    let mut s = Scanners::new(&cfg(), &instruments()).unwrap();
    let mut sigs = Vec::new();
    for _ in 0..10 {
        let now = clock.raw();
        s.on_top(
            &top(0, Venue::BinanceFutures, "94999.9", "95000.1", "5", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
        s.on_top(
            &top(1, Venue::Max, "94990", "95010", "1", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
    }
    let now = clock.raw();
    let mut resync = top(0, Venue::BinanceFutures, "0", "0", "0", now);
    resync.status = BookStatus::Resyncing;
    s.on_top(&resync, now, &clock, &board, |g| sigs.push(*g));
    s.on_top(
        &top(1, Venue::Max, "94700", "94750", "0.5", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert!(sigs.is_empty(), "leader resyncing");
    // Leader back, but its top is older than max_age when MAX moves.
    let old = clock.raw();
    s.on_top(
        &top(0, Venue::BinanceFutures, "94999.9", "95000.1", "5", old),
        old,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    // (The returning leader meets MAX's low ask, which may trade: count from here.)
    let before = sigs.len();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let now = clock.raw();
    s.on_top(
        &top(1, Venue::Max, "94000", "94050", "0.5", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(sigs.len(), before, "stale leader");
    assert!(s.stats().stale >= 1 && s.stats().not_live == 1);
}

#[test]
fn twd_market_through_the_usdttwd_conversion() {
    let clock = EngineClock::new();
    let board = PositionBoard::default();
    let mut c = cfg();
    c.arbitrage[0].max_symbol = "btctwd".into();
    c.arbitrage[0].conversion_symbol = "usdttwd".into();
    let mut s = Scanners::new(&c, &instruments()).unwrap();
    let mut sigs = Vec::new();
    for _ in 0..10 {
        let now = clock.raw();
        s.on_top(
            &top(3, Venue::Max, "31.999", "32.001", "1000", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
        s.on_top(
            &top(0, Venue::BinanceFutures, "94999.9", "95000.1", "5", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
        s.on_top(
            &top(2, Venue::Max, "3039900", "3040100", "1", now),
            now,
            &clock,
            &board,
            |g| sigs.push(*g),
        );
    }
    assert!(sigs.is_empty());
    let now = clock.raw();
    s.on_top(
        &top(2, Venue::Max, "3020000", "3021000", "1", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].side, Side::Buy);
    assert!(
        sigs[0].price >= f("3021000")
            && sigs[0].price.to_f64() <= sigs[0].fair_value * (1.0 - 0.002)
    );
    assert!((sigs[0].quote_to_usdt - 1.0 / 32.0).abs() < 1e-6);
}

#[test]
fn stable_coin_buys_below_and_sells_above_the_bands() {
    let clock = EngineClock::new();
    let board = PositionBoard::default();
    let mut c = cfg();
    c.arbitrage.clear();
    c.stable_coin.enabled = true;
    c.stable_coin.cooldown_ms = 0;
    let mut s = Scanners::new(&c, &instruments()).unwrap();
    let mut sigs = Vec::new();
    let now = clock.raw();
    s.on_top(
        &top(4, Venue::RefRate, "32", "32", "0", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    s.on_top(
        &top(3, Venue::Max, "31.999", "32.001", "5000", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert!(sigs.is_empty(), "inside the bands");
    s.on_top(
        &top(3, Venue::Max, "31.880", "31.890", "5000", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!(
        (sigs[0].strategy, sigs[0].side, sigs[0].price, sigs[0].qty),
        (Strategy::StableCoin, Side::Buy, f("31.89"), f("100"))
    );
    s.on_top(
        &top(3, Venue::Max, "32.110", "32.120", "5000", now),
        now,
        &clock,
        &board,
        |g| sigs.push(*g),
    );
    assert_eq!((sigs[1].side, sigs[1].price), (Side::Sell, f("32.11")));
}

#[test]
fn a_top_reaches_only_the_strategies_that_use_its_instrument() {
    let mut c = ScannerConfig::default();
    c.stable_coin.enabled = false;
    // [0] btcusdt ← BTCUSDT, [1] btctwd ← BTCUSDT × usdttwd.
    let s = Scanners::new(&c, &instruments()).unwrap();
    let routes = |i: u16| s.routes(InstrumentId(i)).collect::<Vec<_>>();
    assert_eq!(routes(0), [0, 1], "the leader feeds both");
    assert_eq!(routes(1), [0]);
    assert_eq!(routes(2), [1]);
    assert_eq!(routes(3), [1], "the conversion");
    assert!(routes(4).is_empty() && routes(999).is_empty());
}

#[test]
fn config_errors_name_the_key() {
    let mut c = ScannerConfig::default();
    c.arbitrage[0].edge_bps = -1.0;
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("scanner.arbitrage[0].edge_bps")
    );
    let mut c = ScannerConfig::default();
    c.arbitrage[1].order_qty = "NaN".into();
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("scanner.arbitrage[1].order_qty")
    );
    let mut c = ScannerConfig::default();
    c.arbitrage[0].max_symbol = "ethusdt".into();
    assert!(
        Scanners::new(&c, &instruments())
            .err()
            .unwrap()
            .to_string()
            .contains("scanner.arbitrage[0].max_symbol")
    );
    let mut c = ScannerConfig::default();
    c.trading_hours.end = "25:00".into();
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("trading_hours.end")
    );
}
