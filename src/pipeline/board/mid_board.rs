//! Latest mid price per instrument, published by the book stage for the order stage's marks
//! (unrealized P&L and the kill switch), lock-free: one writer, Release/Acquire.

use crate::model::{Fixed, InstrumentId};
use std::sync::atomic::{AtomicI64, Ordering};

pub struct MidBoard {
    mids: Box<[AtomicI64]>,
}

impl Default for MidBoard {
    /// Room for 64 instruments (tests and tools; the engine sizes it from its configuration).
    fn default() -> Self {
        Self::new(64)
    }
}

impl MidBoard {
    /// A board for `instruments` instruments (ids `0..instruments`).
    pub fn new(instruments: usize) -> Self {
        MidBoard {
            mids: (0..instruments).map(|_| AtomicI64::new(0)).collect(),
        }
    }

    /// Book stage only.
    #[inline]
    pub fn set(&self, i: InstrumentId, mid: Fixed) {
        if let Some(m) = self.mids.get(i.index()) {
            m.store(mid.raw(), Ordering::Release);
        }
    }
    /// Zero until the first two-sided top.
    #[inline]
    pub fn get(&self, i: InstrumentId) -> Fixed {
        // An id beyond the board (sized for fewer instruments): no mid.
        Fixed(
            self.mids
                .get(i.index())
                .map_or(0, |m| m.load(Ordering::Acquire)),
        )
    }
}
