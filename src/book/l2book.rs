//! An L2 book: a bid ladder and an ask ladder.

use super::ladder::{Ladder, LadderSide};
use crate::model::{BookStatus, Level};

/// Levels reserved per side at start, so steady-state updates never allocate.
pub const RESERVED_LEVELS: usize = 2048;

#[derive(Clone, Debug)]
pub struct L2Book {
    pub bids: Ladder,
    pub asks: Ladder,
}

impl Default for L2Book {
    fn default() -> Self {
        L2Book {
            bids: Ladder::with_capacity(LadderSide::Bid, RESERVED_LEVELS),
            asks: Ladder::with_capacity(LadderSide::Ask, RESERVED_LEVELS),
        }
    }
}

impl L2Book {
    /// A book with no reserved levels, for instruments that never hold depth (reference rates).
    pub fn empty() -> Self {
        L2Book {
            bids: Ladder::with_capacity(LadderSide::Bid, 0),
            asks: Ladder::with_capacity(LadderSide::Ask, 0),
        }
    }

    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Applies one chunk's levels (absolute sizes, zero removes).
    #[inline]
    pub fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for l in bids {
            self.bids.set(l.price, l.qty);
        }
        for l in asks {
            self.asks.set(l.price, l.qty);
        }
    }

    /// `Empty` with no levels, `Crossed` when best bid ≥ best ask, else `Live`.
    pub fn integrity(&self) -> BookStatus {
        match (self.bids.best(), self.asks.best()) {
            (None, None) => BookStatus::Empty,
            (Some(b), Some(a)) if b.price >= a.price => BookStatus::Crossed,
            _ => BookStatus::Live,
        }
    }

    pub fn best_bid(&self) -> Level {
        self.bids.best().unwrap_or_default()
    }
    pub fn best_ask(&self) -> Level {
        self.asks.best().unwrap_or_default()
    }
}
