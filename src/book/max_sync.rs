//! MAX book sequencing: the official algorithm (max-websocket-docs `public_orderbook.md`,
//! 2024-10-22; spec max.md §3.4), step by step:
//!
//! 1. Subscribe to the WebSocket channel.
//! 2. Buffer the events you receive from the WebSocket.
//! 3. Upon receiving a snapshot event, create an order book locally and record the last id (`li`)
//!    and version (`v`). If there's already an order book locally, the new one completely
//!    replaces it.
//! 4. Apply the events (buffered and new updates) to the local order book.
//! 5. First check that each event's `v` is the same. If it differs, go back to step 1 and
//!    resubscribe.
//! 6. Drop any event where `fi` <= local `li`.
//! 7. The first update event to be processed must satisfy `fi` <= (local `li` + 1) <= `li`;
//!    otherwise, go back to step 1 and resubscribe.
//!
//! Notes from the same page: volume `0` removes a level (removing an unknown level is normal); a
//! snapshot received during the subscription means "go back to step 3"; an **empty** snapshot
//! (no `a`, no `b`) means clear the book and wait for the next snapshot. In practice every update
//! after the first must continue exactly (`fi == li + 1`), otherwise updates were missed.
//!
//! A frame may arrive as several chunks (see `MdEvent`); the decision for a frame is taken on
//! its chunk 0 and followed by its other chunks.

use super::l2book::L2Book;
use super::sync::{ResyncReason, SyncOutcome};
use crate::model::{MdEvent, MdKind};

/// Pre-snapshot buffer capacity in chunks.
const BUFFER: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Steps 1–2: waiting for a snapshot, buffering updates.
    Waiting,
    /// Step 3: snapshot chunks arriving.
    Snapshotting,
    /// Step 4 on: the book is live.
    Live,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    None,
    Applying,
    Skipping,
}

pub struct MaxSync {
    state: State,
    last_id: u64,
    version: u64,
    /// True until the first update after a snapshot was applied (step 7 applies to it).
    first_after_snapshot: bool,
    frame: Frame,
    snapshot_levels: usize,
    buffer: Vec<MdEvent>,
    overflowed: bool,
}

impl Default for MaxSync {
    fn default() -> Self {
        Self::new()
    }
}

impl MaxSync {
    pub fn new() -> Self {
        MaxSync {
            state: State::Waiting,
            last_id: 0,
            version: 0,
            first_after_snapshot: true,
            frame: Frame::None,
            snapshot_levels: 0,
            buffer: Vec::with_capacity(BUFFER),
            overflowed: false,
        }
    }

    pub fn is_live(&self) -> bool {
        self.state == State::Live
    }
    pub fn last_id(&self) -> u64 {
        self.last_id
    }
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Clears the book and waits for a new snapshot (reconnect or external resync).
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
                // Step 2: buffer until the snapshot.
                State::Waiting | State::Snapshotting => {
                    if self.buffer.len() == BUFFER {
                        self.overflowed = true;
                        return SyncOutcome::Buffered;
                    }
                    self.buffer.push(*ev);
                    SyncOutcome::Buffered
                }
                State::Live => self.on_update(ev, book),
            },
            _ => SyncOutcome::Dropped,
        }
    }

    fn on_snapshot(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            // Step 3: a new snapshot completely replaces any local book.
            book.clear();
            self.state = State::Snapshotting;
            self.snapshot_levels = 0;
        } else if self.state != State::Snapshotting {
            return SyncOutcome::Dropped;
        }
        book.apply(ev.bids(), ev.asks());
        self.snapshot_levels += ev.bids().len() + ev.asks().len();
        if !ev.last_chunk {
            return SyncOutcome::Partial;
        }
        if self.snapshot_levels == 0 {
            // Remark of 2024-11-13: an empty snapshot clears the book; wait for the next one.
            return self.resync(book, ResyncReason::EmptySnapshot);
        }
        if self.overflowed {
            return self.resync(book, ResyncReason::BufferOverflow);
        }
        self.last_id = ev.last_id;
        self.version = ev.version;
        self.first_after_snapshot = true;
        self.state = State::Live;
        self.frame = Frame::None;
        // Step 4: replay the buffered updates through the same rules.
        let mut i = 0;
        while i < self.buffer.len() {
            let b = self.buffer[i];
            i += 1;
            if let SyncOutcome::Resync(r) = self.on_update(&b, book) {
                return SyncOutcome::Resync(r);
            }
        }
        self.buffer.clear();
        if book.integrity() == crate::model::BookStatus::Crossed {
            return self.resync(book, ResyncReason::Crossed);
        }
        SyncOutcome::Synced
    }

    fn on_update(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        if ev.chunk == 0 {
            // Step 5: every event must carry the snapshot's version.
            if ev.version != self.version {
                return self.resync(book, ResyncReason::VersionChanged);
            }
            // Step 6: drop events the book already contains. (Read with step 7, which admits a
            // first event with `fi <= li` that reaches past `li`, "drop" means `li_ev <= li`, as
            // the official Node SDK checks.)
            if ev.last_id <= self.last_id {
                self.frame = Frame::Skipping;
            } else if self.first_after_snapshot {
                // Step 7: the first processed update must satisfy fi <= li + 1 <= its li.
                if ev.first_id > self.last_id + 1 {
                    return self.resync(book, ResyncReason::Gap);
                }
                self.frame = Frame::Applying;
            } else if ev.first_id != self.last_id + 1 {
                // Later updates continue exactly; a hole means missed updates.
                return self.resync(book, ResyncReason::Gap);
            } else {
                self.frame = Frame::Applying;
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
                book.apply(ev.bids(), ev.asks());
                if !ev.last_chunk {
                    return SyncOutcome::Partial;
                }
                self.frame = Frame::None;
                self.last_id = ev.last_id;
                self.first_after_snapshot = false;
                if book.integrity() == crate::model::BookStatus::Crossed {
                    return self.resync(book, ResyncReason::Crossed);
                }
                SyncOutcome::Applied
            }
        }
    }
}
