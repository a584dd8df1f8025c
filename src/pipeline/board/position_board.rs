//! Net positions published by the order stage for the scanner to read, lock-free.
//!
//! The order stage is the only writer (Release stores); scanners read with Acquire loads to stay
//! position-aware without a lock or a message round trip. A scanner may see a position one fill
//! late; the order stage's pre-trade risk check is the authority.

use crate::model::{Fixed, InstrumentId, Strategy};
use crossbeam::utils::CachePadded;
use std::sync::atomic::{AtomicI64, Ordering};

const STRATEGIES: usize = Strategy::ALL.len();

pub struct PositionBoard {
    slots: Box<[CachePadded<AtomicI64>]>,
    instruments: usize,
}

impl Default for PositionBoard {
    /// Room for 64 instruments (tests and tools; the engine sizes it from its configuration).
    fn default() -> Self {
        Self::new(64)
    }
}

impl PositionBoard {
    /// A board for `instruments` instruments (ids `0..instruments`).
    pub fn new(instruments: usize) -> Self {
        let slots = (0..STRATEGIES * instruments)
            .map(|_| CachePadded::new(AtomicI64::new(0)))
            .collect();
        PositionBoard { slots, instruments }
    }

    #[inline]
    fn slot(&self, s: Strategy, i: InstrumentId) -> &AtomicI64 {
        &self.slots[s.index() * self.instruments + i.index()]
    }
    /// Net base quantity of `strategy` in `instrument` (summed over wallets).
    #[inline]
    pub fn get(&self, strategy: Strategy, instrument: InstrumentId) -> Fixed {
        Fixed(self.slot(strategy, instrument).load(Ordering::Acquire))
    }
    /// Order stage only.
    #[inline]
    pub fn set(&self, strategy: Strategy, instrument: InstrumentId, qty: Fixed) {
        self.slot(strategy, instrument)
            .store(qty.raw(), Ordering::Release);
    }
}
