//! The MAX gateway thread: takes complete order requests from the order stage's queue, sends
//! them with the REST client, and turns the venue's answers into exec events.
//!
//! - New → `POST …/order`: the 201 reply is an `Ack` (with the venue's order id); an error is a
//!   `Reject` carrying MAX's code (a client-side refusal, e.g. off the tick, carries code 0).
//! - Cancel → `DELETE /api/v3/order`; the cancel is only queued at MAX, so the gateway reads the
//!   order back and reports its state (`Cancelled`, or `Filled` if it filled first). A refused
//!   cancel is a `CancelReject`.
//!
//! - Query → `GET /api/v3/order` (the reconciler found the order missing from the venue's
//!   open list): its state as the venue reports it; an order the venue does not know (2004)
//!   is a `Reject`.
//!
//! Between requests the gateway runs the [`Reconciler`] (same key, same nonce sequence).
//!
//! Time sync runs at start and every minute; an offset beyond `max_clock_drift_ms`, or a
//! halt-class error (refused credentials or permissions), asks the order stage to halt.
//!
//! Fills arrive on the private WebSocket (`feed.user`); the order stage applies each trade once
//! whichever way it comes. The gateway is unpinned: it waits on the network by design.
//!
//! With nothing to send it waits like the order stage's thread: spinning, yielding, or parked
//! on the queue, which the order stage's push unparks — a request never waits out a sleep. A
//! spinning gateway needs a core of its own, like any spinning thread.
//! A parked gateway also wakes every [`IDLE_PARK`] to notice a reconcile round asked for, the
//! minute's time sync, and shutdown.

use super::reconciler::Reconciler;
use crate::model::{ExecEvent, ExecKind, GatewayCmdKind, Instruments, OrderRequest, OrderState};
use crate::pipeline::gateway_queue::GatewayQueue;
use crate::pipeline::ring::ExecProducer;
use crate::pipeline::{EngineClock, Phase, Shutdown, WaitKind};
use crate::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef, RestError};
use disruptor::Producer;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a parked gateway sleeps at most when no request comes: the delay before it notices
/// a reconcile round asked for, the time sync or shutdown. Requests wake it at once.
pub const IDLE_PARK: Duration = Duration::from_millis(1);

pub struct Gateway {
    pub client: MaxRestClient,
    pub queue: GatewayQueue,
    pub exec: ExecProducer,
    pub instruments: Instruments,
    pub clock: EngineClock,
    pub shutdown: Shutdown,
    pub halts: std::sync::Arc<crate::pipeline::board::HaltRequests>,
    /// Largest tolerated offset to the venue's clock, ms.
    pub max_clock_drift_ms: u64,
    pub reconciler: Reconciler,
}

impl Gateway {
    /// Starts the gateway thread; `wait` is how it waits for requests.
    pub fn spawn(self, wait: WaitKind) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("gateway.max".into())
            .spawn(move || self.run(wait))
    }

    fn publish(&mut self, ev: ExecEvent) {
        self.exec.publish(|slot| *slot = ev);
    }

    /// Time sync: measures the offset to the venue's clock and halts trading when it is beyond
    /// the limit (nonces and freshness checks would be wrong).
    fn sync_time(&mut self) {
        if let Ok(offset) = self.client.sync_time()
            && offset.unsigned_abs() > self.max_clock_drift_ms
        {
            self.halts
                .request(crate::pipeline::board::HaltReason::ClockDrift);
        }
    }

    fn run(mut self, wait: WaitKind) {
        // MAX's lower-case market names, written once: an order allocates none.
        let markets: Vec<String> = self
            .instruments
            .iter()
            .map(|i| i.symbol.to_lowercase())
            .collect();
        self.sync_time();
        let _ = self.client.load_markets();
        let mut last_sync = std::time::Instant::now();
        let mut final_round_done = false;
        loop {
            if last_sync.elapsed() >= Duration::from_secs(60) {
                last_sync = std::time::Instant::now();
                self.sync_time();
            }
            // Done: the order stage has settled (or given up waiting); nothing sent now would be
            // waited for.
            if self.shutdown.phase() == Phase::Done {
                return;
            }
            let Some(req) = self.queue.pop() else {
                if self.shutdown.phase() == Phase::Running && self.reconciler.due() {
                    self.reconcile();
                    continue;
                }
                // Shutting down and every order settled: one last round reads the fills the
                // private WebSocket had not delivered yet (see `Shutdown`).
                if !final_round_done && self.shutdown.orders_settled() {
                    final_round_done = true;
                    self.shutdown.set_final_round(self.reconciler.rounds() + 1);
                    if !self.reconcile() {
                        self.shutdown.set_reconciled();
                    }
                    continue;
                }
                match wait {
                    WaitKind::Spin => std::hint::spin_loop(),
                    WaitKind::Yield => std::thread::yield_now(),
                    WaitKind::Park => self.queue.park(IDLE_PARK),
                }
                continue;
            };
            match req.kind {
                GatewayCmdKind::New => self.create(&req, &markets[req.instrument.index()]),
                GatewayCmdKind::Cancel => self.cancel(&req),
                GatewayCmdKind::Query => self.query(&req),
            }
        }
    }

    /// One reconcile round; false when it failed.
    fn reconcile(&mut self) -> bool {
        let Gateway {
            reconciler,
            client,
            instruments,
            exec,
            ..
        } = self;
        let r = reconciler.run_round(client, instruments, |ev| {
            exec.publish(|slot| *slot = ev);
        });
        if let Err(e) = r {
            if e.action() == crate::venue::max::ErrorAction::Halt {
                tracing::error!("reconcile: credentials refused, halting trading: {e}");
                self.halts
                    .request(crate::pipeline::board::HaltReason::CredentialsRefused);
            } else {
                tracing::warn!("reconcile: round failed (retried next round): {e}");
            }
            return false;
        }
        true
    }

    fn base(&self, req: &OrderRequest, kind: ExecKind) -> ExecEvent {
        ExecEvent {
            kind,
            client_oid: req.client_oid,
            exchange_order_id: req.exchange_order_id,
            instrument: req.instrument,
            side: req.side,
            ts_recv: self.clock.raw(),
            ..Default::default()
        }
    }

    fn code(e: &RestError) -> u32 {
        match e {
            RestError::Api(a) => a.code.unwrap_or(0),
            _ => 0,
        }
    }

    fn create(&mut self, req: &OrderRequest, market: &str) {
        let o = NewOrder {
            wallet: req.wallet,
            market,
            side: req.side,
            ord_type: req.order_type,
            price: req.price,
            volume: req.qty,
            client_oid: &req.client_oid,
        };
        let sent_before = self.client.last_sent();
        let r = self.client.create_order(&o);
        // When this request's bytes were written (0: refused before sending, or no stamp).
        let ts_sent = match self.client.last_sent() {
            t if t != sent_before => t,
            _ => 0,
        };
        let ev = match r {
            Ok(order) => {
                self.reconciler.remember(order.id, req.client_oid);
                ExecEvent {
                    exchange_order_id: order.id,
                    state: OrderState::New,
                    ts_sent,
                    ..self.base(req, ExecKind::Ack)
                }
            }
            Err(e) => {
                if e.action() == crate::venue::max::ErrorAction::Halt {
                    tracing::error!(
                        client_oid = %req.client_oid,
                        "order refused, credentials refused, halting trading: {e}"
                    );
                    self.halts
                        .request(crate::pipeline::board::HaltReason::CredentialsRefused);
                } else {
                    tracing::warn!(client_oid = %req.client_oid, market = %market, "order rejected: {e}");
                }
                ExecEvent {
                    reject_code: Self::code(&e),
                    state: OrderState::Rejected,
                    ts_sent,
                    ..self.base(req, ExecKind::Reject)
                }
            }
        };
        self.publish(ev);
    }

    fn query(&mut self, req: &OrderRequest) {
        let r = if req.exchange_order_id != 0 {
            OrderRef::Id(req.exchange_order_id)
        } else {
            OrderRef::ClientOid(&req.client_oid)
        };
        let ev = match self.client.get_order(r) {
            Ok(order) => ExecEvent {
                exchange_order_id: order.id,
                state: order.state,
                ..self.base(
                    req,
                    if order.state == OrderState::Cancelled {
                        ExecKind::Cancelled
                    } else {
                        ExecKind::StateUpdate
                    },
                )
            },
            Err(RestError::Api(a)) if a.code == Some(2004) => ExecEvent {
                reject_code: 2004,
                state: OrderState::Rejected,
                ..self.base(req, ExecKind::Reject)
            },
            // Not answered: the next round asks again.
            Err(e) => {
                tracing::warn!(client_oid = %req.client_oid, "order query failed (asked again next round): {e}");
                return;
            }
        };
        self.publish(ev);
    }

    fn cancel(&mut self, req: &OrderRequest) {
        let r = if req.exchange_order_id != 0 {
            OrderRef::Id(req.exchange_order_id)
        } else {
            OrderRef::ClientOid(&req.client_oid)
        };
        if let Err(e) = self.client.cancel_order(r) {
            if Self::code(&e) == 2003 {
                tracing::debug!(client_oid = %req.client_oid, "cancel: order already finished");
            } else {
                tracing::warn!(client_oid = %req.client_oid, "cancel failed: {e}");
            }
            let ev = ExecEvent {
                reject_code: Self::code(&e),
                state: OrderState::PendingCancel,
                ..self.base(req, ExecKind::CancelReject)
            };
            self.publish(ev);
            // Refused because the order already finished (2003): say how, so the order stage
            // closes it instead of asking again. Unknown there (2004): the create may still be
            // on its way; the expiry timer or the reconciler asks again.
            if Self::code(&e) != 2003 {
                return;
            }
        }
        self.query(req);
    }
}
