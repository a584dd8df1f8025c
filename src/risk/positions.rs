//! Positions per (strategy, wallet, market): signed quantity, average entry price, fees,
//! realized and unrealized P&L, exposure in USDT.
//!
//! Average price: weighted on increases, unchanged on reductions, reset to the fill price when a
//! fill crosses zero. Realized P&L on a reduction is `(fill − avg) × closed × sign(position)`;
//! fees (quote currency) are subtracted as they are paid. P&L is kept in the market's quote
//! currency and converted to USDT with the factor the last signal carried.

use crate::model::{
    Fixed, InstrumentId, MAX_INSTRUMENTS, PositionSnapshot, Price, Qty, Side, Strategy, WalletType,
};
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

pub struct Positions {
    list: Vec<Position>,
    marks: [f64; MAX_INSTRUMENTS],
    quote_to_usdt: [f64; MAX_INSTRUMENTS],
    board: Arc<PositionBoard>,
}

impl Positions {
    pub fn new(board: Arc<PositionBoard>) -> Self {
        Positions {
            list: Vec::with_capacity(64),
            marks: [0.0; MAX_INSTRUMENTS],
            quote_to_usdt: [1.0; MAX_INSTRUMENTS],
            board,
        }
    }

    fn find(&self, s: Strategy, w: WalletType, i: InstrumentId) -> Option<usize> {
        self.list
            .iter()
            .position(|p| p.strategy == s && p.wallet == w && p.instrument == i)
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
            self.list
                .iter()
                .filter(|p| p.strategy == s && p.instrument == i)
                .map(|p| p.qty.raw())
                .sum(),
        )
    }

    pub fn mark(&mut self, i: InstrumentId, price: Price) {
        if let Some(m) = self.marks.get_mut(i.index()) {
            *m = price.to_f64();
        }
    }

    pub fn set_quote_to_usdt(&mut self, i: InstrumentId, f: f64) {
        if f.is_finite()
            && f > 0.0
            && let Some(x) = self.quote_to_usdt.get_mut(i.index())
        {
            *x = f;
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
                self.list.push(Position {
                    strategy: s,
                    wallet: w,
                    instrument: i,
                    ..Default::default()
                });
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
        out
    }

    pub fn unrealized(&self, p: &Position) -> f64 {
        let m = self.marks[p.instrument.index()];
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

    /// Σ |qty| × mark × quote→USDT.
    pub fn exposure_usdt(&self) -> f64 {
        self.list
            .iter()
            .map(|p| {
                p.qty.abs().to_f64()
                    * self.marks[p.instrument.index()]
                    * self.quote_to_usdt(p.instrument)
            })
            .sum()
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
        let mut p = Positions::new(board.clone());
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
    }
}
