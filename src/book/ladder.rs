//! One side of an L2 book: price levels kept sorted, **best last**, in one pre-allocated buffer
//! with room at both ends of the live slice.
//!
//! Updates touch the top of the book far more often than the tail. Inserting or removing a
//! level moves whichever part of the slice is shorter — the levels better than it or the ones
//! worse — into the spare room on that side, so a change at the top moves none or a few levels
//! (a new best price, a best level that empties), and a snapshot, which arrives best first,
//! grows the slice at its front without moving anything. (The best-first `Vec` before it moved
//! the whole ladder on each top-of-book change: 1 000 levels for a new best bid in a 1 000-level
//! book; a best-last `Vec` does the same for every level of a snapshot; a `VecDeque` moves the
//! shorter side too, but pays for its wrap-around on every access.) The levels stay one
//! contiguous slice, so the search is a plain binary search: the best level and a new best are
//! found at once, a level worse than the worst (a snapshot's) too, the rest by bisection.
//! (Scanning the top eight levels one by one first cost more on the recorded Binance streams,
//! whose diffs reach deep into the book: `bench/book_replay.rs`.) When one end runs out of room
//! the slice is moved back to the middle, or the buffer doubled; capacity is reserved up front
//! (`with_capacity`), so applying updates allocates nothing unless a book grows past every size
//! it has had before.

use crate::model::{Level, Price, Qty};

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
    /// The live levels are `buf[start..end]`, worst first, best last (bids ascending, asks
    /// descending); the slots outside are spare room.
    buf: Vec<Level>,
    start: usize,
    end: usize,
}

impl Ladder {
    /// Room for `cap` levels with the live slice starting in the middle (`2 * cap` slots: a
    /// snapshot can grow down and updates up without moving it back).
    pub fn with_capacity(side: LadderSide, cap: usize) -> Self {
        let slots = 2 * cap;
        Ladder {
            side,
            buf: vec![Level::default(); slots],
            start: slots / 2,
            end: slots / 2,
        }
    }

    /// The live levels, worst first.
    #[inline]
    fn levels(&self) -> &[Level] {
        &self.buf[self.start..self.end]
    }

    /// Whether `a` is better than `b` on this side.
    #[inline]
    fn better(&self, a: Price, b: Price) -> bool {
        match self.side {
            LadderSide::Bid => a > b,
            LadderSide::Ask => a < b,
        }
    }

    /// Index of `price` in the live slice, or where it would be inserted.
    #[inline]
    fn search(&self, price: Price) -> Result<usize, usize> {
        let levels = self.levels();
        let n = levels.len();
        let Some(top) = levels.last() else {
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
        if self.better(levels[0].price, price) {
            return Err(0);
        }
        match self.side {
            LadderSide::Bid => levels.binary_search_by(|l| l.price.cmp(&price)),
            LadderSide::Ask => levels.binary_search_by(|l| price.cmp(&l.price)),
        }
    }

    /// Moves the live slice to the middle of the buffer, doubling the buffer first when the
    /// slice fills more than half of it.
    #[cold]
    fn make_room(&mut self) {
        let n = self.end - self.start;
        if 2 * (n + 1) > self.buf.len() {
            let slots = (2 * self.buf.len()).max(2 * (n + 1)).max(16);
            let mut buf = vec![Level::default(); slots];
            let start = (slots - n) / 2;
            buf[start..start + n].copy_from_slice(&self.buf[self.start..self.end]);
            self.buf = buf;
            self.start = start;
        } else {
            let start = (self.buf.len() - n) / 2;
            self.buf.copy_within(self.start..self.end, start);
            self.start = start;
        }
        self.end = self.start + n;
    }

    /// Inserts at `i` of the live slice, moving the shorter part into the spare room.
    #[inline]
    fn insert(&mut self, i: usize, level: Level) {
        let n = self.end - self.start;
        let front = i < n / 2;
        if (front && self.start == 0) || (!front && self.end == self.buf.len()) {
            self.make_room();
        }
        let at = self.start + i;
        if front {
            self.buf.copy_within(self.start..at, self.start - 1);
            self.start -= 1;
            self.buf[at - 1] = level;
        } else {
            self.buf.copy_within(at..self.end, at + 1);
            self.end += 1;
            self.buf[at] = level;
        }
    }

    /// Removes `i` of the live slice, moving the shorter part over it.
    #[inline]
    fn remove(&mut self, i: usize) {
        let n = self.end - self.start;
        let at = self.start + i;
        if i < n / 2 {
            self.buf.copy_within(self.start..at, self.start + 1);
            self.start += 1;
        } else {
            self.buf.copy_within(at + 1..self.end, at);
            self.end -= 1;
        }
    }

    /// Sets the absolute quantity at `price`; zero removes the level (absent levels are fine).
    #[inline]
    pub fn set(&mut self, price: Price, qty: Qty) {
        match self.search(price) {
            Ok(i) if qty.is_zero() => self.remove(i),
            Ok(i) => self.buf[self.start + i].qty = qty,
            Err(_) if qty.is_zero() => {}
            Err(i) => self.insert(i, Level { price, qty }),
        }
    }

    #[inline]
    pub fn best(&self) -> Option<Level> {
        self.levels().last().copied()
    }

    /// Every level, best first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.levels().iter().rev().copied()
    }

    /// Best `n` levels, best first.
    pub fn top(&self, n: usize) -> impl ExactSizeIterator<Item = Level> + DoubleEndedIterator + '_ {
        self.iter().take(n)
    }

    /// Keeps only the best `n` levels (depth-limited subscriptions trim themselves).
    pub fn truncate(&mut self, n: usize) {
        self.start = self.end - n.min(self.end - self.start);
    }

    /// Empties the ladder; the live slice starts again in the middle.
    pub fn clear(&mut self) {
        self.start = self.buf.len() / 2;
        self.end = self.start;
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
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
            // Small, so the live slice hits both ends of its buffer and the buffer grows.
            let mut l = Ladder::with_capacity(side, 4);
            let mut model: BTreeMap<i64, i64> = BTreeMap::new();
            for step in 0..20_000 {
                // Now and then a snapshot: cleared, then 64 levels best first.
                if step % 4_000 == 3_999 {
                    l.clear();
                    model.clear();
                    for k in 0..64i64 {
                        let price = match side {
                            LadderSide::Bid => 1_063 - k,
                            LadderSide::Ask => 1_000 + k,
                        };
                        l.set(Fixed::from_int(price), Fixed::from_int(1 + k % 5));
                        model.insert(price, 1 + k % 5);
                    }
                }
                // Drifting prices: the top moves, as a market's does.
                let price = 1_000 + (step / 500) as i64 + (next() % 64) as i64;
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
