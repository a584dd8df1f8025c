//! Which books are live, and which have ever been: written by the book stage when a book's
//! status changes (rare: a snapshot, a resync, a silent feed), read by the side thread for the
//! stats line (`books live/configured`) and by the run's summary (the markets never live).

use crate::model::InstrumentId;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct LiveBoard {
    now: Box<[AtomicBool]>,
    ever: Box<[AtomicBool]>,
}

impl LiveBoard {
    /// A board for `instruments` instruments (ids `0..instruments`), none live.
    pub fn new(instruments: usize) -> Self {
        let flags = || (0..instruments).map(|_| AtomicBool::new(false)).collect();
        LiveBoard {
            now: flags(),
            ever: flags(),
        }
    }

    /// The book of `i` is live (`true`) or not.
    #[inline]
    pub fn set(&self, i: InstrumentId, live: bool) {
        if let Some(f) = self.now.get(i.index()) {
            f.store(live, Ordering::Release);
        }
        if live && let Some(f) = self.ever.get(i.index()) {
            f.store(true, Ordering::Release);
        }
    }

    pub fn is_live(&self, i: InstrumentId) -> bool {
        self.now
            .get(i.index())
            .is_some_and(|f| f.load(Ordering::Acquire))
    }

    pub fn ever_live(&self, i: InstrumentId) -> bool {
        self.ever
            .get(i.index())
            .is_some_and(|f| f.load(Ordering::Acquire))
    }

    /// Books live now, and books configured.
    pub fn count(&self) -> (usize, usize) {
        let live = self
            .now
            .iter()
            .filter(|f| f.load(Ordering::Acquire))
            .count();
        (live, self.now.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_now_and_ever() {
        let b = LiveBoard::new(3);
        b.set(InstrumentId(1), true);
        b.set(InstrumentId(2), true);
        b.set(InstrumentId(2), false);
        b.set(InstrumentId(9), true);
        assert_eq!(b.count(), (1, 3));
        assert!(b.is_live(InstrumentId(1)) && !b.is_live(InstrumentId(2)));
        assert!(b.ever_live(InstrumentId(2)) && !b.ever_live(InstrumentId(0)));
    }
}
