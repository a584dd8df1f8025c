//! A synthetic L2 book around a moving mid, emitting the venue's sequence ids.
//!
//! Levels sit on the tick, `depth` per side, best bid `spread` below best ask; sizes are drawn
//! once per price (so unchanged prices keep their size) and re-drawn now and then, like a real
//! book. Each [`SyntheticBook::step`] returns the difference to the previous ladder as absolute
//! sizes (0 removes), which is what both venues send.

use super::price_process::normal;
use crate::model::{Fixed, Level};
use rand::Rng;
use rand::rngs::SmallRng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqStyle {
    /// `fi = li + 1`, `li += changes`, constant `v`.
    Max,
    /// `U = u + 1`, `u = U + changes − 1`.
    BinanceSpot,
    /// `pu = u`, `U > pu`, `u` jumps (ids are shared across symbols on futures).
    BinanceFutures,
}

/// The ids of one update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqIds {
    pub first: u64,
    pub last: u64,
    pub prev: i64,
    pub version: u64,
}

pub struct SyntheticBook {
    style: SeqStyle,
    tick: Fixed,
    depth: usize,
    level_qty: f64,
    spread_bps: f64,
    bids: Vec<Level>,
    asks: Vec<Level>,
    next_bids: Vec<Level>,
    next_asks: Vec<Level>,
    /// The last update's changes: reused buffers.
    pub diff_bids: Vec<Level>,
    pub diff_asks: Vec<Level>,
    last_id: u64,
    pub version: u64,
}

fn merge_diff(old: &[Level], new: &[Level], out: &mut Vec<Level>) {
    out.clear();
    for o in old {
        if !new.iter().any(|n| n.price == o.price) {
            out.push(Level {
                price: o.price,
                qty: Fixed::ZERO,
            });
        }
    }
    for n in new {
        match old.iter().find(|o| o.price == n.price) {
            Some(o) if o.qty == n.qty => {}
            _ => out.push(*n),
        }
    }
}

impl SyntheticBook {
    pub fn new(
        style: SeqStyle,
        tick: Fixed,
        depth: usize,
        level_qty: f64,
        spread_bps: f64,
        first_id: u64,
        version: u64,
    ) -> Self {
        SyntheticBook {
            style,
            tick,
            depth,
            level_qty,
            spread_bps,
            bids: Vec::with_capacity(depth),
            asks: Vec::with_capacity(depth),
            next_bids: Vec::with_capacity(depth),
            next_asks: Vec::with_capacity(depth),
            diff_bids: Vec::with_capacity(2 * depth),
            diff_asks: Vec::with_capacity(2 * depth),
            last_id: first_id,
            version,
        }
    }

    pub fn bids(&self) -> &[Level] {
        &self.bids
    }
    pub fn asks(&self) -> &[Level] {
        &self.asks
    }
    pub fn last_id(&self) -> u64 {
        self.last_id
    }
    pub fn top(&self) -> Option<(Level, Level)> {
        Some((*self.bids.first()?, *self.asks.first()?))
    }

    fn size(&self, rng: &mut SmallRng) -> Fixed {
        let q = self.level_qty * (0.3 + 1.4 * rng.random::<f64>());
        Fixed::from_f64_floor(q, Fixed(1_000))
            .filter(|q| q.raw() > 0)
            .unwrap_or(Fixed(1_000))
    }

    /// Moves the book to `mid`; fills `diff_*` and returns the update's ids (ids advance even if
    /// the caller then drops the update to simulate a gap).
    pub fn step(&mut self, mid: f64, rng: &mut SmallRng) -> SeqIds {
        let t = self.tick.raw();
        let half = (mid * self.spread_bps / 2e4).max(self.tick.to_f64() / 2.0);
        let best_bid = Fixed::from_f64_floor(mid - half, self.tick)
            .unwrap_or(self.tick)
            .raw()
            .max(t);
        let best_ask = Fixed::from_f64_ceil(mid + half, self.tick)
            .unwrap_or(self.tick)
            .raw()
            .max(best_bid + t);
        self.next_bids.clear();
        self.next_asks.clear();
        for i in 0..self.depth as i64 {
            let bp = Fixed(best_bid - i * t);
            if bp.raw() > 0 {
                let q = match self.bids.iter().find(|l| l.price == bp) {
                    Some(l) if rng.random::<f64>() > 0.1 => l.qty,
                    _ => self.size(rng),
                };
                self.next_bids.push(Level { price: bp, qty: q });
            }
            let ap = Fixed(best_ask + i * t);
            let q = match self.asks.iter().find(|l| l.price == ap) {
                Some(l) if rng.random::<f64>() > 0.1 => l.qty,
                _ => self.size(rng),
            };
            self.next_asks.push(Level { price: ap, qty: q });
        }
        merge_diff(&self.bids, &self.next_bids, &mut self.diff_bids);
        merge_diff(&self.asks, &self.next_asks, &mut self.diff_asks);
        std::mem::swap(&mut self.bids, &mut self.next_bids);
        std::mem::swap(&mut self.asks, &mut self.next_asks);
        let changes = (self.diff_bids.len() + self.diff_asks.len()).max(1) as u64;
        let prev = self.last_id;
        let ids = match self.style {
            SeqStyle::Max | SeqStyle::BinanceSpot => SeqIds {
                first: prev + 1,
                last: prev + changes,
                prev: prev as i64,
                version: self.version,
            },
            SeqStyle::BinanceFutures => {
                let first = prev + 1 + (normal(rng).abs() * 3.0) as u64;
                SeqIds {
                    first,
                    last: first + changes + rng.random_range(0..20),
                    prev: prev as i64,
                    version: 0,
                }
            }
        };
        self.last_id = ids.last;
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn never_crossed_and_ids_chain() {
        let mut rng = SmallRng::seed_from_u64(1);
        for style in [
            SeqStyle::Max,
            SeqStyle::BinanceSpot,
            SeqStyle::BinanceFutures,
        ] {
            let mut b =
                SyntheticBook::new(style, Fixed::parse("0.01").unwrap(), 10, 0.5, 2.0, 100, 7);
            let mut mid = 100.0;
            let mut last = 100;
            for _ in 0..500 {
                mid *= 1.0 + 0.001 * normal(&mut rng);
                let ids = b.step(mid, &mut rng);
                let (bid, ask) = b.top().unwrap();
                assert!(bid.price < ask.price);
                assert_eq!(ids.prev, last as i64);
                match style {
                    SeqStyle::BinanceFutures => assert!(ids.first > last),
                    _ => assert_eq!(ids.first, last + 1),
                }
                assert!(ids.last >= ids.first);
                last = ids.last;
            }
        }
    }
}
