//! The gates every signal passes: freshness, cooldown, trading hours, position room, and the
//! rounding of price and size onto the market's grid.

use crate::model::{Fixed, Instrument, Price, Qty, Side};

/// A top is usable while younger than `max_age_ns`.
#[inline]
pub fn is_fresh(age_ns: u64, max_age_ns: u64) -> bool {
    age_ns <= max_age_ns
}

/// Minimum time between two signals of one strategy on one market.
#[derive(Clone, Copy, Debug)]
pub struct Cooldown {
    period_ns: u64,
    last_ns: Option<u64>,
}

impl Cooldown {
    pub fn new(period_ms: u64) -> Self {
        Cooldown {
            period_ns: period_ms * 1_000_000,
            last_ns: None,
        }
    }
    #[inline]
    pub fn ready(&self, now_ns: u64) -> bool {
        self.last_ns
            .is_none_or(|l| now_ns.saturating_sub(l) >= self.period_ns)
    }
    #[inline]
    pub fn fire(&mut self, now_ns: u64) {
        self.last_ns = Some(now_ns);
    }
}

/// A daily window in local time; `start > end` wraps midnight; `00:00–24:00` is always open.
#[derive(Clone, Copy, Debug)]
pub struct TradingHours {
    offset_min: i64,
    start_min: u32,
    end_min: u32,
}

impl TradingHours {
    pub fn new(utc_offset_minutes: i32, start_min: u32, end_min: u32) -> Self {
        TradingHours {
            offset_min: utc_offset_minutes as i64,
            start_min,
            end_min,
        }
    }

    #[inline]
    pub fn is_open(&self, unix_ns: u64) -> bool {
        let local_min =
            ((unix_ns / 60_000_000_000) as i64 + self.offset_min).rem_euclid(1440) as u32;
        if self.start_min <= self.end_min {
            local_min >= self.start_min && local_min < self.end_min
        } else {
            local_min >= self.start_min || local_min < self.end_min
        }
    }
}

/// How much may be traded on `side` given the net `position`, the cap and the short policy.
#[inline]
pub fn room(side: Side, position: Qty, max_position: Qty, allow_short: bool) -> Qty {
    let r = match side {
        Side::Buy => max_position.raw() - position.raw(),
        Side::Sell if allow_short => position.raw() + max_position.raw(),
        Side::Sell => position.raw(),
    };
    Fixed(r.max(0))
}

/// The order size: the smallest of what is wanted, shown at the touch and allowed, floored to
/// the lot; `None` below the market's minimum size or value.
#[inline]
pub fn size(want: Qty, touch: Qty, room: Qty, price: Price, inst: &Instrument) -> Option<Qty> {
    let raw = want.raw().min(touch.raw()).min(room.raw());
    let lot = inst.rules.lot.raw().max(1);
    let q = Fixed(raw - raw.rem_euclid(lot));
    if q.raw() <= 0 || q < inst.rules.min_qty {
        return None;
    }
    let notional = price.checked_mul(q)?;
    (notional >= inst.rules.min_notional).then_some(q)
}

/// A limit price on the tick that never pays more than `touch` (buy) or takes less (sell).
#[inline]
pub fn on_tick(side: Side, touch: Price, tick: Fixed) -> Price {
    let t = tick.raw().max(1);
    let r = touch.raw();
    match side {
        Side::Buy => Fixed(r - r.rem_euclid(t)),
        Side::Sell => Fixed(r + (t - r.rem_euclid(t)) % t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InstrumentId, MarketRules, Symbol, Venue};

    fn f(s: &str) -> Fixed {
        Fixed::parse(s).unwrap()
    }

    #[test]
    fn freshness_and_cooldown() {
        assert!(is_fresh(1_999_999_999, 2_000_000_000));
        assert!(!is_fresh(2_000_000_001, 2_000_000_000));
        let mut c = Cooldown::new(500);
        assert!(c.ready(0));
        c.fire(1_000);
        assert!(!c.ready(1_000 + 499_999_999));
        assert!(c.ready(1_000 + 500_000_000));
    }

    #[test]
    fn trading_hours_with_offset_and_wrap() {
        let at = |h: u64, m: u64| (h * 60 + m) * 60_000_000_000; // UTC
        let taipei_day = TradingHours::new(480, 9 * 60, 17 * 60);
        assert!(taipei_day.is_open(at(1, 0)), "09:00 Taipei");
        assert!(
            !taipei_day.is_open(at(9, 0)),
            "17:00 Taipei is closed (end exclusive)"
        );
        let night = TradingHours::new(0, 22 * 60, 2 * 60);
        assert!(
            night.is_open(at(23, 0))
                && night.is_open(at(1, 59))
                && !night.is_open(at(2, 0))
                && !night.is_open(at(12, 0))
        );
        assert!(TradingHours::new(480, 0, 1440).is_open(at(15, 30)));
    }

    #[test]
    fn room_respects_the_short_policy() {
        assert_eq!(room(Side::Buy, f("0.004"), f("0.01"), false), f("0.006"));
        assert_eq!(room(Side::Sell, f("0"), f("0.01"), false), f("0"));
        assert_eq!(room(Side::Sell, f("0.002"), f("0.01"), true), f("0.012"));
        assert_eq!(room(Side::Buy, f("0.02"), f("0.01"), true), f("0"));
    }

    #[test]
    fn sizes_on_the_lot_above_minimums_and_prices_on_the_tick() {
        let inst = Instrument {
            id: InstrumentId(0),
            venue: Venue::Max,
            symbol: Symbol::new("btcusdt").unwrap(),
            base: Symbol::new("btc").unwrap(),
            quote: Symbol::new("usdt").unwrap(),
            rules: MarketRules {
                tick: f("0.01"),
                lot: f("0.0001"),
                min_qty: f("0.0001"),
                min_notional: f("8"),
            },
        };
        assert_eq!(
            size(f("0.00123"), f("5"), f("1"), f("95000"), &inst),
            Some(f("0.0012"))
        );
        assert_eq!(
            size(f("0.001"), f("0.00005"), f("1"), f("95000"), &inst),
            None,
            "below min qty"
        );
        assert_eq!(
            size(f("0.0001"), f("1"), f("1"), f("1000"), &inst),
            None,
            "below min notional"
        );
        assert_eq!(on_tick(Side::Buy, f("100.005"), f("0.01")), f("100"));
        assert_eq!(on_tick(Side::Sell, f("100.005"), f("0.01")), f("100.01"));
        assert_eq!(on_tick(Side::Sell, f("100.01"), f("0.01")), f("100.01"));
    }
}
