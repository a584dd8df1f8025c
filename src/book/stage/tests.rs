//! Unit tests of `src/book/stage.rs` (in their own file to keep that one short).
use super::*;

#[test]
fn reads_every_feed_ring_and_finishes_when_all_are_closed() {
    use crate::pipeline::ring::md_ring;
    use disruptor::Producer;
    let mut instruments = Instruments::new();
    let usdtwd = instruments
        .intern(Venue::RefRate, "USDTWD", "USD", "TWD")
        .unwrap();
    let (mut a, a_poll) = md_ring(64);
    let (mut b, b_poll) = md_ring(64);
    let (mut tops, out) =
        disruptor::build_single_producer(64, BookTop::default, disruptor::BusySpin)
            .new_event_poller();
    let (tele, _rx) = crate::telemetry::telemetry_queue("t", 64);
    let mut stage = BookStage::new(BookStageParts {
        md: a_poll,
        out: out.build(),
        instruments,
        binance_ticker_tops: false,
        resync: Arc::new(ResyncRequests::default()),
        mids: Arc::new(MidBoard::default()),
        clock: EngineClock::new(),
        counters: Arc::new(EngineCounters::default()),
        tele,
        batch: 16,
        stale_after_ms: 0,
        live: Arc::new(crate::pipeline::board::LiveBoard::new(64)),
        live_timeout_ms: 0,
    })
    .with_md_ring(b_poll);
    let rate = Fixed::parse("32.5").unwrap();
    b.publish(|e| *e = crate::venue::refrate::ref_rate_event(usdtwd, rate, 1, 1));
    assert_eq!(stage.poll(), Poll::Busy(1), "the second ring is read");
    let mut got = Vec::new();
    if let Ok(mut g) = tops.take(16) {
        got.extend((&mut g).map(|t| t.bid.price));
    }
    assert_eq!(got, [rate]);
    a.publish(|e| *e = crate::venue::refrate::ref_rate_event(usdtwd, rate, 2, 2));
    assert_eq!(stage.poll(), Poll::Busy(1), "and the first");
    drop(a);
    assert_eq!(stage.poll(), Poll::Idle, "one ring still open");
    drop(b);
    assert_eq!(stage.poll(), Poll::Finished, "both closed and drained");
}

#[test]
fn the_mid_of_prices_near_the_limit_does_not_overflow() {
    let mut top = BookTop::default();
    let p = Fixed::parse("50000000000").unwrap();
    top.bid.price = p;
    top.ask.price = Fixed(p.raw() + 2);
    assert_eq!(mid_of(&top), Some(Fixed(p.raw() + 1)));
    top.bid.price = Fixed::MAX;
    top.ask.price = Fixed::MAX;
    assert_eq!(mid_of(&top), Some(Fixed::MAX));
    top.bid.price = Fixed::ZERO;
    assert_eq!(mid_of(&top), None);
}
