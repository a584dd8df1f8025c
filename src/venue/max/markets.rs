//! `GET /api/v3/markets` (spec max.md §2.2): each market's status and trading rules. There is no
//! tick or step field: `tick = 10^-quote_unit_precision`, `step = 10^-base_unit_precision`
//! (precision may be negative: SHIB's `-3` means multiples of 1000). `min_base_amount` and
//! `min_quote_amount` are JSON numbers, sometimes in exponent form (`8.0e-05`) or with float
//! noise (`0.00028000000000000003`): their text is read exactly and rounded half-up to 8
//! decimals ([`Fixed::from_json_number`]), never through `f64` (`70126511.6` stays 70126511.6).

use crate::model::{DecimalError, Fixed, MarketRules, Symbol};
use crate::venue::ParseError;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketStatus {
    /// Placing and cancelling allowed.
    Active,
    /// Neither.
    Suspended,
    /// Cancelling only.
    CancelOnly,
}

/// One market of MAX's `GET /api/v3/markets`: the venue's wire form, read. Its rules are the
/// engine's [`MarketRules`], as in [`crate::model::Instrument`] (the engine's form); the config
/// file's text form is `config::MarketSpec`.
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
    #[serde(borrow)]
    min_base_amount: &'a RawValue,
    #[serde(borrow)]
    quote_unit: &'a str,
    quote_unit_precision: i32,
    #[serde(borrow)]
    min_quote_amount: &'a RawValue,
    #[serde(default)]
    m_wallet_supported: bool,
}

/// A JSON number's text → [`Fixed`]; a string, `null` or a negative number is refused.
fn amount(field: &'static str, v: &RawValue) -> Result<Fixed, ParseError> {
    let text = v.get().as_bytes();
    if !text
        .first()
        .is_some_and(|b| b.is_ascii_digit() || *b == b'-')
    {
        return Err(ParseError::BadValue(field));
    }
    Fixed::from_json_number(text).map_err(|err| match err {
        DecimalError::Sign => ParseError::BadValue(field),
        err => ParseError::BadDecimal { field, err },
    })
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

/// How an order breaks its market's rules. The caller must reject the order (resending it
/// unchanged gets the same answer, from MAX as from here).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRuleError {
    #[error("{market}: market is {status:?}")]
    NotActive {
        market: Symbol,
        status: MarketStatus,
    },
    #[error("{market}: price {price} is not on the tick {tick}")]
    OffTick {
        market: Symbol,
        price: Fixed,
        tick: Fixed,
    },
    #[error("{market}: volume {volume} is not on the step {step}")]
    OffStep {
        market: Symbol,
        volume: Fixed,
        step: Fixed,
    },
    #[error("{market}: volume {volume} below the minimum {min}")]
    BelowMinVolume {
        market: Symbol,
        volume: Fixed,
        min: Fixed,
    },
    #[error("{market}: value below the minimum {min}")]
    BelowMinValue { market: Symbol, min: Fixed },
}

/// Why an order breaks a market's rules, checked before it is sent.
pub fn check_order(m: &MaxMarket, price: Fixed, volume: Fixed) -> Result<(), OrderRuleError> {
    let r = &m.rules;
    let market = m.id;
    if m.status != MarketStatus::Active {
        return Err(OrderRuleError::NotActive {
            market,
            status: m.status,
        });
    }
    if !price.is_multiple_of(r.tick) {
        return Err(OrderRuleError::OffTick {
            market,
            price,
            tick: r.tick,
        });
    }
    if !volume.is_multiple_of(r.lot) {
        return Err(OrderRuleError::OffStep {
            market,
            volume,
            step: r.lot,
        });
    }
    if volume < r.min_qty {
        return Err(OrderRuleError::BelowMinVolume {
            market,
            volume,
            min: r.min_qty,
        });
    }
    match price.checked_mul(volume) {
        Some(n) if n >= r.min_notional => Ok(()),
        _ => Err(OrderRuleError::BelowMinValue {
            market,
            min: r.min_notional,
        }),
    }
}
