//! The account's holdings: each wallet's balances (available and locked by open orders) and
//! how a trade moves them.

use super::Inner;
use crate::model::{Fixed, Side, Symbol, WalletType};
use crate::sim::exec_venue::{VenueTrade, quote_of};
use std::collections::HashMap;

impl Inner {
    pub(super) fn balances(&self, wallet: WalletType) -> Vec<(Symbol, Fixed, Fixed)> {
        let mut locked: HashMap<Symbol, i128> = HashMap::new();
        for o in self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.wallet == wallet)
        {
            let remaining = (o.volume.raw() - o.executed.raw()) as i128;
            match o.side {
                Side::Buy => {
                    *locked.entry(quote_of(o.market)).or_default() +=
                        remaining * o.price.raw() as i128 / crate::model::fixed::SCALE as i128
                }
                Side::Sell => *locked.entry(base_of(o.market)).or_default() += remaining,
            }
        }
        let mut out: Vec<(Symbol, Fixed, Fixed)> = self
            .totals
            .iter()
            .filter(|((w, _), _)| *w == wallet)
            .map(|((_, c), total)| {
                let l = locked.get(c).copied().unwrap_or(0).min(i64::MAX as i128) as i64;
                (*c, Fixed(total.raw() - l), Fixed(l))
            })
            .collect();
        // By the name as MAX writes it (lower case).
        out.sort_by_key(|(c, _, _)| c.to_lowercase());
        out
    }

    /// Whether `wallet` holds, unlocked, what a new limit order would lock: the quote for a
    /// buy (price × volume), the base for a sell. MAX refuses an order it cannot lock funds
    /// for (2018, "cannot lock funds"); the M-wallet borrows, so only the spot wallet is held
    /// to it, and a market order (no price) is checked on its sells only.
    pub(super) fn can_lock(
        &self,
        wallet: WalletType,
        market: Symbol,
        side: Side,
        price: Fixed,
        volume: Fixed,
    ) -> bool {
        if wallet != WalletType::Spot {
            return true;
        }
        let (currency, need) = match side {
            Side::Buy => (
                quote_of(market),
                price.raw() as i128 * volume.raw() as i128 / crate::model::fixed::SCALE as i128,
            ),
            Side::Sell => (base_of(market), volume.raw() as i128),
        };
        let available = self
            .balances(wallet)
            .iter()
            .find(|(c, _, _)| *c == currency)
            .map_or(0, |(_, free, _)| free.raw() as i128);
        need <= available
    }

    /// Moves the holdings for a trade: base and quote, less the fee in its currency.
    pub(super) fn settle(&mut self, t: &VenueTrade) {
        let notional = (t.price.raw() as i128 * t.volume.raw() as i128
            / crate::model::fixed::SCALE as i128)
            .clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let (base, quote) = (base_of(t.market), quote_of(t.market));
        let (db, dq) = match t.side {
            Side::Buy => (t.volume.raw(), -notional),
            Side::Sell => (-t.volume.raw(), notional),
        };
        for (c, d) in [(base, db), (quote, dq), (t.fee_currency, -t.fee.raw())] {
            let e = self.totals.entry((t.wallet, c)).or_default();
            *e = Fixed(e.raw().saturating_add(d));
        }
    }
}

/// The base currency of a MAX market name (`USDTTWD` → `USDT`).
pub(super) fn base_of(m: Symbol) -> Symbol {
    let s = m.as_str();
    s.strip_suffix(quote_of(m).as_str())
        .and_then(Symbol::new)
        .unwrap_or(m)
}
