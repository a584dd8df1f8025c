//! `GET /api/v3/markets` (spec max.md §2.2): each market's status and trading rules. There is no
//! tick or step field: `tick = 10^-quote_unit_precision`, `step = 10^-base_unit_precision`
//! (precision may be negative: SHIB's `-3` means multiples of 1000). `min_base_amount` and
//! `min_quote_amount` are JSON numbers, sometimes in exponent form (`8.0e-05`) or with float
//! noise (`0.00028000000000000003`): they are rounded to 8 decimals.

use crate::model::{Fixed, MarketRules, Symbol};
use crate::venue::ParseError;
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketStatus {
    /// Placing and cancelling allowed.
    Active,
    /// Neither.
    Suspended,
    /// Cancelling only.
    CancelOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxMarket {
    pub id: Symbol,
    pub status: MarketStatus,
    pub base: Symbol,
    pub quote: Symbol,
    pub rules: MarketRules,
    pub m_wallet_supported: bool,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    status: &'a str,
    #[serde(borrow)]
    base_unit: &'a str,
    base_unit_precision: i32,
    min_base_amount: f64,
    #[serde(borrow)]
    quote_unit: &'a str,
    quote_unit_precision: i32,
    min_quote_amount: f64,
    #[serde(default)]
    m_wallet_supported: bool,
}

fn amount(field: &'static str, v: f64) -> Result<Fixed, ParseError> {
    if !v.is_finite() || !(0.0..=9e10).contains(&v) {
        return Err(ParseError::BadValue(field));
    }
    Ok(Fixed((v * 1e8).round() as i64))
}

pub fn parse_markets(body: &[u8]) -> Result<Vec<MaxMarket>, ParseError> {
    let raw: Vec<Raw> = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    raw.into_iter()
        .map(|r| {
            let sym = |s: &str, f: &'static str| Symbol::new(s).ok_or(ParseError::BadValue(f));
            Ok(MaxMarket {
                id: sym(r.id, "id")?,
                status: match r.status {
                    "active" => MarketStatus::Active,
                    "suspended" => MarketStatus::Suspended,
                    "cancel-only" => MarketStatus::CancelOnly,
                    _ => return Err(ParseError::BadValue("status")),
                },
                base: sym(r.base_unit, "base_unit")?,
                quote: sym(r.quote_unit, "quote_unit")?,
                rules: MarketRules {
                    tick: Fixed::step_from_precision(r.quote_unit_precision)
                        .ok_or(ParseError::BadValue("quote_unit_precision"))?,
                    lot: Fixed::step_from_precision(r.base_unit_precision)
                        .ok_or(ParseError::BadValue("base_unit_precision"))?,
                    min_qty: amount("min_base_amount", r.min_base_amount)?,
                    min_notional: amount("min_quote_amount", r.min_quote_amount)?,
                },
                m_wallet_supported: r.m_wallet_supported,
            })
        })
        .collect()
}

/// Why an order breaks a market's rules, checked before it is sent.
pub fn check_order(m: &MaxMarket, price: Fixed, volume: Fixed) -> Result<(), String> {
    let r = &m.rules;
    if m.status != MarketStatus::Active {
        return Err(format!("{}: market is {:?}", m.id, m.status));
    }
    if !price.is_multiple_of(r.tick) {
        return Err(format!(
            "{}: price {price} is not on the tick {}",
            m.id, r.tick
        ));
    }
    if !volume.is_multiple_of(r.lot) {
        return Err(format!(
            "{}: volume {volume} is not on the step {}",
            m.id, r.lot
        ));
    }
    if volume < r.min_qty {
        return Err(format!(
            "{}: volume {volume} below the minimum {}",
            m.id, r.min_qty
        ));
    }
    match price.checked_mul(volume) {
        Some(n) if n >= r.min_notional => Ok(()),
        _ => Err(format!(
            "{}: value below the minimum {}",
            m.id, r.min_notional
        )),
    }
}
