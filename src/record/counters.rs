//! What the recorder has done, printed periodically and at exit.

use std::fmt;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages fetched from the stream (redeliveries included).
    pub received: u64,
    /// Rows inserted into the event tables.
    pub written: u64,
    /// Events already in their table (a redelivery or a second publish): skipped.
    pub duplicates: u64,
    /// Messages that were not valid events, kept in `bad_messages`.
    pub bad: u64,
    /// Messages the server delivered more than once (an earlier delivery was not acknowledged).
    pub redelivered: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Connections to NATS or PostgreSQL that failed or were lost.
    pub reconnects: u64,
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {} written {} duplicates {} bad {} redelivered {} batches {} reconnects {}",
            self.received,
            self.written,
            self.duplicates,
            self.bad,
            self.redelivered,
            self.batches,
            self.reconnects
        )
    }
}
