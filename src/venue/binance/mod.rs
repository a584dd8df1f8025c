//! Binance spot and USDⓈ-M futures market data: the frame parser (spec
//! `binance.md` §1–§3). The book sequencer lives in `crate::book::binance_sync`.

pub mod parse;

pub use parse::{BinanceMarket, BinanceOutcome, BinanceParser};
