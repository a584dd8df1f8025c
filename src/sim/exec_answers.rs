//! The synthetic execution venues' answers as a live venue gives them: each [`ExecOutput`]
//! written as MAX writes it (the REST create reply, an error body, a private `order_update` or
//! `trade_update`), parsed back by the same parsers a live venue's answers go through, and
//! handed on as [`ExecEvent`]s. Shared by the in-process venue and the replay's venue.

use crate::model::{ExecEvent, ExecKind, Fixed, Instruments, OrderState, Venue};
use crate::pipeline::EngineClock;
use crate::sim::exec_venue::ExecOutput;
use crate::sim::max_frames::{self as mframes, MaxOrderFrame};
use crate::venue::max::MaxPrivateParser;
use crate::venue::max::rest::{classify_error, parse_order};

/// The writer and parser of execution answers, with their reused frame buffer.
pub struct ExecAnswers {
    max_private: MaxPrivateParser,
    frame: Vec<u8>,
}

impl Default for ExecAnswers {
    fn default() -> Self {
        ExecAnswers {
            max_private: MaxPrivateParser::new(),
            frame: Vec::with_capacity(4096),
        }
    }
}

impl ExecAnswers {
    /// The frame of the latest answer, as MAX writes it.
    pub fn last_frame(&self) -> &[u8] {
        &self.frame
    }

    /// Writes `o` as MAX would, parses it back and hands each event it gives to `publish`,
    /// stamped with `clock` when the frame is complete. False when the frame did not parse.
    pub fn answer(
        &mut self,
        o: ExecOutput,
        instruments: &Instruments,
        clock: &EngineClock,
        mut publish: impl FnMut(&ExecEvent),
    ) -> bool {
        let ExecAnswers { max_private, frame } = self;
        match o {
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
        }
    }
}
