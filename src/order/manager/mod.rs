//! The order manager: signals in, requests out, venue answers applied.
//!
//! Policy, per order state (the reconciliation rules the venue's async semantics call for):
//! - `PendingNew`: sent, unanswered. Counts against the strategy's in-flight slot and the
//!   worst-case position. A fill may arrive before the ack: it is applied by client id.
//! - `New` / `PartiallyFilled`: resting; cancelled after `cancel_after_ms`.
//! - `PendingCancel`: a cancel was sent; the order can still fill and stays in the table until
//!   the venue confirms (`Cancelled`) or fills it.
//! - `Filled` / `Cancelled` / `Rejected`: final; the slot is freed. A late fill still finds the
//!   order among the recently closed and moves the position once.
//!
//! Fills are applied once per trade id, whatever arrives twice.

mod exec;

use super::client_oid::ClientOidGen;
use super::config::OrderConfig;
use super::open_orders::{OpenOrder, OpenOrders};
use crate::model::{
    Fixed, GatewayCmdKind, InstrumentId, Instruments, InvalidSetting, OrderRequest, OrderState,
    PositionSnapshot, Price, Signal, Strategy, SystemEvent, SystemKind, Telemetry, TradingState,
    Venue,
};
use crate::pipeline::EngineClock;
use crate::pipeline::board::PositionBoard;
use crate::risk::{Exposure, KillSwitch, Positions, RiskConfig, RiskLimits, RiskReject};
use crate::telemetry::{LatencySet, Segment};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    pub signals: u64,
    pub orders_sent: u64,
    pub acks: u64,
    pub rejects: u64,
    /// Of `rejects`: refused by the gateway before sending, no rate-limit token left.
    pub rate_limited: u64,
    pub risk_rejects: u64,
    pub fills: u64,
    pub duplicate_fills: u64,
    pub cancels: u64,
    pub expired: u64,
    pub gateway_full: u64,
    pub unknown_exec: u64,
    /// Cancel requests sent (expiry and shutdown).
    pub cancel_requests: u64,
    /// Cancels the venue refused (the order was unknown to it or already finished).
    pub cancel_rejects: u64,
    /// Reconciler: open venue orders the engine did not know, adopted.
    pub adopted: u64,
    /// Reconciler: live orders the venue no longer listed as open (their state was read back).
    pub reconcile_missing: u64,
    /// Reconciler: fills read from REST that the private WebSocket had not delivered.
    pub reconcile_fills: u64,
    /// Reconciler rounds completed.
    pub reconcile_rounds: u64,
}

/// An order younger than this (ms) may not show in a venue list fetched just after it was sent:
/// the reconciler does not call it missing.
const RECONCILE_GRACE_MS: u64 = 2_000;

/// A cancel the venue has not confirmed after this long (ms) gets its state read back, and
/// again every as long, so the order does not hang on a confirmation the private WebSocket
/// may have lost.
const PENDING_CANCEL_QUERY_MS: u64 = 1_000;

pub struct OrderManager {
    cfg: OrderConfig,
    instruments: Instruments,
    limits: RiskLimits,
    kill: KillSwitch,
    positions: Positions,
    orders: OpenOrders,
    oids: ClientOidGen,
    clock: EngineClock,
    latency: LatencySet,
    stats: OrderStats,
}

impl OrderManager {
    pub fn new(
        cfg: &OrderConfig,
        risk: &RiskConfig,
        instruments: &Instruments,
        board: Arc<PositionBoard>,
        clock: EngineClock,
    ) -> Result<Self, InvalidSetting> {
        cfg.validate()?;
        Ok(OrderManager {
            cfg: cfg.clone(),
            instruments: instruments.clone(),
            limits: RiskLimits::new(risk, instruments)?,
            kill: KillSwitch::new(risk.max_loss_usdt, risk.reduce_only_loss_usdt),
            positions: Positions::new(board, instruments.len()),
            orders: OpenOrders::new(cfg.table_capacity, instruments.len()),
            oids: ClientOidGen::new(),
            clock,
            latency: LatencySet::default(),
            stats: OrderStats::default(),
        })
    }

    pub fn stats(&self) -> OrderStats {
        self.stats
    }
    pub fn latency(&self) -> &LatencySet {
        &self.latency
    }
    pub fn trading_state(&self) -> TradingState {
        self.kill.state()
    }
    pub fn open_order_count(&self) -> usize {
        self.orders.len()
    }
    pub fn open_orders(&self) -> impl Iterator<Item = &OpenOrder> {
        self.orders.iter()
    }
    pub fn positions_book(&self) -> &Positions {
        &self.positions
    }

    fn system<T: FnMut(Telemetry)>(
        &self,
        tele: &mut T,
        kind: SystemKind,
        instrument: InstrumentId,
    ) {
        tele(Telemetry::System(SystemEvent {
            kind,
            venue: Venue::Max,
            instrument,
            trading_state: self.kill.state(),
            ts: self.clock.raw(),
        }));
    }

    pub fn halt<T: FnMut(Telemetry)>(&mut self, reason: &'static str, mut tele: T) {
        if self.kill.halt(reason) {
            self.system(&mut tele, SystemKind::TradingStateChanged, InstrumentId(0));
        }
    }

    /// What the engine's live orders would add to the portfolio if they all filled, in USDT:
    /// counted in the portfolio check, so that orders in flight on several markets, each
    /// checked alone, cannot fill past the cap together. (A walk over the live orders, at most
    /// `order.table_capacity`, not over the markets.) Orders adopted from the venue are left
    /// out: no signal gave their market's conversion to USDT, and a TWD price taken as USDT
    /// would block all trading.
    fn open_notional_usdt(&self) -> f64 {
        self.orders
            .live_slots()
            .iter()
            .filter_map(|&s| self.orders.get(s as usize))
            .filter(|o| o.strategy != Strategy::External)
            .map(|o| {
                o.remaining().to_f64()
                    * o.price.to_f64()
                    * self.positions.quote_to_usdt(o.instrument)
            })
            .sum()
    }

    fn exposure(&self, sig: &Signal) -> Exposure {
        let mut x = Exposure {
            position: self.positions.net(sig.strategy, sig.instrument),
            open_orders: self.orders.len(),
            portfolio_usdt: self.positions.exposure_usdt() + self.open_notional_usdt(),
            ..Default::default()
        };
        // The orders of this market are walked only when it has one (then the risk check
        // refuses the signal as in flight anyway).
        if !self.orders.any_in(sig.strategy, sig.instrument) {
            return x;
        }
        for o in self
            .orders
            .iter()
            .filter(|o| o.strategy == sig.strategy && o.instrument == sig.instrument)
        {
            x.in_flight = true;
            match o.side {
                crate::model::Side::Buy => {
                    x.pending_buy = Fixed(x.pending_buy.raw() + o.remaining().raw())
                }
                crate::model::Side::Sell => {
                    x.pending_sell = Fixed(x.pending_sell.raw() + o.remaining().raw())
                }
            }
        }
        x
    }

    /// Risk-checks a signal, builds the request and hands it to the gateway.
    pub fn on_signal<S: FnMut(&OrderRequest) -> bool, T: FnMut(Telemetry)>(
        &mut self,
        sig: &Signal,
        mut send: S,
        mut tele: T,
    ) {
        self.stats.signals += 1;
        self.positions
            .set_quote_to_usdt(sig.instrument, sig.quote_to_usdt);
        let inst = self.instruments.get(sig.instrument);
        let reject = |me: &mut Self, tele: &mut T, r: RiskReject| {
            me.stats.risk_rejects += 1;
            me.system(tele, SystemKind::RiskReject(r), sig.instrument);
        };
        if inst.venue != Venue::Max {
            return reject(self, &mut tele, RiskReject::NoAllocation);
        }
        let approved = match self
            .limits
            .check(sig, inst, self.kill.state(), &self.exposure(sig))
        {
            Ok(a) => a,
            Err(r) => return reject(self, &mut tele, r),
        };
        let now_ms = self.clock.now_unix_ms();
        let mut req = OrderRequest {
            kind: GatewayCmdKind::New,
            client_oid: self.oids.next(sig.strategy, sig.wallet, now_ms),
            exchange_order_id: 0,
            strategy: sig.strategy,
            instrument: sig.instrument,
            wallet: sig.wallet,
            side: sig.side,
            order_type: sig.order_type,
            price: approved.price,
            qty: approved.qty,
            ts_frame: sig.ts_frame,
            ts_handed: 0,
        };
        let order = OpenOrder {
            client_oid: req.client_oid,
            strategy: sig.strategy,
            instrument: sig.instrument,
            wallet: sig.wallet,
            side: sig.side,
            order_type: sig.order_type,
            price: approved.price,
            qty: approved.qty,
            state: OrderState::PendingNew,
            sent_ms: now_ms,
            ts_signal: sig.ts_signal,
            ts_frame: sig.ts_frame,
            ..Default::default()
        };
        if self.orders.len() >= self.orders.capacity() {
            return reject(self, &mut tele, RiskReject::TooManyOpenOrders);
        }
        let handed = self.clock.raw();
        req.ts_handed = handed;
        if !send(&req) {
            self.stats.gateway_full += 1;
            return reject(self, &mut tele, RiskReject::GatewayFull);
        }
        self.orders.insert(order);
        self.stats.orders_sent += 1;
        self.latency
            .record(Segment::Order, self.clock.delta_ns(sig.ts_signal, handed));
        self.latency.record(
            Segment::TickToTrade,
            self.clock.delta_ns(sig.ts_frame, handed),
        );
        tele(Telemetry::OrderSent(req));
    }

    fn position_telemetry<T: FnMut(Telemetry)>(&self, o: &OpenOrder, tele: &mut T) {
        let p = self.positions.get(o.strategy, o.wallet, o.instrument);
        let limit = self
            .limits
            .allocation(o.strategy, o.instrument)
            .map(|a| a.max_position)
            .unwrap_or_default();
        tele(Telemetry::Position(self.positions.snapshot(&p, limit)));
    }

    fn cancel_request(o: &OpenOrder) -> OrderRequest {
        OrderRequest {
            kind: GatewayCmdKind::Cancel,
            client_oid: o.client_oid,
            exchange_order_id: o.exchange_id,
            strategy: o.strategy,
            instrument: o.instrument,
            wallet: o.wallet,
            side: o.side,
            order_type: o.order_type,
            price: o.price,
            qty: o.qty,
            ..Default::default()
        }
    }

    /// Cancels orders left unfilled too long and re-checks the kill switch.
    pub fn on_timer<S: FnMut(&OrderRequest) -> bool, T: FnMut(Telemetry)>(
        &mut self,
        now_ms: u64,
        mut send: S,
        mut tele: T,
    ) {
        // The live orders only (most ticks find none); nothing here closes one, so the list
        // stands still while it is walked.
        for k in 0..self.orders.live_slots().len() {
            let slot = self.orders.live_slots()[k] as usize;
            let Some(o) = self.orders.get(slot).copied() else {
                continue;
            };
            let waiting = o.strategy != Strategy::External
                && matches!(
                    o.state,
                    OrderState::PendingNew | OrderState::New | OrderState::PartiallyFilled
                );
            if o.state == OrderState::PendingCancel
                && o.asked_ms != 0
                && now_ms.saturating_sub(o.asked_ms) >= PENDING_CANCEL_QUERY_MS
            {
                let req = OrderRequest {
                    kind: GatewayCmdKind::Query,
                    ..Self::cancel_request(&o)
                };
                if send(&req) {
                    self.orders.get_mut(slot).asked_ms = now_ms;
                    tele(Telemetry::OrderSent(req));
                }
                continue;
            }
            if waiting && now_ms.saturating_sub(o.sent_ms) >= self.cfg.cancel_after_ms {
                let req = Self::cancel_request(&o);
                if send(&req) {
                    let order = self.orders.get_mut(slot);
                    order.state = OrderState::PendingCancel;
                    order.asked_ms = now_ms;
                    self.stats.expired += 1;
                    self.stats.cancel_requests += 1;
                    tele(Telemetry::OrderSent(req));
                    self.system(&mut tele, SystemKind::OrderExpired, o.instrument);
                }
            }
        }
        if self.kill.on_pnl(self.positions.total_pnl_usdt()) {
            self.system(&mut tele, SystemKind::TradingStateChanged, InstrumentId(0));
        }
    }

    pub fn mark(&mut self, instrument: InstrumentId, price: Price) {
        self.positions.mark(instrument, price);
    }

    /// Marks every market with a position at its latest mid, and recomputes the exposure from
    /// scratch (the running total drifts by rounding only).
    pub fn mark_held(&mut self, mids: &crate::pipeline::board::MidBoard) {
        self.positions.mark_held(|i| mids.get(i));
    }

    /// Shutdown: a cancel for every open order not already being cancelled.
    pub fn cancel_all<S: FnMut(&OrderRequest) -> bool>(&mut self, mut send: S) -> usize {
        let mut n = 0;
        let now_ms = self.clock.now_unix_ms();
        for slot in 0..self.orders.capacity() {
            let Some(o) = self.orders.get(slot).copied() else {
                continue;
            };
            if o.strategy != Strategy::External
                && o.state != OrderState::PendingCancel
                && !o.state.is_terminal()
                && send(&Self::cancel_request(&o))
            {
                let order = self.orders.get_mut(slot);
                order.state = OrderState::PendingCancel;
                order.asked_ms = now_ms;
                self.stats.cancel_requests += 1;
                n += 1;
            }
        }
        n
    }

    /// Every position with its allocation as the limit (not for the hot path).
    pub fn positions(&self) -> Vec<PositionSnapshot> {
        self.positions
            .iter()
            .map(|p| {
                self.positions.snapshot(
                    p,
                    self.limits
                        .allocation(p.strategy, p.instrument)
                        .map(|a| a.max_position)
                        .unwrap_or_default(),
                )
            })
            .collect()
    }
}
