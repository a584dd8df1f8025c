//! Resync requests from the book stage back to the feeds, lock-free.
//!
//! When a book loses sync the book stage raises the instrument's flag; the feed that serves the
//! instrument takes it (clearing it) and fetches a new snapshot (Binance: REST depth; MAX:
//! resubscribe). Raising an already raised flag is harmless: one snapshot serves both.

use crate::model::InstrumentId;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct ResyncRequests {
    flags: Box<[AtomicBool]>,
}

impl Default for ResyncRequests {
    /// Room for 64 instruments (tests and tools; the engine sizes it from its configuration).
    fn default() -> Self {
        Self::new(64)
    }
}

impl ResyncRequests {
    /// Flags for `instruments` instruments (ids `0..instruments`).
    pub fn new(instruments: usize) -> Self {
        ResyncRequests {
            flags: (0..instruments).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    #[inline]
    pub fn request(&self, i: InstrumentId) {
        self.flags[i.index()].store(true, Ordering::Release);
    }
    /// True once per raised flag.
    #[inline]
    pub fn take(&self, i: InstrumentId) -> bool {
        self.flags[i.index()].load(Ordering::Relaxed)
            && self.flags[i.index()].swap(false, Ordering::AcqRel)
    }
}
