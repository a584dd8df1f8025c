//! The Binance book sequencer: keeps one local L2 book in step with a REST snapshot plus the
//! diff-depth stream, for spot and USDⓈ-M futures (spec `binance.md` §3).
//!
//! # Spot algorithm (SPOTDOCS "How to manage a local order book correctly", spec §3.2)
//!
//! 1. Open a WebSocket connection to `<symbol>@depth`.
//! 2. Buffer the events received from the stream. Note the `U` of the first event you received.
//! 3. Get a depth snapshot from `/api/v3/depth?symbol=..&limit=5000`.
//! 4. If the `lastUpdateId` from the snapshot is strictly less than the `U` from step 2, go back
//!    to step 3.
//! 5. In the buffered events, discard any event where `u` is <= `lastUpdateId` of the snapshot.
//!    The first buffered event should now have `lastUpdateId` within its `[U;u]` range.
//! 6. Set your local order book to the snapshot. Its update ID is `lastUpdateId`.
//! 7. Apply the update procedure below to all buffered events, and then to all subsequent events.
//!
//! Update procedure:
//! * U1. If the event's `u` is less than (or equal to, per step 5) the book's update ID, ignore
//!   the event.
//! * U2. If the event's `U` is greater than the book's update ID + 1, events were missed:
//!   discard the local book and restart from the beginning.
//! * U3. Normally `U` of the next event equals `u + 1` of the previous event.
//! * U4. Set each level's absolute quantity; zero removes the level.
//! * U5. Set the book's update ID to the event's `u`.
//!
//! As the spec (§3.4) settles the ambiguity of step 5, the first applied event must satisfy
//! `U <= last + 1 <= u` (the real recordings all start at `U == lastUpdateId + 1`), and every
//! later one `U == last + 1`.
//!
//! # USDⓈ-M futures algorithm (FUTDOCS, spec §3.3)
//!
//! 1. Open a stream to `<symbol>@depth`.
//! 2. Buffer the events you receive from the stream.
//! 3. Get a depth snapshot from `/fapi/v1/depth?symbol=..&limit=1000`.
//! 4. Drop any event where `u` is < `lastUpdateId` in the snapshot.
//! 5. The first processed event should have `U <= lastUpdateId` AND `u >= lastUpdateId`.
//! 6. While listening to the stream, each new event's `pu` should be equal to the previous
//!    event's `u`, otherwise initialize the process from step 3.
//! 7. The data in each event is the absolute quantity for a price level.
//! 8. If the quantity is 0, remove the price level.
//! 9. Removing a price level that is not in the local book can happen and is normal.
//!
//! On futures `U` is never compared with `last + 1`: ids are shared across symbols. Step 4 is
//! applied to every event (an event whose `u` is below the book's id carries nothing new).
//!
//! # Chunks and resyncs
//!
//! The parser splits a frame into chunks ([`MdEvent::chunk`], `last_chunk`). The decision for a
//! frame is taken at chunk 0 and followed by its later chunks; the frame counts as applied on its
//! last chunk (`Applied`), `Partial` before. After an applied frame the book's integrity is
//! checked: crossed ⇒ `Resync(Crossed)`. On any resync the book is cleared and the sequencer
//! buffers updates until the caller brings a new snapshot. A frame that revealed a gap is kept
//! as the first buffered event, so the next snapshot can continue from it.

use super::l2book::L2Book;
use super::sync::{ResyncReason, SyncOutcome};
use crate::model::{BookStatus, MdEvent, MdKind};
use crate::venue::binance::BinanceMarket;

/// Update chunks kept while waiting for a snapshot. A REST snapshot takes a few hundred
/// milliseconds; at 10 frames/s per symbol this is minutes of buffer (16 384 slots of 128 bytes,
/// 2 MiB per market, about 49 000 levels).
pub const BINANCE_PRE_SNAPSHOT_CHUNKS: usize = 16_384;

/// Chunks reserved per market at start (8 KiB): a snapshot that comes in time needs few more.
/// The buffer grows on demand up to [`BINANCE_PRE_SNAPSHOT_CHUNKS`] and keeps what it grew to,
/// so a board of hundreds of markets does not hold 2 MiB each that it never uses.
const PRE_SNAPSHOT_RESERVED: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No book: updates are buffered (spot step 2, futures step 2).
    AwaitSnapshot,
    /// Snapshot chunks are being loaded; `snapshot_id` is its `lastUpdateId`.
    LoadingSnapshot,
    /// The book follows the stream.
    Live,
}

/// What was decided at chunk 0 of the frame in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    Idle,
    Applying { last_id: u64 },
    Dropping,
}

pub struct BinanceSync {
    market: BinanceMarket,
    state: State,
    frame: Frame,
    /// The book's update id (`lastUpdateId`, then each applied `u`).
    last: u64,
    /// The next applied frame is the first after a snapshot (spot step 5, futures step 5).
    first_pending: bool,
    snapshot_id: u64,
    buffer: Vec<MdEvent>,
}

impl BinanceSync {
    pub fn new(market: BinanceMarket) -> Self {
        BinanceSync {
            market,
            state: State::AwaitSnapshot,
            frame: Frame::Idle,
            last: 0,
            first_pending: true,
            snapshot_id: 0,
            buffer: Vec::with_capacity(PRE_SNAPSHOT_RESERVED),
        }
    }

    pub fn is_live(&self) -> bool {
        self.state == State::Live
    }

    pub fn last_update_id(&self) -> u64 {
        self.last
    }

    /// External resync (reconnect, operator): clear the book and wait for a new snapshot.
    pub fn reset(&mut self, book: &mut L2Book) {
        book.clear();
        self.buffer.clear();
        self.state = State::AwaitSnapshot;
        self.frame = Frame::Idle;
        self.first_pending = true;
    }

    /// Feeds one `BookSnapshot` or `BookUpdate` chunk of this instrument, in order. Other kinds
    /// are `Dropped`.
    pub fn on_event(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        match ev.kind {
            MdKind::BookSnapshot => self.on_snapshot(ev, book),
            MdKind::BookUpdate => match self.state {
                State::Live => {
                    let outcome = self.step(ev, book);
                    if let SyncOutcome::Resync(reason) = outcome {
                        self.enter_resync(book);
                        if reason == ResyncReason::Gap {
                            // The frame that showed the gap is newer than the book: keep it.
                            self.buffer.push(*ev);
                        }
                    }
                    outcome
                }
                State::AwaitSnapshot | State::LoadingSnapshot => self.buffer_update(ev),
            },
            _ => SyncOutcome::Dropped,
        }
    }

    /// Step 2: buffer an update until the snapshot is in place.
    fn buffer_update(&mut self, ev: &MdEvent) -> SyncOutcome {
        if self.buffer.is_empty() && ev.chunk != 0 {
            // The tail of a frame whose head was not kept cannot be applied alone.
            return SyncOutcome::Dropped;
        }
        if self.buffer.len() >= BINANCE_PRE_SNAPSHOT_CHUNKS {
            // Keep a contiguous run from a frame start: drop everything older.
            self.buffer.clear();
            if ev.chunk == 0 {
                self.buffer.push(*ev);
            }
            return SyncOutcome::Resync(ResyncReason::BufferOverflow);
        }
        self.buffer.push(*ev);
        SyncOutcome::Buffered
    }

    fn on_snapshot(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            // Step 6: the local book is set to the snapshot.
            book.clear();
            self.state = State::LoadingSnapshot;
            self.frame = Frame::Idle;
            self.snapshot_id = ev.last_id;
        } else if self.state != State::LoadingSnapshot || ev.last_id != self.snapshot_id {
            return SyncOutcome::Dropped;
        }
        book.apply(ev.bids(), ev.asks());
        if !ev.last_chunk {
            return SyncOutcome::Partial;
        }
        self.replay(book)
    }

    /// The snapshot is loaded: spot step 4, then step 7 over the buffered events.
    fn replay(&mut self, book: &mut L2Book) -> SyncOutcome {
        self.last = self.snapshot_id;
        self.first_pending = true;
        self.frame = Frame::Idle;
        if self.market == BinanceMarket::Spot
            && let Some(first) = self.buffer.first()
            && self.snapshot_id < first.first_id
        {
            // Spot step 4: snapshot older than the first buffered `U`: fetch it again,
            // keep buffering.
            book.clear();
            self.state = State::AwaitSnapshot;
            return SyncOutcome::Resync(ResyncReason::SnapshotTooOld);
        }
        self.state = State::Live;
        let mut i = 0;
        while i < self.buffer.len() {
            let ev = self.buffer[i];
            if let SyncOutcome::Resync(reason) = self.step(&ev, book) {
                book.clear();
                self.state = State::AwaitSnapshot;
                self.frame = Frame::Idle;
                // A gap frame stays buffered for the next snapshot; a crossed one was applied.
                let keep_from = if reason == ResyncReason::Gap {
                    i
                } else {
                    i + 1
                };
                self.buffer.drain(..keep_from);
                if self.buffer.first().is_some_and(|e| e.chunk != 0) {
                    self.buffer.clear();
                }
                return SyncOutcome::Resync(reason);
            }
            i += 1;
        }
        self.buffer.clear();
        SyncOutcome::Synced
    }

    /// The update procedure for one chunk against the live book. Does not clear anything on
    /// `Resync`: the caller does.
    fn step(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            if self.frame != Frame::Idle {
                // A new frame before the previous one ended: part of a frame is missing and
                // the book may hold half of it.
                return SyncOutcome::Resync(ResyncReason::Gap);
            }
            match self.decide(ev) {
                Decision::Drop => self.frame = Frame::Dropping,
                Decision::Gap => return SyncOutcome::Resync(ResyncReason::Gap),
                Decision::Apply => {
                    self.frame = Frame::Applying {
                        last_id: ev.last_id,
                    }
                }
            }
        }
        match self.frame {
            Frame::Idle => SyncOutcome::Dropped,
            Frame::Dropping => {
                if ev.last_chunk {
                    self.frame = Frame::Idle;
                }
                SyncOutcome::Dropped
            }
            Frame::Applying { last_id } => {
                if ev.last_id != last_id {
                    return SyncOutcome::Resync(ResyncReason::Gap);
                }
                // Spot U4 / futures steps 7–9: absolute quantities, zero removes.
                book.apply(ev.bids(), ev.asks());
                if !ev.last_chunk {
                    return SyncOutcome::Partial;
                }
                // Spot U5: the book's id becomes the event's `u`.
                self.last = last_id;
                self.first_pending = false;
                self.frame = Frame::Idle;
                if book.integrity() == BookStatus::Crossed {
                    return SyncOutcome::Resync(ResyncReason::Crossed);
                }
                SyncOutcome::Applied
            }
        }
    }

    /// The sequence checks, taken at chunk 0 of a frame.
    fn decide(&self, ev: &MdEvent) -> Decision {
        let (first_u, u, last) = (ev.first_id, ev.last_id, self.last);
        match self.market {
            BinanceMarket::Spot => {
                // Spot step 5 / U1: discard any event where `u <= lastUpdateId`.
                if u <= last {
                    return Decision::Drop;
                }
                if self.first_pending {
                    // Spot step 5 as settled in spec §3.4: `U <= last + 1 <= u`
                    // (`last + 1 <= u` holds since `u > last`).
                    if first_u > last + 1 {
                        return Decision::Gap;
                    }
                } else if first_u != last + 1 {
                    // U2/U3: each event's `U` is the previous `u + 1`.
                    return Decision::Gap;
                }
                Decision::Apply
            }
            BinanceMarket::Futures => {
                // Futures step 4: drop any event where `u < lastUpdateId` (`u == last` is kept).
                if u < last {
                    return Decision::Drop;
                }
                if self.first_pending {
                    // Futures step 5: `U <= lastUpdateId <= u`.
                    if first_u > last {
                        return Decision::Gap;
                    }
                } else if ev.prev_id != last as i64 {
                    // Futures step 6: `pu` equals the previous event's `u`.
                    return Decision::Gap;
                }
                Decision::Apply
            }
        }
    }

    fn enter_resync(&mut self, book: &mut L2Book) {
        book.clear();
        self.buffer.clear();
        self.state = State::AwaitSnapshot;
        self.frame = Frame::Idle;
        self.first_pending = true;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Drop,
    Gap,
    Apply,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fixed, Level};

    fn lvl(p: i64, q: i64) -> Level {
        Level {
            price: Fixed::from_int(p),
            qty: Fixed::from_int(q),
        }
    }

    fn snapshot(id: u64, bid: i64, ask: i64) -> MdEvent {
        let mut ev = MdEvent {
            kind: MdKind::BookSnapshot,
            last_id: id,
            last_chunk: true,
            n_bids: 1,
            n_asks: 1,
            ..MdEvent::default()
        };
        ev.levels[0] = lvl(bid, 1);
        ev.levels[1] = lvl(ask, 1);
        ev
    }

    fn update(first: u64, last: u64, pu: i64, bid: Level) -> MdEvent {
        let mut ev = MdEvent {
            kind: MdKind::BookUpdate,
            first_id: first,
            last_id: last,
            prev_id: pu,
            last_chunk: true,
            n_bids: 1,
            ..MdEvent::default()
        };
        ev.levels[0] = bid;
        ev
    }

    #[test]
    fn spot_snapshot_older_than_first_buffered_event_is_refused() {
        let mut s = BinanceSync::new(BinanceMarket::Spot);
        let mut book = L2Book::default();
        assert_eq!(
            s.on_event(&update(105, 107, -1, lvl(9, 2)), &mut book),
            SyncOutcome::Buffered
        );
        // Step 4: lastUpdateId 100 < U 105.
        assert_eq!(
            s.on_event(&snapshot(100, 9, 11), &mut book),
            SyncOutcome::Resync(ResyncReason::SnapshotTooOld)
        );
        assert!(!s.is_live());
        // Step 3 again: a newer snapshot continues from the kept buffer.
        assert_eq!(
            s.on_event(&snapshot(105, 9, 11), &mut book),
            SyncOutcome::Synced
        );
        assert_eq!(s.last_update_id(), 107);
        assert_eq!(book.best_bid(), lvl(9, 2));
    }

    #[test]
    fn futures_applies_the_event_whose_u_equals_last_update_id() {
        let mut s = BinanceSync::new(BinanceMarket::Futures);
        let mut book = L2Book::default();
        s.on_event(&update(90, 100, 80, lvl(9, 3)), &mut book);
        s.on_event(&update(101, 120, 100, lvl(9, 4)), &mut book);
        assert_eq!(
            s.on_event(&snapshot(100, 9, 11), &mut book),
            SyncOutcome::Synced
        );
        assert_eq!(s.last_update_id(), 120);
        assert_eq!(book.best_bid(), lvl(9, 4));
        // Step 6: pu must equal the previous u.
        assert_eq!(
            s.on_event(&update(130, 140, 125, lvl(9, 5)), &mut book),
            SyncOutcome::Resync(ResyncReason::Gap)
        );
        assert!(book.best_bid().qty.is_zero());
    }

    #[test]
    fn crossed_book_after_an_update_resyncs() {
        let mut s = BinanceSync::new(BinanceMarket::Spot);
        let mut book = L2Book::default();
        assert_eq!(
            s.on_event(&snapshot(10, 9, 11), &mut book),
            SyncOutcome::Synced
        );
        assert_eq!(
            s.on_event(&update(11, 11, -1, lvl(12, 1)), &mut book),
            SyncOutcome::Resync(ResyncReason::Crossed)
        );
        assert!(!s.is_live());
        assert_eq!(book.integrity(), BookStatus::Empty);
    }

    #[test]
    fn buffer_overflow_resyncs_and_keeps_buffering() {
        let mut s = BinanceSync::new(BinanceMarket::Spot);
        let mut book = L2Book::default();
        for i in 0..BINANCE_PRE_SNAPSHOT_CHUNKS as u64 {
            assert_eq!(
                s.on_event(&update(i + 1, i + 1, -1, lvl(9, 1)), &mut book),
                SyncOutcome::Buffered
            );
        }
        let n = BINANCE_PRE_SNAPSHOT_CHUNKS as u64 + 1;
        assert_eq!(
            s.on_event(&update(n, n, -1, lvl(9, 7)), &mut book),
            SyncOutcome::Resync(ResyncReason::BufferOverflow)
        );
        assert_eq!(
            s.on_event(&snapshot(n, 9, 11), &mut book),
            SyncOutcome::Synced
        );
        assert_eq!(s.last_update_id(), n);
        // The kept frame (U = u = n) is covered by the snapshot, so the snapshot's level stays.
        assert_eq!(book.best_bid(), lvl(9, 1));
    }
}
