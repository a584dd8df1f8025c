//! What a venue's sequencer says about each market-data chunk it is given.

/// Why a book was dropped and must be rebuilt from a new snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ResyncReason {
    /// An update id is missing between the local book and the event.
    Gap = 1,
    /// MAX `v` changed: a new book-engine instance, ids restart.
    VersionChanged = 2,
    /// MAX sent a snapshot with no levels: clear and wait for the next snapshot.
    EmptySnapshot = 3,
    /// Best bid ≥ best ask after an update: the book cannot be trusted.
    Crossed = 4,
    /// More updates arrived before the snapshot than the pre-allocated buffer holds.
    BufferOverflow = 5,
    /// Binance spot: the snapshot is older than the first buffered event (fetch it again).
    SnapshotTooOld = 6,
    /// The feed reconnected or was told to resync from outside.
    External = 7,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// A non-final chunk of a frame was taken; wait for the rest before publishing.
    Partial,
    /// A complete update frame was applied to the live book: publish the new top.
    Applied,
    /// No snapshot yet: the event was kept to be replayed after it.
    Buffered,
    /// Already covered by the snapshot (or otherwise stale): ignored, nothing changed.
    Dropped,
    /// A snapshot is in place and the buffered events replayed: the book is live now.
    Synced,
    /// Sequence broken: the book is cleared and waits for a new snapshot, which the caller must
    /// request from the feed.
    Resync(ResyncReason),
}
