//! arbline: a tick-to-trade engine for cross-exchange arbitrage between MAX and Binance.
//!
//! The crate reads like its pipeline (see `DESIGN.md` of the project):
//! feeds ([`feed`], [`venue`]) → md ring → [`book`] → book ring → [`scanner`] → signal ring →
//! [`order`] (with [`risk`]) → gateway; venue answers come back on the exec ring. Every hot
//! thread hands telemetry to the side thread ([`telemetry`]) through a lossy queue. [`sim`] is
//! the deterministic synthetic venue that stands in for the network. [`pipeline`] holds rings,
//! threads, placement, wait strategies and shutdown; [`config`] the TOML configuration.
//! [`record`] is `arbline record`: NATS JetStream → PostgreSQL, outside the engine.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod book;
pub mod config;
pub mod demo;
pub mod engine;
pub mod feed;
pub mod gateway;
pub mod logging;
pub mod model;
pub mod order;
pub mod pipeline;
pub mod record;
pub mod report;
pub mod risk;
pub mod scanner;
pub mod secrets;
pub mod sim;
pub mod telemetry;
pub mod venue;
