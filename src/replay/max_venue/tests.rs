//! Unit tests of [`super::ReplayMaxVenue`], at the boundaries of its model.

use super::*;
use crate::model::ClientOid;

const I: InstrumentId = InstrumentId(0);
const MS: u64 = 1_000_000;
/// A Unix time in ns on the capture's clock (2026-01-01T00:00:00Z).
const T0: u64 = 1_767_225_600_000_000_000;

struct Books(Vec<Option<L2Book>>);

impl BookView for Books {
    fn book(&self, instrument: InstrumentId) -> Option<&L2Book> {
        self.0.get(instrument.index()).and_then(Option::as_ref)
    }
}

fn f(v: &str) -> Fixed {
    Fixed::parse(v).unwrap()
}

fn n(v: i64) -> Fixed {
    Fixed::from_int(v)
}

fn books(bids: &[(i64, i64)], asks: &[(i64, i64)]) -> Books {
    let lv = |&(p, q): &(i64, i64)| Level {
        price: n(p),
        qty: n(q),
    };
    let mut b = L2Book::default();
    b.apply(
        &bids.iter().map(lv).collect::<Vec<_>>(),
        &asks.iter().map(lv).collect::<Vec<_>>(),
    );
    Books(vec![Some(b)])
}

fn venue_with(latency: LatencyModel, seed: u64) -> ReplayMaxVenue {
    let mut instruments = Instruments::new();
    instruments
        .intern(Venue::Max, "btcusdt", "btc", "usdt")
        .unwrap();
    let cfg = ReplayVenueConfig {
        latency,
        maker_fee_bps: 5.0,
        taker_fee_bps: 15.0,
        seed,
    };
    ReplayMaxVenue::new(cfg, &instruments).unwrap()
}

/// 5 ms constant latency.
fn venue() -> ReplayMaxVenue {
    venue_with(LatencyModel::Constant { ns: 5 * MS }, 7)
}

fn req(
    kind: GatewayCmdKind,
    ot: OrderType,
    side: Side,
    price: i64,
    qty: i64,
    oid: &str,
) -> OrderRequest {
    OrderRequest {
        kind,
        client_oid: ClientOid::from_bytes(oid.as_bytes()).unwrap(),
        instrument: I,
        order_type: ot,
        side,
        price: n(price),
        qty: n(qty),
        ..Default::default()
    }
}

fn new(ot: OrderType, side: Side, price: i64, qty: i64, oid: &str) -> OrderRequest {
    req(GatewayCmdKind::New, ot, side, price, qty, oid)
}

fn ioc(side: Side, price: i64, qty: i64, oid: &str) -> OrderRequest {
    new(OrderType::IocLimit, side, price, qty, oid)
}

fn limit(side: Side, price: i64, qty: i64, oid: &str) -> OrderRequest {
    new(OrderType::Limit, side, price, qty, oid)
}

fn post(side: Side, price: i64, qty: i64, oid: &str) -> OrderRequest {
    new(OrderType::PostOnly, side, price, qty, oid)
}

fn cancel(oid: &str) -> OrderRequest {
    req(
        GatewayCmdKind::Cancel,
        OrderType::Limit,
        Side::Buy,
        0,
        0,
        oid,
    )
}

/// Submits `r` at `t` and runs the venue past its latency.
fn send(v: &mut ReplayMaxVenue, r: OrderRequest, t: u64, b: &Books) -> Vec<ExecOutput> {
    v.submit(&r, t);
    let mut out = Vec::new();
    if let Some(due) = v.next_due_ns() {
        v.arrive_due(due, b, &mut |o| out.push(o));
    }
    out
}

fn book_changed(v: &mut ReplayMaxVenue, b: &Books, t: u64) -> Vec<ExecOutput> {
    let mut out = Vec::new();
    v.on_book(I, b, t, &mut |o| out.push(o));
    out
}

fn print(v: &mut ReplayMaxVenue, price: i64, qty: i64, taker: Side, t: u64) -> Vec<ExecOutput> {
    let mut out = Vec::new();
    v.on_trade(I, n(price), n(qty), taker, t, &mut |o| out.push(o));
    out
}

fn trades(out: &[ExecOutput]) -> Vec<(Fixed, Fixed, Fixed, bool)> {
    out.iter()
        .filter_map(|o| match o {
            ExecOutput::Trade(t) => Some((t.price, t.volume, t.fee, t.maker)),
            _ => None,
        })
        .collect()
}

fn last_state(out: &[ExecOutput]) -> Option<(&'static str, Fixed)> {
    out.iter().rev().find_map(|o| match o {
        ExecOutput::OrderUpdate {
            state, executed, ..
        } => Some((*state, *executed)),
        _ => None,
    })
}

#[test]
fn an_ioc_walks_three_levels_with_exact_fills_and_fees() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(100, 1), (101, 2), (102, 3), (103, 5)]);
    let out = send(&mut v, ioc(Side::Buy, 102, 5, "a"), T0, &b);
    assert!(
        matches!(out[0], ExecOutput::Created { order_id: 2_492_000_000, ts_ms, market, .. }
            if ts_ms == (T0 + 5 * MS) / MS && market.as_str() == "BTCUSDT"),
        "{out:?}"
    );
    // 15 bps of 100, 202 and 204 USDT.
    assert_eq!(
        trades(&out),
        vec![
            (n(100), n(1), f("0.15"), false),
            (n(101), n(2), f("0.303"), false),
            (n(102), n(2), f("0.306"), false),
        ]
    );
    assert!(matches!(out[1], ExecOutput::Trade(t) if t.id == 12_300_000
        && t.fee_currency.as_str() == "USDT" && t.order_id == 2_492_000_000));
    assert!(
        matches!(out[4], ExecOutput::OrderUpdate { state: "done", avg_price, .. }
        if avg_price == f("101.2"))
    );
    assert_eq!(out.len(), 5);
    assert_eq!(v.open_orders(), 0);
    let s = v.stats();
    assert_eq!(
        (s.orders_arrived, s.fills, s.taker_fills, s.maker_fills),
        (1, 3, 3, 0)
    );
    assert_eq!(s.fees, f("0.759"));
}

#[test]
fn an_ioc_that_does_not_cross_is_cancelled_without_trades() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(100, 1)]);
    let out = send(&mut v, ioc(Side::Buy, 99, 1, "a"), T0, &b);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    let out = send(&mut v, ioc(Side::Sell, 100, 1, "b"), T0, &b);
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn two_iocs_back_to_back_do_not_take_the_same_volume() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(100, 2), (101, 5)]);
    let out = send(&mut v, ioc(Side::Buy, 101, 3, "a"), T0, &b);
    assert_eq!(
        trades(&out).iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(),
        vec![(n(100), n(2)), (n(101), n(1)),]
    );
    let out = send(&mut v, ioc(Side::Buy, 101, 9, "b"), T0 + MS, &b);
    assert_eq!(
        trades(&out).iter().map(|t| (t.0, t.1)).collect::<Vec<_>>(),
        vec![(n(101), n(4)),]
    );
    assert_eq!(last_state(&out), Some(("cancel", n(4))));
    // The capture changes the level at 100: its new size is there to take again; 101 is not.
    let b = books(&[(99, 1)], &[(100, 3), (101, 5)]);
    assert!(book_changed(&mut v, &b, T0 + 2 * MS).is_empty());
    let out = send(&mut v, ioc(Side::Buy, 101, 9, "c"), T0 + 2 * MS, &b);
    assert_eq!(last_state(&out), Some(("cancel", n(3))));
}

#[test]
fn a_resting_buy_waits_for_the_volume_ahead_before_a_trade_fills_it() {
    let mut v = venue();
    let b = books(&[(100, 5)], &[(101, 1)]);
    let out = send(&mut v, limit(Side::Buy, 100, 2, "a"), T0, &b);
    assert_eq!(out.len(), 1, "created only: {out:?}");
    assert_eq!(v.open_orders(), 1);
    // 3 of the 5 ahead trade: nothing for us.
    assert!(print(&mut v, 100, 3, Side::Sell, T0 + 10 * MS).is_empty());
    // 3 more: 2 ahead, 1 for us.
    let out = print(&mut v, 100, 3, Side::Sell, T0 + 11 * MS);
    assert_eq!(trades(&out), vec![(n(100), n(1), f("0.05"), true)]);
    assert!(
        matches!(out[1], ExecOutput::OrderUpdate { state: "wait", executed, remaining, ts_ms, .. }
        if executed == n(1) && remaining == n(1) && ts_ms == (T0 + 11 * MS) / MS)
    );
    // A taker buy is not for our bid.
    assert!(print(&mut v, 100, 3, Side::Buy, T0 + 12 * MS).is_empty());
}

#[test]
fn a_shrinking_level_moves_the_order_up() {
    let mut v = venue();
    let b = books(&[(100, 5)], &[(101, 1)]);
    send(&mut v, limit(Side::Buy, 100, 2, "a"), T0, &b);
    // Growth joins behind us; the shrink to 1 moves us up.
    assert!(book_changed(&mut v, &books(&[(100, 9)], &[(101, 1)]), T0 + 6 * MS).is_empty());
    assert!(book_changed(&mut v, &books(&[(100, 1)], &[(101, 1)]), T0 + 7 * MS).is_empty());
    assert!(book_changed(&mut v, &books(&[(100, 4)], &[(101, 1)]), T0 + 8 * MS).is_empty());
    let out = print(&mut v, 100, 2, Side::Sell, T0 + 9 * MS);
    assert_eq!(trades(&out).len(), 1);
    assert_eq!(last_state(&out), Some(("wait", n(1))));
}

#[test]
fn a_trade_through_the_price_fills_the_whole_queue_and_us() {
    let mut v = venue();
    let b = books(&[(101, 5)], &[(102, 1)]);
    send(&mut v, limit(Side::Sell, 102, 3, "s"), T0, &b);
    let out = print(&mut v, 103, 5, Side::Buy, T0 + 10 * MS);
    assert_eq!(trades(&out), vec![(n(102), n(3), f("0.153"), true)]);
    assert_eq!(last_state(&out), Some(("done", n(3))));
    assert_eq!(v.open_orders(), 0);
}

#[test]
fn a_book_crossing_the_price_fills_once_not_again_on_an_unchanged_book() {
    let mut v = venue();
    send(
        &mut v,
        limit(Side::Buy, 100, 3, "a"),
        T0,
        &books(&[(99, 1)], &[(101, 1)]),
    );
    let crossed = books(&[(99, 1)], &[(100, 2), (101, 1)]);
    let out = book_changed(&mut v, &crossed, T0 + 10 * MS);
    assert_eq!(trades(&out), vec![(n(100), n(2), f("0.1"), true)]);
    assert_eq!(last_state(&out), Some(("wait", n(2))));
    assert!(book_changed(&mut v, &crossed, T0 + 11 * MS).is_empty());
    // The volume our resting order took is not there for an IOC either.
    let out = send(&mut v, ioc(Side::Buy, 100, 1, "b"), T0 + 12 * MS, &crossed);
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    // New volume through our price fills the rest.
    let more = books(&[(99, 1)], &[(99, 4), (100, 2)]);
    let out = book_changed(&mut v, &more, T0 + 20 * MS);
    assert_eq!(trades(&out), vec![(n(100), n(1), f("0.05"), true)]);
    assert_eq!(last_state(&out), Some(("done", n(3))));
}

#[test]
fn a_cancel_that_arrives_first_leaves_nothing_to_fill() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(101, 1)]);
    send(&mut v, limit(Side::Buy, 100, 1, "a"), T0, &b);
    let out = send(&mut v, cancel("a"), T0 + MS, &b);
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    assert!(print(&mut v, 99, 5, Side::Sell, T0 + 10 * MS).is_empty());
    let out = send(&mut v, cancel("a"), T0 + 11 * MS, &b);
    assert!(matches!(
        out[..],
        [ExecOutput::Rejected {
            code: 2004,
            cancel: true,
            ..
        }]
    ));
    let out = send(
        &mut v,
        req(
            GatewayCmdKind::Query,
            OrderType::Limit,
            Side::Buy,
            0,
            0,
            "a",
        ),
        T0 + 12 * MS,
        &b,
    );
    assert!(matches!(
        out[..],
        [ExecOutput::Rejected {
            code: 2004,
            cancel: false,
            ..
        }]
    ));
    assert_eq!(v.stats().cancels_rejected, 1);
}

#[test]
fn a_cancel_never_overtakes_its_order() {
    // Latencies of 1 ms or 100 ms: some cancels draw the short one after an order that drew the
    // long one.
    let lat = LatencyModel::empirical(vec![MS, 100 * MS]).unwrap();
    let mut v = venue_with(lat, 3);
    let b = books(&[(99, 1)], &[(101, 1)]);
    let mut overtaking = 0;
    for i in 0..32 {
        let oid = format!("o{i}");
        let t = T0 + i * 1_000 * MS;
        v.submit(&limit(Side::Buy, 90, 1, &oid), t);
        let order_due = v.next_due_ns().unwrap();
        v.submit(&cancel(&oid), t + MS / 2);
        if t + MS / 2 + MS < order_due {
            overtaking += 1;
        }
        let mut out = Vec::new();
        v.arrive_due(t + 500 * MS, &b, &mut |o| out.push(o));
        assert!(matches!(out[0], ExecOutput::Created { .. }), "{out:?}");
        assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    }
    assert!(overtaking > 0, "the draws never put the cancel first");
    // At the same arrival time, submission order decides.
    let mut v = venue();
    v.submit(&limit(Side::Buy, 90, 1, "x"), T0);
    v.submit(&cancel("x"), T0);
    let mut out = Vec::new();
    v.arrive_due(T0 + 5 * MS, &b, &mut |o| out.push(o));
    assert_eq!(out.len(), 2);
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
}

#[test]
fn nothing_arrives_before_its_latency() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(101, 1)]);
    v.submit(&limit(Side::Buy, 90, 1, "a"), T0);
    assert_eq!(v.next_due_ns(), Some(T0 + 5 * MS));
    let mut out = Vec::new();
    v.arrive_due(T0 + 5 * MS - 1, &b, &mut |o| out.push(o));
    assert!(out.is_empty());
    v.arrive_due(T0 + 5 * MS, &b, &mut |o| out.push(o));
    assert_eq!(out.len(), 1);
    assert_eq!(v.next_due_ns(), None);
}

#[test]
fn post_only_that_would_cross_is_cancelled_and_otherwise_rests() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(100, 1)]);
    let out = send(&mut v, post(Side::Buy, 100, 1, "p"), T0, &b);
    assert_eq!(last_state(&out), Some(("cancel", Fixed::ZERO)));
    assert!(trades(&out).is_empty());
    let out = send(&mut v, post(Side::Buy, 99, 1, "q"), T0, &b);
    assert_eq!(out.len(), 1);
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn a_limit_takes_what_crosses_and_rests_the_rest() {
    let mut v = venue();
    let b = books(&[(99, 1)], &[(100, 2), (102, 1)]);
    let out = send(&mut v, limit(Side::Buy, 101, 5, "a"), T0, &b);
    assert_eq!(trades(&out), vec![(n(100), n(2), f("0.3"), false)]);
    assert_eq!(last_state(&out), Some(("wait", n(2))));
    assert_eq!(v.open_orders(), 1);
    // The volume it took does not fill it again as a maker.
    assert!(book_changed(&mut v, &b, T0 + 10 * MS).is_empty());
    let out = send(
        &mut v,
        req(
            GatewayCmdKind::Query,
            OrderType::Limit,
            Side::Buy,
            0,
            0,
            "a",
        ),
        T0 + 11 * MS,
        &b,
    );
    assert!(matches!(
        out[..],
        [ExecOutput::OrderUpdate {
            state: "wait",
            trades_count: 1,
            ..
        }]
    ));
}

#[test]
fn orders_without_a_live_book_are_refused() {
    let mut v = venue();
    let out = send(
        &mut v,
        limit(Side::Buy, 100, 1, "a"),
        T0,
        &Books(vec![None]),
    );
    assert!(matches!(
        out[..],
        [ExecOutput::Rejected {
            code: 2002,
            cancel: false,
            ..
        }]
    ));
    let b = books(&[(99, 1)], &[(101, 1)]);
    let out = send(&mut v, limit(Side::Buy, 100, 0, "b"), T0, &b);
    assert!(matches!(out[..], [ExecOutput::Rejected { code: 2002, .. }]));
    let mut r = limit(Side::Buy, 100, 1, "c");
    r.instrument = InstrumentId(9);
    assert!(matches!(
        send(&mut v, r, T0, &b)[..],
        [ExecOutput::Rejected { code: 2002, .. }]
    ));
    assert_eq!(v.stats().orders_rejected, 3);
}

#[test]
fn a_print_fills_our_orders_in_price_time_priority() {
    let mut v = venue();
    let b = books(&[(98, 1)], &[(102, 1)]);
    send(&mut v, limit(Side::Buy, 100, 2, "early"), T0, &b);
    send(&mut v, limit(Side::Buy, 100, 2, "late"), T0 + MS, &b);
    send(&mut v, limit(Side::Buy, 101, 1, "better"), T0 + 2 * MS, &b);
    let out = print(&mut v, 100, 4, Side::Sell, T0 + 10 * MS);
    let oids: Vec<(&str, Fixed)> = out
        .iter()
        .filter_map(|o| match o {
            ExecOutput::Trade(t) => Some((t.client_oid.as_str(), t.volume)),
            _ => None,
        })
        .collect();
    assert_eq!(
        oids,
        vec![("better", n(1)), ("early", n(2)), ("late", n(1))]
    );
    assert_eq!(v.open_orders(), 1);
}

#[test]
fn the_same_inputs_give_the_same_outputs() {
    let scenario = || {
        let lat = LatencyModel::empirical(vec![MS, 3 * MS, 7 * MS, 20 * MS]).unwrap();
        let mut v = venue_with(lat, 11);
        let mut out = Vec::new();
        let b1 = books(&[(99, 3), (98, 5)], &[(101, 2), (102, 4)]);
        let b2 = books(&[(99, 1), (98, 5)], &[(100, 2), (102, 4)]);
        for i in 0u64..40 {
            let t = T0 + i * MS;
            let i = i as i64;
            let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
            let ot = [OrderType::Limit, OrderType::IocLimit, OrderType::PostOnly][i as usize % 3];
            let px = if side == Side::Buy {
                99 + i % 3
            } else {
                100 + i % 3
            };
            v.submit(&new(ot, side, px, 1 + i % 4, &format!("o{i}")), t);
            if i % 5 == 4 {
                v.submit(&cancel(&format!("o{}", i - 2)), t);
            }
            let b = if i % 4 < 2 { &b1 } else { &b2 };
            v.arrive_due(t, b, &mut |o| out.push(o));
            v.on_book(I, b, t, &mut |o| out.push(o));
            v.on_trade(I, n(99), n(2), Side::Sell, t, &mut |o| out.push(o));
        }
        v.arrive_due(u64::MAX, &b1, &mut |o| out.push(o));
        (out, v.stats())
    };
    let (a, sa) = scenario();
    let (b, sb) = scenario();
    assert!(
        a.len() > 80 && sa.maker_fills > 3 && sa.taker_fills > 3,
        "{} outputs, {sa:?}",
        a.len()
    );
    assert_eq!(a, b);
    assert_eq!(sa, sb);
}

#[test]
fn a_bad_fee_setting_is_an_error_naming_it() {
    let cfg = ReplayVenueConfig {
        latency: LatencyModel::Constant { ns: MS },
        maker_fee_bps: 0.0,
        taker_fee_bps: f64::NAN,
        seed: 0,
    };
    let err = ReplayMaxVenue::new(cfg, &Instruments::new()).err().unwrap();
    assert!(err.to_string().contains("taker_fee_bps"), "{err}");
}
