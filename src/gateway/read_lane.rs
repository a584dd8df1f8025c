//! The read lane: a thread of its own, with a key of its own, for everything the gateway reads
//! from MAX — reconcile rounds, order queries (asked by the order stage, or after a cancel), and
//! the minute's time sync — so that no read, however slow, and no wait for the rate limiter
//! delays an order.
//!
//! Why a second key: MAX takes nonces per key, and the simulator (as strict as the strictest
//! reading of MAX's rules) refuses a nonce below the last one the key had accepted. Two threads
//! signing with one key would have to take turns until each answer is read, so an order would
//! wait behind a read. With `MAX_READ_API_KEY` / `MAX_READ_SECRET_KEY` set, the order lane
//! (`max_gateway`) signs orders and cancels with the trading key alone, and this lane signs its
//! reads (and the private WebSocket its `auth`) with the read key; without it the gateway runs
//! these reads itself, between orders.
//!
//! The two lanes share MAX's account-wide limit (1 200 private requests a minute): the order
//! lane has `venues.max.order_requests_per_minute` of it and never waits for a token, this lane
//! has the rest and waits for its tokens (its job is waiting).
//!
//! It waits for work parked on its queue, waking every [`IDLE_PARK`] for a due round, the time
//! sync and shutdown. At shutdown it runs the last reconcile round once every order has settled
//! (see `Shutdown`).

use super::max_gateway::IDLE_PARK;
use super::venue_reads::VenueReads;
use crate::model::GatewayCmdKind;
use crate::pipeline::gateway_queue::GatewayQueue;
use crate::pipeline::{Phase, Shutdown};
use crate::venue::max::rest_client::MaxRestClient;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the venue's clock is measured again.
pub const TIME_SYNC_EVERY: Duration = Duration::from_secs(60);

pub struct ReadLane {
    /// Signs with the read key.
    pub client: MaxRestClient,
    pub reads: VenueReads,
    /// Order queries from the order lane.
    pub queue: GatewayQueue,
    pub shutdown: Shutdown,
}

impl ReadLane {
    pub fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("gateway.max.reads".into())
            .spawn(move || self.run())
    }

    fn run(mut self) {
        let ReadLane {
            client,
            reads,
            queue,
            shutdown,
        } = &mut self;
        reads.sync_time(client);
        let mut last_sync = Instant::now();
        let mut final_round_done = false;
        loop {
            if last_sync.elapsed() >= TIME_SYNC_EVERY {
                last_sync = Instant::now();
                reads.sync_time(client);
            }
            if shutdown.phase() == Phase::Done {
                return;
            }
            if let Some(req) = queue.pop() {
                if req.kind == GatewayCmdKind::Query {
                    reads.query(client, &req);
                } else {
                    tracing::error!(client_oid = %req.client_oid, kind = ?req.kind, "read lane: not a query, dropped");
                }
                continue;
            }
            if shutdown.phase() == Phase::Running && reads.reconciler.due() {
                reads.reconcile(client);
                continue;
            }
            // Shutting down and every order settled: one last round reads the fills the
            // private WebSocket had not delivered yet.
            if !final_round_done && shutdown.orders_settled() {
                final_round_done = true;
                shutdown.set_final_round(reads.reconciler.rounds() + 1);
                if !reads.reconcile(client) {
                    shutdown.set_reconciled();
                }
                continue;
            }
            queue.park(IDLE_PARK);
        }
    }
}
