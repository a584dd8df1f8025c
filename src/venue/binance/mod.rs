//! Binance spot and USDⓈ-M futures market data: the frame parser (spec
//! `binance.md` §1–§3) and the REST request weights (§3.1, §4.6). The book sequencer lives in
//! `crate::book::binance_sync`.

pub mod parse;
pub mod weight;

pub use parse::{BinanceMarket, BinanceOutcome, BinanceParser};
