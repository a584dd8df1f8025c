//! Binance book sequencing (spec binance.md §3.2–§3.4), spot and USDⓈ-M futures.
//!
//! Spot ("How to manage a local order book correctly", SPOTDOCS):
//! - S2. Buffer the events received from the stream; note the `U` of the first one.
//! - S4. If the snapshot's `lastUpdateId` is strictly less than that `U`, get a new snapshot.
//! - S5. Discard buffered events with `u <= lastUpdateId`.
//! - S6. Set the local book to the snapshot; its update id is `lastUpdateId`.
//! - S7. Apply buffered, then live events: an event with `u` < local id is ignored; one with
//!   `U > local + 1` means events were missed: restart. Then set each level's absolute quantity
//!   (0 removes) and set the local id to `u`. The first applied event thus has
//!   `U <= lastUpdateId + 1 <= u` (the recordings start at exactly `U = lastUpdateId + 1`), and
//!   each later one `U == previous u + 1`.
//!
//! USDⓈ-M futures (FUTDOCS):
//! - F4. Drop any event where `u < lastUpdateId` (`u == lastUpdateId` is applied).
//! - F5. The first processed event must have `U <= lastUpdateId <= u`.
//! - F6. Each new event's `pu` must equal the previous event's `u`, otherwise restart from the
//!   snapshot. (`U` is *not* `previous u + 1` on futures.)
//! - F7/F8. Quantities are absolute; 0 removes the level (unknown levels are normal).

use super::l2book::L2Book;
use super::sync::{ResyncReason, SyncOutcome};
use crate::model::{BookStatus, MdEvent, MdKind};
use crate::venue::binance::BinanceMarket;

const BUFFER: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Snapshotting,
    Live,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    None,
    Applying,
    Skipping,
}

pub struct BinanceSync {
    market: BinanceMarket,
    state: State,
    last: u64,
    first_applied: bool,
    frame: Frame,
    buffer: Vec<MdEvent>,
    overflowed: bool,
}

impl BinanceSync {
    pub fn new(market: BinanceMarket) -> Self {
        BinanceSync {
            market,
            state: State::Waiting,
            last: 0,
            first_applied: false,
            frame: Frame::None,
            buffer: Vec::with_capacity(BUFFER),
            overflowed: false,
        }
    }

    pub fn is_live(&self) -> bool {
        self.state == State::Live
    }

    pub fn last_update_id(&self) -> u64 {
        self.last
    }

    pub fn reset(&mut self, book: &mut L2Book) {
        book.clear();
        self.state = State::Waiting;
        self.frame = Frame::None;
        self.buffer.clear();
        self.overflowed = false;
    }

    fn resync(&mut self, book: &mut L2Book, r: ResyncReason) -> SyncOutcome {
        self.reset(book);
        SyncOutcome::Resync(r)
    }

    pub fn on_event(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        match ev.kind {
            MdKind::BookSnapshot => self.on_snapshot(ev, book),
            MdKind::BookUpdate => match self.state {
                State::Waiting | State::Snapshotting => {
                    // S2: buffer until the snapshot.
                    if self.buffer.len() == BUFFER {
                        self.overflowed = true;
                    } else {
                        self.buffer.push(*ev);
                    }
                    SyncOutcome::Buffered
                }
                State::Live => self.on_update(ev, book),
            },
            _ => SyncOutcome::Dropped,
        }
    }

    fn on_snapshot(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            // S6: the snapshot replaces the local book.
            book.clear();
            self.state = State::Snapshotting;
        } else if self.state != State::Snapshotting {
            return SyncOutcome::Dropped;
        }
        book.apply(ev.bids(), ev.asks());
        if !ev.last_chunk {
            return SyncOutcome::Partial;
        }
        if self.overflowed {
            return self.resync(book, ResyncReason::BufferOverflow);
        }
        // S4: a spot snapshot older than the first buffered event cannot be joined.
        if self.market == BinanceMarket::Spot {
            if let Some(first) = self.buffer.first() {
                if ev.last_id < first.first_id.saturating_sub(1) {
                    return self.resync(book, ResyncReason::SnapshotTooOld);
                }
            }
        }
        self.last = ev.last_id;
        self.first_applied = false;
        self.frame = Frame::None;
        self.state = State::Live;
        let mut i = 0;
        while i < self.buffer.len() {
            let b = self.buffer[i];
            i += 1;
            if let SyncOutcome::Resync(r) = self.on_update(&b, book) {
                return SyncOutcome::Resync(r);
            }
        }
        self.buffer.clear();
        if book.integrity() == BookStatus::Crossed {
            return self.resync(book, ResyncReason::Crossed);
        }
        SyncOutcome::Synced
    }

    fn decide(&self, ev: &MdEvent) -> Result<Frame, ResyncReason> {
        let (u_first, u_last, last) = (ev.first_id, ev.last_id, self.last);
        match self.market {
            BinanceMarket::Spot => {
                // S5 / S7: already contained.
                if u_last <= last {
                    return Ok(Frame::Skipping);
                }
                // S7: U > local + 1 means missed events (first event: U <= last+1 <= u).
                if u_first > last + 1 {
                    return Err(ResyncReason::Gap);
                }
                if self.first_applied && u_first != last + 1 {
                    return Err(ResyncReason::Gap);
                }
                Ok(Frame::Applying)
            }
            BinanceMarket::Futures => {
                if !self.first_applied {
                    // F4: drop u < lastUpdateId.
                    if u_last < last {
                        return Ok(Frame::Skipping);
                    }
                    // F5: U <= lastUpdateId <= u.
                    if u_first > last {
                        return Err(ResyncReason::Gap);
                    }
                    Ok(Frame::Applying)
                } else {
                    // F6: pu must chain onto the previous u.
                    if ev.prev_id != last as i64 {
                        if u_last <= last {
                            return Ok(Frame::Skipping);
                        }
                        return Err(ResyncReason::Gap);
                    }
                    Ok(Frame::Applying)
                }
            }
        }
    }

    fn on_update(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            match self.decide(ev) {
                Ok(f) => self.frame = f,
                Err(r) => return self.resync(book, r),
            }
        }
        match self.frame {
            Frame::None => SyncOutcome::Dropped,
            Frame::Skipping => {
                if ev.last_chunk {
                    self.frame = Frame::None;
                }
                SyncOutcome::Dropped
            }
            Frame::Applying => {
                // F7/F8, S7: absolute quantities.
                book.apply(ev.bids(), ev.asks());
                if !ev.last_chunk {
                    return SyncOutcome::Partial;
                }
                self.frame = Frame::None;
                self.last = ev.last_id;
                self.first_applied = true;
                if book.integrity() == BookStatus::Crossed {
                    return self.resync(book, ResyncReason::Crossed);
                }
                SyncOutcome::Applied
            }
        }
    }
}
