//! The execution side of the in-process feed: each answer of the synthetic execution venue
//! written as MAX writes it (the REST create reply, an error body, a private `order_update` or
//! `trade_update`), parsed by the same parsers as a live venue's, and published on the exec
//! ring.

use super::FeedIo;
use crate::model::{ExecEvent, ExecKind, Fixed, OrderState, Venue};
use crate::sim::exec_venue::ExecOutput;
use crate::sim::max_frames::{self as mframes, MaxOrderFrame};
use crate::venue::max::rest::{classify_error, parse_order};
use disruptor::Producer;

impl FeedIo {
    pub(super) fn on_exec(&mut self, o: ExecOutput) {
        let FeedIo {
            instruments,
            max_private,
            frame,
            exec,
            clock,
            ..
        } = self;
        let Some(exec) = exec.as_mut() else { return };
        let mut publish = |ev: &ExecEvent| exec.publish(|slot| *slot = *ev);
        let ok = match o {
            ExecOutput::Created {
                order_id,
                client_oid,
                market,
                wallet,
                side,
                ord_type,
                price,
                volume,
                ts_ms,
            } => {
                let f = MaxOrderFrame {
                    id: order_id,
                    client_oid: &client_oid,
                    market: market.as_str(),
                    wallet,
                    side,
                    ord_type,
                    price,
                    avg_price: Fixed::ZERO,
                    volume,
                    remaining: volume,
                    executed: Fixed::ZERO,
                    state: "wait",
                    trades_count: 0,
                    created_ms: ts_ms,
                    updated_ms: ts_ms,
                };
                mframes::write_order_created(frame, &f);
                let ts = clock.raw();
                match parse_order(frame) {
                    Ok(order) => {
                        publish(&ExecEvent {
                            kind: ExecKind::Ack,
                            client_oid: order.client_oid,
                            exchange_order_id: order.id,
                            instrument: instruments
                                .lookup(Venue::Max, order.market.as_str().as_bytes())
                                .unwrap_or_default(),
                            side: order.side,
                            state: OrderState::New,
                            price: order.price.unwrap_or_default(),
                            venue_ts_ms: order.created_at_ms,
                            ts_recv: ts,
                            ..Default::default()
                        });
                        true
                    }
                    Err(_) => false,
                }
            }
            ExecOutput::Rejected {
                client_oid,
                code,
                message,
                cancel,
            } => {
                mframes::write_error(frame, code, message);
                let ts = clock.raw();
                let err = classify_error(400, frame);
                publish(&ExecEvent {
                    // The gateway knows which request the reply answers.
                    kind: if cancel {
                        ExecKind::CancelReject
                    } else {
                        ExecKind::Reject
                    },
                    client_oid,
                    state: if cancel {
                        OrderState::PendingCancel
                    } else {
                        OrderState::Rejected
                    },
                    reject_code: err.code.unwrap_or(0),
                    ts_recv: ts,
                    ..Default::default()
                });
                true
            }
            ExecOutput::OrderUpdate {
                order_id,
                client_oid,
                market,
                wallet,
                side,
                ord_type,
                price,
                volume,
                state,
                executed,
                remaining,
                avg_price,
                trades_count,
                created_ms,
                ts_ms,
            } => {
                let f = MaxOrderFrame {
                    id: order_id,
                    client_oid: &client_oid,
                    market: market.as_str(),
                    wallet,
                    side,
                    ord_type,
                    price,
                    avg_price,
                    volume,
                    remaining,
                    executed,
                    state,
                    trades_count,
                    created_ms,
                    updated_ms: ts_ms,
                };
                mframes::write_order_update(frame, &f, ts_ms);
                let ts = clock.raw();
                max_private
                    .parse(frame, ts, instruments, &mut publish, |_| {})
                    .is_ok()
            }
            ExecOutput::Trade(t) => {
                let (f, ts_ms) = (t.frame(), t.ts_ms);
                mframes::write_trade_update(frame, &f, ts_ms);
                let ts = clock.raw();
                max_private
                    .parse(frame, ts, instruments, &mut publish, |_| {})
                    .is_ok()
            }
        };
        self.frames += 1;
        if !ok {
            self.parse_error(Venue::Max);
        }
    }
}
