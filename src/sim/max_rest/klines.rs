//! `GET /api/v3/k`: MAX's public k-lines, from the seeded random walk of
//! [`crate::sim::klines`].

use super::query::url_pairs;
use super::{Reply, State, error, now_ms};
use std::collections::HashMap;

impl State {
    /// `GET /api/v3/k?market=&period=&limit=&timestamp=`: candles with start ≥ `timestamp`
    /// (seconds), up to now; without `timestamp`, the latest `limit`.
    pub(super) fn klines(&mut self, query: &str) -> Reply {
        let q: HashMap<String, String> = url_pairs(query).into_iter().collect();
        let num = |k: &str, default: u64| -> Result<u64, Reply> {
            match q.get(k) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| error(400, 1001, &format!("{k} does not have a valid value"))),
            }
        };
        let Some(m) = q
            .get("market")
            .and_then(|id| self.markets.iter().find(|m| m.id.eq_lower(id.as_bytes())))
            .copied()
        else {
            return error(400, 1001, "market does not have a valid value");
        };
        let period = match num("period", 1) {
            Ok(p) if crate::venue::max::kline::PERIODS.contains(&(p as u32)) && p <= 10080 => {
                p as u32
            }
            Ok(_) => return error(400, 1001, "period does not have a valid value"),
            Err(e) => return e,
        };
        let limit = match num("limit", 30) {
            Ok(l) if (1..=10_000).contains(&l) => l as usize,
            Ok(_) => return error(400, 1001, "limit does not have a valid value"),
            Err(e) => return e,
        };
        let now_s = now_ms(self.clock_offset_ms) / 1000;
        let step = u64::from(period) * 60;
        let from = match q.get("timestamp") {
            Some(_) => match num("timestamp", 0) {
                Ok(t) => t,
                Err(e) => return e,
            },
            None => (now_s / step).saturating_sub(limit as u64 - 1) * step,
        };
        // The name as MAX writes it: the walk's seed and the k-line starts are keyed by it.
        let id = m.id.to_lowercase();
        let start = match self.kline_starts.get(&id) {
            Some(p) => *p,
            None if id == "usdttwd" => self.ref_rate.to_f64(),
            None => 100.0,
        };
        let r = m.rules();
        let rows = self
            .klines
            .candles(&id, start, r.tick, r.lot, period, from, now_s, limit);
        let mut b = Vec::with_capacity(rows.len() * 64 + 2);
        b.push(b'[');
        for (i, k) in rows.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(
                format!(
                    "[{},{},{},{},{},{}]",
                    k.ts_s, k.open, k.high, k.low, k.close, k.volume
                )
                .as_bytes(),
            );
        }
        b.push(b']');
        (200, b)
    }
}
