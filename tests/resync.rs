//! The resync loop end to end, in process: the synthetic venue skips updates and changes MAX's
//! book version; each book notices, asks its feed for a snapshot, and comes back live.

#[path = "support/wait.rs"]
mod wait;

use arbline::config::Config;
use arbline::engine;
use arbline::model::{BookStatus, InstrumentId, SystemCode, Telemetry};
use arbline::pipeline::Stage;
use std::collections::HashMap;
use std::time::Instant;
use wait::PATIENCE;

#[test]
fn books_recover_from_gaps_and_version_changes() {
    let mut cfg = Config::default();
    cfg.sim.gap_probability = 0.01;
    cfg.sim.version_change_after_updates = 60;
    let built = engine::build(&cfg, false).unwrap();
    let counters = built.counters.clone();
    let rxs = built.side.rxs;
    let (mut feed, mut book, mut scanner, mut order) =
        (built.feeds, built.book, built.scanner, built.order);
    let mut resyncs: HashMap<u16, u32> = HashMap::new();
    let mut lives: HashMap<u16, u32> = HashMap::new();
    let live_now = |book: &arbline::book::BookStage| {
        (0..5u16)
            .filter(|i| book.status(InstrumentId(*i)) == BookStatus::Live)
            .count()
    };
    // Runs until everything asserted below holds at once (a MAX and the Binance book have
    // resynced, every resynced book came back live, most books are live now), or the deadline.
    let end = Instant::now() + PATIENCE;
    let mut rounds = 0u64;
    while Instant::now() < end {
        feed.iter_mut().for_each(|f| {
            f.poll();
        });
        book.poll();
        scanner.poll();
        order.poll();
        for rx in &rxs {
            while let Some(t) = rx.pop() {
                if let Telemetry::System(s) = t {
                    match s.code() {
                        SystemCode::Resync => *resyncs.entry(s.instrument.0).or_default() += 1,
                        SystemCode::BookLive => *lives.entry(s.instrument.0).or_default() += 1,
                        _ => {}
                    }
                }
            }
        }
        rounds += 1;
        if rounds.is_multiple_of(64)
            && counters.resyncs.get() > 0
            && resyncs.keys().any(|i| (1..=3).contains(i))
            && resyncs.contains_key(&0)
            && resyncs
                .keys()
                .all(|i| lives.get(i).copied().unwrap_or(0) >= 2)
            && live_now(&book) >= 3
        {
            break;
        }
    }
    assert!(counters.resyncs.get() > 0, "gaps were injected and noticed");
    // The books that lost sync include both MAX (version changes) and Binance (gaps).
    assert!(
        resyncs.keys().any(|i| *i >= 1 && *i <= 3),
        "a MAX book resynced within {PATIENCE:?}: {resyncs:?}"
    );
    assert!(
        resyncs.contains_key(&0),
        "the Binance book resynced within {PATIENCE:?}: {resyncs:?}"
    );
    for (i, n) in &resyncs {
        let live = lives.get(i).copied().unwrap_or(0);
        // Live once at start, and again after resyncing (a resync can also strike while the
        // book is still rebuilding, so the counts need not pair up one to one).
        assert!(
            live >= 2,
            "instrument {i}: {n} resyncs but live only {live} times within {PATIENCE:?}"
        );
    }
    let live_now = live_now(&book);
    assert!(
        live_now >= 3,
        "most books are live at the end ({live_now} of 5)"
    );
}
