//! Binance spot and USDⓈ-M futures market data: parsers and writers of the same frames.

pub mod frames;
pub mod parse;

pub use parse::{BinanceMarket, BinanceOutcome, BinanceParser};
