//! Resync requests from the book stage back to the feeds, lock-free.
//!
//! When a book loses sync the book stage raises the instrument's flag; the feed that serves the
//! instrument takes it (clearing it) and fetches a new snapshot (Binance: REST depth; MAX:
//! resubscribe). Raising an already raised flag is harmless: one snapshot serves both.

use crate::model::InstrumentId;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct ResyncRequests {
    flags: Box<[AtomicBool]>,
    /// Requests made so far: a feed looks at its books' flags only when this moved since it
    /// last looked, so an idle poll costs one load, not one per market.
    requests: AtomicU64,
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
            requests: AtomicU64::new(0),
        }
    }

    #[inline]
    pub fn request(&self, i: InstrumentId) {
        // An id beyond the table (a board sized for fewer instruments) has no flag: nothing
        // to raise, and no panic.
        let Some(flag) = self.flags.get(i.index()) else {
            return;
        };
        flag.store(true, Ordering::Release);
        // After the flag: a feed that sees the new count sees the flag. (A resync is rare: the
        // locked add costs nothing that matters.)
        self.requests.fetch_add(1, Ordering::Release);
    }

    /// Takes the raised flags among `ids`, calling `f(k)` for the `k`-th of them, and only if
    /// a request was made since `seen` (then updated): an idle poll costs one load, not one
    /// per market.
    #[inline]
    pub fn take_new(
        &self,
        seen: &mut u64,
        ids: impl Iterator<Item = InstrumentId>,
        mut f: impl FnMut(usize),
    ) {
        if self.any_since(seen) {
            for (k, id) in ids.enumerate() {
                if self.take(id) {
                    f(k);
                }
            }
        }
    }

    /// Whether a request was made since `seen` (then updated): when false, no flag can be set
    /// that the caller has not already taken.
    #[inline]
    fn any_since(&self, seen: &mut u64) -> bool {
        let n = self.requests.load(Ordering::Acquire);
        if n == *seen {
            return false;
        }
        *seen = n;
        true
    }
    /// True once per raised flag.
    #[inline]
    pub fn take(&self, i: InstrumentId) -> bool {
        self.flags
            .get(i.index())
            .is_some_and(|f| f.load(Ordering::Relaxed) && f.swap(false, Ordering::AcqRel))
    }
}
