//! `[scanner]`: the strategies' parameters.

use crate::model::{Fixed, InvalidSetting, OrderType, Venue, WalletType};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArbitrageConfig {
    pub leader_venue: Venue,
    pub leader_symbol: String,
    /// The MAX market traded (the lagger).
    pub max_symbol: String,
    /// MAX market converting the leader's quote into the MAX market's quote (`usdttwd` for a TWD
    /// market); empty when both quote in USDT.
    pub conversion_symbol: String,
    pub wallet: WalletType,
    pub order_type: OrderType,
    pub order_qty: String,
    /// Cap on |net position| the scanner respects (base units); risk enforces its own.
    pub max_position: String,
    /// Without it, never sell below a flat position.
    pub allow_short: bool,
    pub taker_fee_bps: f64,
    /// Required deviation beyond fees, bps.
    pub edge_bps: f64,
    /// Half-life of the EWMA of the basis ln(MAX / (leader × conversion)).
    pub ewma_halflife_s: f64,
    /// No signal before this many basis samples.
    pub min_samples: u64,
    pub cooldown_ms: u64,
    /// Every input top must be younger than this.
    pub max_age_ms: u64,
}

impl Default for ArbitrageConfig {
    fn default() -> Self {
        ArbitrageConfig {
            leader_venue: Venue::BinanceFutures,
            leader_symbol: "BTCUSDT".into(),
            max_symbol: "btcusdt".into(),
            conversion_symbol: String::new(),
            wallet: WalletType::Spot,
            order_type: OrderType::IocLimit,
            order_qty: "0.001".into(),
            max_position: "0.01".into(),
            allow_short: true,
            taker_fee_bps: 15.0,
            edge_bps: 5.0,
            ewma_halflife_s: 30.0,
            min_samples: 50,
            cooldown_ms: 500,
            max_age_ms: 2000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PremiumCenter {
    /// Bands around a zero premium.
    #[default]
    Zero,
    /// Bands around the EWMA of the premium.
    Ewma,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StableCoinConfig {
    pub enabled: bool,
    pub max_symbol: String,
    /// The reference-rate instrument (venue `refrate`).
    pub ref_symbol: String,
    pub wallet: WalletType,
    pub order_type: OrderType,
    pub order_qty: String,
    pub max_position: String,
    pub allow_short: bool,
    /// Buy at the ask when its premium over the reference is below center + this (bps).
    pub buy_below_bps: f64,
    /// Sell at the bid when its premium is above center + this (bps).
    pub sell_above_bps: f64,
    pub center: PremiumCenter,
    pub ewma_halflife_s: f64,
    pub cooldown_ms: u64,
    pub max_age_ms: u64,
    /// Reference rates are published daily.
    pub ref_max_age_ms: u64,
}

impl Default for StableCoinConfig {
    fn default() -> Self {
        StableCoinConfig {
            enabled: true,
            max_symbol: "usdttwd".into(),
            ref_symbol: "USDTWD".into(),
            wallet: WalletType::Spot,
            order_type: OrderType::IocLimit,
            order_qty: "100".into(),
            max_position: "2000".into(),
            allow_short: true,
            buy_below_bps: -30.0,
            sell_above_bps: 30.0,
            center: PremiumCenter::Zero,
            ewma_halflife_s: 600.0,
            cooldown_ms: 2000,
            max_age_ms: 5000,
            ref_max_age_ms: 86_400_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradingHoursConfig {
    /// Local time = UTC + this (Asia/Taipei: 480).
    pub utc_offset_minutes: i32,
    /// `HH:MM` local, inclusive.
    pub start: String,
    /// `HH:MM` local, exclusive; `24:00` is the end of the day; start > end wraps midnight.
    pub end: String,
}

impl Default for TradingHoursConfig {
    fn default() -> Self {
        TradingHoursConfig {
            utc_offset_minutes: 480,
            start: "00:00".into(),
            end: "24:00".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScannerConfig {
    pub arbitrage: Vec<ArbitrageConfig>,
    pub stable_coin: StableCoinConfig,
    pub trading_hours: TradingHoursConfig,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            arbitrage: vec![
                ArbitrageConfig::default(),
                ArbitrageConfig {
                    max_symbol: "btctwd".into(),
                    conversion_symbol: "usdttwd".into(),
                    ..ArbitrageConfig::default()
                },
            ],
            stable_coin: StableCoinConfig::default(),
            trading_hours: TradingHoursConfig::default(),
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

fn finite_nonneg(key: &str, v: f64) -> Result<(), InvalidSetting> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(InvalidSetting::new(
            key,
            format!("must be a finite number ≥ 0, got {v}"),
        ))
    }
}

/// `HH:MM` → minutes after midnight (`24:00` → 1440).
pub(crate) fn hhmm(key: &str, s: &str) -> Result<u32, InvalidSetting> {
    let bad = || InvalidSetting::new(key, format!("expected HH:MM, got {s:?}"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl ScannerConfig {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        for (i, a) in self.arbitrage.iter().enumerate() {
            let k = |f: &str| format!("scanner.arbitrage[{i}].{f}");
            positive(&k("order_qty"), &a.order_qty)?;
            positive(&k("max_position"), &a.max_position)?;
            finite_nonneg(&k("taker_fee_bps"), a.taker_fee_bps)?;
            finite_nonneg(&k("edge_bps"), a.edge_bps)?;
            if !(a.ewma_halflife_s.is_finite() && a.ewma_halflife_s > 0.0) {
                return Err(InvalidSetting::new(k("ewma_halflife_s"), "must be > 0"));
            }
            if !matches!(a.leader_venue, Venue::BinanceSpot | Venue::BinanceFutures) {
                return Err(InvalidSetting::new(
                    k("leader_venue"),
                    "must be binance_spot or binance_futures",
                ));
            }
            if a.max_age_ms == 0 {
                return Err(InvalidSetting::new(k("max_age_ms"), "must be > 0"));
            }
        }
        let s = &self.stable_coin;
        if s.enabled {
            positive("scanner.stable_coin.order_qty", &s.order_qty)?;
            positive("scanner.stable_coin.max_position", &s.max_position)?;
            if !(s.buy_below_bps.is_finite()
                && s.sell_above_bps.is_finite()
                && s.buy_below_bps < s.sell_above_bps)
            {
                return Err(InvalidSetting::new(
                    "scanner.stable_coin.buy_below_bps",
                    "must be finite and below sell_above_bps",
                ));
            }
            if !(s.ewma_halflife_s.is_finite() && s.ewma_halflife_s > 0.0) {
                return Err(InvalidSetting::new(
                    "scanner.stable_coin.ewma_halflife_s",
                    "must be > 0",
                ));
            }
        }
        let h = &self.trading_hours;
        hhmm("scanner.trading_hours.start", &h.start)?;
        hhmm("scanner.trading_hours.end", &h.end)?;
        // `unsigned_abs`: `abs` of i32::MIN overflows (and wrapped to "ok" in release).
        if h.utc_offset_minutes.unsigned_abs() > 14 * 60 {
            return Err(InvalidSetting::new(
                "scanner.trading_hours.utc_offset_minutes",
                "beyond ±14 h",
            ));
        }
        Ok(())
    }
}
