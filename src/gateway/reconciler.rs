//! The reconciler: compares what the engine believes with what MAX's REST API says, at start,
//! after every reconnect of the private WebSocket, and every `reconcile_interval_ms`.
//!
//! It runs on the read lane's thread with its own key (`super::read_lane`), or, with one key,
//! on the gateway thread between requests: MAX accepts each nonce once per key, so one client
//! (one nonce sequence) must then serve both. A round:
//!
//! 1. Reads every open order of each traded wallet (`GET /api/v3/wallet/{w}/orders/open`) and
//!    publishes each as a `VenueOpen` exec event. The order stage adopts an order it does not
//!    know and fills in an ack it missed.
//! 2. Reads the wallet's trades newer than the last one seen (`GET /api/v3/wallet/{w}/trades`,
//!    `from_id`, ascending) and publishes each as a `VenueFill`. The order stage applies a fill
//!    once per trade id, so a fill that came over the WebSocket is not counted again. One that
//!    did not come is applied and reported. The first round only records where the trade list
//!    stands: trades from before the engine started are not its own.
//! 3. Publishes `ReconcileEnd`. The order stage reads back the state of every live order the
//!    venue no longer listed as open. An order that is still being cancelled stays pending
//!    until the venue confirms the cancel.
//!
//! A round that fails part way publishes no `ReconcileEnd`, because a partial list would make
//! live orders look missing. It is retried at the next interval. REST trades carry no client
//! id, so the reconciler remembers the client id of each order the gateway created. That lets
//! a fill be applied even before the order's ack has reached the order stage.

use super::venue_reads::CreatedOrders;
use crate::model::{ClientOid, ExecEvent, ExecKind, Instruments, OrderState, Venue, WalletType};
use crate::venue::max::rest_client::{MaxRestClient, RestError};
use crate::venue::max::wall_clock::local_ms;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Client ids of the orders this gateway created, by venue id (the most recent ones).
const REMEMBERED: usize = 8192;
/// Trades read per request (MAX's largest page).
const TRADE_PAGE: u32 = 1000;

pub struct Reconciler {
    wallets: Vec<WalletType>,
    every: Duration,
    last: Option<Instant>,
    /// Set from outside (the private WebSocket after it authenticates) to run a round now.
    now: Arc<AtomicBool>,
    round: u64,
    /// The newest trade id seen per wallet; `None` until the first round.
    trades_from: HashMap<WalletType, u64>,
    created: HashMap<u64, ClientOid>,
    created_order: VecDeque<u64>,
    /// Orders created on another thread (the order lane, when reads have their own), taken
    /// in before each round and before each page of trades is matched.
    created_elsewhere: Option<CreatedOrders>,
    pub errors: u64,
}

impl Reconciler {
    pub fn new(wallets: Vec<WalletType>, every: Duration, now: Arc<AtomicBool>) -> Self {
        Reconciler {
            wallets,
            every,
            last: None,
            now,
            round: 0,
            trades_from: HashMap::new(),
            created: HashMap::with_capacity(REMEMBERED),
            created_order: VecDeque::with_capacity(REMEMBERED),
            created_elsewhere: None,
            errors: 0,
        }
    }

    /// Takes the created orders from `q` (filled by the order lane) instead of
    /// [`Reconciler::remember`] calls on this thread.
    pub fn with_created_from(mut self, q: CreatedOrders) -> Self {
        self.created_elsewhere = Some(q);
        self
    }

    /// Remembers what the order lane created since the last call.
    fn take_created(&mut self) {
        if let Some(q) = self.created_elsewhere.clone() {
            while let Some((id, oid)) = q.pop() {
                self.remember(id, oid);
            }
        }
    }

    pub fn rounds(&self) -> u64 {
        self.round
    }

    /// Remembers the client id of an order the gateway created.
    pub fn remember(&mut self, venue_id: u64, client_oid: ClientOid) {
        if client_oid.is_empty() || self.created.insert(venue_id, client_oid).is_some() {
            return;
        }
        self.created_order.push_back(venue_id);
        if self.created_order.len() > REMEMBERED
            && let Some(old) = self.created_order.pop_front()
        {
            self.created.remove(&old);
        }
    }

    /// Whether a round is due: the first one, one asked for, or the interval passed.
    pub fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= self.every) || self.now.load(Ordering::Acquire)
    }

    /// One round; events go to `publish` (the exec ring).
    pub fn run_round(
        &mut self,
        client: &mut MaxRestClient,
        instruments: &Instruments,
        mut publish: impl FnMut(ExecEvent),
    ) -> Result<(), RestError> {
        self.now.store(false, Ordering::Release);
        self.last = Some(Instant::now());
        let round = self.round + 1;
        let fetched_ms = local_ms();
        self.take_created();
        let r = self.read_venue(client, instruments, round, &mut publish);
        if r.is_err() {
            self.errors += 1;
            return r;
        }
        self.round = round;
        publish(ExecEvent {
            kind: ExecKind::ReconcileEnd,
            trade_id: round,
            venue_ts_ms: fetched_ms,
            ..Default::default()
        });
        Ok(())
    }

    fn read_venue(
        &mut self,
        client: &mut MaxRestClient,
        instruments: &Instruments,
        round: u64,
        publish: &mut impl FnMut(ExecEvent),
    ) -> Result<(), RestError> {
        let lookup = |m: &str| instruments.lookup(Venue::Max, m.as_bytes());
        for &w in &self.wallets {
            for o in client.open_orders_all(w)? {
                // A market the engine does not trade is none of its business.
                let Some(instrument) = lookup(o.market.as_str()) else {
                    continue;
                };
                publish(ExecEvent {
                    kind: ExecKind::VenueOpen,
                    client_oid: o.client_oid,
                    exchange_order_id: o.id,
                    instrument,
                    side: o.side,
                    state: if o.executed_volume.is_zero() {
                        OrderState::New
                    } else {
                        OrderState::PartiallyFilled
                    },
                    trade_id: round,
                    price: o.price.unwrap_or_default(),
                    qty: o.remaining_volume,
                    wallet: w,
                    venue_ts_ms: o.updated_at_ms,
                    ..Default::default()
                });
            }
        }
        for wi in 0..self.wallets.len() {
            let w = self.wallets[wi];
            let Some(&from) = self.trades_from.get(&w) else {
                // First round: only where the list stands.
                let newest = client.trades(w, None, None, 1)?;
                self.trades_from
                    .insert(w, newest.first().map(|t| t.id).unwrap_or(0));
                continue;
            };
            let mut from = from;
            loop {
                let page = client.trades(w, None, Some(from + 1), TRADE_PAGE)?;
                // An order acknowledged while this page was read may have a fill on it.
                self.take_created();
                for t in &page {
                    from = from.max(t.id);
                    let Some(instrument) = lookup(t.market.as_str()) else {
                        continue;
                    };
                    publish(ExecEvent {
                        kind: ExecKind::VenueFill,
                        client_oid: self.created.get(&t.order_id).copied().unwrap_or_default(),
                        exchange_order_id: t.order_id,
                        instrument,
                        side: t.side,
                        trade_id: t.id,
                        price: t.price,
                        qty: t.volume,
                        fee: t.fee.unwrap_or_default(),
                        wallet: w,
                        venue_ts_ms: t.created_at_ms,
                        ..Default::default()
                    });
                }
                self.trades_from.insert(w, from);
                if page.len() < TRADE_PAGE as usize {
                    break;
                }
            }
        }
        Ok(())
    }
}
