//! The USD/TWD reference rate: the Bank of Taiwan board CSV (primary), the TAIFEX daily JSON
//! (fallback), and the day cache on disk.

pub mod bot_csv;
pub mod cache;
#[cfg(feature = "full")]
pub mod provider;
pub mod taifex;

use crate::model::{Fixed, InstrumentId, Level, MdEvent, MdKind, Venue};

/// The md-ring event carrying a reference quote: its mid as the one bid level.
pub fn ref_rate_event(
    instrument: InstrumentId,
    mid: Fixed,
    exch_ts_ms: u64,
    ts_frame: u64,
) -> MdEvent {
    let mut ev = MdEvent {
        kind: MdKind::RefRate,
        venue: Venue::RefRate,
        instrument,
        last_chunk: true,
        exch_ts_ms,
        ts_frame,
        n_bids: 1,
        ..Default::default()
    };
    ev.levels[0] = Level {
        price: mid,
        qty: Fixed::ZERO,
    };
    ev
}

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
