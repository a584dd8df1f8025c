//! What the gateway reads back from MAX, apart from sending orders: reconcile rounds, order
//! queries, and the time sync. The same work runs on the order gateway's own thread when there
//! is one key, or on the read lane's thread ([`super::read_lane`]) with a second key; each call
//! is given the REST client of the thread it runs on.

use super::reconciler::Reconciler;
use crate::model::{
    ClientOid, ExecEvent, ExecKind, Instruments, OrderRequest, OrderState, REJECT_RATE_LIMITED,
};
use crate::pipeline::EngineClock;
use crate::pipeline::board::{HaltReason, HaltRequests};
use crate::pipeline::ring::ExecProducer;
use crate::venue::max::MaxSigner;
use crate::venue::max::rest_client::{MaxRestClient, OrderRef, RestError};
use crossbeam::queue::ArrayQueue;
use disruptor::Producer;
use std::sync::Arc;

/// Venue ids and client ids of created orders, order lane → read lane: REST trades carry no
/// client id, so the reconciler needs them. Bounded; when full the oldest is dropped (logged).
pub type CreatedOrders = Arc<ArrayQueue<(u64, ClientOid)>>;

/// How many created orders may wait for the read lane to take them.
pub const CREATED_QUEUE: usize = 4096;

pub struct VenueReads {
    pub reconciler: Reconciler,
    pub exec: ExecProducer,
    pub instruments: Instruments,
    pub clock: EngineClock,
    pub halts: Arc<HaltRequests>,
    /// Largest tolerated offset to the venue's clock, ms.
    pub max_clock_drift_ms: u64,
    /// Other keys whose nonces follow the venue's clock: the order lane's key, when these
    /// reads run on their own key ([`VenueReads::sync_time`] moves them all).
    pub other_keys: Vec<MaxSigner>,
}

/// An exec event answering `req`, stamped now.
pub fn answer(req: &OrderRequest, kind: ExecKind, clock: &EngineClock) -> ExecEvent {
    ExecEvent {
        kind,
        client_oid: req.client_oid,
        exchange_order_id: req.exchange_order_id,
        instrument: req.instrument,
        side: req.side,
        ts_recv: clock.raw(),
        ..Default::default()
    }
}

/// MAX's error code of a REST error: [`REJECT_RATE_LIMITED`] for the client-side rate limit,
/// 0 for other refusals before sending or no code.
pub fn error_code(e: &RestError) -> u32 {
    match e {
        RestError::Api(a) => a.code.unwrap_or(0),
        RestError::RateLimited { .. } => REJECT_RATE_LIMITED,
        _ => 0,
    }
}

impl VenueReads {
    fn publish(&mut self, ev: ExecEvent) {
        self.exec.publish(|slot| *slot = ev);
    }

    /// Time sync: measures the offset to the venue's clock, moves every key's nonces onto it,
    /// and halts trading when it is beyond the limit (nonces and freshness checks would be
    /// wrong).
    pub fn sync_time(&mut self, client: &mut MaxRestClient) {
        let Ok(offset) = client.sync_time() else {
            return;
        };
        for k in &self.other_keys {
            k.nonces().set_offset_ms(client.clock_offset_ms());
        }
        if offset.unsigned_abs() > self.max_clock_drift_ms {
            self.halts.request(HaltReason::ClockDrift);
        }
    }

    /// One reconcile round; false when it failed.
    pub fn reconcile(&mut self, client: &mut MaxRestClient) -> bool {
        let VenueReads {
            reconciler,
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
                self.halts.request(HaltReason::CredentialsRefused);
            } else {
                tracing::warn!("reconcile: round failed (retried next round): {e}");
            }
            return false;
        }
        true
    }

    /// Reads an order's state back (the reconciler found it missing, or a cancel was queued):
    /// `Cancelled` or a `StateUpdate`; an order the venue does not know (2004) is a `Reject`.
    pub fn query(&mut self, client: &mut MaxRestClient, req: &OrderRequest) {
        let r = if req.exchange_order_id != 0 {
            OrderRef::Id(req.exchange_order_id)
        } else {
            OrderRef::ClientOid(&req.client_oid)
        };
        let ev = match client.get_order(r) {
            Ok(order) => ExecEvent {
                exchange_order_id: order.id,
                state: order.state,
                ..answer(
                    req,
                    if order.state == OrderState::Cancelled {
                        ExecKind::Cancelled
                    } else {
                        ExecKind::StateUpdate
                    },
                    &self.clock,
                )
            },
            Err(RestError::Api(a)) if a.code == Some(2004) => ExecEvent {
                reject_code: 2004,
                state: OrderState::Rejected,
                ..answer(req, ExecKind::Reject, &self.clock)
            },
            // Not answered: the next round asks again.
            Err(e) => {
                tracing::warn!(client_oid = %req.client_oid, "order query failed (asked again next round): {e}");
                return;
            }
        };
        self.publish(ev);
    }
}
