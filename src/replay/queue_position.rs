//! [`QueuePosition`]: where one resting order of the replay venue stands in the queue at its
//! price, and how much of the replayed market's activity fills it.
//!
//! The replayed book is the market *without* our orders, so the venue cannot match against our
//! orders directly; it estimates their place in the queue from the book and the trade prints:
//!
//! - An order that rests at price p joins behind the size shown at p on its own side of the
//!   book at the moment it arrives: `ahead = level qty at p` (0 if no level).
//! - Every time the book changes, if the level at p now shows less than `ahead`, `ahead`
//!   shrinks to that size (volume in front of us was traded or cancelled; increases join behind
//!   us and never move us back).
//! - A public trade at price p (taker on the other side: for a resting buy, a taker sell at p)
//!   of volume v first consumes `ahead`; what is left of v fills our order (up to its remaining
//!   qty). A public trade strictly through our price (for a buy, a taker sell at a price < p)
//!   means everything at p traded: `ahead = 0` and the trade's volume fills us up to remaining.
//! - If the opposite side of the book reaches or crosses p (for a buy: best ask ≤ p), the
//!   crossing volume (sum of opposite-side levels at prices at or through p) first consumes
//!   `ahead`, the rest fills us (up to remaining). Crossing volume already used for one fill
//!   must not fill again on the next book change while the book stays the same: the position
//!   keeps `credited`, the crossing volume already counted (whether it consumed `ahead` or
//!   filled us), and on each book change counts only `cross − credited` as new volume, then
//!   sets `credited = cross`. When the crossing volume shrinks (it traded or was pulled),
//!   `credited` follows it down, so volume that is added again later counts as new; when the
//!   book stops crossing p, `credited` is 0.
//! - Fills of a resting order are maker fills at the order's own price.
//!
//! Taker prints on our own side (a taker buy for a resting buy) and prints at prices that do
//! not reach p leave the position alone: the book changes they come with reach it through the
//! rules above.
//!
//! Several of our own orders compete for one print or one crossing: the venue offers the volume
//! to them in price-time priority, and each call takes `shared`, the part of the volume our
//! orders before this one already filled. It is taken off the volume first (it went to those
//! orders, which stand in front of this one or at a better price), then the rest consumes
//! `ahead` and fills, as above. `ahead` counts market volume only (the book never shows our
//! orders), so volume is never counted twice between `shared` and `ahead`.
//!
//! Pure logic, no book and no clock: [`super::max_venue`] feeds it.

use crate::model::{Fixed, Price, Qty, Side};

/// Whether a level at `level_price` on the side opposite a `side` order with limit `limit`
/// reaches or crosses that limit (for a buy: an ask at or below it).
#[inline]
pub fn crosses(side: Side, limit: Price, level_price: Price) -> bool {
    match side {
        Side::Buy => level_price <= limit,
        Side::Sell => level_price >= limit,
    }
}

/// The volume of `opposite` (levels best first, the book side facing a `side` order) at prices
/// that reach or cross `limit`.
pub fn crossing_volume(
    side: Side,
    limit: Price,
    opposite: impl IntoIterator<Item = crate::model::Level>,
) -> Qty {
    opposite
        .into_iter()
        .take_while(|l| crosses(side, limit, l.price))
        .fold(Qty::ZERO, |sum, l| {
            Fixed(sum.raw().saturating_add(l.qty.raw().max(0)))
        })
}

/// One resting order's place in the queue at its price: see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePosition {
    side: Side,
    price: Price,
    /// Market volume in front of the order at its price.
    ahead: Qty,
    /// Crossing volume already counted (it consumed `ahead` or filled the order).
    credited: Qty,
}

impl QueuePosition {
    /// An order of `side` resting at `price`, arriving when its own side shows `level_qty` at
    /// `price` and the opposite side `cross_qty` at or through it. The crossing volume at
    /// arrival is credited at once: the order took it as a taker, or an order of ours took it
    /// before, so it never fills the resting order again.
    pub fn join(side: Side, price: Price, level_qty: Qty, cross_qty: Qty) -> Self {
        QueuePosition {
            side,
            price,
            ahead: nonneg(level_qty),
            credited: nonneg(cross_qty),
        }
    }

    pub fn side(&self) -> Side {
        self.side
    }
    pub fn price(&self) -> Price {
        self.price
    }
    /// Market volume still in front of the order.
    pub fn ahead(&self) -> Qty {
        self.ahead
    }
    /// Crossing volume already counted.
    pub fn credited(&self) -> Qty {
        self.credited
    }

    /// The book changed and its level at the order's price on the order's side now shows
    /// `level_qty` (0 when gone): `ahead` shrinks to it, never grows.
    pub fn on_level(&mut self, level_qty: Qty) {
        self.ahead = self.ahead.min(nonneg(level_qty));
    }

    /// A public trade of `qty` at `price`, `taker_side` the aggressor; `shared` of it already
    /// filled our orders in front of this one. Returns what fills this order (≤ `remaining`).
    pub fn on_trade(
        &mut self,
        price: Price,
        qty: Qty,
        taker_side: Side,
        shared: Qty,
        remaining: Qty,
    ) -> Qty {
        if taker_side == self.side {
            return Qty::ZERO;
        }
        let through = match self.side {
            Side::Buy => price < self.price,
            Side::Sell => price > self.price,
        };
        if price != self.price && !through {
            return Qty::ZERO;
        }
        if through {
            self.ahead = Qty::ZERO;
        }
        self.fill(minus(nonneg(qty), shared), remaining)
    }

    /// The book changed and the opposite side now shows `cross` at or through the order's
    /// price ([`crossing_volume`]); `shared` of the new volume already filled our orders in
    /// front of this one. Only volume beyond `credited` is new; `credited` becomes `cross`.
    /// Returns what fills this order (≤ `remaining`).
    pub fn on_cross(&mut self, cross: Qty, shared: Qty, remaining: Qty) -> Qty {
        let cross = nonneg(cross);
        let new = minus(cross, self.credited);
        self.credited = cross;
        self.fill(minus(new, shared), remaining)
    }

    /// `volume` reaches the order's price: it consumes `ahead` first, the rest fills us.
    fn fill(&mut self, volume: Qty, remaining: Qty) -> Qty {
        let used = volume.min(self.ahead);
        self.ahead = minus(self.ahead, used);
        minus(volume, used).min(nonneg(remaining))
    }
}

fn nonneg(q: Qty) -> Qty {
    q.max(Qty::ZERO)
}

/// `a − b`, never below zero.
fn minus(a: Qty, b: Qty) -> Qty {
    Fixed(a.raw().saturating_sub(b.raw()).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;

    fn q(v: i64) -> Qty {
        Fixed::from_int(v)
    }

    fn lvl(p: i64, v: i64) -> Level {
        Level {
            price: q(p),
            qty: q(v),
        }
    }

    #[test]
    fn joins_behind_the_level_shown_at_its_price() {
        assert_eq!(
            QueuePosition::join(Side::Buy, q(100), q(5), q(0)).ahead(),
            q(5)
        );
        assert_eq!(
            QueuePosition::join(Side::Buy, q(100), q(0), q(0)).ahead(),
            q(0)
        );
        assert_eq!(
            QueuePosition::join(Side::Sell, q(100), q(-1), q(0)).ahead(),
            q(0)
        );
    }

    #[test]
    fn a_shrinking_level_moves_the_order_up_and_a_growing_one_never_back() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(5), q(0));
        p.on_level(q(8));
        assert_eq!(p.ahead(), q(5));
        p.on_level(q(3));
        assert_eq!(p.ahead(), q(3));
        p.on_level(q(9));
        assert_eq!(p.ahead(), q(3));
        p.on_level(q(0));
        assert_eq!(p.ahead(), q(0));
    }

    #[test]
    fn a_trade_at_the_price_consumes_ahead_before_it_fills() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(5), q(0));
        assert_eq!(p.on_trade(q(100), q(3), Side::Sell, q(0), q(4)), q(0));
        assert_eq!(p.ahead(), q(2));
        assert_eq!(p.on_trade(q(100), q(3), Side::Sell, q(0), q(4)), q(1));
        assert_eq!(p.ahead(), q(0));
        // At the front: the whole print fills, up to what remains.
        assert_eq!(p.on_trade(q(100), q(7), Side::Sell, q(0), q(3)), q(3));
    }

    #[test]
    fn a_trade_through_the_price_empties_the_queue_and_fills() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(50), q(0));
        assert_eq!(p.on_trade(q(99), q(2), Side::Sell, q(0), q(5)), q(2));
        assert_eq!(p.ahead(), q(0));
        let mut s = QueuePosition::join(Side::Sell, q(100), q(50), q(0));
        assert_eq!(s.on_trade(q(101), q(9), Side::Buy, q(0), q(5)), q(5));
        assert_eq!(s.ahead(), q(0));
    }

    #[test]
    fn trades_on_our_side_or_short_of_our_price_change_nothing() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(5), q(0));
        // A taker buy: it hit asks, not our bid.
        assert_eq!(p.on_trade(q(100), q(9), Side::Buy, q(0), q(5)), q(0));
        // A taker sell above our bid: it filled better bids.
        assert_eq!(p.on_trade(q(101), q(9), Side::Sell, q(0), q(5)), q(0));
        assert_eq!(p.ahead(), q(5));
        let mut s = QueuePosition::join(Side::Sell, q(100), q(5), q(0));
        assert_eq!(s.on_trade(q(99), q(9), Side::Buy, q(0), q(5)), q(0));
        assert_eq!(s.ahead(), q(5));
    }

    #[test]
    fn volume_our_earlier_orders_took_is_not_offered_again() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(1), q(0));
        // 4 printed, 2 of it filled our order in front: 1 consumes ahead, 1 fills us.
        assert_eq!(p.on_trade(q(100), q(4), Side::Sell, q(2), q(5)), q(1));
        assert_eq!(p.on_trade(q(100), q(4), Side::Sell, q(9), q(5)), q(0));
        let mut c = QueuePosition::join(Side::Buy, q(100), q(0), q(0));
        assert_eq!(c.on_cross(q(5), q(3), q(9)), q(2));
        assert_eq!(c.credited(), q(5));
    }

    #[test]
    fn a_crossing_book_fills_once_and_only_new_volume_again() {
        let mut p = QueuePosition::join(Side::Buy, q(100), q(2), q(0));
        // Asks at 99 (3) and 100 (2) reach our 100: 2 consume ahead, 3 fill.
        let cross = crossing_volume(Side::Buy, q(100), [lvl(99, 3), lvl(100, 2), lvl(101, 7)]);
        assert_eq!(cross, q(5));
        assert_eq!(p.on_cross(cross, q(0), q(10)), q(3));
        assert_eq!(p.ahead(), q(0));
        // The same book again: nothing new.
        assert_eq!(p.on_cross(cross, q(0), q(7)), q(0));
        // It shrinks (traded or pulled), then grows back: the growth is new.
        assert_eq!(p.on_cross(q(4), q(0), q(7)), q(0));
        assert_eq!(p.on_cross(q(6), q(0), q(7)), q(2));
        // The book stops crossing, then crosses again with 1.
        assert_eq!(p.on_cross(q(0), q(0), q(5)), q(0));
        assert_eq!(p.credited(), q(0));
        assert_eq!(p.on_cross(q(1), q(0), q(5)), q(1));
    }

    #[test]
    fn crossing_volume_at_arrival_is_already_credited() {
        let mut p = QueuePosition::join(Side::Sell, q(100), q(0), q(4));
        assert_eq!(p.on_cross(q(4), q(0), q(3)), q(0));
        assert_eq!(p.on_cross(q(9), q(0), q(3)), q(3));
    }

    #[test]
    fn crossing_volume_counts_levels_at_or_through_the_limit_only() {
        let bids = [lvl(102, 1), lvl(101, 2), lvl(100, 4), lvl(99, 8)];
        assert_eq!(crossing_volume(Side::Sell, q(101), bids), q(3));
        assert_eq!(crossing_volume(Side::Sell, q(103), bids), q(0));
        assert_eq!(crossing_volume(Side::Sell, q(1), bids), q(15));
        assert!(crosses(Side::Buy, q(100), q(100)) && !crosses(Side::Buy, q(100), q(101)));
    }
}
