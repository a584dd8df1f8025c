//! The USD/TWD reference rate: the Bank of Taiwan board CSV (primary), the TAIFEX daily JSON
//! (fallback), and the day cache on disk.

pub mod bot_csv;
pub mod cache;
pub mod provider;
pub mod taifex;

use crate::model::Fixed;

/// TWD per USD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefQuote {
    /// The reference: spot mid for the bank board, the published rate for TAIFEX.
    pub mid: Fixed,
    pub buy: Fixed,
    pub sell: Fixed,
    /// YYYYMMDD of a history or TAIFEX row; 0 for the day board (see `board_time_ms`).
    pub date: u32,
    pub board_time_ms: Option<u64>,
}
