//! The staleness watchdog: when a feed goes silent its books stop being tradable, and become
//! tradable again when data flows.

use arbline::config::Config;
use arbline::engine;
use arbline::model::{BookStatus, InstrumentId, SystemCode, Telemetry};
use arbline::pipeline::Stage;
use std::time::{Duration, Instant};

#[test]
fn a_silent_feed_makes_its_books_stale_until_data_flows_again() {
    let mut cfg = Config::default();
    cfg.engine.stale_feed_ms = 300;
    let built = engine::build(&cfg, false).unwrap();
    let rxs = built.side.rxs;
    let (mut feeds, mut book, mut scanner, mut order) =
        (built.feeds, built.book, built.scanner, built.order);
    let mut run = |d: Duration,
                   with_feed: bool,
                   feeds: &mut Vec<engine::AnyStage>,
                   book: &mut arbline::book::BookStage| {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if with_feed {
                feeds.iter_mut().for_each(|f| {
                    f.poll();
                });
            }
            book.poll();
            scanner.poll();
            order.poll();
        }
    };
    run(Duration::from_millis(800), true, &mut feeds, &mut book);
    let max_btc = InstrumentId(1);
    assert_eq!(book.status(max_btc), BookStatus::Live);
    run(Duration::from_millis(700), false, &mut feeds, &mut book);
    assert_eq!(
        book.status(max_btc),
        BookStatus::Stale,
        "no data for 700 ms > 300 ms"
    );
    let stale_events = rxs
        .iter()
        .flat_map(|rx| std::iter::from_fn(move || rx.pop()))
        .filter(|t| matches!(t, Telemetry::System(s) if s.code == SystemCode::FeedDown && s.detail == 1))
        .count();
    assert!(stale_events >= 1, "the operator is told");
    run(Duration::from_millis(500), true, &mut feeds, &mut book);
    assert_eq!(
        book.status(max_btc),
        BookStatus::Live,
        "live again once data flows"
    );
}
