//! Binance spot and USDⓈ-M futures market data: the frame parser and the frame writers (spec
//! `binance.md` §1–§3). The book sequencer lives in `crate::book::binance_sync`.

pub mod frames;
pub mod parse;

pub use frames::{
    write_book_ticker, write_depth_snapshot, write_depth_update, write_server_shutdown,
};
pub use parse::{BinanceMarket, BinanceOutcome, BinanceParser};
