//! The simulated MAX account behind `arbline sim`: every order, trade and balance the venue
//! knows, shared by the REST server (which creates, cancels and lists) and the WebSocket server
//! (whose ticker matches resting orders against the synthetic book and whose authenticated
//! connections receive the private `order_update` / `trade_update` events).
//!
//! As on MAX (spec max.md §2.1, "order creation and cancellation are asynchronous"):
//! - a create is answered at once (HTTP 201, state `wait`); the order reaches the matching
//!   engine after the venue latency (`[sim] latency_min_ms..latency_max_ms`) and fills there —
//!   `ioc_limit` at the touch or cancelled, `post_only` cancelled if it would cross, `limit`
//!   taking what crosses and resting otherwise (see [`ExecVenue`]);
//! - a cancel is answered `{"success":true}` once queued and confirmed by an `order_update`
//!   with state `cancel` — unless the order filled first;
//! - fills are sent as `trade_update` events; with `duplicate_fill_probability` a trade is
//!   sent twice (the engine must count it once); the account's own records hold it once.
//!
//! Without a ticker calling [`MaxAccount::poll`] (the REST server alone), orders rest.
//!
//! One concept per file: this one holds the account's records (orders, trades) and what the
//! REST server asks of them (create, cancel, list); `events.rs` runs the matching engine and
//! sends the private events, `holdings.rs` keeps the balances a trade moves.

mod events;
mod holdings;

use super::exec_venue::ExecVenue;
pub use super::exec_venue::VenueTrade;
use super::nonce_ledger::NonceLedger;
use super::venue_ban::{RetryAfter, VenueBan};
use crate::config::sim::SimConfig;
use crate::model::{
    ClientOid, Fixed, GatewayCmdKind, InvalidSetting, OrderRequest, OrderType, Side, Symbol,
    WalletType,
};
use crate::sim::max_frames::MaxOrderFrame;
use crossbeam::channel::Sender;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// An order as the venue keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueOrder {
    pub id: u64,
    pub client_oid: ClientOid,
    pub market: Symbol,
    pub wallet: WalletType,
    pub side: Side,
    pub ord_type: OrderType,
    pub price: Fixed,
    pub volume: Fixed,
    pub executed: Fixed,
    pub avg_price: Fixed,
    /// MAX's state: `wait`, `done` or `cancel`.
    pub state: &'static str,
    pub trades: u32,
    pub created_ms: u64,
    pub updated_ms: u64,
}

impl VenueOrder {
    pub fn is_open(&self) -> bool {
        self.state == "wait"
    }

    pub fn frame(&self) -> MaxOrderFrame<'_> {
        MaxOrderFrame {
            id: self.id,
            client_oid: &self.client_oid,
            market: self.market.as_str(),
            wallet: self.wallet,
            side: self.side,
            ord_type: self.ord_type,
            price: self.price,
            avg_price: self.avg_price,
            volume: self.volume,
            remaining: Fixed(self.volume.raw() - self.executed.raw()),
            executed: self.executed,
            state: self.state,
            trades_count: self.trades,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
        }
    }
}

/// How a request names an order.
#[derive(Clone, Copy, Debug)]
pub enum OrderKey<'a> {
    Id(u64),
    ClientOid(&'a str),
}

/// A refusal: HTTP status, MAX error code, message.
pub type Refusal = (u16, u32, &'static str);

/// What a create asks for (already validated against the market list by the REST front).
#[derive(Clone, Copy, Debug)]
pub struct NewVenueOrder<'a> {
    pub wallet: WalletType,
    pub market: &'a str,
    pub side: Side,
    pub ord_type: OrderType,
    pub price: Fixed,
    pub volume: Fixed,
    pub client_oid: ClientOid,
}

/// A private WebSocket connection's outbox.
pub type Outbox = Sender<Arc<Vec<u8>>>;

struct Inner {
    venue: ExecVenue,
    orders: Vec<VenueOrder>,
    trades: Vec<VenueTrade>,
    /// Total holdings per (wallet, currency); what open orders lock is derived from them.
    totals: HashMap<(WalletType, Symbol), Fixed>,
    listeners: Vec<Outbox>,
    next_id: u64,
    buf: Vec<u8>,
    /// Trades sent twice on purpose so far.
    duplicates_sent: u64,
    /// While set, private events are lost on the way (tests of the REST reconciler).
    muted: bool,
}

pub struct MaxAccount {
    inner: Mutex<Inner>,
    t0: Instant,
    epoch_ms: u64,
    /// The keys' nonce sequences, one per key across REST and WebSocket `auth`.
    nonces: NonceLedger,
    /// The venue's IP ban: every server sharing this account (REST and WebSocket) refuses
    /// while it lasts.
    ban: Arc<VenueBan>,
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Holdings a fresh simulated account starts with, in each wallet.
const START_BALANCES: [(&str, i64); 4] = [
    ("twd", 10_000_000),
    ("usdt", 300_000),
    ("btc", 10),
    ("eth", 100),
];

/// Start balance of a pair's base currency not in [`START_BALANCES`].
const PAIR_BASE_BALANCE: i64 = 1_000;

impl MaxAccount {
    /// An account matching with `cfg`'s latency, fees, rejects and duplicate fills; its clock
    /// is the host's wall clock.
    pub fn new(cfg: &SimConfig) -> Result<Arc<MaxAccount>, InvalidSetting> {
        let epoch_ms = wall_ms();
        let venue = ExecVenue::new(&SimConfig {
            epoch_ms,
            ..cfg.clone()
        })?;
        let mut totals = HashMap::new();
        for w in [WalletType::Spot, WalletType::Margin] {
            for (c, v) in START_BALANCES {
                if let Some(c) = Symbol::new(c) {
                    totals.insert((w, c), Fixed::from_int(v));
                }
            }
            // A desk holds some of every coin it trades: each pair's base currency.
            for p in &cfg.pairs {
                if let Some(m) = Symbol::new(&p.max_symbol) {
                    totals
                        .entry((w, holdings::base_of(m)))
                        .or_insert(Fixed::from_int(PAIR_BASE_BALANCE));
                }
            }
        }
        Ok(Arc::new(MaxAccount {
            inner: Mutex::new(Inner {
                venue,
                orders: Vec::new(),
                trades: Vec::new(),
                totals,
                listeners: Vec::new(),
                next_id: 2_492_000_000,
                buf: Vec::with_capacity(1024),
                duplicates_sent: 0,
                muted: false,
            }),
            t0: Instant::now(),
            epoch_ms,
            nonces: NonceLedger::new(),
            ban: Arc::new(VenueBan::new(RetryAfter::UnixSeconds)),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the records half-written in a way that
        // matters to a simulator: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn now_ms(&self) -> u64 {
        self.epoch_ms + self.now_ns() / 1_000_000
    }

    /// Accepts an order (the REST 201) and queues it for matching. A client id already used
    /// is refused with MAX's 2036, a spot order the wallet cannot lock funds for with 2018;
    /// `reject_probability` refuses with 2002.
    pub fn create(&self, o: &NewVenueOrder) -> Result<VenueOrder, Refusal> {
        let (t, ms) = (self.now_ns(), self.now_ms());
        let mut g = self.lock();
        let Some(market) = Symbol::new(o.market) else {
            return Err((400, 1001, "market does not have a valid value"));
        };
        if !o.client_oid.is_empty() && g.orders.iter().any(|x| x.client_oid == o.client_oid) {
            return Err((400, 2036, "client_oid already used"));
        }
        if !g.can_lock(o.wallet, market, o.side, o.price, o.volume) {
            return Err((400, 2018, "cannot lock funds"));
        }
        if g.venue.roll_reject() {
            return Err((400, 2002, "Failed to create order"));
        }
        let id = g.next_id;
        g.next_id += 1;
        let order = VenueOrder {
            id,
            client_oid: o.client_oid,
            market,
            wallet: o.wallet,
            side: o.side,
            ord_type: o.ord_type,
            price: o.price,
            volume: o.volume,
            executed: Fixed::ZERO,
            avg_price: Fixed::ZERO,
            state: "wait",
            trades: 0,
            created_ms: ms,
            updated_ms: ms,
        };
        g.orders.push(order);
        let req = OrderRequest {
            kind: GatewayCmdKind::New,
            client_oid: o.client_oid,
            exchange_order_id: id,
            order_type: o.ord_type,
            side: o.side,
            price: o.price,
            qty: o.volume,
            wallet: o.wallet,
            ..Default::default()
        };
        g.venue.submit_accepted(&req, market, id, t);
        Ok(order)
    }

    fn position(g: &Inner, key: OrderKey) -> Option<usize> {
        match key {
            OrderKey::Id(id) => g.orders.iter().position(|o| o.id == id),
            OrderKey::ClientOid(c) => g.orders.iter().position(|o| o.client_oid.as_str() == c),
        }
    }

    fn queue_cancel(g: &mut Inner, i: usize, t: u64) {
        let o = g.orders[i];
        let req = OrderRequest {
            kind: GatewayCmdKind::Cancel,
            client_oid: o.client_oid,
            exchange_order_id: o.id,
            side: o.side,
            wallet: o.wallet,
            ..Default::default()
        };
        g.venue.submit(&req, o.market, t);
    }

    /// Queues a cancel (`{"success":true}`); the `cancel` state follows on the WebSocket
    /// unless the order fills first. A finished order cannot be cancelled (2003), an unknown
    /// one does not exist (2004).
    pub fn cancel(&self, key: OrderKey) -> Result<(), Refusal> {
        let t = self.now_ns();
        let mut g = self.lock();
        match Self::position(&g, key) {
            Some(i) if g.orders[i].is_open() => {
                Self::queue_cancel(&mut g, i, t);
                Ok(())
            }
            Some(_) => Err((400, 2003, "Failed to cancel order")),
            None => Err((404, 2004, "Order doesn't exist")),
        }
    }

    /// Queues a cancel for every open order of `wallet` (optionally one market and side) and
    /// returns them as they are now (state `wait`, as MAX's reply shows).
    pub fn cancel_all(
        &self,
        wallet: WalletType,
        market: Option<&str>,
        side: Option<Side>,
    ) -> Vec<VenueOrder> {
        let t = self.now_ns();
        let mut g = self.lock();
        let hits: Vec<usize> = (0..g.orders.len())
            .filter(|&i| {
                let o = &g.orders[i];
                o.is_open()
                    && o.wallet == wallet
                    && market.is_none_or(|m| o.market.eq_lower(m.as_bytes()))
                    && side.is_none_or(|s| o.side == s)
            })
            .collect();
        for &i in &hits {
            Self::queue_cancel(&mut g, i, t);
        }
        hits.into_iter().map(|i| g.orders[i]).collect()
    }

    pub fn get(&self, key: OrderKey) -> Option<VenueOrder> {
        let g = self.lock();
        Self::position(&g, key).map(|i| g.orders[i])
    }

    /// Open orders of `wallet`, newest first (MAX's default `desc`).
    pub fn open_orders(&self, wallet: WalletType, market: Option<&str>) -> Vec<VenueOrder> {
        let g = self.lock();
        g.orders
            .iter()
            .rev()
            .filter(|o| {
                o.is_open()
                    && o.wallet == wallet
                    && market.is_none_or(|m| o.market.eq_lower(m.as_bytes()))
            })
            .copied()
            .collect()
    }

    /// Every order of `market` (all markets: `None`) in any state, oldest first (tests).
    pub fn orders(&self, market: Option<&str>) -> Vec<VenueOrder> {
        self.lock()
            .orders
            .iter()
            .filter(|o| market.is_none_or(|m| o.market.eq_lower(m.as_bytes())))
            .copied()
            .collect()
    }

    /// Orders of any state in `state` (tests).
    pub fn order_count(&self, state: &str) -> usize {
        self.lock()
            .orders
            .iter()
            .filter(|o| o.state == state)
            .count()
    }

    /// Trades of `wallet`: with `from_id`, those with id ≥ it in ascending order; else the
    /// newest first. At most `limit`.
    pub fn trades(
        &self,
        wallet: WalletType,
        market: Option<&str>,
        from_id: Option<u64>,
        limit: usize,
    ) -> Vec<VenueTrade> {
        let g = self.lock();
        let keep = |t: &&VenueTrade| {
            t.wallet == wallet && market.is_none_or(|m| t.market.eq_lower(m.as_bytes()))
        };
        match from_id {
            Some(f) => g
                .trades
                .iter()
                .filter(keep)
                .filter(|t| t.id >= f)
                .take(limit)
                .copied()
                .collect(),
            None => g
                .trades
                .iter()
                .rev()
                .filter(keep)
                .take(limit)
                .copied()
                .collect(),
        }
    }

    /// Trades of one order.
    pub fn order_trades(&self, key: OrderKey) -> Vec<VenueTrade> {
        let g = self.lock();
        let Some(i) = Self::position(&g, key) else {
            return Vec::new();
        };
        let id = g.orders[i].id;
        g.trades
            .iter()
            .filter(|t| t.order_id == id)
            .copied()
            .collect()
    }

    /// (currency, available, locked) of every holding of `wallet`, by currency name.
    pub fn balances(&self, wallet: WalletType) -> Vec<(Symbol, Fixed, Fixed)> {
        let g = self.lock();
        g.balances(wallet)
    }

    /// The nonce sequence of every key, shared by the REST server and WebSocket `auth`.
    pub fn nonce_ledger(&self) -> &NonceLedger {
        &self.nonces
    }

    /// Nonces refused so far (2006/2007 over REST, E-1006/E-1012 over WebSocket).
    pub fn nonce_refusals(&self) -> u64 {
        self.nonces.refusals()
    }

    /// MAX's IP ban (429 with `Retry-After` = Unix seconds), shared by the REST and WebSocket
    /// servers of this account.
    pub fn venue_ban(&self) -> &Arc<VenueBan> {
        &self.ban
    }

    /// How many trades were sent twice on purpose.
    pub fn duplicates_sent(&self) -> u64 {
        self.lock().duplicates_sent
    }

    /// Loses every private event while set, as a connection that silently drops them would:
    /// only the REST view tells what happened.
    pub fn set_private_muted(&self, muted: bool) {
        self.lock().muted = muted;
    }
}

#[cfg(test)]
mod tests;
