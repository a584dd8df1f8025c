//! Shutdown through the real engine: feeds stop, rings drain, every open order is cancelled
//! and confirmed by the venue before the engine exits.

use arbline::config::Config;
use arbline::engine;
use std::time::Duration;

#[test]
fn shutdown_cancels_open_orders_and_waits_for_the_venue() {
    let mut cfg = Config::default();
    // Slow venue answers, so orders are still open when the run ends; a signal on nearly every
    // top, so there are orders to cancel.
    cfg.sim.latency_min_ms = 600;
    cfg.sim.latency_max_ms = 900;
    cfg.sim.reject_probability = 0.0;
    cfg.order.cancel_after_ms = 60_000;
    for a in &mut cfg.scanner.arbitrage {
        a.min_samples = 5;
        a.cooldown_ms = 0;
        a.taker_fee_bps = 0.0;
        a.edge_bps = 0.0;
    }
    cfg.engine.cancel_timeout_ms = 5_000;
    let built = engine::build(&cfg, false).unwrap();
    let threads = cfg.threads().unwrap();
    let r = engine::run(built, &threads, Duration::from_millis(2_500)).unwrap();
    assert!(
        r.order_stats.orders_sent > 0,
        "orders were sent: {:?}",
        r.order_stats
    );
    assert!(
        r.order_stats.cancel_requests > 0,
        "open orders were cancelled at shutdown: {:?}",
        r.order_stats
    );
    assert_eq!(
        r.open_orders_at_exit, 0,
        "every cancel confirmed before exit: {:?}",
        r.order_stats
    );
}

#[test]
fn without_cancel_on_shutdown_orders_are_left_alone() {
    let mut cfg = Config::default();
    cfg.sim.latency_min_ms = 600;
    cfg.sim.latency_max_ms = 900;
    cfg.order.cancel_after_ms = 60_000;
    for a in &mut cfg.scanner.arbitrage {
        a.min_samples = 5;
        a.cooldown_ms = 0;
        a.taker_fee_bps = 0.0;
        a.edge_bps = 0.0;
    }
    cfg.engine.cancel_on_shutdown = false;
    let built = engine::build(&cfg, false).unwrap();
    let r = engine::run(built, &cfg.threads().unwrap(), Duration::from_millis(2_500)).unwrap();
    assert_eq!(r.order_stats.cancel_requests, 0);
}
