//! The order manager and pre-trade risk as specifications: an order's life, fills applied once,
//! expiry, shutdown, the kill switch, and risk limits holding under a flood of signals.

use arbline::model::{
    ClientOid, ExecEvent, ExecKind, Fixed, GatewayCmdKind, InstrumentId, Instruments, MarketRules,
    OrderRequest, OrderState, OrderType, Side, Signal, Strategy, SystemCode, SystemEvent,
    SystemKind, Telemetry, TradingState, Venue, WalletType,
};
use arbline::order::OrderManager;
use arbline::order::config::OrderConfig;
use arbline::pipeline::EngineClock;
use arbline::pipeline::board::PositionBoard;
use arbline::risk::RiskReject;
use arbline::risk::config::{Allocation, RiskConfig};
use proptest::prelude::*;
use std::sync::Arc;

fn f(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

const BTC: InstrumentId = InstrumentId(0);
const USDT: InstrumentId = InstrumentId(1);

fn instruments() -> Instruments {
    let mut t = Instruments::new();
    t.intern_with_rules(
        Venue::Max,
        "btcusdt",
        "btc",
        "usdt",
        MarketRules {
            tick: f("0.01"),
            lot: f("0.0001"),
            min_qty: f("0.0001"),
            min_notional: f("8"),
        },
    )
    .unwrap();
    t.intern_with_rules(
        Venue::Max,
        "usdttwd",
        "usdt",
        "twd",
        MarketRules {
            tick: f("0.001"),
            lot: f("0.01"),
            min_qty: f("8"),
            min_notional: f("250"),
        },
    )
    .unwrap();
    t
}

fn risk(allow_short: bool) -> RiskConfig {
    RiskConfig {
        allocations: vec![
            Allocation {
                strategy: Strategy::Arbitrage,
                instrument: "btcusdt".into(),
                max_position: "0.01".into(),
                max_order_qty: "0.005".into(),
                allow_short,
            },
            Allocation {
                strategy: Strategy::StableCoin,
                instrument: "usdttwd".into(),
                max_position: "1000".into(),
                max_order_qty: "500".into(),
                allow_short,
            },
        ],
        max_order_notional_usdt: 1000.0,
        max_portfolio_exposure_usdt: 1500.0,
        max_loss_usdt: 50.0,
        reduce_only_loss_usdt: 20.0,
        max_open_orders: 4,
    }
}

struct Harness {
    m: OrderManager,
    sent: Vec<OrderRequest>,
    tele: Vec<Telemetry>,
    board: Arc<PositionBoard>,
}

impl Harness {
    fn new(allow_short: bool) -> Harness {
        Self::with_risk(risk(allow_short))
    }
    fn with_risk(risk: RiskConfig) -> Harness {
        let board = Arc::new(PositionBoard::default());
        let m = OrderManager::new(
            &OrderConfig::default(),
            &risk,
            &instruments(),
            board.clone(),
            EngineClock::new(),
        )
        .unwrap();
        Harness {
            m,
            sent: Vec::new(),
            tele: Vec::new(),
            board,
        }
    }
    fn signal(&mut self, s: Strategy, i: InstrumentId, side: Side, price: &str, qty: &str) {
        let sig = Signal {
            strategy: s,
            instrument: i,
            wallet: WalletType::Spot,
            side,
            order_type: OrderType::Limit,
            price: f(price),
            qty: f(qty),
            quote_to_usdt: if i == USDT { 1.0 / 32.0 } else { 1.0 },
            ..Default::default()
        };
        let (sent, tele) = (&mut self.sent, &mut self.tele);
        self.m.on_signal(
            &sig,
            |r| {
                sent.push(*r);
                true
            },
            |t| tele.push(t),
        );
    }
    fn exec(&mut self, ev: ExecEvent) {
        let (sent, tele) = (&mut self.sent, &mut self.tele);
        self.m.on_exec(
            &ev,
            |r| {
                sent.push(*r);
                true
            },
            |t| tele.push(t),
        );
    }
    fn last_oid(&self) -> ClientOid {
        self.sent.last().unwrap().client_oid
    }
    fn risk_rejects(&self) -> Vec<RiskReject> {
        self.tele
            .iter()
            .filter_map(|t| match t {
                Telemetry::System(SystemEvent {
                    kind: SystemKind::RiskReject(r),
                    ..
                }) => Some(*r),
                _ => None,
            })
            .collect()
    }
}

fn ack(oid: ClientOid, id: u64) -> ExecEvent {
    ExecEvent {
        kind: ExecKind::Ack,
        client_oid: oid,
        exchange_order_id: id,
        state: OrderState::New,
        ..Default::default()
    }
}
fn fill(oid: ClientOid, id: u64, trade: u64, price: &str, qty: &str, fee: &str) -> ExecEvent {
    ExecEvent {
        kind: ExecKind::Fill,
        client_oid: oid,
        exchange_order_id: id,
        trade_id: trade,
        price: f(price),
        qty: f(qty),
        fee: f(fee),
        ..Default::default()
    }
}

#[test]
fn an_order_lives_from_signal_to_fill_and_moves_the_position() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.004");
    assert_eq!(h.sent.len(), 1);
    let r = h.sent[0];
    assert_eq!(
        (r.kind, r.side, r.price, r.qty),
        (GatewayCmdKind::New, Side::Buy, f("95000"), f("0.004"))
    );
    assert!(r.client_oid.as_str().starts_with("arbitrage_spot_"));
    h.exec(ack(r.client_oid, 77));
    h.exec(fill(ClientOid::default(), 77, 1, "95000", "0.001", "0.01"));
    assert_eq!(h.m.open_order_count(), 1, "partly filled, still open");
    h.exec(fill(r.client_oid, 77, 2, "94990", "0.003", "0.03"));
    assert_eq!(h.m.open_order_count(), 0, "fully filled frees the slot");
    let p = h.m.positions()[0];
    assert_eq!(
        (p.qty, p.avg_price, p.fees),
        (f("0.004"), f("94992.5"), f("0.04"))
    );
    assert_eq!(
        h.board.get(Strategy::Arbitrage, BTC),
        f("0.004"),
        "scanner sees the position"
    );
    let s = h.m.stats();
    assert_eq!((s.orders_sent, s.acks, s.fills), (1, 1, 2));
    // Selling it back realizes the difference less fees.
    h.signal(Strategy::Arbitrage, BTC, Side::Sell, "95100", "0.004");
    let oid = h.last_oid();
    h.exec(fill(oid, 78, 3, "95100", "0.004", "0"));
    let p = h.m.positions()[0];
    assert!(p.qty.is_zero());
    assert!(
        (p.realized_pnl - (0.43 - 0.04)).abs() < 1e-9,
        "{}",
        p.realized_pnl
    );
}

#[test]
fn a_fill_reported_twice_is_counted_once() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.002");
    let oid = h.last_oid();
    h.exec(ack(oid, 5));
    h.exec(fill(oid, 5, 42, "95000", "0.001", "0"));
    h.exec(fill(oid, 5, 42, "95000", "0.001", "0"));
    assert_eq!(h.m.positions()[0].qty, f("0.001"));
    assert_eq!((h.m.stats().fills, h.m.stats().duplicate_fills), (1, 1));
}

#[test]
fn a_fill_before_the_ack_and_a_fill_after_the_final_state_both_count() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.002");
    let oid = h.last_oid();
    h.exec(fill(oid, 9, 1, "95000", "0.001", "0"));
    h.exec(ack(oid, 9));
    h.exec(ExecEvent {
        kind: ExecKind::Cancelled,
        client_oid: oid,
        exchange_order_id: 9,
        state: OrderState::Cancelled,
        ..Default::default()
    });
    assert_eq!(h.m.open_order_count(), 0);
    // The venue reports a trade that happened before the cancel, by exchange id only.
    h.exec(fill(ClientOid::default(), 9, 2, "95000", "0.001", "0"));
    assert_eq!(h.m.positions()[0].qty, f("0.002"));
}

#[test]
fn a_venue_reject_frees_the_strategy_slot() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    assert_eq!(h.sent.len(), 1);
    assert_eq!(h.risk_rejects(), vec![RiskReject::InFlight]);
    h.exec(ExecEvent {
        kind: ExecKind::Reject,
        client_oid: h.last_oid(),
        reject_code: 2002,
        state: OrderState::Rejected,
        ..Default::default()
    });
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    assert_eq!(h.sent.len(), 2);
    assert_eq!(h.m.stats().rejects, 1);
    assert_eq!(h.m.stats().rate_limited, 0, "a venue reject");
    // The gateway had no rate-limit token: a reject of its own, counted apart.
    h.exec(ExecEvent {
        kind: ExecKind::Reject,
        client_oid: h.last_oid(),
        reject_code: arbline::model::REJECT_RATE_LIMITED,
        state: OrderState::Rejected,
        ..Default::default()
    });
    assert_eq!((h.m.stats().rejects, h.m.stats().rate_limited), (2, 1));
}

#[test]
fn unfilled_orders_expire_into_pending_cancel_until_the_venue_confirms() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    let oid = h.last_oid();
    h.exec(ack(oid, 3));
    let now = EngineClock::new().now_unix_ms();
    let (sent, tele) = (&mut h.sent, &mut h.tele);
    h.m.on_timer(
        now + 2_500,
        |r| {
            sent.push(*r);
            true
        },
        |t| tele.push(t),
    );
    let c = *h.sent.last().unwrap();
    assert_eq!(
        (c.kind, c.client_oid, c.exchange_order_id),
        (GatewayCmdKind::Cancel, oid, 3)
    );
    assert_eq!(
        h.m.open_orders().next().unwrap().state,
        OrderState::PendingCancel
    );
    assert_eq!(
        h.m.open_order_count(),
        1,
        "still open: it may fill until confirmed"
    );
    h.exec(fill(oid, 3, 8, "95000", "0.001", "0"));
    assert_eq!(h.m.open_order_count(), 0);
    assert_eq!(h.m.positions()[0].qty, f("0.001"));
}

#[test]
fn shutdown_cancels_every_open_order() {
    let mut h = Harness::new(true);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    h.signal(Strategy::StableCoin, USDT, Side::Sell, "32.1", "100");
    assert_eq!(h.m.open_order_count(), 2);
    let mut cancels = Vec::new();
    assert_eq!(
        h.m.cancel_all(|r| {
            cancels.push(*r);
            true
        }),
        2
    );
    assert_eq!(cancels.len(), 2, "{cancels:?}");
    assert!(cancels.iter().all(|c| c.kind == GatewayCmdKind::Cancel));
    assert_eq!(h.m.cancel_all(|_| true), 0, "already pending cancel");
    for c in cancels {
        h.exec(ExecEvent {
            kind: ExecKind::Cancelled,
            client_oid: c.client_oid,
            state: OrderState::Cancelled,
            ..Default::default()
        });
    }
    assert_eq!(h.m.open_order_count(), 0);
}

#[test]
fn the_kill_switch_reduces_then_halts_on_losses() {
    let mut h = Harness::new(true);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.005");
    let oid = h.last_oid();
    h.exec(fill(oid, 1, 1, "95000", "0.005", "0"));
    h.m.mark(BTC, f("90000"));
    let now = EngineClock::new().now_unix_ms();
    let tele = &mut h.tele;
    h.m.on_timer(now, |_| true, |t| tele.push(t));
    assert_eq!(h.m.trading_state(), TradingState::Reducing, "-25 USDT");
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "90000", "0.001");
    assert_eq!(h.risk_rejects().last(), Some(&RiskReject::ReduceOnly));
    h.signal(Strategy::Arbitrage, BTC, Side::Sell, "90000", "0.001");
    assert_eq!(
        h.sent.last().unwrap().side,
        Side::Sell,
        "reducing orders pass"
    );
    h.m.mark(BTC, f("80000"));
    let tele = &mut h.tele;
    h.m.on_timer(now, |_| true, |t| tele.push(t));
    assert_eq!(h.m.trading_state(), TradingState::Halted);
    let n = h.sent.len();
    h.signal(Strategy::StableCoin, USDT, Side::Sell, "32", "100");
    assert_eq!(h.sent.len(), n);
    assert_eq!(h.risk_rejects().last(), Some(&RiskReject::Halted));
}

#[test]
fn orders_off_the_grid_or_too_small_are_refused() {
    let mut h = Harness::new(true);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000.005", "0.001");
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.00015");
    h.signal(Strategy::StableCoin, USDT, Side::Buy, "32", "5");
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.006");
    h.signal(Strategy::Test, BTC, Side::Buy, "95000", "0.001");
    assert!(h.sent.is_empty());
    assert_eq!(
        h.risk_rejects(),
        vec![
            RiskReject::OffTick,
            RiskReject::OffTick,
            RiskReject::BelowMinimum,
            RiskReject::OrderTooLarge,
            RiskReject::NoAllocation
        ]
    );
}

#[test]
fn orders_in_flight_on_two_markets_cannot_pass_the_portfolio_cap_together() {
    // Each order alone is under the cap; the two together are not.
    let mut h = Harness::with_risk(RiskConfig {
        max_portfolio_exposure_usdt: 700.0,
        ..risk(true)
    });
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.005");
    assert_eq!(h.sent.len(), 1, "475 USDT alone: {:?}", h.risk_rejects());
    h.signal(Strategy::StableCoin, USDT, Side::Buy, "31", "500");
    assert_eq!(h.sent.len(), 1, "484 USDT more while 475 are in flight");
    assert_eq!(h.risk_rejects(), vec![RiskReject::PortfolioExposure]);
    // Once the first is cancelled, the second fits.
    let oid = h.sent[0].client_oid;
    h.exec(ExecEvent {
        kind: ExecKind::Cancelled,
        client_oid: oid,
        state: OrderState::Cancelled,
        ..Default::default()
    });
    h.signal(Strategy::StableCoin, USDT, Side::Buy, "31", "500");
    assert_eq!(h.sent.len(), 2, "{:?}", h.risk_rejects());
}

fn first_open(h: &Harness) -> Option<arbline::order::open_orders::OpenOrder> {
    h.m.open_orders().next().copied()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Whatever signals, acks, fills and cancels arrive, the allocation's worst case, the one
    /// in-flight order per strategy and market, the open-order cap and the portfolio exposure hold.
    #[test]
    fn risk_limits_hold_under_a_flood_of_signals(
        steps in prop::collection::vec((0u8..6, any::<bool>(), 1u32..60, 0u32..2000, any::<bool>()), 1..300),
        allow_short in any::<bool>(),
    ) {
        let mut h = Harness::new(allow_short);
        let mut trade = 0u64;
        for (kind, flag, q, p, b) in steps {
            let (s, i, qty, price) = if b {
                (Strategy::Arbitrage, BTC, Fixed(q as i64 * 10_000), Fixed((94_000 + p as i64) * 100_000_000))
            } else {
                (Strategy::StableCoin, USDT, Fixed(q as i64 * 1_000_000_000), Fixed(3_100_000_000 + p as i64 * 100_000))
            };
            match kind {
                0..=2 => h.signal(s, i, if flag { Side::Buy } else { Side::Sell }, &price.to_string(), &qty.to_string()),
                3 => if let Some(o) = first_open(&h) {
                    trade += 1;
                    let fq = Fixed(o.remaining().raw().min(qty.raw()).max(0));
                    if fq.raw() > 0 { h.exec(fill(o.client_oid, 0, trade, &o.price.to_string(), &fq.to_string(), "0")); }
                },
                4 => if let Some(o) = first_open(&h) {
                    h.exec(ExecEvent { kind: ExecKind::Cancelled, client_oid: o.client_oid, state: OrderState::Cancelled, ..Default::default() });
                },
                _ => if let Some(o) = first_open(&h) { h.exec(ack(o.client_oid, 1000 + trade)); },
            }
            // Invariants after every step.
            prop_assert!(h.m.open_order_count() <= 4);
            for (s, i, max) in [(Strategy::Arbitrage, BTC, f("0.01")), (Strategy::StableCoin, USDT, f("1000"))] {
                let open: Vec<_> = h.m.open_orders().filter(|o| o.strategy == s && o.instrument == i).copied().collect();
                prop_assert!(open.len() <= 1, "two in flight");
                let pos = h.board.get(s, i).raw();
                let buys: i64 = open.iter().filter(|o| o.side == Side::Buy).map(|o| o.remaining().raw()).sum();
                let sells: i64 = open.iter().filter(|o| o.side == Side::Sell).map(|o| o.remaining().raw()).sum();
                prop_assert!(pos + buys <= max.raw(), "long worst case {} > {}", pos + buys, max.raw());
                let floor = if allow_short { -max.raw() } else { 0 };
                prop_assert!(pos - sells >= floor, "short worst case {} < {}", pos - sells, floor);
            }
            prop_assert!(h.m.positions_book().exposure_usdt() <= 1500.0 + 1e-6);
        }
    }
}

// ---- Reconciliation: the venue's REST view against the order stage's ----

fn venue_open(oid: &str, id: u64, round: u64, price: &str, qty: &str) -> ExecEvent {
    ExecEvent {
        kind: ExecKind::VenueOpen,
        client_oid: ClientOid::from_bytes(oid.as_bytes()).unwrap_or_default(),
        exchange_order_id: id,
        instrument: BTC,
        side: Side::Buy,
        state: OrderState::New,
        trade_id: round,
        price: f(price),
        qty: f(qty),
        wallet: WalletType::Spot,
        ..Default::default()
    }
}

fn reconcile_end(round: u64, fetched_ms: u64) -> ExecEvent {
    ExecEvent {
        kind: ExecKind::ReconcileEnd,
        trade_id: round,
        venue_ts_ms: fetched_ms,
        ..Default::default()
    }
}

/// The venue order or trade ids of the reconciler's events of one kind.
fn system_codes(h: &Harness, code: SystemCode) -> Vec<u64> {
    h.tele
        .iter()
        .filter_map(|t| match t {
            Telemetry::System(s) if s.code() == code => match s.kind {
                SystemKind::ReconcileAdopted { venue_order_id }
                | SystemKind::ReconcileMissing { venue_order_id } => Some(venue_order_id),
                SystemKind::ReconcileFill { trade_id } => Some(trade_id),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn the_reconciler_adopts_an_unknown_venue_order_and_never_cancels_a_foreign_one() {
    let mut h = Harness::new(false);
    // Placed by hand (no client id) and by an earlier run of ours.
    h.exec(venue_open("", 777, 1, "90000", "0.002"));
    h.exec(venue_open(
        "arbitrage_spot_1700000000000",
        778,
        1,
        "91000",
        "0.001",
    ));
    h.exec(reconcile_end(1, 0));
    let st = h.m.stats();
    assert_eq!((st.adopted, st.reconcile_rounds), (2, 1), "{st:?}");
    assert_eq!(
        system_codes(&h, SystemCode::ReconcileAdopted),
        vec![777, 778]
    );
    let strategies: Vec<Strategy> = h.m.open_orders().map(|o| o.strategy).collect();
    assert!(strategies.contains(&Strategy::External) && strategies.contains(&Strategy::Arbitrage));
    // Seen again in the next round: adopted once.
    h.exec(venue_open("", 777, 2, "90000", "0.002"));
    assert_eq!(h.m.stats().adopted, 2);
    // Expiry and shutdown cancel only what is ours.
    let far = EngineClock::new().now_unix_ms() + 3_600_000;
    let (sent, tele) = (&mut h.sent, &mut h.tele);
    h.m.on_timer(
        far,
        |r| {
            sent.push(*r);
            true
        },
        |t| tele.push(t),
    );
    let cancels: Vec<u64> = h
        .sent
        .iter()
        .filter(|r| r.kind == GatewayCmdKind::Cancel)
        .map(|r| r.exchange_order_id)
        .collect();
    assert_eq!(cancels, vec![778], "only our own earlier order expires");
    // One more order of ours, open when shutdown comes: shutdown cancels it, not the adopted.
    h.signal(Strategy::StableCoin, USDT, Side::Buy, "32.1", "10");
    let ours = h.last_oid();
    let mut n = Vec::new();
    h.m.cancel_all(|r| {
        n.push((r.exchange_order_id, r.client_oid));
        true
    });
    assert!(
        n.iter().any(|(_, oid)| *oid == ours),
        "shutdown cancels our open order: {n:?}"
    );
    assert!(!n.iter().any(|(id, _)| *id == 777), "{n:?}");
    // A fill on the adopted order moves the External position, not a strategy's.
    h.exec(fill(ClientOid::default(), 777, 5001, "90000", "0.002", "0"));
    assert_eq!(h.m.stats().fills, 1);
    assert_eq!(
        h.m.positions()
            .iter()
            .find(|p| p.strategy == Strategy::External)
            .map(|p| p.qty),
        Some(f("0.002"))
    );
}

#[test]
fn a_live_order_the_venue_no_longer_lists_is_read_back_and_an_unconfirmed_cancel_waits() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    let a = h.last_oid();
    h.exec(ack(a, 11));
    h.signal(Strategy::StableCoin, USDT, Side::Buy, "32.1", "10");
    let b = h.last_oid();
    h.exec(ack(b, 12));
    let now = EngineClock::new().now_unix_ms();
    // Listed just after they were sent: nothing is missing yet (grace period).
    h.exec(reconcile_end(1, now));
    assert_eq!(h.m.stats().reconcile_missing, 0);
    // Order b is being cancelled and the venue still lists it: it stays pending, unqueried.
    let (sent, tele) = (&mut h.sent, &mut h.tele);
    h.m.on_timer(
        now + 3_600_000,
        |r| {
            sent.push(*r);
            true
        },
        |t| tele.push(t),
    );
    h.sent.clear();
    let mut listed = venue_open(b.as_str(), 12, 2, "32.1", "10");
    listed.instrument = USDT;
    h.exec(listed);
    h.exec(reconcile_end(2, now + 60_000));
    let queries: Vec<u64> = h
        .sent
        .iter()
        .filter(|r| r.kind == GatewayCmdKind::Query)
        .map(|r| r.exchange_order_id)
        .collect();
    assert_eq!(queries, vec![11], "only the unlisted order is read back");
    assert_eq!(system_codes(&h, SystemCode::ReconcileMissing), vec![11]);
    assert_eq!(h.m.stats().reconcile_missing, 1);
    assert!(
        h.m.open_orders()
            .any(|o| o.exchange_id == 12 && o.state == OrderState::PendingCancel)
    );
    // The venue's answer: it was cancelled there. It closes; b is still pending.
    h.exec(ExecEvent {
        kind: ExecKind::Cancelled,
        client_oid: a,
        exchange_order_id: 11,
        state: OrderState::Cancelled,
        ..Default::default()
    });
    assert_eq!(h.m.open_order_count(), 1);
}

#[test]
fn fills_read_from_rest_count_once_beside_the_websocket_and_missed_ones_are_recovered() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.002");
    let a = h.last_oid();
    // The REST trade list names the order by venue id only; before the ack reaches the order
    // stage that id means nothing yet — the trade must stay applicable.
    let rest = |trade: u64| ExecEvent {
        kind: ExecKind::VenueFill,
        ..fill(ClientOid::default(), 21, trade, "95000", "0.001", "0.1")
    };
    h.exec(rest(901));
    assert_eq!((h.m.stats().fills, h.m.stats().unknown_exec), (0, 1));
    h.exec(ack(a, 21));
    h.exec(fill(a, 21, 901, "95000", "0.001", "0.1"));
    h.exec(rest(901));
    let st = h.m.stats();
    assert_eq!(
        (st.fills, st.duplicate_fills, st.reconcile_fills),
        (1, 1, 0),
        "{st:?}"
    );
    // The second trade never came over the WebSocket: REST brings it, once.
    h.exec(rest(902));
    h.exec(rest(902));
    let st = h.m.stats();
    assert_eq!(
        (st.fills, st.duplicate_fills, st.reconcile_fills),
        (2, 2, 1),
        "{st:?}"
    );
    assert_eq!(system_codes(&h, SystemCode::ReconcileFill), vec![902]);
    assert_eq!(h.m.open_order_count(), 0, "fully filled");
    assert_eq!(h.board.get(Strategy::Arbitrage, BTC), f("0.002"));
}

#[test]
fn an_unconfirmed_cancel_is_read_back_every_second_until_the_venue_answers() {
    let mut h = Harness::new(false);
    h.signal(Strategy::Arbitrage, BTC, Side::Buy, "95000", "0.001");
    let a = h.last_oid();
    h.exec(ack(a, 31));
    let now = EngineClock::new().now_unix_ms();
    let timer = |h: &mut Harness, at: u64| {
        let (sent, tele) = (&mut h.sent, &mut h.tele);
        h.m.on_timer(
            at,
            |r| {
                sent.push(*r);
                true
            },
            |t| tele.push(t),
        );
    };
    // Expiry sends the cancel; no confirmation comes.
    timer(&mut h, now + 60_000);
    timer(&mut h, now + 60_500);
    timer(&mut h, now + 61_100);
    timer(&mut h, now + 61_500);
    timer(&mut h, now + 62_200);
    let kinds: Vec<GatewayCmdKind> = h.sent.iter().skip(1).map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            GatewayCmdKind::Cancel,
            GatewayCmdKind::Query,
            GatewayCmdKind::Query
        ]
    );
    // The venue's answer closes it; no more reads.
    h.exec(ExecEvent {
        kind: ExecKind::Cancelled,
        client_oid: a,
        exchange_order_id: 31,
        state: OrderState::Cancelled,
        ..Default::default()
    });
    timer(&mut h, now + 70_000);
    assert_eq!(h.sent.len(), 4);
    assert_eq!(h.m.open_order_count(), 0);
}
