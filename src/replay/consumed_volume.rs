//! [`ConsumedVolume`]: book volume our own orders already took, which the replayed book still
//! shows.
//!
//! The replayed book is the market *without* our orders: when an order of ours takes 3 of the
//! 5 shown at a level, the next frame of the capture still shows 5 there. Until that level
//! changes, the venue must offer only the 2 left, or a second order arriving before the change
//! would take the same volume again. The ledger keeps, per (instrument, book side, price), the
//! quantity the level showed when we took from it (`seen`) and how much we took (`taken`); what
//! is left for us is `level qty − taken` while the level still shows `seen`.
//!
//! As soon as the book's level at that price shows anything other than `seen` (it changed or
//! disappeared), the entry is forgotten: the market moved on, and its new size is the best
//! estimate there is of what is there now (the capture cannot say whether the change was the
//! volume we took being replaced or something else). [`ConsumedVolume::prune`] drops such
//! entries after every book change; [`ConsumedVolume::available`] also ignores an entry whose
//! level no longer shows `seen`, so a missed prune cannot make volume disappear for good.
//!
//! Entries live in a `Vec` in the order they were made: nothing here depends on hashing.

use crate::book::l2book::L2Book;
use crate::book::ladder::{Ladder, LadderSide};
use crate::model::{Fixed, InstrumentId, Level, Price, Qty, Side};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    instrument: InstrumentId,
    /// The side of the book taken from: `Sell` for asks (what a buy takes), `Buy` for bids.
    side: Side,
    price: Price,
    /// What the level showed when we took from it.
    seen: Qty,
    /// What our orders took from it since.
    taken: Qty,
}

/// What our orders took from levels the replayed book has not changed since: see the module
/// documentation.
#[derive(Clone, Debug, Default)]
pub struct ConsumedVolume {
    entries: Vec<Entry>,
}

impl ConsumedVolume {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many levels hold volume we took.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What is left for our orders of `level`, on `side` of `instrument`'s book.
    pub fn available(&self, instrument: InstrumentId, side: Side, level: Level) -> Qty {
        let taken = self
            .find(instrument, side, level.price)
            .filter(|e| e.seen == level.qty)
            .map_or(Qty::ZERO, |e| e.taken);
        Fixed(level.qty.raw().saturating_sub(taken.raw()).max(0))
    }

    /// Records that our orders took `qty` of `level`.
    pub fn take(&mut self, instrument: InstrumentId, side: Side, level: Level, qty: Qty) {
        if qty.raw() <= 0 {
            return;
        }
        match self
            .entries
            .iter_mut()
            .find(|e| e.instrument == instrument && e.side == side && e.price == level.price)
        {
            Some(e) if e.seen == level.qty => {
                e.taken = Fixed(e.taken.raw().saturating_add(qty.raw()));
            }
            Some(e) => {
                e.seen = level.qty;
                e.taken = qty;
            }
            None => self.entries.push(Entry {
                instrument,
                side,
                price: level.price,
                seen: level.qty,
                taken: qty,
            }),
        }
    }

    /// Forgets what was taken from `instrument`'s levels that `book` no longer shows as they
    /// were; with no book (it is not live), everything of `instrument`.
    pub fn prune(&mut self, instrument: InstrumentId, book: Option<&L2Book>) {
        self.entries.retain(|e| {
            e.instrument != instrument
                || book.is_some_and(|b| {
                    let ladder = match e.side {
                        Side::Buy => &b.bids,
                        Side::Sell => &b.asks,
                    };
                    level_qty(ladder, e.price) == e.seen
                })
        });
    }

    fn find(&self, instrument: InstrumentId, side: Side, price: Price) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.instrument == instrument && e.side == side && e.price == price)
    }
}

/// The quantity `ladder` shows at `price` (0 without a level there). Walks best first and stops
/// past the price: our orders sit near the top of the book.
pub fn level_qty(ladder: &Ladder, price: Price) -> Qty {
    let bids = ladder.side() == LadderSide::Bid;
    ladder
        .iter()
        .take_while(|l| {
            if bids {
                l.price >= price
            } else {
                l.price <= price
            }
        })
        .find(|l| l.price == price)
        .map_or(Qty::ZERO, |l| l.qty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: i64) -> Qty {
        Fixed::from_int(v)
    }
    fn lvl(p: i64, v: i64) -> Level {
        Level {
            price: q(p),
            qty: q(v),
        }
    }
    const I: InstrumentId = InstrumentId(0);

    #[test]
    fn taken_volume_is_not_offered_again_until_the_level_changes() {
        let mut c = ConsumedVolume::new();
        assert_eq!(c.available(I, Side::Sell, lvl(100, 5)), q(5));
        c.take(I, Side::Sell, lvl(100, 5), q(3));
        assert_eq!(c.available(I, Side::Sell, lvl(100, 5)), q(2));
        c.take(I, Side::Sell, lvl(100, 5), q(2));
        assert_eq!(c.available(I, Side::Sell, lvl(100, 5)), q(0));
        // Other sides, prices and instruments are untouched.
        assert_eq!(c.available(I, Side::Buy, lvl(100, 5)), q(5));
        assert_eq!(c.available(I, Side::Sell, lvl(101, 5)), q(5));
        assert_eq!(c.available(InstrumentId(1), Side::Sell, lvl(100, 5)), q(5));
        // The level shows something else: the entry no longer counts.
        assert_eq!(c.available(I, Side::Sell, lvl(100, 6)), q(6));
        c.take(I, Side::Sell, lvl(100, 6), q(1));
        assert_eq!(c.available(I, Side::Sell, lvl(100, 6)), q(5));
    }

    #[test]
    fn prune_forgets_changed_and_vanished_levels_only() {
        let mut c = ConsumedVolume::new();
        let mut book = L2Book::default();
        book.apply(&[lvl(99, 4)], &[lvl(100, 5), lvl(101, 7)]);
        c.take(I, Side::Sell, lvl(100, 5), q(5));
        c.take(I, Side::Sell, lvl(101, 7), q(1));
        c.take(I, Side::Buy, lvl(99, 4), q(2));
        c.prune(I, Some(&book));
        assert_eq!(c.len(), 3);
        book.apply(&[lvl(99, 0)], &[lvl(101, 8)]);
        c.prune(I, Some(&book));
        assert_eq!(c.len(), 1);
        assert_eq!(c.available(I, Side::Sell, lvl(100, 5)), q(0));
        c.prune(InstrumentId(1), None);
        assert_eq!(c.len(), 1);
        c.prune(I, None);
        assert!(c.is_empty());
    }

    #[test]
    fn level_qty_finds_levels_on_both_sides() {
        let mut book = L2Book::default();
        book.apply(&[lvl(99, 4), lvl(98, 1)], &[lvl(100, 5), lvl(102, 7)]);
        assert_eq!(level_qty(&book.bids, q(98)), q(1));
        assert_eq!(level_qty(&book.bids, q(97)), q(0));
        assert_eq!(level_qty(&book.asks, q(102)), q(7));
        assert_eq!(level_qty(&book.asks, q(101)), q(0));
        assert_eq!(level_qty(&book.asks, q(99)), q(0));
    }
}
