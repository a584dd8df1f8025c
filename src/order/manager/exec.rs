//! Venue answers applied to the order table and the positions: acks, rejects, cancels, fills
//! (once per trade id, a late one included), the reconciler's adopted and missing orders and the
//! end of its rounds. The policy per order state is in the parent module's doc.

use super::{OrderManager, RECONCILE_GRACE_MS};
use crate::model::{
    ExecEvent, ExecKind, Fixed, GatewayCmdKind, InstrumentId, OrderRequest, OrderState,
    REJECT_RATE_LIMITED, Strategy, SystemKind, Telemetry,
};
use crate::order::client_oid::ClientOidGen;
use crate::order::open_orders::OpenOrder;
use crate::telemetry::Segment;

impl OrderManager {
    /// Applies a venue answer.
    pub fn on_exec<S: FnMut(&OrderRequest) -> bool, T: FnMut(Telemetry)>(
        &mut self,
        ev: &ExecEvent,
        mut send: S,
        mut tele: T,
    ) {
        let slot = self.orders.find(&ev.client_oid, ev.exchange_order_id);
        match ev.kind {
            ExecKind::Fill => {
                self.on_fill(ev, slot, &mut tele);
            }
            ExecKind::VenueFill => {
                if self.on_fill(ev, slot, &mut tele) {
                    self.stats.reconcile_fills += 1;
                    self.system(
                        &mut tele,
                        SystemKind::ReconcileFill {
                            trade_id: ev.trade_id,
                        },
                        ev.instrument,
                    );
                }
            }
            ExecKind::VenueOpen => self.on_venue_open(ev, slot, &mut tele),
            ExecKind::ReconcileEnd => self.on_reconcile_end(ev, &mut send, &mut tele),
            ExecKind::Ack | ExecKind::StateUpdate | ExecKind::Cancelled | ExecKind::Reject => {
                let Some(slot) = slot else {
                    // A final state after the last fill closed the order is expected.
                    if self
                        .orders
                        .find_closed(&ev.client_oid, ev.exchange_order_id)
                        .is_none()
                    {
                        self.stats.unknown_exec += 1;
                    }
                    return;
                };
                let now = self.clock.raw();
                let o = self.orders.get_mut(slot);
                if ev.exchange_order_id != 0 {
                    o.exchange_id = ev.exchange_order_id;
                }
                let mut close = false;
                match ev.kind {
                    ExecKind::Ack => {
                        if !o.acked {
                            o.acked = true;
                            self.stats.acks += 1;
                            let ts = o.ts_signal;
                            self.latency
                                .record(Segment::SignalToAck, self.clock.delta_ns(ts, now));
                            if ev.ts_sent != 0 && o.ts_frame != 0 {
                                let ns = self.clock.delta_ns(o.ts_frame, ev.ts_sent);
                                self.latency.record(Segment::WireToWire, ns);
                            }
                            tele(Telemetry::Exec(*ev));
                        }
                        let o = self.orders.get_mut(slot);
                        if o.state == OrderState::PendingNew {
                            o.state = OrderState::New;
                        }
                    }
                    ExecKind::Reject => {
                        // Refused or not, a request the gateway wrote left the wire.
                        if ev.ts_sent != 0 && o.ts_frame != 0 && !o.acked {
                            let ns = self.clock.delta_ns(o.ts_frame, ev.ts_sent);
                            self.latency.record(Segment::WireToWire, ns);
                        }
                        o.state = OrderState::Rejected;
                        self.stats.rejects += 1;
                        if ev.reject_code == REJECT_RATE_LIMITED {
                            self.stats.rate_limited += 1;
                        }
                        close = true;
                        tele(Telemetry::Exec(*ev));
                    }
                    ExecKind::Cancelled => {
                        o.state = OrderState::Cancelled;
                        self.stats.cancels += 1;
                        close = true;
                        tele(Telemetry::Exec(*ev));
                    }
                    _ => match ev.state {
                        OrderState::Filled => {
                            o.state = OrderState::Filled;
                            close = true;
                        }
                        OrderState::PartiallyFilled if o.state != OrderState::PendingCancel => {
                            o.state = OrderState::PartiallyFilled
                        }
                        _ => {}
                    },
                }
                if close {
                    self.orders.close(slot);
                }
            }
            ExecKind::CancelReject => {
                // The venue refused our cancel: the order is either finished (its final state
                // is on its way) or not yet known there (the create is still in flight). Either
                // way it is live for us again; the expiry timer will ask again.
                self.stats.cancel_rejects += 1;
                if let Some(slot) = slot {
                    let o = self.orders.get_mut(slot);
                    if o.state == OrderState::PendingCancel {
                        o.state = if !o.acked {
                            OrderState::PendingNew
                        } else if o.filled.is_zero() {
                            OrderState::New
                        } else {
                            OrderState::PartiallyFilled
                        };
                    }
                }
            }
            ExecKind::None => {}
        }
    }

    /// The venue lists an order as open. Its list is older than whatever the exec ring
    /// delivered since, so it only fills in what the engine never heard: a missed ack, or an
    /// order the engine does not know at all, which is adopted — with its strategy when the
    /// client id is one of ours (an earlier run), else as `External` (never cancelled by us).
    fn on_venue_open<T: FnMut(Telemetry)>(
        &mut self,
        ev: &ExecEvent,
        slot: Option<usize>,
        tele: &mut T,
    ) {
        if let Some(slot) = slot {
            let o = self.orders.get_mut(slot);
            o.seen_round = ev.trade_id;
            if o.exchange_id == 0 {
                o.exchange_id = ev.exchange_order_id;
            }
            if !o.acked {
                o.acked = true;
                if o.state == OrderState::PendingNew {
                    o.state = OrderState::New;
                }
                self.stats.acks += 1;
            }
            return;
        }
        if self
            .orders
            .find_closed(&ev.client_oid, ev.exchange_order_id)
            .is_some()
        {
            // Closed since the list was read.
            return;
        }
        let strategy = ClientOidGen::parse(&ev.client_oid)
            .map(|(s, _, _)| s)
            .unwrap_or(Strategy::External);
        let adopted = OpenOrder {
            client_oid: ev.client_oid,
            exchange_id: ev.exchange_order_id,
            strategy,
            instrument: ev.instrument,
            wallet: ev.wallet,
            side: ev.side,
            order_type: crate::model::OrderType::Limit,
            price: ev.price,
            qty: ev.qty,
            state: if ev.state == OrderState::PartiallyFilled {
                OrderState::PartiallyFilled
            } else {
                OrderState::New
            },
            sent_ms: self.clock.now_unix_ms(),
            acked: true,
            seen_round: ev.trade_id,
            ..Default::default()
        };
        self.orders.insert(adopted);
        self.stats.adopted += 1;
        self.system(
            tele,
            SystemKind::ReconcileAdopted {
                venue_order_id: ev.exchange_order_id,
            },
            ev.instrument,
        );
    }

    /// End of a reconcile round: every live order the venue did not list, and old enough to
    /// have been listed, is reported and its state read back from the venue (it finished
    /// there without the engine hearing, or never arrived). An unconfirmed cancel stays
    /// pending until that answer or the private WebSocket confirms it.
    fn on_reconcile_end<S: FnMut(&OrderRequest) -> bool, T: FnMut(Telemetry)>(
        &mut self,
        ev: &ExecEvent,
        send: &mut S,
        tele: &mut T,
    ) {
        let round = ev.trade_id;
        let fetched_ms = ev.venue_ts_ms;
        for slot in 0..self.orders.capacity() {
            let Some(o) = self.orders.get(slot).copied() else {
                continue;
            };
            if o.seen_round == round || o.sent_ms + RECONCILE_GRACE_MS > fetched_ms {
                continue;
            }
            let req = OrderRequest {
                kind: GatewayCmdKind::Query,
                ..Self::cancel_request(&o)
            };
            self.stats.reconcile_missing += 1;
            self.system(
                tele,
                SystemKind::ReconcileMissing {
                    venue_order_id: o.exchange_id,
                },
                o.instrument,
            );
            if send(&req) {
                tele(Telemetry::OrderSent(req));
            }
        }
        self.stats.reconcile_rounds += 1;
        self.system(tele, SystemKind::ReconcileDone { round }, InstrumentId(0));
    }

    /// Applies a fill once per trade id; false when it was a copy or for no known order.
    fn on_fill<T: FnMut(Telemetry)>(
        &mut self,
        ev: &ExecEvent,
        slot: Option<usize>,
        tele: &mut T,
    ) -> bool {
        // Find the order before taking the trade id as seen: a fill that names no order we
        // know yet (an ack still in flight) must stay applicable when it comes again.
        let order = match slot {
            Some(s) => *self.orders.get_mut(s),
            None => match self
                .orders
                .find_closed(&ev.client_oid, ev.exchange_order_id)
            {
                Some(o) => o,
                None => {
                    self.stats.unknown_exec += 1;
                    return false;
                }
            },
        };
        if !self.orders.first_sighting(ev.trade_id) {
            self.stats.duplicate_fills += 1;
            return false;
        }
        let fee = ev.fee;
        self.positions.apply_fill(
            order.strategy,
            order.wallet,
            order.instrument,
            order.side,
            ev.price,
            ev.qty,
            fee,
        );
        self.stats.fills += 1;
        if let Some(s) = slot {
            let now = self.clock.raw();
            let o = self.orders.get_mut(s);
            if ev.exchange_order_id != 0 {
                o.exchange_id = ev.exchange_order_id;
            }
            o.filled = Fixed(o.filled.raw() + ev.qty.raw());
            let first = !o.any_fill;
            o.any_fill = true;
            let ts = o.ts_signal;
            if o.state != OrderState::PendingCancel {
                o.state = if o.filled >= o.qty {
                    OrderState::Filled
                } else {
                    OrderState::PartiallyFilled
                };
            }
            let done = o.filled >= o.qty;
            if first {
                self.latency
                    .record(Segment::SignalToFill, self.clock.delta_ns(ts, now));
            }
            if done {
                self.orders.close(s);
            }
        }
        tele(Telemetry::Exec(*ev));
        self.position_telemetry(&order, tele);
        true
    }
}
