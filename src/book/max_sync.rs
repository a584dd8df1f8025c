//! The MAX book sequencer: turns `book` snapshot/update chunks into a consistent [`L2Book`].
//!
//! MAX's official sync algorithm (WSDOC `public_orderbook.md`, 2024-10-22; spec §3.4):
//! 1. Subscribe to the WebSocket channel.
//! 2. Buffer the events you receive from the WebSocket.
//! 3. Upon receiving a snapshot event, create an order book locally and record the last id
//!    (`li`) and version (`v`). If there's already an order book locally, the new one completely
//!    replaces it.
//! 4. Apply the events (buffered and new updates) to the local order book.
//! 5. First check that each event's `v` is the same. If it differs, go back to step 1 and
//!    resubscribe.
//! 6. Drop any event where `fi` <= local `li`.
//! 7. The first update event to be processed must satisfy `fi` <= (local `li` + 1) <= `li`;
//!    otherwise, go back to step 1 and resubscribe.
//!
//! Notes from the same page: volume `0` removes a level (unknown levels included); a snapshot
//! received during the subscription goes back to step 3; an **empty snapshot** (no `a`, no `b`)
//! means "clear the local book and wait for the next snapshot".
//!
//! Reading of steps 6 and 7 together: read literally, step 6 would drop the straddling event
//! that step 7 explicitly accepts (`fi <= local li < li`). arbline drops an event only when it is
//! entirely covered (`li <= local li`, which implies `fi <= local li`), and applies a straddling
//! first event (its levels carry their sizes as of its `li`, which is newer than the snapshot).
//! After the first applied update, every update must continue exactly: `fi == local li + 1`.
//! This is also what the official Node SDK checks.
//!
//! "Go back to step 1" is [`SyncOutcome::Resync`]: the book is cleared and later updates are
//! buffered again; the caller resubscribes, and the next snapshot rebuilds. Buffered events of a
//! different `v` than the snapshot predate it (an old book instance) and are dropped on replay.
//! After each applied frame a crossed book (best bid ≥ best ask) is an integrity error and also
//! resyncs.
//!
//! A frame arrives as consecutive chunks (`chunk` 0.., `last_chunk`), all with the same header;
//! a snapshot's chunk 0 clears the book and its last chunk completes it. The pre-snapshot
//! buffer reserves a few chunks and grows on demand up to [`MAX_PRE_SNAPSHOT_CHUNKS`], keeping
//! what it grew to (a board of hundreds of markets does not hold 1 MiB each it never uses); no
//! allocation once a book has buffered the most it ever will.

use super::l2book::L2Book;
use super::sync::{ResyncReason, SyncOutcome};
use crate::model::{BookStatus, MdEvent, MdKind};

/// Update chunks kept while waiting for a snapshot (step 2); more is a `BufferOverflow`.
/// 8 192 slots of 128 bytes (1 MiB per market), about 24 000 levels.
pub const MAX_PRE_SNAPSHOT_CHUNKS: usize = 8192;

/// Chunks reserved per market at start (8 KiB): MAX sends the snapshot right after the
/// subscription, so few updates wait for it.
const PRE_SNAPSHOT_RESERVED: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// Between frames.
    Idle,
    /// Inside a snapshot frame, expecting `next` chunk.
    Snapshot { next: u16, has_levels: bool },
    /// Inside an applied update frame.
    Applying { next: u16 },
    /// Inside a dropped (covered) update frame.
    Dropping { next: u16 },
}

pub struct MaxSync {
    /// Step 3 done and not invalidated since.
    live: bool,
    /// No update applied yet since the snapshot: step 7's first-event rule applies.
    first_pending: bool,
    /// Local `li`.
    last_id: u64,
    /// Local `v`.
    version: u64,
    frame: Frame,
    buffer: Vec<MdEvent>,
    /// Header of the update frame in progress (chunks after 0 must repeat it).
    frame_ids: (u64, u64, u64),
}

impl Default for MaxSync {
    fn default() -> Self {
        Self::new()
    }
}

impl MaxSync {
    pub fn new() -> Self {
        MaxSync {
            live: false,
            first_pending: false,
            last_id: 0,
            version: 0,
            frame: Frame::Idle,
            buffer: Vec::with_capacity(PRE_SNAPSHOT_RESERVED),
            frame_ids: (0, 0, 0),
        }
    }

    /// True when the book is built from a snapshot and in sequence.
    pub fn is_live(&self) -> bool {
        self.live
    }
    /// Local `li`: the last update id in the book.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }
    /// Local `v`: the book-engine version the book belongs to.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Forgets everything (reconnect): clears the book and the buffer, waits for a snapshot.
    pub fn reset(&mut self, book: &mut L2Book) {
        book.clear();
        self.buffer.clear();
        self.live = false;
        self.first_pending = false;
        self.frame = Frame::Idle;
    }

    fn resync(&mut self, book: &mut L2Book, why: ResyncReason) -> SyncOutcome {
        self.reset(book);
        SyncOutcome::Resync(why)
    }

    pub fn on_event(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        match ev.kind {
            MdKind::BookSnapshot => self.on_snapshot(ev, book),
            MdKind::BookUpdate if self.live => self.on_update(ev, book, false),
            MdKind::BookUpdate => {
                // Step 2: buffer until a snapshot arrives.
                if matches!(self.frame, Frame::Snapshot { .. }) {
                    // An update cannot interleave with a snapshot's chunks.
                    return self.resync(book, ResyncReason::Gap);
                }
                if self.buffer.len() >= MAX_PRE_SNAPSHOT_CHUNKS {
                    return self.resync(book, ResyncReason::BufferOverflow);
                }
                self.buffer.push(*ev);
                SyncOutcome::Buffered
            }
            _ => SyncOutcome::Dropped,
        }
    }

    /// Step 3 (and the "snapshot during the subscription" note): the snapshot replaces the book.
    fn on_snapshot(&mut self, ev: &MdEvent, book: &mut L2Book) -> SyncOutcome {
        let has_levels = ev.n_bids as usize + ev.n_asks as usize > 0;
        match self.frame {
            _ if ev.chunk == 0 => {
                book.clear();
                self.live = false;
                self.version = ev.version;
                self.last_id = ev.last_id;
                self.frame = Frame::Snapshot {
                    next: 1,
                    has_levels,
                };
            }
            Frame::Snapshot {
                next,
                has_levels: h,
            } if next == ev.chunk && self.version == ev.version && self.last_id == ev.last_id => {
                self.frame = Frame::Snapshot {
                    next: next + 1,
                    has_levels: h || has_levels,
                };
            }
            // A chunk out of order: part of the snapshot is missing.
            _ => return self.resync(book, ResyncReason::Gap),
        }
        book.apply(ev.bids(), ev.asks());
        if !ev.last_chunk {
            return SyncOutcome::Partial;
        }
        let Frame::Snapshot { has_levels, .. } = self.frame else {
            return self.resync(book, ResyncReason::Gap);
        };
        self.frame = Frame::Idle;
        if !has_levels {
            // Empty snapshot: clear and wait for the next snapshot.
            return self.resync(book, ResyncReason::EmptySnapshot);
        }
        self.live = true;
        self.first_pending = true;
        // Step 4: replay the buffered events. Swap the buffer out so `on_update` can borrow
        // `self`; the vector keeps its capacity and is swapped back.
        let mut buffered = std::mem::take(&mut self.buffer);
        let mut outcome = SyncOutcome::Synced;
        for b in &buffered {
            if b.version != self.version {
                // Buffered before the snapshot from an older book instance: stale.
                continue;
            }
            if let r @ SyncOutcome::Resync(_) = self.on_update(b, book, true) {
                outcome = r;
                break;
            }
        }
        buffered.clear();
        self.buffer = buffered;
        if let SyncOutcome::Resync(_) = outcome {
            return outcome;
        }
        if book.integrity() == BookStatus::Crossed {
            return self.resync(book, ResyncReason::Crossed);
        }
        SyncOutcome::Synced
    }

    /// Steps 5–7 for one update chunk on a live book.
    fn on_update(&mut self, ev: &MdEvent, book: &mut L2Book, replay: bool) -> SyncOutcome {
        if ev.chunk == 0 {
            // Step 5: same version, else resubscribe.
            if ev.version != self.version {
                return self.resync(book, ResyncReason::VersionChanged);
            }
            self.frame_ids = (ev.first_id, ev.last_id, ev.version);
            if ev.last_id <= self.last_id {
                // Step 6: entirely covered by the local book.
                self.frame = Frame::Dropping { next: 1 };
                if ev.last_chunk {
                    self.frame = Frame::Idle;
                }
                return SyncOutcome::Dropped;
            }
            let next_id = self.last_id + 1;
            let in_sequence = if self.first_pending {
                // Step 7: fi <= local li + 1 <= li.
                ev.first_id <= next_id && next_id <= ev.last_id
            } else {
                ev.first_id == next_id
            };
            if !in_sequence {
                return self.resync(book, ResyncReason::Gap);
            }
            self.frame = Frame::Applying { next: 1 };
        } else {
            let same_header = self.frame_ids == (ev.first_id, ev.last_id, ev.version);
            match self.frame {
                Frame::Applying { next } if next == ev.chunk && same_header => {
                    self.frame = Frame::Applying { next: next + 1 };
                }
                Frame::Dropping { next } if next == ev.chunk && same_header => {
                    self.frame = Frame::Dropping { next: next + 1 };
                    if ev.last_chunk {
                        self.frame = Frame::Idle;
                    }
                    return SyncOutcome::Dropped;
                }
                _ => return self.resync(book, ResyncReason::Gap),
            }
        }
        book.apply(ev.bids(), ev.asks());
        if !ev.last_chunk {
            return SyncOutcome::Partial;
        }
        self.frame = Frame::Idle;
        self.last_id = ev.last_id;
        self.first_pending = false;
        if !replay && book.integrity() == BookStatus::Crossed {
            return self.resync(book, ResyncReason::Crossed);
        }
        SyncOutcome::Applied
    }
}
