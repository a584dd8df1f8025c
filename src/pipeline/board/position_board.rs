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

    /// `None` for an id beyond the board (sized for fewer instruments): it must not reach
    /// another strategy's slot.
    #[inline]
    fn slot(&self, s: Strategy, i: InstrumentId) -> Option<&AtomicI64> {
        if i.index() >= self.instruments {
            return None;
        }
        self.slots
            .get(s.index() * self.instruments + i.index())
            .map(|c| &**c)
    }
    #[inline]
    pub fn get(&self, strategy: Strategy, instrument: InstrumentId) -> Fixed {
        Fixed(
            self.slot(strategy, instrument)
                .map_or(0, |a| a.load(Ordering::Acquire)),
        )
    }
    #[inline]
    pub fn set(&self, strategy: Strategy, instrument: InstrumentId, qty: Fixed) {
        if let Some(a) = self.slot(strategy, instrument) {
            a.store(qty.raw(), Ordering::Release);
        }
    }
}
