//! What a venue's sequencer says about each market-data chunk it is given.

pub use crate::model::ResyncReason;

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
