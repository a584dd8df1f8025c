//! Everything that leaves the hot path: latency histograms, counters, lossy telemetry queues,
//! the side thread.

pub mod bus;
pub mod bus_message;
pub mod counters;
pub mod event_sink;
pub mod hist_dir;
pub mod interval_log;
pub mod jsonl_file;
pub mod latency;
#[cfg(feature = "full")]
pub mod metrics;
#[cfg(feature = "full")]
pub mod metrics_server;
#[cfg(feature = "full")]
pub mod nats_forwarder;
pub mod outbox;
pub mod queue;
pub mod run_info;
pub mod side;
pub mod summary;

pub use counters::{Counter, EngineCounters};
pub use latency::{LatencyReport, LatencySet, Percentiles, Segment};
pub use queue::{TelemetryRx, TelemetryTx, telemetry_queue};
pub use side::{SideConfig, SideReport, SideThread};
pub use summary::{EventCounts, Summary};
