//! The venues arbline knows, as the seed's `config_enum.Exchange`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a market lives. MAX trades; the others only lead or give a reference.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Venue {
    /// MAX (MaiCoin) spot and M-wallet markets: the venue arbline trades on.
    #[default]
    Max = 0,
    /// Binance spot: a leader.
    BinanceSpot = 1,
    /// Binance USDⓈ-M futures: a leader.
    BinanceFutures = 2,
    /// The USD/TWD reference rate (Bank of Taiwan board rate or another source).
    #[serde(rename = "refrate")]
    RefRate = 3,
}

impl Venue {
    pub const ALL: [Venue; 4] = [
        Venue::Max,
        Venue::BinanceSpot,
        Venue::BinanceFutures,
        Venue::RefRate,
    ];

    /// Name used in subjects and reports (`exchange.{name}...`).
    pub fn exchange(self) -> &'static str {
        match self {
            Venue::Max => "max",
            Venue::BinanceSpot | Venue::BinanceFutures => "binance",
            Venue::RefRate => "refrate",
        }
    }
    /// `spot` / `future`, the seed's market_type.
    pub fn market_type(self) -> &'static str {
        match self {
            Venue::BinanceFutures => "future",
            _ => "spot",
        }
    }
}

impl fmt::Display for Venue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Venue::Max => "max",
            Venue::BinanceSpot => "binance_spot",
            Venue::BinanceFutures => "binance_futures",
            Venue::RefRate => "refrate",
        })
    }
}
