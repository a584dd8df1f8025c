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
//! Reads — reconcile rounds, order queries, the read-back after a cancel, the minute's time
//! sync — run on the read lane ([`super::read_lane`]) when a read key is configured: this
//! thread then sends only orders and cancels, never waits for the rate limiter (a new order
//! with no token left is rejected at once, a cancel is kept and sent as soon as a token comes),
//! and no read delays an order. With one key the gateway runs those reads itself, between
//! requests ([`Reads::Inline`]; same key, same nonce sequence), and waits for the rate limiter
//! as the reads must.
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

use super::read_lane::{ReadLane, TIME_SYNC_EVERY};
use super::venue_reads::{CreatedOrders, VenueReads, answer, error_code};
use crate::model::{
    ExecEvent, ExecKind, GatewayCmdKind, Instruments, OrderRequest, OrderState, Venue, WalletType,
};
use crate::pipeline::board::{HaltReason, HaltRequests};
use crate::pipeline::gateway_queue::GatewayQueue;
use crate::pipeline::ring::ExecProducer;
use crate::pipeline::{EngineClock, Phase, Shutdown, WaitKind};
use crate::venue::max::ErrorAction;
use crate::venue::max::rest_client::{MaxRestClient, NewOrder, OrderRef, RestError};
use disruptor::Producer;
use std::collections::VecDeque;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a parked gateway sleeps at most when no request comes: the delay before it notices
/// a reconcile round asked for, the time sync, a rate-limit token for a kept cancel, or
/// shutdown. Requests wake it at once.
pub const IDLE_PARK: Duration = Duration::from_millis(1);

/// How often an idle gateway checks that the order lane's connection is still open (a peek on
/// the socket) and reopens it if the venue closed it, so no order pays for a handshake.
pub const KEEP_WARM_EVERY: Duration = Duration::from_secs(1);

/// Cancels kept while the rate limiter has no token; past this many a cancel is refused
/// locally (`CancelReject`, code 0) and the order stage's expiry asks again.
pub const KEPT_CANCELS: usize = 1024;

/// Where the gateway's reads run.
pub enum Reads {
    /// One key: on the gateway's thread, between requests.
    Inline(Box<VenueReads>),
    /// A read key: on the read lane, which takes queries on `queries` and the created orders on
    /// `created`; `lane` is started with the gateway.
    Lane {
        queries: GatewayQueue,
        created: CreatedOrders,
        lane: Option<Box<ReadLane>>,
    },
}

pub struct Gateway {
    /// Signs with the trading key.
    pub client: MaxRestClient,
    pub queue: GatewayQueue,
    pub exec: ExecProducer,
    pub instruments: Instruments,
    pub clock: EngineClock,
    pub shutdown: Shutdown,
    pub halts: Arc<HaltRequests>,
    pub reads: Reads,
}

impl Gateway {
    /// Starts the gateway thread (and its read lane, if it has one); `wait` is how the gateway
    /// waits for requests.
    pub fn spawn(mut self, wait: WaitKind) -> std::io::Result<Vec<JoinHandle<()>>> {
        let mut handles = Vec::with_capacity(2);
        if let Reads::Lane { lane, .. } = &mut self.reads
            && let Some(l) = lane.take()
        {
            handles.push(l.spawn()?);
        }
        handles.push(
            std::thread::Builder::new()
                .name("gateway.max".into())
                .spawn(move || self.run(wait))?,
        );
        Ok(handles)
    }

    fn publish(&mut self, ev: ExecEvent) {
        self.exec.publish(|slot| *slot = ev);
    }

    fn run(mut self, wait: WaitKind) {
        // MAX's lower-case market names, written once: an order allocates none.
        let markets: Vec<String> = self
            .instruments
            .iter()
            .map(|i| i.symbol.to_lowercase())
            .collect();
        // The trading key's nonces on the venue's clock before the first order (the read lane,
        // if any, keeps them there afterwards).
        match &mut self.reads {
            Reads::Inline(r) => r.sync_time(&mut self.client),
            Reads::Lane { .. } => {
                let _ = self.client.sync_time();
            }
        }
        let _ = self.client.load_markets();
        // Each MAX market's create-order request, pre-built for both wallets: an order writes
        // only its own fields.
        let max_markets = self.instruments.iter().filter(|i| i.venue == Venue::Max);
        let templates: Vec<(WalletType, &str)> = max_markets
            .flat_map(|i| {
                let m = markets[i.id.index()].as_str();
                [(WalletType::Spot, m), (WalletType::Margin, m)]
            })
            .collect();
        self.client.prepare_orders(templates);
        // The order lane's connection open before the first order, and kept so.
        let mut warm_failing = false;
        self.keep_warm(&mut warm_failing);
        let mut last_warm = Instant::now();
        let mut kept: VecDeque<OrderRequest> = VecDeque::with_capacity(KEPT_CANCELS);
        let mut last_sync = Instant::now();
        let mut final_round_done = false;
        loop {
            // Done: the order stage has settled (or given up waiting); nothing sent now would be
            // waited for.
            if self.shutdown.phase() == Phase::Done {
                return;
            }
            if let Reads::Inline(r) = &mut self.reads
                && last_sync.elapsed() >= TIME_SYNC_EVERY
            {
                last_sync = Instant::now();
                r.sync_time(&mut self.client);
            }
            // A kept cancel goes first, once the rate limiter has a token for it.
            if let Some(req) = kept.front().copied()
                && self.cancel(&req) != Sent::RateLimited
            {
                kept.pop_front();
                continue;
            }
            let Some(req) = self.queue.pop() else {
                if let Reads::Inline(r) = &mut self.reads {
                    if self.shutdown.phase() == Phase::Running && r.reconciler.due() {
                        r.reconcile(&mut self.client);
                        continue;
                    }
                    // Shutting down and every order settled: one last round reads the fills
                    // the private WebSocket had not delivered yet (see `Shutdown`).
                    if !final_round_done && self.shutdown.orders_settled() {
                        final_round_done = true;
                        self.shutdown.set_final_round(r.reconciler.rounds() + 1);
                        if !r.reconcile(&mut self.client) {
                            self.shutdown.set_reconciled();
                        }
                        continue;
                    }
                }
                if last_warm.elapsed() >= KEEP_WARM_EVERY {
                    last_warm = Instant::now();
                    self.keep_warm(&mut warm_failing);
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
                GatewayCmdKind::Cancel => {
                    if self.cancel(&req) == Sent::RateLimited {
                        if kept.len() < KEPT_CANCELS {
                            kept.push_back(req);
                        } else {
                            tracing::warn!(client_oid = %req.client_oid, "cancel refused locally: rate limit, {KEPT_CANCELS} cancels already kept");
                            let ev = ExecEvent {
                                state: OrderState::PendingCancel,
                                ..answer(&req, ExecKind::CancelReject, &self.clock)
                            };
                            self.publish(ev);
                        }
                    }
                }
                GatewayCmdKind::Query => self.query(&req),
            }
        }
    }

    /// Reconnects the order lane if the venue closed its idle connection. A failure is logged
    /// once until a connection succeeds again (`failing`); the next order connects anyway.
    fn keep_warm(&mut self, failing: &mut bool) {
        match self.client.keep_order_lane_warm() {
            Ok(connected) => {
                if connected {
                    tracing::debug!("gateway: order lane connected ahead of the next order");
                }
                *failing = false;
            }
            Err(e) => {
                if !*failing {
                    tracing::warn!("gateway: order lane cannot connect ahead of orders: {e}");
                }
                *failing = true;
            }
        }
    }

    /// Reads an order back: here with one key, on the read lane with two.
    fn query(&mut self, req: &OrderRequest) {
        match &mut self.reads {
            Reads::Inline(r) => r.query(&mut self.client, req),
            Reads::Lane { queries, .. } => {
                let q = OrderRequest {
                    kind: GatewayCmdKind::Query,
                    ..*req
                };
                if queries.push(q).is_err() {
                    tracing::warn!(client_oid = %req.client_oid, "order query not queued (read lane full; the next reconcile round asks again)");
                }
            }
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
                match &mut self.reads {
                    Reads::Inline(r) => r.reconciler.remember(order.id, req.client_oid),
                    Reads::Lane { created, .. } => {
                        // Full (the read lane is stuck): the oldest goes. Its fills read over
                        // REST then carry no client id; the venue id still names the order.
                        if let Some((id, _)) = created.force_push((order.id, req.client_oid)) {
                            tracing::warn!(
                                venue_order_id = id,
                                "read lane behind: a created order's client id forgotten"
                            );
                        }
                    }
                }
                ExecEvent {
                    exchange_order_id: order.id,
                    state: OrderState::New,
                    ts_sent,
                    ..answer(req, ExecKind::Ack, &self.clock)
                }
            }
            Err(e) => {
                if e.action() == ErrorAction::Halt {
                    tracing::error!(
                        client_oid = %req.client_oid,
                        "order refused, credentials refused, halting trading: {e}"
                    );
                    self.halts.request(HaltReason::CredentialsRefused);
                } else {
                    tracing::warn!(client_oid = %req.client_oid, market = %market, "order rejected: {e}");
                }
                ExecEvent {
                    reject_code: error_code(&e),
                    state: OrderState::Rejected,
                    ts_sent,
                    ..answer(req, ExecKind::Reject, &self.clock)
                }
            }
        };
        self.publish(ev);
    }

    /// Sends a cancel and has the order read back; `RateLimited` when no rate-limit token was
    /// left (nothing sent, nothing published: keep it and try again).
    fn cancel(&mut self, req: &OrderRequest) -> Sent {
        let r = if req.exchange_order_id != 0 {
            OrderRef::Id(req.exchange_order_id)
        } else {
            OrderRef::ClientOid(&req.client_oid)
        };
        match self.client.cancel_order(r) {
            Ok(()) => {}
            Err(RestError::RateLimited { .. }) => return Sent::RateLimited,
            Err(e) => {
                let code = error_code(&e);
                if code == 2003 {
                    tracing::debug!(client_oid = %req.client_oid, "cancel: order already finished");
                } else {
                    tracing::warn!(client_oid = %req.client_oid, "cancel failed: {e}");
                }
                let ev = ExecEvent {
                    reject_code: code,
                    state: OrderState::PendingCancel,
                    ..answer(req, ExecKind::CancelReject, &self.clock)
                };
                self.publish(ev);
                // Refused because the order already finished (2003): say how, so the order
                // stage closes it instead of asking again. Unknown there (2004): the create may
                // still be on its way; the expiry timer or the reconciler asks again.
                if code != 2003 {
                    return Sent::Answered;
                }
            }
        }
        // The cancel is only queued at MAX: read the order back.
        self.query(req);
        Sent::Answered
    }
}

/// What became of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    Answered,
    RateLimited,
}
