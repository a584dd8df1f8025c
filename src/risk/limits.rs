//! Pre-trade risk. [`RiskLimits::check`] is the only way to get a [`RiskApproved`], and the
//! order manager builds requests only from one, so an unchecked order cannot reach a gateway.
//!
//! Checks, in order (the first failure is the reason):
//! 1. kill switch: `Halted` refuses all; `Reducing` admits only orders that shrink |position|;
//! 2. an allocation exists for (strategy, market);
//! 3. no other order of the strategy in flight on the market;
//! 4. open orders below `max_open_orders`;
//! 5. quantity ≤ the allocation's `max_order_qty`;
//! 6. price on the tick, quantity on the lot, at least the market's minimum size and value;
//! 7. order value ≤ `max_order_notional_usdt`;
//! 8. worst case within the allocation: position + pending buys + this buy ≤ max, position −
//!    pending sells − this sell ≥ −max (≥ 0 without `allow_short`);
//! 9. portfolio exposure after an increasing order ≤ `max_portfolio_exposure_usdt`.

use super::config::{RiskConfig, positive};
use crate::model::{
    Instrument, InstrumentId, Instruments, InvalidSetting, Price, Qty, Side, Signal, Strategy,
    TradingState, Venue,
};

pub use crate::model::RiskReject;

/// A signal that passed every check. Only [`RiskLimits::check`] makes one (the private field
/// keeps it so inside this crate too, which `#[non_exhaustive]` would not).
#[derive(Clone, Copy, Debug)]
#[allow(clippy::manual_non_exhaustive)]
pub struct RiskApproved {
    pub price: Price,
    pub qty: Qty,
    _checked: (),
}

#[derive(Clone, Copy, Debug)]
pub struct AllocationLimit {
    pub strategy: Strategy,
    pub instrument: InstrumentId,
    pub max_position: Qty,
    pub max_order_qty: Qty,
    pub allow_short: bool,
}

/// What the order manager knows at the moment of the check.
#[derive(Clone, Copy, Debug, Default)]
pub struct Exposure {
    pub position: Qty,
    pub pending_buy: Qty,
    pub pending_sell: Qty,
    pub in_flight: bool,
    pub open_orders: usize,
    pub portfolio_usdt: f64,
}

pub struct RiskLimits {
    allocations: Vec<AllocationLimit>,
    /// `allocations`' index of each (instrument, strategy), `u32::MAX` if none: a signal's
    /// allocation is found directly, whatever the number configured.
    by_market: Vec<u32>,
    max_order_notional_usdt: f64,
    max_portfolio_exposure_usdt: f64,
    max_open_orders: usize,
}

impl RiskLimits {
    pub fn new(cfg: &RiskConfig, instruments: &Instruments) -> Result<RiskLimits, InvalidSetting> {
        cfg.validate()?;
        let mut allocations = Vec::with_capacity(cfg.allocations.len());
        for (k, a) in cfg.allocations.iter().enumerate() {
            let instrument = instruments
                .lookup(Venue::Max, a.instrument.as_bytes())
                .ok_or_else(|| {
                    InvalidSetting::new(
                        format!("risk.allocations[{k}].instrument"),
                        format!("{:?} is not a configured MAX market", a.instrument),
                    )
                })?;
            allocations.push(AllocationLimit {
                strategy: a.strategy,
                instrument,
                max_position: positive(
                    &format!("risk.allocations[{k}].max_position"),
                    &a.max_position,
                )?,
                max_order_qty: positive(
                    &format!("risk.allocations[{k}].max_order_qty"),
                    &a.max_order_qty,
                )?,
                allow_short: a.allow_short,
            });
        }
        let strategies = crate::model::Strategy::ALL.len();
        let mut by_market = vec![u32::MAX; instruments.len() * strategies];
        for (k, a) in allocations.iter().enumerate() {
            let slot = &mut by_market[a.instrument.index() * strategies + a.strategy.index()];
            // The first of two allocations for one market stands, as the scan did.
            if *slot == u32::MAX {
                *slot = k as u32;
            }
        }
        Ok(RiskLimits {
            allocations,
            by_market,
            max_order_notional_usdt: cfg.max_order_notional_usdt,
            max_portfolio_exposure_usdt: cfg.max_portfolio_exposure_usdt,
            max_open_orders: cfg.max_open_orders,
        })
    }

    pub fn allocation(&self, s: Strategy, i: InstrumentId) -> Option<&AllocationLimit> {
        let k = *self
            .by_market
            .get(i.index() * Strategy::ALL.len() + s.index())?;
        self.allocations.get(k as usize)
    }

    pub fn check(
        &self,
        sig: &Signal,
        inst: &Instrument,
        state: TradingState,
        x: &Exposure,
    ) -> Result<RiskApproved, RiskReject> {
        let (price, qty) = (sig.price, sig.qty);
        let pos = x.position.raw();
        let signed = qty.raw() * sig.side.sign();
        let reduces = pos != 0 && pos.signum() != signed.signum() && qty.raw() <= pos.abs();
        match state {
            TradingState::Halted => return Err(RiskReject::Halted),
            TradingState::Reducing if !reduces => return Err(RiskReject::ReduceOnly),
            _ => {}
        }
        let a = self
            .allocation(sig.strategy, sig.instrument)
            .ok_or(RiskReject::NoAllocation)?;
        if x.in_flight {
            return Err(RiskReject::InFlight);
        }
        if x.open_orders >= self.max_open_orders {
            return Err(RiskReject::TooManyOpenOrders);
        }
        if qty > a.max_order_qty {
            return Err(RiskReject::OrderTooLarge);
        }
        if price.raw() <= 0
            || qty.raw() <= 0
            || !price.is_multiple_of(inst.rules.tick)
            || !qty.is_multiple_of(inst.rules.lot)
        {
            return Err(RiskReject::OffTick);
        }
        let notional = price.checked_mul(qty).ok_or(RiskReject::NotionalTooLarge)?;
        if qty < inst.rules.min_qty || notional < inst.rules.min_notional {
            return Err(RiskReject::BelowMinimum);
        }
        let notional_usdt = notional.to_f64() * sig.quote_to_usdt;
        if !notional_usdt.is_finite() || notional_usdt > self.max_order_notional_usdt {
            return Err(RiskReject::NotionalTooLarge);
        }
        match sig.side {
            Side::Buy => {
                if pos + x.pending_buy.raw() + qty.raw() > a.max_position.raw() {
                    return Err(RiskReject::OverAllocation);
                }
            }
            Side::Sell => {
                let worst = pos - x.pending_sell.raw() - qty.raw();
                if !a.allow_short && worst < 0 {
                    return Err(RiskReject::ShortNotAllowed);
                }
                if worst < -a.max_position.raw() {
                    return Err(RiskReject::OverAllocation);
                }
            }
        }
        if !reduces && x.portfolio_usdt + notional_usdt > self.max_portfolio_exposure_usdt {
            return Err(RiskReject::PortfolioExposure);
        }
        Ok(RiskApproved {
            price,
            qty,
            _checked: (),
        })
    }
}
