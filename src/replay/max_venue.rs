//! [`ReplayMaxVenue`]: the simulated MAX execution venue of `arbline replay`.
//!
//! The order stage's requests reach it after a [`LatencyModel`] draw on the capture's clock;
//! it matches them against the replayed MAX book (the market *without* our orders) and answers
//! in the synthetic venue's terms ([`ExecOutput`], [`VenueTrade`]), so the replay driver feeds
//! them to the engine as the in-process demo does. Everything is deterministic: one seeded
//! [`SmallRng`] (latency draws only), pending requests ordered by (arrival time, submission
//! sequence), resting orders in a `Vec` in arrival order; no clock, no hashing.
//!
//! The model:
//! - A request handed over at `t_ns` arrives at `t_ns + latency`. A cancel never overtakes the
//!   order it cancels (it arrives no earlier than that order; ties go by submission order).
//!   Everything it causes is stamped with its arrival time.
//! - A new order whose market has no live book (or is not a MAX market of the instrument
//!   table, or has a price or volume ≤ 0) is refused with MAX's `2002` "Failed to create
//!   order": with no book there is nothing to match against, and the order stage must see it
//!   fail as it would on a venue error. Otherwise it is `Created` (order ids from
//!   2 492 000 000, trade ids from 12 300 000), then:
//!   - `ioc_limit` walks the opposite side best first while the level's price is at or better
//!     than its limit, taking `min(level qty left, remaining)` at each level's price (taker
//!     fills, one `Trade` per level), then ends `done` (fully filled) or `cancel`.
//!   - `post_only` that would cross the opposite best is cancelled at once; otherwise it rests
//!     as `limit` does.
//!   - `limit` takes what crosses as `ioc_limit` does; it ends `done` when fully filled, else
//!     rests (`wait` when partially filled) with a [`QueuePosition`].
//! - Volume our orders take stays in the replayed book until the capture changes the level:
//!   [`ConsumedVolume`] keeps it, so it is not taken twice (and the opposite best above is the
//!   best level with volume left for us).
//! - After each book change ([`ReplayMaxVenue::on_book`]) and each public trade
//!   ([`ReplayMaxVenue::on_trade`]) the resting orders of that market follow the rules of
//!   [`super::queue_position`]. On a book change the crossing rule is applied before the level
//!   rule, so crossing volume first consumes the queue the order had before the change: the
//!   change that brings the opposite side to our price usually also empties our level, and
//!   the level rule first would hand us all the crossing volume (the conservative choice: a
//!   backtest should not overstate fills). Our orders are
//!   offered the volume in price-time priority (better price first, then earlier arrival), each
//!   after what the ones before it took. Fills of resting orders are maker fills at their own
//!   price: a `Trade`, then `wait` or `done`.
//! - A cancel removes a resting order (`cancel`); an unknown or finished one is refused with
//!   `2004` "Order doesn't exist". A query answers a resting order's state (`wait`), else
//!   `2004`.
//! - Fees: `taker_fee_bps` / `maker_fee_bps` of the notional, in the quote currency
//!   ([`quote_of`]), rounded up to 10⁻⁸ as [`crate::sim::exec_venue`] rounds them.
//!
//! Its unit tests are in `max_venue/tests.rs`.

use super::consumed_volume::{ConsumedVolume, level_qty};
use super::error::ReplayVenueError;
use super::latency_model::LatencyModel;
use super::queue_position::{QueuePosition, crosses, crossing_volume};
pub use super::venue_config::ReplayVenueConfig;
use crate::book::l2book::L2Book;
use crate::book::ladder::Ladder;
use crate::model::{
    Fixed, GatewayCmdKind, InstrumentId, Instruments, Level, OrderRequest, OrderType, Price, Qty,
    Side, Symbol, Venue,
};
use crate::sim::exec_venue::{ExecOutput, FeeRates, VenueTrade, quote_of};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::collections::BTreeMap;

/// The replayed books as the venue reads them: the driver's book stage.
pub trait BookView {
    /// The book of `instrument`, `None` while it is not live (resyncing, crossed, empty): no
    /// order is matched against it then.
    fn book(&self, instrument: InstrumentId) -> Option<&L2Book>;
}

/// What the venue did, counted since it was built.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReplayVenueStats {
    /// New orders that reached the venue (refused ones included).
    pub orders_arrived: u64,
    /// New orders refused (`2002`: no live book, unknown market, bad price or volume).
    pub orders_rejected: u64,
    /// Cancels that reached the venue.
    pub cancels_arrived: u64,
    /// Cancels refused (`2004`: unknown or finished order).
    pub cancels_rejected: u64,
    /// Queries that reached the venue.
    pub queries_arrived: u64,
    /// Fills (`Trade`s) of our orders, maker and taker.
    pub fills: u64,
    pub maker_fills: u64,
    pub taker_fills: u64,
    /// Fees charged, summed over every quote currency (a replay usually trades one market).
    pub fees: Fixed,
}

/// One of our orders on the book.
#[derive(Clone, Copy, Debug)]
struct Resting {
    id: u64,
    req: OrderRequest,
    market: Symbol,
    executed: Qty,
    /// Σ price × volume of its fills, in 10⁻¹⁶ quote units.
    notional: i128,
    trades: u32,
    created_ms: u64,
    queue: QueuePosition,
}

impl Resting {
    fn remaining(&self) -> Qty {
        Fixed(
            self.req
                .qty
                .raw()
                .saturating_sub(self.executed.raw())
                .max(0),
        )
    }
    fn is_done(&self) -> bool {
        self.remaining().raw() <= 0
    }
    fn matches(&self, req: &OrderRequest) -> bool {
        (req.exchange_order_id != 0 && self.id == req.exchange_order_id)
            || (!req.client_oid.is_empty() && self.req.client_oid == req.client_oid)
    }
}

/// The simulated MAX execution venue: see the module documentation.
pub struct ReplayMaxVenue {
    rng: SmallRng,
    latency: LatencyModel,
    fees: FeeRates,
    /// The MAX market name of each instrument id (`None`: not a MAX market).
    markets: Vec<Option<Symbol>>,
    /// Requests on their way, by (arrival ns, submission sequence).
    pending: BTreeMap<(u64, u64), OrderRequest>,
    next_seq: u64,
    /// Our resting orders, in arrival order (time priority).
    resting: Vec<Resting>,
    consumed: ConsumedVolume,
    /// Indices of `resting` in matching order, reused between calls.
    scratch: Vec<usize>,
    next_order_id: u64,
    next_trade_id: u64,
    stats: ReplayVenueStats,
}

impl ReplayMaxVenue {
    pub fn new(
        cfg: ReplayVenueConfig,
        instruments: &Instruments,
    ) -> Result<Self, ReplayVenueError> {
        cfg.validate()?;
        let mut markets = Vec::with_capacity(instruments.len());
        for i in instruments.iter() {
            let at = i.id.index();
            if markets.len() <= at {
                markets.resize(at + 1, None);
            }
            markets[at] = (i.venue == Venue::Max).then_some(i.symbol);
        }
        Ok(ReplayMaxVenue {
            rng: SmallRng::seed_from_u64(cfg.seed),
            latency: cfg.latency,
            fees: FeeRates {
                maker_bps: cfg.maker_fee_bps,
                taker_bps: cfg.taker_fee_bps,
            },
            markets,
            pending: BTreeMap::new(),
            next_seq: 0,
            resting: Vec::with_capacity(64),
            consumed: ConsumedVolume::new(),
            scratch: Vec::with_capacity(64),
            next_order_id: 2_492_000_000,
            next_trade_id: 12_300_000,
            stats: ReplayVenueStats::default(),
        })
    }

    /// Our orders resting on the venue.
    pub fn open_orders(&self) -> usize {
        self.resting.len()
    }

    pub fn stats(&self) -> ReplayVenueStats {
        self.stats
    }

    /// A request the gateway hands over at Unix time `t_ns` (the capture's clock); it arrives
    /// at `t_ns` plus one latency draw, a cancel no earlier than the order it cancels.
    pub fn submit(&mut self, req: &OrderRequest, t_ns: u64) {
        let mut due_ns = t_ns.saturating_add(self.latency.draw(&mut self.rng));
        if req.kind == GatewayCmdKind::Cancel && !req.client_oid.is_empty() {
            for (&(due, _), p) in &self.pending {
                if p.kind == GatewayCmdKind::New && p.client_oid == req.client_oid {
                    due_ns = due_ns.max(due);
                }
            }
        }
        self.pending.insert((due_ns, self.next_seq), *req);
        self.next_seq += 1;
    }

    /// When the next pending request arrives, so the driver can advance its clock to it before
    /// the next captured frame.
    pub fn next_due_ns(&self) -> Option<u64> {
        self.pending.first_key_value().map(|(&(due, _), _)| due)
    }

    /// Handles every request due by `t_ns`, in (arrival time, submission) order, against the
    /// books as they are now.
    pub fn arrive_due(
        &mut self,
        t_ns: u64,
        books: &impl BookView,
        out: &mut impl FnMut(ExecOutput),
    ) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > t_ns {
                break;
            }
            let due_ns = entry.key().0;
            let req = entry.remove();
            let ms = due_ns / 1_000_000;
            match req.kind {
                GatewayCmdKind::New => self.arrive_new(&req, books, ms, out),
                GatewayCmdKind::Cancel => self.arrive_cancel(&req, ms, out),
                GatewayCmdKind::Query => self.arrive_query(&req, ms, out),
            }
        }
    }

    /// The book of `instrument` changed: forgets consumed volume of changed levels, then fills
    /// resting orders the book now crosses and moves them up their queues. While the book is
    /// not live (`None`) the resting orders wait untouched and the consumed volume of
    /// `instrument` is forgotten (the next live book is a new snapshot).
    pub fn on_book(
        &mut self,
        instrument: InstrumentId,
        books: &impl BookView,
        t_ns: u64,
        out: &mut impl FnMut(ExecOutput),
    ) {
        let book = books.book(instrument);
        self.consumed.prune(instrument, book);
        let Some(book) = book else {
            return;
        };
        let ms = t_ns / 1_000_000;
        let order = self.matching_order(instrument, None);
        let mut shared = [Qty::ZERO; 2];
        for &i in &order {
            let mut r = self.resting[i];
            let side = r.req.side;
            let (own, opposite) = sides(book, side);
            let cross = crossing_volume(side, r.req.price, opposite.iter());
            let fill = r
                .queue
                .on_cross(cross, shared[side as usize], r.remaining());
            r.queue.on_level(self.consumed.available(
                instrument,
                side,
                Level {
                    price: r.req.price,
                    qty: level_qty(own, r.req.price),
                },
            ));
            if fill.raw() > 0 {
                shared[side as usize] =
                    Fixed(shared[side as usize].raw().saturating_add(fill.raw()));
                self.take_levels(instrument, side, r.req.price, opposite, fill);
                let price = r.req.price;
                self.fill(&mut r, price, fill, true, ms, out);
                self.update(&r, if r.is_done() { "done" } else { "wait" }, ms, out);
            }
            self.resting[i] = r;
        }
        self.scratch = order;
        self.resting.retain(|r| !r.is_done());
    }

    /// A public trade print of the capture on `instrument`: `qty` at `price`, `taker_side` the
    /// aggressor. Fills resting orders it reaches, in price-time priority.
    pub fn on_trade(
        &mut self,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        taker_side: Side,
        t_ns: u64,
        out: &mut impl FnMut(ExecOutput),
    ) {
        if qty.raw() <= 0 || price.raw() <= 0 {
            return;
        }
        let ms = t_ns / 1_000_000;
        let order = self.matching_order(instrument, Some(taker_side.opposite()));
        let mut shared = Qty::ZERO;
        for &i in &order {
            let mut r = self.resting[i];
            if !crosses(r.req.side, r.req.price, price) {
                continue;
            }
            let fill = r
                .queue
                .on_trade(price, qty, taker_side, shared, r.remaining());
            if fill.raw() > 0 {
                shared = Fixed(shared.raw().saturating_add(fill.raw()));
                let price = r.req.price;
                self.fill(&mut r, price, fill, true, ms, out);
                self.update(&r, if r.is_done() { "done" } else { "wait" }, ms, out);
            }
            self.resting[i] = r;
        }
        self.scratch = order;
        self.resting.retain(|r| !r.is_done());
    }

    /// Indices of the resting orders of `instrument` (of `side` only, when given) in matching
    /// priority: buys before sells, better price first, then arrival (a stable sort of the
    /// arrival-ordered `Vec`).
    fn matching_order(&mut self, instrument: InstrumentId, side: Option<Side>) -> Vec<usize> {
        let mut order = std::mem::take(&mut self.scratch);
        order.clear();
        order.extend(
            self.resting
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.req.instrument == instrument && side.is_none_or(|s| r.req.side == s)
                })
                .map(|(i, _)| i),
        );
        let resting = &self.resting;
        order.sort_by_key(|&i| {
            let r = &resting[i];
            let better_first = match r.req.side {
                Side::Buy => -(r.req.price.raw() as i128),
                Side::Sell => r.req.price.raw() as i128,
            };
            (r.req.side as u8, better_first)
        });
        order
    }

    fn arrive_new(
        &mut self,
        req: &OrderRequest,
        books: &impl BookView,
        ms: u64,
        out: &mut impl FnMut(ExecOutput),
    ) {
        self.stats.orders_arrived += 1;
        let market = self.markets.get(req.instrument.index()).copied().flatten();
        let book = books.book(req.instrument);
        let (Some(market), Some(book)) = (market, book) else {
            return self.reject_new(req, out);
        };
        if req.price.raw() <= 0 || req.qty.raw() <= 0 {
            return self.reject_new(req, out);
        }
        let id = self.next_order_id;
        self.next_order_id += 1;
        out(ExecOutput::Created {
            order_id: id,
            client_oid: req.client_oid,
            market,
            wallet: req.wallet,
            side: req.side,
            ord_type: req.order_type,
            price: req.price,
            volume: req.qty,
            ts_ms: ms,
        });
        let (own, opposite) = sides(book, req.side);
        let mut r = Resting {
            id,
            req: *req,
            market,
            executed: Qty::ZERO,
            notional: 0,
            trades: 0,
            created_ms: ms,
            queue: QueuePosition::join(req.side, req.price, Qty::ZERO, Qty::ZERO),
        };
        if req.order_type == OrderType::PostOnly {
            let best = opposite.iter().find(|l| {
                self.consumed
                    .available(req.instrument, req.side.opposite(), *l)
                    .raw()
                    > 0
            });
            if best.is_some_and(|l| crosses(req.side, req.price, l.price)) {
                return self.update(&r, "cancel", ms, out);
            }
        } else {
            self.take(&mut r, opposite, ms, out);
        }
        if r.is_done() {
            return self.update(&r, "done", ms, out);
        }
        if req.order_type == OrderType::IocLimit {
            return self.update(&r, "cancel", ms, out);
        }
        if r.executed.raw() > 0 {
            self.update(&r, "wait", ms, out);
        }
        let ahead = self.consumed.available(
            req.instrument,
            req.side,
            Level {
                price: req.price,
                qty: level_qty(own, req.price),
            },
        );
        let cross = crossing_volume(req.side, req.price, opposite.iter());
        r.queue = QueuePosition::join(req.side, req.price, ahead, cross);
        self.resting.push(r);
    }

    fn reject_new(&mut self, req: &OrderRequest, out: &mut impl FnMut(ExecOutput)) {
        self.stats.orders_rejected += 1;
        out(ExecOutput::Rejected {
            client_oid: req.client_oid,
            code: 2002,
            message: "Failed to create order",
            cancel: false,
        });
    }

    /// Takes what `opposite` offers at or better than the order's limit, level by level (taker
    /// fills at each level's price), skipping volume our orders already took.
    fn take(
        &mut self,
        r: &mut Resting,
        opposite: &Ladder,
        ms: u64,
        out: &mut impl FnMut(ExecOutput),
    ) {
        let book_side = r.req.side.opposite();
        for level in opposite.iter() {
            if r.is_done() || !crosses(r.req.side, r.req.price, level.price) {
                break;
            }
            let left = self.consumed.available(r.req.instrument, book_side, level);
            let qty = left.min(r.remaining());
            if qty.raw() > 0 {
                self.consumed.take(r.req.instrument, book_side, level, qty);
                self.fill(r, level.price, qty, false, ms, out);
            }
        }
    }

    /// Records a maker fill of `qty` against the crossing levels of `opposite`, best first, so
    /// a later order does not take the same volume.
    fn take_levels(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        limit: Price,
        opposite: &Ladder,
        qty: Qty,
    ) {
        let mut left = qty;
        for level in opposite.iter() {
            if left.raw() <= 0 || !crosses(side, limit, level.price) {
                break;
            }
            let q = self
                .consumed
                .available(instrument, side.opposite(), level)
                .min(left);
            self.consumed.take(instrument, side.opposite(), level, q);
            left = Fixed(left.raw() - q.raw());
        }
    }

    fn arrive_cancel(&mut self, req: &OrderRequest, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        self.stats.cancels_arrived += 1;
        match self.resting.iter().position(|r| r.matches(req)) {
            Some(i) => {
                let r = self.resting.remove(i);
                self.update(&r, "cancel", ms, out);
            }
            None => {
                self.stats.cancels_rejected += 1;
                out(ExecOutput::Rejected {
                    client_oid: req.client_oid,
                    code: 2004,
                    message: "Order doesn't exist",
                    cancel: true,
                });
            }
        }
    }

    /// A resting order's state now; a finished order's final state was sent when it finished,
    /// so it is unknown here as on MAX's open-order view (`2004`).
    fn arrive_query(&mut self, req: &OrderRequest, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        self.stats.queries_arrived += 1;
        match self.resting.iter().find(|r| r.matches(req)) {
            Some(r) => self.update(r, "wait", ms, out),
            None => out(ExecOutput::Rejected {
                client_oid: req.client_oid,
                code: 2004,
                message: "Order doesn't exist",
                cancel: false,
            }),
        }
    }

    /// One fill of `r`: a `Trade` with its fee, counted.
    fn fill(
        &mut self,
        r: &mut Resting,
        price: Price,
        qty: Qty,
        maker: bool,
        ms: u64,
        out: &mut impl FnMut(ExecOutput),
    ) {
        let id = self.next_trade_id;
        self.next_trade_id += 1;
        r.executed = Fixed(r.executed.raw().saturating_add(qty.raw()));
        r.notional = r
            .notional
            .saturating_add(price.raw() as i128 * qty.raw() as i128);
        r.trades = r.trades.saturating_add(1);
        let fee = self.fees.fee(price, qty, maker);
        self.stats.fills += 1;
        if maker {
            self.stats.maker_fills += 1;
        } else {
            self.stats.taker_fills += 1;
        }
        self.stats.fees = Fixed(self.stats.fees.raw().saturating_add(fee.raw()));
        out(ExecOutput::Trade(VenueTrade {
            id,
            order_id: r.id,
            client_oid: r.req.client_oid,
            market: r.market,
            wallet: r.req.wallet,
            side: r.req.side,
            price,
            volume: qty,
            fee,
            fee_currency: quote_of(r.market),
            maker,
            ts_ms: ms,
        }));
    }

    fn update(&self, r: &Resting, state: &'static str, ms: u64, out: &mut impl FnMut(ExecOutput)) {
        let avg_price = if r.executed.raw() > 0 {
            i64::try_from(r.notional / r.executed.raw() as i128).map_or(Fixed::MAX, Fixed)
        } else {
            Fixed::ZERO
        };
        out(ExecOutput::OrderUpdate {
            order_id: r.id,
            client_oid: r.req.client_oid,
            market: r.market,
            wallet: r.req.wallet,
            side: r.req.side,
            ord_type: r.req.order_type,
            price: r.req.price,
            volume: r.req.qty,
            state,
            executed: r.executed,
            remaining: r.remaining(),
            avg_price,
            trades_count: r.trades,
            created_ms: r.created_ms,
            ts_ms: ms,
        });
    }
}

/// The book side of a `side` order (where it rests) and the side it takes from.
fn sides(book: &L2Book, side: Side) -> (&Ladder, &Ladder) {
    match side {
        Side::Buy => (&book.bids, &book.asks),
        Side::Sell => (&book.asks, &book.bids),
    }
}

#[cfg(test)]
mod tests;
