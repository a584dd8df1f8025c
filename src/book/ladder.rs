//! One side of an L2 book: price levels kept sorted best-first in a pre-allocated vector.
//!
//! Updates touch the top of the book far more often than the tail, so levels are stored
//! best-first and found by binary search; inserting shifts only the levels behind. Capacity is
//! reserved up front (`with_capacity`), so applying updates allocates nothing unless a book
//! grows past every size it has had before.

use crate::model::{Level, Price, Qty};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LadderSide {
    /// Highest price first.
    Bid,
    /// Lowest price first.
    Ask,
}

#[derive(Clone, Debug)]
pub struct Ladder {
    side: LadderSide,
    levels: Vec<Level>,
}

impl Ladder {
    pub fn with_capacity(side: LadderSide, cap: usize) -> Self {
        Ladder {
            side,
            levels: Vec::with_capacity(cap),
        }
    }

    /// Position of `price`, or where it would be inserted, counting from the best level.
    #[inline]
    fn search(&self, price: Price) -> Result<usize, usize> {
        match self.side {
            LadderSide::Bid => self.levels.binary_search_by(|l| price.cmp(&l.price)),
            LadderSide::Ask => self.levels.binary_search_by(|l| l.price.cmp(&price)),
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
        self.levels.first().copied()
    }

    /// Best `n` levels, best first.
    pub fn top(&self, n: usize) -> &[Level] {
        &self.levels[..n.min(self.levels.len())]
    }

    /// Keeps only the best `n` levels (depth-limited subscriptions trim themselves).
    pub fn truncate(&mut self, n: usize) {
        self.levels.truncate(n);
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
            b.top(3).iter().map(|l| l.price).collect::<Vec<_>>(),
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
}
