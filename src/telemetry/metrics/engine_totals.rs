//! The engine totals as Prometheus counters, read from the stages' own [`EngineCounters`] at
//! each scrape (nothing is copied or kept for them).

use crate::telemetry::EngineCounters;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use std::sync::Arc;

/// The engine totals, read from [`EngineCounters`] at each scrape.
pub(super) struct EngineTotals(pub(super) Arc<EngineCounters>);

impl std::fmt::Debug for EngineTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineTotals")
    }
}

impl Collector for EngineTotals {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &self.0;
        for (name, help, v) in [
            ("frames", "Frames read by the feeds", c.frames.get()),
            (
                "md_events",
                "Market-data events published on the md ring",
                c.md.get(),
            ),
            (
                "parse_errors",
                "Frames a parser refused",
                c.parse_errors.get(),
            ),
            (
                "book_tops",
                "Tops of book published by the book stage",
                c.book.get(),
            ),
            (
                "resyncs",
                "Books that lost sync and resynced",
                c.resyncs.get(),
            ),
            (
                "reconnects",
                "Cold reconnects of the venue connections",
                c.reconnects.get(),
            ),
            (
                "dead_connections",
                "Connections declared dead at their liveness deadline",
                c.dead_connections.get(),
            ),
            (
                "venue_refusals",
                "Connections and calls the venues refused with 429/418",
                c.venue_refusals.get(),
            ),
            (
                "rest_weight_waits",
                "REST requests (Binance depth snapshots) that waited for the venue's request weight",
                c.weight_waits.get(),
            ),
            (
                "ring_full",
                "Events lost because a stage's output ring was full",
                c.ring_full_book.get() + c.ring_full_signal.get(),
            ),
            (
                "rate_limited",
                "Orders refused before sending for want of a rate-limit token",
                c.rate_limited.get(),
            ),
            (
                "duplicate_fills",
                "Fills the venue sent twice, applied once",
                c.duplicate_fills.get(),
            ),
            (
                "reconcile_rounds",
                "Reconciler rounds completed",
                c.reconcile_rounds.get(),
            ),
        ] {
            let counter = ConstCounter::new(v);
            let m = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(m)?;
        }
        Ok(())
    }
}
