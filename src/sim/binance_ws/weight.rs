//! The REST request-weight limit of the simulator's Binance depth endpoints (spec binance.md
//! §3.1 weights by `limit`, §4.6 `REQUEST_WEIGHT` a minute: spot 6000, futures 2400). A request
//! whose weight the window has no room for is refused with 429, code -1003 and a `Retry-After`
//! (seconds until the window has room), counted; it spends nothing. The window slides, which
//! is at least as strict as Binance's minute.

use crate::config::sim::SimConfig;
use crate::venue::binance::BinanceMarket;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

pub(super) struct WeightLimit {
    /// Spot's and futures' limits, and what each spent in the window.
    limits: [u32; 2],
    spent: [VecDeque<(Instant, u32)>; 2],
    window: Duration,
}

fn index(m: BinanceMarket) -> usize {
    usize::from(m == BinanceMarket::Futures)
}

impl WeightLimit {
    pub(super) fn new(cfg: &SimConfig) -> WeightLimit {
        WeightLimit {
            limits: [
                cfg.binance_spot_request_weight,
                cfg.binance_futures_request_weight,
            ],
            spent: [VecDeque::new(), VecDeque::new()],
            window: Duration::from_millis(cfg.binance_weight_window_ms.max(1)),
        }
    }

    /// Spends `weight` of `market`'s window at `now`: the weight used then (for
    /// `X-MBX-USED-WEIGHT-1M`), or, refused, the limit and the seconds until there is room.
    pub(super) fn charge(
        &mut self,
        market: BinanceMarket,
        weight: u32,
        now: Instant,
    ) -> Result<u64, (u32, u64)> {
        let (limit, spent) = (self.limits[index(market)], &mut self.spent[index(market)]);
        while spent
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= self.window)
        {
            spent.pop_front();
        }
        let used: u64 = spent.iter().map(|(_, w)| u64::from(*w)).sum();
        if used + u64::from(weight) <= u64::from(limit) {
            spent.push_back((now, weight));
            return Ok(used + u64::from(weight));
        }
        let mut left = used;
        let mut room_at = now + self.window;
        for (t, w) in spent.iter() {
            left -= u64::from(*w);
            if left + u64::from(weight) <= u64::from(limit) {
                room_at = *t + self.window;
                break;
            }
        }
        let secs = room_at
            .saturating_duration_since(now)
            .as_millis()
            .div_ceil(1000) as u64;
        Err((limit, secs.max(1)))
    }
}

/// The refusal's body, as Binance words it on spot and futures.
pub(super) fn too_much_weight(market: BinanceMarket, limit: u32) -> String {
    let msg = match market {
        BinanceMarket::Spot => format!(
            "Too much request weight used; current limit is {limit} request weight per 1 \
             MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
        ),
        BinanceMarket::Futures => format!(
            "Too many requests; current limit is {limit} requests per minute. Please use the \
             websocket for live updates to avoid polling the API."
        ),
    };
    serde_json::json!({"code": -1003, "msg": msg}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_beyond_the_limit_is_refused_until_the_window_has_room() {
        let cfg = SimConfig {
            binance_futures_request_weight: 50,
            binance_weight_window_ms: 1_000,
            ..SimConfig::default()
        };
        let mut w = WeightLimit::new(&cfg);
        let t0 = Instant::now();
        let f = BinanceMarket::Futures;
        assert_eq!(w.charge(f, 20, t0), Ok(20));
        assert_eq!(w.charge(f, 20, t0), Ok(40));
        assert_eq!(w.charge(f, 20, t0), Err((50, 1)));
        assert_eq!(
            w.charge(BinanceMarket::Spot, 50, t0),
            Ok(50),
            "spot counts apart"
        );
        assert_eq!(w.charge(f, 20, t0 + Duration::from_millis(1_000)), Ok(20));
    }
}
