//! `[risk]`: allocations per strategy and market, order and portfolio limits, loss limits of
//! the kill switch.

use crate::model::{Fixed, InvalidSetting, Strategy};
use serde::Deserialize;

/// How much of one MAX market one strategy may hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    pub strategy: Strategy,
    /// MAX market symbol.
    pub instrument: String,
    /// Cap on |net position| in base units, open orders' worst case included.
    pub max_position: String,
    pub max_order_qty: String,
    /// Positions are relative to the strategy's starting inventory; without this the strategy
    /// never sells below it.
    #[serde(default)]
    pub allow_short: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    pub allocations: Vec<Allocation>,
    pub max_order_notional_usdt: f64,
    pub max_portfolio_exposure_usdt: f64,
    /// Total P&L below −this halts trading.
    pub max_loss_usdt: f64,
    /// Total P&L below −this allows only position-reducing orders.
    pub reduce_only_loss_usdt: f64,
    pub max_open_orders: usize,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let a = |s: Strategy, i: &str, max: &str, order: &str| Allocation {
            strategy: s,
            instrument: i.into(),
            max_position: max.into(),
            max_order_qty: order.into(),
            allow_short: true,
        };
        RiskConfig {
            allocations: vec![
                a(Strategy::Arbitrage, "btcusdt", "0.01", "0.005"),
                a(Strategy::Arbitrage, "btctwd", "0.01", "0.005"),
                a(Strategy::StableCoin, "usdttwd", "2000", "500"),
            ],
            max_order_notional_usdt: 1000.0,
            max_portfolio_exposure_usdt: 5000.0,
            max_loss_usdt: 500.0,
            reduce_only_loss_usdt: 250.0,
            max_open_orders: 8,
        }
    }
}

pub(crate) fn positive(key: &str, v: &str) -> Result<Fixed, InvalidSetting> {
    match Fixed::parse(v) {
        Ok(f) if f.raw() > 0 => Ok(f),
        _ => Err(InvalidSetting::new(
            key,
            format!("expected a positive decimal, got {v:?}"),
        )),
    }
}

impl RiskConfig {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        for (i, a) in self.allocations.iter().enumerate() {
            positive(
                &format!("risk.allocations[{i}].max_position"),
                &a.max_position,
            )?;
            positive(
                &format!("risk.allocations[{i}].max_order_qty"),
                &a.max_order_qty,
            )?;
            if a.instrument.is_empty() {
                return Err(InvalidSetting::new(
                    format!("risk.allocations[{i}].instrument"),
                    "must not be empty",
                ));
            }
        }
        for (k, v) in [
            ("max_order_notional_usdt", self.max_order_notional_usdt),
            (
                "max_portfolio_exposure_usdt",
                self.max_portfolio_exposure_usdt,
            ),
            ("max_loss_usdt", self.max_loss_usdt),
            ("reduce_only_loss_usdt", self.reduce_only_loss_usdt),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(InvalidSetting::new(
                    format!("risk.{k}"),
                    format!("must be a positive number, got {v}"),
                ));
            }
        }
        if self.reduce_only_loss_usdt > self.max_loss_usdt {
            return Err(InvalidSetting::new(
                "risk.reduce_only_loss_usdt",
                "must not exceed max_loss_usdt",
            ));
        }
        if self.max_open_orders == 0 {
            return Err(InvalidSetting::new("risk.max_open_orders", "must be > 0"));
        }
        Ok(())
    }
}
