//! Everything that leaves the hot path: latency histograms, lossy telemetry queues, the side thread.

pub mod latency;

pub use latency::{LatencySet, Percentiles, Stage};
