//! The staleness watchdog: when a feed goes silent its books stop being tradable, and become
//! tradable again when data flows. Driven on the mocked engine clock, so "silent for 700 ms"
//! means exactly that on any machine.

#[path = "support/stepped_engine.rs"]
mod stepped_engine;

use arbline::config::Config;
use arbline::model::{BookStatus, FeedLink, InstrumentId, SystemKind, Telemetry};
use stepped_engine::SteppedEngine;

#[test]
fn a_silent_feed_makes_its_books_stale_until_data_flows_again() {
    let mut cfg = Config::default();
    cfg.engine.stale_feed_ms = 300;
    let mut e = SteppedEngine::new(&cfg);
    let max_btc = InstrumentId(1);
    e.run_until("the MAX book to go live", 5_000, true, |b| {
        b.book.status(max_btc) == BookStatus::Live
    });
    // Silence shorter than the threshold: still live.
    e.run_ms(200, false);
    assert_eq!(
        e.built.book.status(max_btc),
        BookStatus::Live,
        "200 ms of silence < 300 ms"
    );
    // Past the threshold (the watchdog looks every 100 ms at most).
    e.run_ms(500, false);
    assert_eq!(
        e.built.book.status(max_btc),
        BookStatus::Stale,
        "no data for 700 ms > 300 ms"
    );
    let stale_events = e
        .built
        .side
        .rxs
        .iter()
        .flat_map(|rx| std::iter::from_fn(move || rx.pop()))
        .filter(|t| {
            matches!(
                t,
                Telemetry::System(s) if s.kind == SystemKind::FeedDown(FeedLink::MarketDataSilence)
            )
        })
        .count();
    assert!(stale_events >= 1, "the operator is told");
    e.run_until("the MAX book to be live again", 5_000, true, |b| {
        b.book.status(max_btc) == BookStatus::Live
    });
}
