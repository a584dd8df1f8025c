//! The scanner stage's strategies: cross-exchange arbitrage and the stable-coin premium, each
//! position-aware, with cooldowns, trading hours and a freshness gate.
//!
//! [`Scanners`] (`scanners.rs`) runs them all on each top; each strategy, its gates and the
//! `[scanner]` section have a file of their own.

pub mod arbitrage;
pub mod config;
pub mod ewma;
pub mod gates;
mod scanners;
pub mod stable_coin;
pub mod stage;

pub use config::ScannerConfig;
pub use scanners::{ScannerStats, Scanners};
