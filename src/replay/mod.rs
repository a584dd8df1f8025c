//! `arbline replay`: a capture ([`crate::capture`]) read back through the same parsers, books,
//! scanners, order and risk stages, single-threaded on the capture's clock, against a
//! simulated MAX execution venue: deterministic backtests, parameter sweeps and profiling on
//! real market data (issue 15).
//!
//! [`run`] is the loop; [`feed`] hands each frame to its live parser; [`max_venue`] is the
//! simulated execution venue (with [`latency_model`], [`queue_position`] and
//! [`consumed_volume`]); [`journal`] keeps what happened for the CSVs and the P&L.

pub mod command;
pub mod consumed_volume;
pub mod error;
pub mod feed;
pub mod journal;
pub mod latency_model;
pub mod max_venue;
pub mod output;
pub mod pnl_chart;
pub mod queue_position;
pub mod replay_error;
pub mod run;
pub mod sweep;
pub mod venue_config;
