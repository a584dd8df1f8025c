//! One side of an L2 book: price levels kept sorted in a pre-allocated ring buffer
//! (`VecDeque`), **best last**.
//!
//! Updates touch the top of the book far more often than the tail. A `VecDeque` inserts or
//! removes by moving the shorter side, so with the best level at the back a change at the top
//! moves only the levels better than it — none for a new best price or a best level that
//! empties — and a snapshot, which arrives best first, grows the ladder at its front without
//! moving anything. (The best-first `Vec` before it moved the whole ladder on each
//! top-of-book change: 1 000 levels for a new best bid in a 1 000-level book; a best-last `Vec`
//! would do the same for every level of a snapshot.) The best level and a new best are found
//! at once, and so is a level worse than the worst (a snapshot's); the rest by binary search.
//! (Scanning the top eight levels one by one first cost more on the recorded Binance streams,
//! whose diffs reach deep into the book: `bench/book_replay.rs`.)
//! Capacity is reserved up front (`with_capacity`), so applying updates allocates nothing unless
//! a book grows past every size it has had before.

use crate::model::{Level, Price, Qty};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LadderSide {
    /// Highest price best.
    Bid,
    /// Lowest price best.
    Ask,
}

#[derive(Clone, Debug)]
pub struct Ladder {
    side: LadderSide,
    /// Worst first, best last: bids ascending, asks descending.
    levels: VecDeque<Level>,
}

impl Ladder {
    pub fn with_capacity(side: LadderSide, cap: usize) -> Self {
        Ladder {
            side,
            levels: VecDeque::with_capacity(cap),
        }
    }

    /// Whether `a` is better than `b` on this side.
    #[inline]
    fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            LadderSide::Bid => a > b,
            LadderSide::Ask => a < b,
        }
    }

    /// Index of `price` in `levels`, or where it would be inserted.
    #[inline]
    fn search(&self, price: Price) -> Result<usize, usize> {
        let n = self.levels.len();
        let Some(top) = self.levels.back() else {
            return Err(0);
        };
        // The best level, or a new best: where top-of-book changes land.
        if top.price == price {
            return Ok(n - 1);
        }
        if self.better(price, top.price) {
            return Err(n);
        }
        // Worse than the worst: a snapshot, which arrives best first, grows the ladder here.
        if self.better(self.levels[0].price, price) {
            return Err(0);
        }
        match self.side {
            LadderSide::Bid => self.levels.binary_search_by(|l| l.price.cmp(&price)),
            LadderSide::Ask => self.levels.binary_search_by(|l| price.cmp(&l.price)),
        }
    }

    /// Sets the absolute quantity at `price`; zero removes the level (absent levels are fine).
    #[inline]
    pub fn set(&mut self, price: Price, qty: Qty) {
        match self.search(price) {
            Ok(i) if qty.is_zero() => {
                self.levels.remove(i);
            }
            Ok(i) => self.levels[i].qty = qty,
            Err(_) if qty.is_zero() => {}
            Err(i) => self.levels.insert(i, Level { price, qty }),
        }
    }

    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.levels.back().copied()
    }

    /// Every level, best first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.levels.iter().rev().copied()
    }

    /// Best `n` levels, best first.
    pub fn top(&self, n: usize) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.iter().take(n)
    }

    /// Keeps only the best `n` levels (depth-limited subscriptions trim themselves).
    pub fn truncate(&mut self, n: usize) {
        let drop = self.levels.len().saturating_sub(n);
        self.levels.drain(..drop);
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }
    pub fn len(&self) -> usize {
        self.levels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
    pub fn side(&self) -> LadderSide {
        self.side
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Fixed;

    fn p(s: &str) -> Fixed {
        Fixed::parse(s).unwrap()
    }

    #[test]
    fn bids_sort_high_first_and_asks_low_first() {
        let mut b = Ladder::with_capacity(LadderSide::Bid, 8);
        let mut a = Ladder::with_capacity(LadderSide::Ask, 8);
        for px in ["1.0", "3.0", "2.0"] {
            b.set(p(px), p("1"));
            a.set(p(px), p("1"));
        }
        assert_eq!(b.best().unwrap().price, p("3.0"));
        assert_eq!(a.best().unwrap().price, p("1.0"));
        assert_eq!(
            b.top(3).map(|l| l.price).collect::<Vec<_>>(),
            vec![p("3"), p("2"), p("1")]
        );
    }

    #[test]
    fn zero_removes_and_unknown_removal_is_ignored() {
        let mut b = Ladder::with_capacity(LadderSide::Bid, 8);
        b.set(p("2"), p("5"));
        b.set(p("2"), p("7"));
        assert_eq!(
            b.best(),
            Some(Level {
                price: p("2"),
                qty: p("7")
            })
        );
        b.set(p("9"), Fixed::ZERO);
        assert_eq!(b.len(), 1);
        b.set(p("2"), Fixed::ZERO);
        assert!(b.is_empty());
    }

    /// Against a `BTreeMap` model: random sets and removals, near the top and deep, on both
    /// sides; the ladder holds the model's levels best first after every step, and `truncate`
    /// keeps the best.
    #[test]
    fn random_updates_keep_the_ladder_equal_to_a_sorted_map() {
        use std::collections::BTreeMap;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for side in [LadderSide::Bid, LadderSide::Ask] {
            let mut l = Ladder::with_capacity(side, 16);
            let mut model: BTreeMap<i64, i64> = BTreeMap::new();
            for step in 0..20_000 {
                let price = 1_000 + (next() % 64) as i64;
                let qty = if next() % 3 == 0 {
                    0
                } else {
                    1 + (next() % 9) as i64
                };
                l.set(Fixed::from_int(price), Fixed::from_int(qty));
                if qty == 0 {
                    model.remove(&price);
                } else {
                    model.insert(price, qty);
                }
                let want: Vec<Level> = match side {
                    LadderSide::Bid => model.iter().rev().map(|(p, q)| lvl(*p, *q)).collect(),
                    LadderSide::Ask => model.iter().map(|(p, q)| lvl(*p, *q)).collect(),
                };
                assert_eq!(l.iter().collect::<Vec<_>>(), want, "{side:?} step {step}");
                assert_eq!(l.best(), want.first().copied());
            }
            let best: Vec<Level> = l.top(5).collect();
            l.truncate(5);
            assert_eq!(l.iter().collect::<Vec<_>>(), best);
        }
    }

    fn lvl(p: i64, q: i64) -> Level {
        Level {
            price: Fixed::from_int(p),
            qty: Fixed::from_int(q),
        }
    }
}
