//! Shutdown through the real engine: feeds stop, rings drain, every open order is cancelled
//! and confirmed by the venue before the engine exits.
//!
//! Each run lasts until the order stage has just sent an order, which the venue answers only
//! 600–900 ms later, so there is an open order at shutdown however slow the machine is.

#[path = "support/wait.rs"]
mod wait;

#[path = "support/trade_often.rs"]
mod trade_often;

use arbline::config::Config;
use arbline::engine;
use arbline::telemetry::EngineCounters;
use wait::{PATIENCE, run_engine_until};

const JUST_SENT: &str = "an order just sent, still waiting for the venue's answer";

/// Holds once the order stage's count of sent orders has grown since the previous look (its
/// counters are published every 10 ms; the watcher looks every 5 ms).
fn just_sent() -> impl FnMut(&EngineCounters) -> bool + Send {
    let mut before: Option<u64> = None;
    move |c| {
        let sent = c.orders_sent.get();
        let grew = before.is_some_and(|b| sent > b);
        before = Some(sent);
        grew
    }
}

/// Slow venue answers, so orders are still open when the run ends; a signal on nearly every
/// top, so there are orders to cancel; no expiry within the run.
fn config() -> Config {
    let mut cfg = Config::default();
    cfg.sim.latency_min_ms = 600;
    cfg.sim.latency_max_ms = 900;
    cfg.order.cancel_after_ms = 60_000;
    trade_often::trade_on_every_top(&mut cfg, None);
    cfg
}

#[test]
fn shutdown_cancels_open_orders_and_waits_for_the_venue() {
    let mut cfg = config();
    cfg.sim.reject_probability = 0.0;
    cfg.engine.cancel_timeout_ms = 5_000;
    let built = engine::build(&cfg, false).unwrap();
    let threads = cfg.threads().unwrap();
    let r = run_engine_until(built, &threads, JUST_SENT, PATIENCE, just_sent());
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
    let mut cfg = config();
    cfg.engine.cancel_on_shutdown = false;
    let built = engine::build(&cfg, false).unwrap();
    let r = run_engine_until(
        built,
        &cfg.threads().unwrap(),
        JUST_SENT,
        PATIENCE,
        just_sent(),
    );
    // First that there were orders to leave alone: sent, and still open at exit.
    assert!(
        r.order_stats.orders_sent > 0,
        "orders were sent: {:?}",
        r.order_stats
    );
    assert!(
        r.open_orders_at_exit > 0,
        "orders were open at exit: {:?}",
        r.order_stats
    );
    // Then that none of them was cancelled.
    assert_eq!(
        r.order_stats.cancel_requests, 0,
        "no cancel sent: {:?}",
        r.order_stats
    );
}
