//! Strategies that trade on nearly every book top, so a test sees orders within seconds: a
//! signal once 5 samples are in, no cooldown, no fee or edge to beat.

use arbline::config::Config;
use arbline::model::OrderType;

/// Every arbitrage strategy trades on nearly every top, with `order_type` when given.
pub fn trade_on_every_top(cfg: &mut Config, order_type: Option<OrderType>) {
    for a in &mut cfg.scanner.arbitrage {
        a.min_samples = 5;
        a.cooldown_ms = 0;
        a.taker_fee_bps = 0.0;
        a.edge_bps = 0.0;
        if let Some(t) = order_type {
            a.order_type = t;
        }
    }
}
