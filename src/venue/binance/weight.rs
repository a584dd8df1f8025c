//! Binance's REST request weight (spec binance.md §3.1, §4.6): each request costs a weight and
//! an IP may spend a limited weight a minute (`REQUEST_WEIGHT`: spot 6000, USDⓈ-M futures 2400,
//! as `exchangeInfo.rateLimits` gives them today); beyond it Binance answers 429 (code -1003),
//! and repeated offenders get 418 bans.

use super::BinanceMarket;

/// The documented `REQUEST_WEIGHT` a minute of a market (spot 6000, futures 2400).
pub fn weight_per_minute(market: BinanceMarket) -> u32 {
    match market {
        BinanceMarket::Spot => 6000,
        BinanceMarket::Futures => 2400,
    }
}

/// The weight of a depth snapshot (`GET /api/v3/depth`, `GET /fapi/v1/depth`) with `limit`
/// levels (`None`: the endpoint's default, 100 on spot and 500 on futures).
pub fn depth_weight(market: BinanceMarket, limit: Option<u32>) -> u32 {
    match market {
        BinanceMarket::Spot => match limit.unwrap_or(100) {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
        // Futures takes only 5, 10, 20, 50, 100, 500, 1000; weights by the same steps.
        BinanceMarket::Futures => match limit.unwrap_or(500) {
            0..=50 => 2,
            51..=100 => 5,
            101..=500 => 10,
            _ => 20,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_weights_follow_the_documented_tables() {
        use BinanceMarket::{Futures, Spot};
        for (limit, w) in [
            (5, 5),
            (100, 5),
            (101, 25),
            (500, 25),
            (1000, 50),
            (5000, 250),
        ] {
            assert_eq!(depth_weight(Spot, Some(limit)), w, "spot {limit}");
        }
        assert_eq!(depth_weight(Spot, None), 5);
        for (limit, w) in [(5, 2), (50, 2), (100, 5), (500, 10), (1000, 20)] {
            assert_eq!(depth_weight(Futures, Some(limit)), w, "futures {limit}");
        }
        assert_eq!(depth_weight(Futures, None), 10);
        assert_eq!(weight_per_minute(Spot), 6000);
        assert_eq!(weight_per_minute(Futures), 2400);
    }
}
