//! The deterministic synthetic venue that stands in for the network: a correlated price process
//! (Binance leads, MAX lags), synthetic books with each venue's sequence ids, and an execution
//! venue that acknowledges, rejects and fills MAX orders after a latency.

pub mod binance_frames;
pub mod binance_ws;
pub mod error;
pub mod exec_answers;
pub mod exec_venue;
pub mod in_process_feed;
pub mod klines;
pub mod market;
pub mod max_account;
pub mod max_frames;
pub mod max_rest;
pub mod max_ws;
pub mod nonce_ledger;
pub mod price_process;
pub mod public_tape;
pub mod servers;
pub mod synthetic_book;
pub mod venue_ban;

pub use error::SimError;
pub use exec_venue::{ExecOutput, ExecVenue};
pub use market::{MarketOutput, SyntheticMarket};
