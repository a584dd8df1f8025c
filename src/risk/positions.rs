//! Positions per (strategy, wallet, market): signed quantity, average entry price, fees,
//! realized and unrealized P&L, exposure in USDT.
//!
//! Average price: weighted on increases, unchanged on reductions, reset to the fill price when a
//! fill crosses zero. Realized P&L on a reduction is `(fill − avg) × closed × sign(position)`;
//! fees (quote currency) are subtracted as they are paid. P&L is kept in the market's quote
//! currency and converted to USDT with the factor the last signal carried.
//!
//! A position is found by direct index (strategy, wallet, instrument), and the portfolio's
//! exposure is kept up to date as fills, marks and conversion factors change: a signal's risk
//! check costs the same with one market held or hundreds.

use crate::model::{Fixed, InstrumentId, PositionSnapshot, Price, Qty, Side, Strategy, WalletType};
use crate::pipeline::board::PositionBoard;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, Default)]
pub struct Position {
    pub strategy: Strategy,
    pub wallet: WalletType,
    pub instrument: InstrumentId,
    pub qty: Qty,
    pub avg_price: Price,
    pub fees: Fixed,
    /// Quote currency, fees included.
    pub realized: f64,
}

const STRATEGIES: usize = Strategy::ALL.len();
const WALLETS: usize = 2;
/// No position yet at this index.
const NONE: u32 = u32::MAX;

pub struct Positions {
    list: Vec<Position>,
    /// `list`'s index of each (instrument, strategy, wallet), [`NONE`] if absent.
    slot: Vec<u32>,
    /// Each position's |qty| × mark × quote→USDT, and their sum.
    exposure: Vec<f64>,
    exposure_total: f64,
    /// Instruments with a position (held or not), in order of first fill: the ones to mark.
    held: Vec<InstrumentId>,
    marks: Vec<f64>,
    quote_to_usdt: Vec<f64>,
    board: Arc<PositionBoard>,
}

impl Positions {
    /// Positions of `instruments` instruments (ids `0..instruments`).
    pub fn new(board: Arc<PositionBoard>, instruments: usize) -> Self {
        Positions {
            list: Vec::with_capacity(64),
            slot: vec![NONE; instruments * STRATEGIES * WALLETS],
            exposure: Vec::with_capacity(64),
            exposure_total: 0.0,
            held: Vec::new(),
            marks: vec![0.0; instruments],
            quote_to_usdt: vec![1.0; instruments],
            board,
        }
    }

    #[inline]
    fn key(s: Strategy, w: WalletType, i: InstrumentId) -> usize {
        (i.index() * STRATEGIES + s.index()) * WALLETS + w as usize
    }

    #[inline]
    fn find(&self, s: Strategy, w: WalletType, i: InstrumentId) -> Option<usize> {
        match self.slot.get(Self::key(s, w, i)) {
            Some(&k) if k != NONE => Some(k as usize),
            _ => None,
        }
    }

    /// Recomputes the exposure of every position of instrument `i`.
    fn refresh_exposure(&mut self, i: InstrumentId) {
        let (mark, conv) = (self.marks[i.index()], self.quote_to_usdt(i));
        for s in Strategy::ALL {
            for w in [WalletType::Spot, WalletType::Margin] {
                if let Some(k) = self.find(s, w, i) {
                    let new = self.list[k].qty.abs().to_f64() * mark * conv;
                    self.exposure_total += new - self.exposure[k];
                    self.exposure[k] = new;
                }
            }
        }
    }

    /// The instruments with a position, for the order stage's marks.
    pub fn held(&self) -> &[InstrumentId] {
        &self.held
    }

    /// Marks every market with a position at `mid` (none where it is not positive), then
    /// recomputes the exposure from scratch (the running total drifts by rounding only).
    pub fn mark_held(&mut self, mid: impl Fn(InstrumentId) -> Price) {
        for &i in &self.held {
            let m = mid(i);
            if m.raw() > 0 {
                self.marks[i.index()] = m.to_f64();
            }
        }
        self.recompute_exposure();
    }

    pub fn get(&self, s: Strategy, w: WalletType, i: InstrumentId) -> Position {
        self.find(s, w, i)
            .map(|k| self.list[k])
            .unwrap_or(Position {
                strategy: s,
                wallet: w,
                instrument: i,
                ..Default::default()
            })
    }

    /// Net quantity of a strategy in a market over both wallets.
    pub fn net(&self, s: Strategy, i: InstrumentId) -> Qty {
        Fixed(
            [WalletType::Spot, WalletType::Margin]
                .into_iter()
                .filter_map(|w| self.find(s, w, i))
                .map(|k| self.list[k].qty.raw())
                .sum(),
        )
    }

    pub fn mark(&mut self, i: InstrumentId, price: Price) {
        if let Some(m) = self.marks.get_mut(i.index()) {
            let m2 = price.to_f64();
            if *m != m2 {
                *m = m2;
                self.refresh_exposure(i);
            }
        }
    }

    pub fn set_quote_to_usdt(&mut self, i: InstrumentId, f: f64) {
        if f.is_finite()
            && f > 0.0
            && let Some(x) = self.quote_to_usdt.get_mut(i.index())
            && *x != f
        {
            *x = f;
            self.refresh_exposure(i);
        }
    }

    pub fn quote_to_usdt(&self, i: InstrumentId) -> f64 {
        self.quote_to_usdt.get(i.index()).copied().unwrap_or(1.0)
    }

    /// Applies one fill and publishes the net position; returns the updated position.
    #[allow(clippy::too_many_arguments)] // the fill's fields, each a different unit or key
    pub fn apply_fill(
        &mut self,
        s: Strategy,
        w: WalletType,
        i: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        fee: Fixed,
    ) -> Position {
        let k = match self.find(s, w, i) {
            Some(k) => k,
            None => {
                let Some(slot) = self.slot.get_mut(Self::key(s, w, i)) else {
                    // Not an instrument of this table: nothing to hold it (never from the
                    // engine, whose ids all come from the table).
                    return Position {
                        strategy: s,
                        wallet: w,
                        instrument: i,
                        ..Default::default()
                    };
                };
                *slot = self.list.len() as u32;
                self.list.push(Position {
                    strategy: s,
                    wallet: w,
                    instrument: i,
                    ..Default::default()
                });
                self.exposure.push(0.0);
                if !self.held.contains(&i) {
                    self.held.push(i);
                }

                self.list.len() - 1
            }
        };
        let p = &mut self.list[k];
        let signed = qty.raw() * side.sign();
        let old = p.qty.raw();
        let new = old + signed;
        if old == 0 || old.signum() == signed.signum() {
            // Increase: weighted average.
            let total = old.abs() as i128 + qty.raw() as i128;
            let avg = (p.avg_price.raw() as i128 * old.abs() as i128
                + price.raw() as i128 * qty.raw() as i128)
                / total.max(1);
            p.avg_price = Fixed(avg as i64);
        } else {
            let closed = qty.raw().min(old.abs());
            let pnl = (price.to_f64() - p.avg_price.to_f64())
                * Fixed(closed).to_f64()
                * old.signum() as f64;
            p.realized += pnl;
            if new != 0 && new.signum() != old.signum() {
                p.avg_price = price;
            } else if new == 0 {
                p.avg_price = Fixed::ZERO;
            }
        }
        p.qty = Fixed(new);
        p.fees = Fixed(p.fees.raw() + fee.raw());
        p.realized -= fee.to_f64();
        let out = *p;
        self.board.set(s, i, self.net(s, i));
        self.refresh_exposure(i);
        out
    }

    pub fn unrealized(&self, p: &Position) -> f64 {
        let m = self.marks.get(p.instrument.index()).copied().unwrap_or(0.0);
        if m <= 0.0 || p.qty.is_zero() {
            0.0
        } else {
            (m - p.avg_price.to_f64()) * p.qty.to_f64()
        }
    }

    /// Realized + unrealized over every position, in USDT.
    pub fn total_pnl_usdt(&self) -> f64 {
        self.list
            .iter()
            .map(|p| (p.realized + self.unrealized(p)) * self.quote_to_usdt(p.instrument))
            .sum()
    }

    /// Σ |qty| × mark × quote→USDT, kept up to date (no walk over the positions).
    pub fn exposure_usdt(&self) -> f64 {
        self.exposure_total
    }

    /// The same sum recomputed position by position, and the running total reset to it (it
    /// drifts by rounding only; the order stage's timer calls this).
    pub fn recompute_exposure(&mut self) -> f64 {
        for k in 0..self.list.len() {
            let i = self.list[k].instrument;
            self.exposure[k] =
                self.list[k].qty.abs().to_f64() * self.marks[i.index()] * self.quote_to_usdt(i);
        }
        self.exposure_total = self.exposure.iter().sum();
        self.exposure_total
    }

    pub fn snapshot(&self, p: &Position, limit: Qty) -> PositionSnapshot {
        PositionSnapshot {
            strategy: p.strategy,
            wallet: p.wallet,
            instrument: p.instrument,
            qty: p.qty,
            avg_price: p.avg_price,
            fees: p.fees,
            realized_pnl: p.realized,
            unrealized_pnl: self.unrealized(p),
            limit,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Position> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fixed {
        Fixed::parse(s).unwrap()
    }

    #[test]
    fn average_realized_and_crossing_zero() {
        let board = Arc::new(PositionBoard::default());
        let mut p = Positions::new(board.clone(), 64);
        let (s, w, i) = (Strategy::Arbitrage, WalletType::Spot, InstrumentId(1));
        p.apply_fill(s, w, i, Side::Buy, f("100"), f("1"), f("0"));
        let x = p.apply_fill(s, w, i, Side::Buy, f("110"), f("1"), f("0.5"));
        assert_eq!((x.qty, x.avg_price), (f("2"), f("105")));
        let x = p.apply_fill(s, w, i, Side::Sell, f("115"), f("1"), f("0.5"));
        assert_eq!((x.qty, x.avg_price), (f("1"), f("105")));
        assert!((x.realized - (10.0 - 1.0)).abs() < 1e-9, "{}", x.realized);
        let x = p.apply_fill(s, w, i, Side::Sell, f("120"), f("3"), f("0"));
        assert_eq!(
            (x.qty, x.avg_price),
            (f("-2"), f("120")),
            "crossed zero: new average at the fill"
        );
        assert!((x.realized - 24.0).abs() < 1e-9);
        assert_eq!(board.get(s, i), f("-2"));
        p.mark(i, f("110"));
        assert!((p.unrealized(&p.get(s, w, i)) - 20.0).abs() < 1e-9);
        assert!((p.exposure_usdt() - 220.0).abs() < 1e-9);
        // Another wallet and market: found by index, counted in the net and the exposure.
        let j = InstrumentId(63);
        p.apply_fill(
            s,
            WalletType::Margin,
            i,
            Side::Buy,
            f("100"),
            f("1"),
            f("0"),
        );
        assert_eq!(p.net(s, i), f("-1"));
        p.set_quote_to_usdt(j, 0.5);
        p.mark(j, f("10"));
        p.apply_fill(s, w, j, Side::Sell, f("10"), f("4"), f("0"));
        assert!((p.exposure_usdt() - (220.0 + 110.0 + 20.0)).abs() < 1e-9);
        p.mark(i, f("100"));
        assert!((p.exposure_usdt() - (200.0 + 100.0 + 20.0)).abs() < 1e-9);
        assert!((p.recompute_exposure() - 320.0).abs() < 1e-9);
        assert_eq!(p.held(), [i, j]);
        assert_eq!(p.get(s, w, InstrumentId(5)).qty, Fixed::ZERO);
    }
}
