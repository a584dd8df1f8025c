//! Latest mid price per instrument, published by the book stage for the order stage's marks
//! (unrealized P&L and the kill switch), lock-free: one writer, Release/Acquire.

use crate::model::{Fixed, InstrumentId, MAX_INSTRUMENTS};
use std::sync::atomic::{AtomicI64, Ordering};

pub struct MidBoard {
    mids: [AtomicI64; MAX_INSTRUMENTS],
}

impl Default for MidBoard {
    fn default() -> Self {
        MidBoard {
            mids: std::array::from_fn(|_| AtomicI64::new(0)),
        }
    }
}

impl MidBoard {
    /// Book stage only.
    #[inline]
    pub fn set(&self, i: InstrumentId, mid: Fixed) {
        self.mids[i.index()].store(mid.raw(), Ordering::Release);
    }
    /// Zero until the first two-sided top.
    #[inline]
    pub fn get(&self, i: InstrumentId) -> Fixed {
        Fixed(self.mids[i.index()].load(Ordering::Acquire))
    }
}
