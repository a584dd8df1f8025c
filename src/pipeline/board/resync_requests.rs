//! Resync requests from the book stage back to the feeds, lock-free.
//!
//! When a book loses sync the book stage raises the instrument's flag; the feed that serves the
//! instrument takes it (clearing it) and fetches a new snapshot (Binance: REST depth; MAX:
//! resubscribe). Raising an already raised flag is harmless: one snapshot serves both.

use crate::model::{InstrumentId, MAX_INSTRUMENTS};
use std::sync::atomic::{AtomicBool, Ordering};

pub struct ResyncRequests {
    flags: [AtomicBool; MAX_INSTRUMENTS],
}

impl Default for ResyncRequests {
    fn default() -> Self {
        ResyncRequests {
            flags: std::array::from_fn(|_| AtomicBool::new(false)),
        }
    }
}

impl ResyncRequests {
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
