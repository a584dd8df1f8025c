//! arbline: a tick-to-trade engine for cross-exchange arbitrage between MAX and Binance.
//!
//! The crate reads like its pipeline (see `DESIGN.md` of the project):
//! feeds ([`feed`], parsing with [`venue`]) → md ring → [`book`] → book ring → [`scanner`] →
//! signal ring → [`order`] (with [`risk`]) → [`gateway`] → the venue; venue answers come back on
//! the exec ring. Every hot thread hands telemetry to the side thread ([`telemetry`]) through a
//! lossy queue. [`pipeline`] holds rings, threads, placement, wait strategies, shutdown and the
//! boards (`pipeline::board`), the only state that flows against the rings. [`config`] is the
//! TOML file, built from each part's own section; [`engine`] only wires the stages. [`sim`] is
//! the simulated venues (in-process and over sockets); [`demo`], [`record`] (`arbline record`:
//! NATS JetStream → PostgreSQL), [`report`] and [`replay`] (captured frames through the same
//! stages against a simulated MAX execution venue) are the applications.
//!
//! Layers, lowest first (a module imports only from itself and the modules before it; checked
//! by `tests/layers.rs`, which reads the order from the line below):
//! `model` → `secrets` → `pipeline` → `logging` → `telemetry` → `venue` → `capture` → `feed` → `book` → `scanner` → `risk` → `order` → `gateway` → `config` → `sim` → `engine` → `demo` → `record` → `report` → `replay`
//!
//! `telemetry` sits below the stages because every stage writes into it (counters, latency
//! histograms, the lossy queue to the side thread); the side thread itself depends on nothing
//! above it. `config` sits above the stages because it is their sections put together.

#![deny(unsafe_op_in_unsafe_fn)]

// Without the default `full` feature only the core is built (Cargo.toml, [features]): the
// modules that need sockets, TLS, HTTP, tokio, NATS, PostgreSQL or plotting are left out.

pub mod book;
#[cfg(feature = "full")]
pub mod capture;
#[cfg(feature = "full")]
pub mod config;
#[cfg(feature = "full")]
pub mod demo;
#[cfg(feature = "full")]
pub mod engine;
#[cfg(feature = "full")]
pub mod feed;
#[cfg(feature = "full")]
pub mod gateway;
pub mod logging;
pub mod model;
pub mod order;
pub mod pipeline;
#[cfg(feature = "full")]
pub mod record;
#[cfg(feature = "full")]
pub mod replay;
#[cfg(feature = "full")]
pub mod report;
pub mod risk;
pub mod scanner;
pub mod secrets;
#[cfg(feature = "full")]
pub mod sim;
pub mod telemetry;
pub mod venue;
