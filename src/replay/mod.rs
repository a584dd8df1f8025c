//! `arbline replay`: a capture ([`crate::capture`]) read back through the same parsers, books,
//! scanners, order and risk stages, single-threaded on the capture's clock, against a
//! simulated MAX execution venue: deterministic backtests, parameter sweeps and profiling on
//! real market data (issue 15).

pub mod consumed_volume;
pub mod error;
pub mod latency_model;
pub mod max_venue;
pub mod queue_position;
pub mod venue_config;
