//! Engine-wide event counters for the stats line and the final summary.
//!
//! Each counter has exactly one writing thread, so a write is a relaxed load and store (no
//! locked read-modify-write), and each sits on its own cache line so writers on different cores
//! never share one. Readers (the side thread, the summary) see values a moment old.

use crossbeam::utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Counter(CachePadded<AtomicU64>);

impl Counter {
    /// Single writer only.
    #[inline]
    pub fn add(&self, n: u64) {
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v + n, Ordering::Relaxed);
    }
    /// For a counter several threads write (the feeds share `frames`, `md`, `parse_errors`):
    /// an atomic add.
    #[inline]
    pub fn add_shared(&self, n: u64) {
        if n > 0 {
            self.0.fetch_add(n, Ordering::Relaxed);
        }
    }
    /// Single writer only: for counts kept elsewhere and mirrored here.
    #[inline]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Writers in brackets.
#[derive(Default)]
pub struct EngineCounters {
    /// Frames read by feeds [feed].
    pub frames: Counter,
    /// Market-data events published on the md ring [feed].
    pub md: Counter,
    /// Frames refused by a parser [feed].
    pub parse_errors: Counter,
    /// Tops published on the book ring [book].
    pub book: Counter,
    /// Books that lost sync [book].
    pub resyncs: Counter,
    /// Connections replaced without a gap before the venue's age limit [feeds].
    pub rotations: Counter,
    /// Connections declared dead by their liveness deadline (silent: no frame, no pong)
    /// [feeds].
    pub dead_connections: Counter,
    /// Cold reconnects after a lost, dead or refused connection [feeds].
    pub reconnects: Counter,
    /// Control messages that had to wait for their connection's message budget, and the ms
    /// they waited [feeds].
    pub budget_deferred: Counter,
    pub budget_wait_ms: Counter,
    /// REST requests (Binance depth snapshots) that waited for the venue's request-weight
    /// budget [snapshot threads].
    pub weight_waits: Counter,
    /// Connections and calls the venues refused with 429/418 [feeds, gateways].
    pub venue_refusals: Counter,
    /// Events lost because a stage's output ring was full [each stage; summed].
    pub ring_full_book: Counter,
    pub ring_full_signal: Counter,
    /// Signals published [scanner].
    pub signals: Counter,
    /// Orders handed to a gateway [order].
    pub orders_sent: Counter,
    pub acks: Counter,
    /// Venue rejects [order].
    pub rejects: Counter,
    /// Of the rejects: refused by the gateway before sending, no rate-limit token [order].
    pub rate_limited: Counter,
    /// Signals refused by pre-trade risk [order].
    pub risk_rejects: Counter,
    pub fills: Counter,
    pub duplicate_fills: Counter,
    pub cancels: Counter,
    /// The order stage's view of cancels asked and of the reconciler's rounds: rounds done,
    /// fills recovered from REST, foreign orders adopted, orders the venue no longer listed
    /// [order].
    pub cancel_requests: Counter,
    pub reconcile_rounds: Counter,
    pub reconcile_fills: Counter,
    pub adopted: Counter,
    pub reconcile_missing: Counter,
}
