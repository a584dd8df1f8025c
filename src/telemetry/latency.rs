//! Latency histograms per pipeline stage (HdrHistogram, 3 significant digits, 1 ns .. 60 s).
//!
//! Each hot stage owns the histograms it records into (no sharing, no lock); bounds are fixed at
//! creation so `record` never allocates. At shutdown the stages hand them back and they are
//! merged into one [`LatencySet`] for the report.

use crate::model::Tally;
use hdrhistogram::Histogram;
use serde::Serialize;

/// The timed segments of the pipeline, in pipeline order: the work of each stage (`Parse` …
/// `Order`) and the end-to-end spans across several (`TickToTrade`, `SignalToAck`,
/// `SignalToFill`). Not to be confused with [`crate::pipeline::Stage`], a thread's unit of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Segment {
    /// Frame read off the socket (TLS and WebSocket decoding included) → parsed event
    /// published on the md ring.
    Parse = 0,
    /// Md event published → top of book published on the book ring.
    Book = 1,
    /// Top of book published → signal published on the signal ring.
    Scan = 2,
    /// Signal published → order built, risk-checked, sign-ready and handed to the gateway.
    Order = 3,
    /// Frame read → order handed to the gateway.
    TickToTrade = 4,
    /// Signal → venue acknowledgement seen by the order stage.
    SignalToAck = 5,
    /// Signal → first fill seen by the order stage.
    SignalToFill = 6,
    /// Frame read off the socket → the order's bytes written to the venue's socket: tick-to-
    /// trade plus the hand-off to the gateway, building, signing and writing the request. Live
    /// gateways only (the in-process venue has no socket).
    WireToWire = 7,
}

impl Segment {
    pub const ALL: [Segment; 8] = [
        Segment::Parse,
        Segment::Book,
        Segment::Scan,
        Segment::Order,
        Segment::TickToTrade,
        Segment::SignalToAck,
        Segment::SignalToFill,
        Segment::WireToWire,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Segment::Parse => "parse",
            Segment::Book => "book",
            Segment::Scan => "scan",
            Segment::Order => "order",
            Segment::TickToTrade => "tick_to_trade",
            Segment::SignalToAck => "signal_to_ack",
            Segment::SignalToFill => "signal_to_fill",
            Segment::WireToWire => "wire_to_wire",
        }
    }
}

const HIGHEST_NS: u64 = 60_000_000_000;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("static histogram bounds are valid")
}

/// One histogram per [`Segment`]; a stage records only into its own entries.
#[derive(Clone)]
pub struct LatencySet {
    h: [Histogram<u64>; Segment::ALL.len()],
}

impl Default for LatencySet {
    fn default() -> Self {
        LatencySet {
            h: std::array::from_fn(|_| new_histogram()),
        }
    }
}

/// Percentiles of one stage, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl LatencySet {
    /// Records `ns` (clamped into the histogram's range). Never allocates.
    #[inline]
    pub fn record(&mut self, stage: Segment, ns: u64) {
        let v = ns.clamp(1, HIGHEST_NS);
        // In range by the clamp, so this cannot fail.
        let _ = self.h[stage as usize].record(v);
    }

    pub fn histogram(&self, stage: Segment) -> &Histogram<u64> {
        &self.h[stage as usize]
    }

    /// Adds every sample of `other` (same bounds, so this cannot fail).
    pub fn merge(&mut self, other: &LatencySet) {
        for (a, b) in self.h.iter_mut().zip(other.h.iter()) {
            let _ = a.add(b);
        }
    }

    pub fn reset(&mut self) {
        for h in &mut self.h {
            h.reset();
        }
    }

    /// `stage`'s summary so far as a [`Tally::Latency`] for the metrics; `None` without a
    /// sample.
    /// `group`: which of the source's feeds (0 with one).
    pub fn tally(
        &self,
        stage: Segment,
        source: Option<crate::model::Venue>,
        group: u16,
    ) -> Option<Tally> {
        let h = &self.h[stage as usize];
        (!h.is_empty()).then(|| Tally::Latency {
            segment: stage as u8,
            source,
            group,
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }

    /// Sends the summaries of `stages` to the side thread when `every` says it is time at
    /// `now` (a clock reading the stage already took). `source`: the feed's venue and which of
    /// its feeds (0 with one); `None` for the engine's stages.
    pub fn report(
        &self,
        every: &mut LatencyReport,
        clock: &crate::pipeline::EngineClock,
        now: u64,
        tele: &super::TelemetryTx,
        stages: &[Segment],
        source: Option<(crate::model::Venue, u16)>,
    ) {
        if every.due(clock, now) {
            self.report_now(tele, stages, source);
        }
    }

    /// [`Self::report`] whatever the time: a stage that stops sends its final summaries.
    pub fn report_now(
        &self,
        tele: &super::TelemetryTx,
        stages: &[Segment],
        source: Option<(crate::model::Venue, u16)>,
    ) {
        let (venue, group) = (source.map(|s| s.0), source.map_or(0, |s| s.1));
        for s in stages {
            if let Some(t) = self.tally(*s, venue, group) {
                tele.send(crate::model::Telemetry::Tally(t));
            }
        }
    }

    pub fn percentiles(&self, stage: Segment) -> Percentiles {
        let h = &self.h[stage as usize];
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_merges_and_reports() {
        let mut a = LatencySet::default();
        let mut b = LatencySet::default();
        for v in 1..=1000 {
            a.record(Segment::Book, v);
        }
        b.record(Segment::Book, 5_000);
        b.record(Segment::Scan, 0);
        a.merge(&b);
        let p = a.percentiles(Segment::Book);
        assert_eq!(p.count, 1001);
        assert!((495..=505).contains(&p.p50), "{p:?}");
        assert!(p.max >= 4_990);
        assert_eq!(a.percentiles(Segment::Scan).count, 1);
        assert_eq!(a.percentiles(Segment::Order), Percentiles::default());
    }
}

/// When a stage next hands its latency summaries to the side thread (for `/metrics`): once a
/// second, and once more when it stops ([`LatencyReport::force`]). Reading the quantiles costs
/// the stage a few microseconds each time.
#[derive(Clone, Copy, Debug, Default)]
pub struct LatencyReport {
    last: u64,
}

/// How often a stage's latency summaries go to the side thread.
pub const LATENCY_REPORT_NS: u64 = 1_000_000_000;

impl LatencyReport {
    /// True once a second; `now` is a raw reading of `clock`.
    #[inline]
    pub fn due(&mut self, clock: &crate::pipeline::EngineClock, now: u64) -> bool {
        if self.last == 0 || clock.delta_ns(self.last, now) >= LATENCY_REPORT_NS {
            self.last = now.max(1);
            return true;
        }
        false
    }
}
