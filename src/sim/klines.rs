//! The simulator's k-lines (`GET /api/v3/k`): per market and period, a seeded log random walk
//! that starts at the market's start price at [`KLINE_EPOCH_S`] (the sim's markets "list"
//! then: no candle starts earlier) and runs up to the server's now.
//!
//! Candles sit on exact period boundaries, each opens at the previous close, `high ≥ max(open,
//! close)`, `low ≤ min(open, close)` (wicks of a random size), prices on the market's tick and a
//! positive volume on its lot. The same seed, market and period give the same candles whatever
//! the request, so paging can be checked for gaps and duplicates. Closes are cached as the walk
//! extends (8 bytes a candle: about 4 MB a year of 1-minute candles).

use crate::model::Fixed;
use crate::venue::max::kline::Kline;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// 2026-01-01T00:00:00Z, the sim's default epoch (`sim.epoch_ms`).
pub const KLINE_EPOCH_S: u64 = 1_767_225_600;

/// Volatility of the walk: 10 bps per √minute.
const SIGMA_PER_SQRT_MIN: f64 = 0.001;

pub struct KlineSource {
    seed: u64,
    /// (market, period) → closes of candles 0, 1, ... since the epoch.
    closes: HashMap<(String, u32), Vec<f64>>,
}

fn mix(mut h: u64, x: u64) -> u64 {
    h ^= x
        .wrapping_add(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

fn market_key(seed: u64, market: &str, period: u32) -> u64 {
    let mut h = mix(seed, u64::from(period));
    for b in market.bytes() {
        h = mix(h, u64::from(b));
    }
    h
}

/// `v` on a grid of `step` (raw units), rounded: down, nearest or up.
fn on_grid(v: f64, step: i64, dir: i8) -> Fixed {
    let units = v * 1e8 / step as f64;
    let units = match dir {
        -1 => units.floor(),
        1 => units.ceil(),
        _ => units.round(),
    };
    Fixed((units as i64).max(1) * step)
}

impl KlineSource {
    pub fn new(seed: u64) -> KlineSource {
        KlineSource {
            seed,
            closes: HashMap::new(),
        }
    }

    /// Candles of `market` (`start`: its price at the epoch; `tick`, `lot`: its grids) with
    /// start in `[from_s, until_s]`, at most `limit`, oldest first.
    #[allow(clippy::too_many_arguments)]
    pub fn candles(
        &mut self,
        market: &str,
        start: f64,
        tick: Fixed,
        lot: Fixed,
        period_min: u32,
        from_s: u64,
        until_s: u64,
        limit: usize,
    ) -> Vec<Kline> {
        let step_s = u64::from(period_min) * 60;
        if until_s < KLINE_EPOCH_S {
            return Vec::new();
        }
        let first = from_s.saturating_sub(KLINE_EPOCH_S).div_ceil(step_s);
        let last = (until_s - KLINE_EPOCH_S) / step_s;
        if first > last || limit == 0 {
            return Vec::new();
        }
        let end = last.min(first + limit as u64 - 1);
        let key = market_key(self.seed, market, period_min);
        let sigma = SIGMA_PER_SQRT_MIN * f64::from(period_min).sqrt();
        let closes = self
            .closes
            .entry((market.to_string(), period_min))
            .or_default();
        while closes.len() as u64 <= end {
            let i = closes.len() as u64;
            let prev = closes.last().copied().unwrap_or(start);
            let mut rng = SmallRng::seed_from_u64(mix(key, i));
            let z = crate::sim::price_process::normal(&mut rng);
            closes.push(prev * (sigma * z).exp());
        }
        let (tick, lot) = (tick.raw().max(1), lot.raw().max(1));
        (first..=end)
            .map(|i| {
                let mut rng = SmallRng::seed_from_u64(mix(key ^ 0x5eed, i));
                let o = if i == 0 {
                    start
                } else {
                    closes[i as usize - 1]
                };
                let c = closes[i as usize];
                let (open, close) = (on_grid(o, tick, 0), on_grid(c, tick, 0));
                let up = rng.random::<f64>() * sigma * 0.5;
                let down = rng.random::<f64>() * sigma * 0.5;
                let high = on_grid(open.max(close).to_f64() * (1.0 + up), tick, 1);
                let low = on_grid(open.min(close).to_f64() * (1.0 - down), tick, -1);
                let notional = 1_000.0 + rng.random::<f64>() * 99_000.0;
                let volume = on_grid(notional / c, lot, 0);
                Kline {
                    ts_s: KLINE_EPOCH_S + i * step_s,
                    open,
                    high: high.max(open.max(close)),
                    low: low.min(open.min(close)),
                    close,
                    volume,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candles_chain_and_repeat() {
        let tick = Fixed::parse("0.001").unwrap();
        let lot = Fixed::parse("0.01").unwrap();
        let mut a = KlineSource::new(7);
        let all = a.candles(
            "usdttwd",
            32.0,
            tick,
            lot,
            60,
            0,
            KLINE_EPOCH_S + 99 * 3600,
            500,
        );
        assert_eq!(all.len(), 100);
        assert_eq!(all[0].ts_s, KLINE_EPOCH_S);
        for w in all.windows(2) {
            assert_eq!(w[1].ts_s, w[0].ts_s + 3600);
            assert_eq!(w[1].open, w[0].close);
        }
        for k in &all {
            assert!(k.high >= k.open.max(k.close) && k.low <= k.open.min(k.close));
            assert!(k.volume.raw() > 0 && k.low.raw() > 0);
        }
        // A fresh source, asked from the middle, gives the same candles.
        let mut b = KlineSource::new(7);
        let mid = b.candles(
            "usdttwd",
            32.0,
            tick,
            lot,
            60,
            KLINE_EPOCH_S + 3599 * 10,
            u64::MAX,
            5,
        );
        assert_eq!(mid[..], all[10..15]);
    }
}
