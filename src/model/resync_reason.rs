//! Why a book was dropped: raised by a venue's sequencer in `book`, carried to the operator in a
//! [`super::SystemKind::Resync`] event.

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
