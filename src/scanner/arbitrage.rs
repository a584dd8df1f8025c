//! Cross-exchange front-run arbitrage: Binance leads, MAX lags.
//!
//! With leader mid `L`, conversion mid `c` (MAX USDT/TWD for a TWD market, else 1) and MAX mid
//! `M`, the basis is `b = ln(M / (L·c))`. Its EWMA mean `μ` is the usual premium of MAX over the
//! leader, so MAX's fair value is `F = L·c·e^μ`. When MAX's best ask is below
//! `F·(1 − (fee + edge)/10⁴)` MAX is stale on the way up: buy at the ask; when its best bid is
//! above `F·(1 + (fee + edge)/10⁴)`: sell at the bid. The basis enters the EWMA only after the
//! evaluation, so a jump is traded before it is absorbed.

use super::config::ArbitrageConfig;
use super::ewma::Ewma;
use super::gates::{Cooldown, on_tick, room, size};
use crate::model::{
    BookTop, InstrumentId, Instruments, InvalidSetting, OrderType, Qty, Side, Signal, Strategy,
    WalletType,
};

/// Why an evaluation produced no signal (counted by [`super::Scanners`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    MissingInput,
    WarmingUp,
    NoEdge,
    Cooldown,
    NoRoom,
}

pub struct Arbitrage {
    pub leader: InstrumentId,
    pub max: InstrumentId,
    pub conversion: Option<InstrumentId>,
    pub wallet: WalletType,
    pub order_type: OrderType,
    pub order_qty: Qty,
    pub max_position: Qty,
    pub allow_short: bool,
    threshold: f64,
    fee_bps: f64,
    min_samples: u64,
    pub max_age_ns: u64,
    ewma: Ewma,
    cooldown: Cooldown,
}

fn mid(t: &BookTop) -> Option<f64> {
    t.mid_f64().filter(|m| m.is_finite() && *m > 0.0)
}

impl Arbitrage {
    pub fn new(
        cfg: &ArbitrageConfig,
        instruments: &Instruments,
        key: &str,
    ) -> Result<Arbitrage, InvalidSetting> {
        let find = |venue, sym: &str, what: &str| {
            instruments.lookup(venue, sym.as_bytes()).ok_or_else(|| {
                InvalidSetting::new(
                    format!("{key}.{what}"),
                    format!("{sym:?} is not among the configured markets of {venue}"),
                )
            })
        };
        Ok(Arbitrage {
            leader: find(cfg.leader_venue, &cfg.leader_symbol, "leader_symbol")?,
            max: find(crate::model::Venue::Max, &cfg.max_symbol, "max_symbol")?,
            conversion: if cfg.conversion_symbol.is_empty() {
                None
            } else {
                Some(find(
                    crate::model::Venue::Max,
                    &cfg.conversion_symbol,
                    "conversion_symbol",
                )?)
            },
            wallet: cfg.wallet,
            order_type: cfg.order_type,
            order_qty: super::config::positive(&format!("{key}.order_qty"), &cfg.order_qty)?,
            max_position: super::config::positive(
                &format!("{key}.max_position"),
                &cfg.max_position,
            )?,
            allow_short: cfg.allow_short,
            threshold: (cfg.taker_fee_bps + cfg.edge_bps) / 1e4,
            fee_bps: cfg.taker_fee_bps,
            min_samples: cfg.min_samples,
            max_age_ns: cfg.max_age_ms * 1_000_000,
            ewma: Ewma::new(cfg.ewma_halflife_s),
            cooldown: Cooldown::new(cfg.cooldown_ms),
        })
    }

    pub fn uses(&self, i: InstrumentId) -> bool {
        i == self.leader || i == self.max || self.conversion == Some(i)
    }

    pub fn basis_mean(&self) -> f64 {
        self.ewma.mean()
    }

    /// Evaluates with the latest Live, fresh tops (`None` when absent or stale). `now_ns` is a
    /// monotonic time for the EWMA and the cooldown.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(
        &mut self,
        leader: Option<&BookTop>,
        max: Option<&BookTop>,
        conversion: Option<&BookTop>,
        position: Qty,
        instruments: &Instruments,
        now_ns: u64,
        trigger: &BookTop,
    ) -> Result<Signal, Skip> {
        let (Some(l), Some(m)) = (leader, max) else {
            return Err(Skip::MissingInput);
        };
        let (Some(lm), Some(mm)) = (mid(l), mid(m)) else {
            return Err(Skip::MissingInput);
        };
        let c = match (self.conversion, conversion.and_then(mid)) {
            (None, _) => 1.0,
            (Some(_), Some(c)) => c,
            (Some(_), None) => return Err(Skip::MissingInput),
        };
        let basis = (mm / (lm * c)).ln();
        let result = self.decide(lm * c, m, c, position, instruments, now_ns, trigger);
        self.ewma.update(basis, now_ns);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        leader_in_max_quote: f64,
        m: &BookTop,
        c: f64,
        position: Qty,
        instruments: &Instruments,
        now_ns: u64,
        trigger: &BookTop,
    ) -> Result<Signal, Skip> {
        if self.ewma.samples() < self.min_samples {
            return Err(Skip::WarmingUp);
        }
        let fair = leader_in_max_quote * self.ewma.mean().exp();
        let ask = m.ask.price.to_f64();
        let bid = m.bid.price.to_f64();
        let (side, touch) = if m.ask.price.raw() > 0 && ask < fair * (1.0 - self.threshold) {
            (Side::Buy, m.ask)
        } else if m.bid.price.raw() > 0 && bid > fair * (1.0 + self.threshold) {
            (Side::Sell, m.bid)
        } else {
            return Err(Skip::NoEdge);
        };
        if !self.cooldown.ready(now_ns) {
            return Err(Skip::Cooldown);
        }
        let inst = instruments.get(self.max);
        // The limit is the worst price that still keeps the required edge: an IOC then takes
        // the touch (and whatever else is cheaper than fair value net of fees) even if MAX moves
        // a little before the order arrives; a resting order sits at the touch.
        let limit = match (side, self.order_type) {
            (Side::Buy, OrderType::IocLimit) => {
                crate::model::Fixed::from_f64_floor(fair * (1.0 - self.threshold), inst.rules.tick)
                    .unwrap_or(touch.price)
                    .max(touch.price)
            }
            (Side::Sell, OrderType::IocLimit) => {
                crate::model::Fixed::from_f64_ceil(fair * (1.0 + self.threshold), inst.rules.tick)
                    .unwrap_or(touch.price)
                    .min(touch.price)
            }
            _ => touch.price,
        };
        let price = on_tick(side, limit, inst.rules.tick);
        let r = room(side, position, self.max_position, self.allow_short);
        let qty = size(self.order_qty, touch.qty, r, price, inst).ok_or(Skip::NoRoom)?;
        self.cooldown.fire(now_ns);
        let deviation_bps = ((touch.price.to_f64() / fair) - 1.0).abs() * 1e4;
        let quote_to_usdt = if self.conversion.is_some() {
            1.0 / c
        } else {
            1.0
        };
        Ok(Signal {
            seq: 0,
            strategy: Strategy::Arbitrage,
            instrument: self.max,
            leader: self.leader,
            wallet: self.wallet,
            side,
            order_type: self.order_type,
            price,
            qty,
            fair_value: fair,
            edge_bps: deviation_bps - self.fee_bps,
            quote_to_usdt,
            threshold_bps: self.threshold * 1e4,
            center: self.ewma.mean(),
            ts_frame: trigger.ts_frame,
            ts_signal: 0,
        })
    }
}
