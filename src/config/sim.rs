//! `[sim]`: the synthetic venue's price process, books and execution.

use crate::model::{Fixed, InvalidSetting, Venue};
use serde::Deserialize;

/// One Binance leader and the MAX market that lags it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPair {
    pub leader_venue: Venue,
    pub leader_symbol: String,
    pub max_symbol: String,
    /// MAX market converting the leader's quote into the MAX market's quote (`usdttwd` for a TWD
    /// market), empty when both quote in USDT.
    #[serde(default)]
    pub conversion: String,
    pub start_price: String,
    pub leader_tick: String,
    pub max_tick: String,
    pub level_qty: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Same seed, same price paths and books.
    pub seed: u64,
    /// Exchange event time of simulated t = 0, Unix ms.
    pub epoch_ms: u64,
    pub pairs: Vec<SimPair>,
    /// Levels per side in every synthetic book.
    pub depth_levels: usize,
    pub leader_spread_bps: f64,
    pub max_spread_bps: f64,
    /// Leader volatility, bps per √s.
    pub volatility_bps_per_s: f64,
    /// Binance depth/bookTicker period.
    pub leader_tick_ms: u64,
    /// MAX book update period.
    pub max_tick_ms: u64,
    /// MAX follows the leader with this time constant: the lag the arbitrage trades.
    pub lag_ms: f64,
    pub max_noise_bps: f64,
    /// Leader jumps (which MAX only catches up with later), per second and size.
    pub jump_probability_per_s: f64,
    pub jump_bps: f64,
    pub usdttwd_symbol: String,
    pub usdttwd_tick: String,
    pub usdttwd_level_qty: String,
    /// The USD/TWD reference rate and its instrument symbol.
    pub ref_symbol: String,
    pub ref_rate: String,
    /// MAX USDT/TWD premium over the reference: Ornstein–Uhlenbeck in bps.
    pub premium_mean_bps: f64,
    pub premium_reversion_per_s: f64,
    pub premium_vol_bps_per_s: f64,
    pub ref_update_ms: u64,
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    pub reject_probability: f64,
    pub maker_fee_bps: f64,
    pub taker_fee_bps: f64,
    /// Send some trades twice (the order stage must count them once).
    pub duplicate_fill_probability: f64,
    /// Skip a book update now and then (ids still advance): exercises resync.
    pub gap_probability: f64,
    /// Change MAX's book version after this many updates (0: never).
    pub version_change_after_updates: u64,
    /// `arbline sim`'s MAX `trade` channel: after each MAX book update, the chance that a
    /// synthetic taker prints at the new touch (buy at the best ask, sell at the best bid).
    pub max_trade_probability: f64,
    /// `arbline sim`'s MAX `ticker` channel: a market's ticker update is sent when its last
    /// price or volume changed, at most once per this many ms.
    pub ticker_interval_ms: u64,
    /// Replay mode when > 0: this many simulated seconds of frames are generated at start and
    /// only read back while running (for benchmarks; resyncs cannot be served). 0: live.
    pub pregenerate_s: f64,
    /// MAX WebSocket: a connection whose client sent no ping frame for this long (since it
    /// opened or its last ping) is closed by the server (MAX documents 130 s, spec max.md §3.1).
    pub max_ping_timeout_ms: u64,
    /// Binance WebSocket: more incoming messages (text, ping and pong frames) than this in any
    /// second drop the connection (spot 5, USDⓈ-M futures 10; spec binance.md §1).
    pub binance_max_incoming_per_s: u32,
    /// Binance WebSocket: the server pings every this many ms (spot: 20 s) ...
    pub binance_ping_interval_ms: u64,
    /// ... and drops a connection that sent no pong within this many ms of a ping (spot: 1 min).
    pub binance_pong_timeout_ms: u64,
    /// Binance WebSocket: the most streams one connection may carry (spec binance.md §1: 1024);
    /// a handshake naming more is refused, a live `SUBSCRIBE` that would go over gets an error
    /// and the connection is closed.
    pub binance_max_streams_per_connection: u32,
    /// MAX WebSocket: the most subscriptions one `sub` message may carry; a bigger one gets an
    /// error frame and subscribes nothing. MAX documents no cap: this is the simulator's check
    /// that the engine bounds its messages (`[venues.max] subscriptions_per_message`).
    pub max_subscriptions_per_message: u32,
    /// Binance REST: the request weight the depth endpoints accept per window (spec
    /// binance.md §4.6: spot 6000, USDⓈ-M futures 2400 a minute); beyond it 429, code -1003.
    pub binance_spot_request_weight: u32,
    pub binance_futures_request_weight: u32,
    /// ... per this many ms (Binance: a minute; tests scale it down).
    pub binance_weight_window_ms: u64,
    /// `arbline sim`: where the MAX REST (and reference-rate) server listens.
    pub max_rest_addr: String,
    /// `arbline sim`: where the MAX WebSocket server listens.
    pub max_ws_addr: String,
    /// `arbline sim`: Binance combined-stream WebSocket and depth REST.
    pub binance_ws_addr: String,
    pub binance_rest_addr: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        let pair = |max_symbol: &str, conversion: &str, max_tick: &str| SimPair {
            leader_venue: Venue::BinanceFutures,
            leader_symbol: "BTCUSDT".into(),
            max_symbol: max_symbol.into(),
            conversion: conversion.into(),
            start_price: "95000".into(),
            leader_tick: "0.1".into(),
            max_tick: max_tick.into(),
            level_qty: "0.05".into(),
        };
        SimConfig {
            seed: 42,
            epoch_ms: 1_767_225_600_000,
            pairs: vec![
                pair("btcusdt", "", "0.01"),
                pair("btctwd", "usdttwd", "0.1"),
            ],
            depth_levels: 20,
            leader_spread_bps: 0.2,
            max_spread_bps: 2.0,
            volatility_bps_per_s: 8.0,
            leader_tick_ms: 10,
            max_tick_ms: 50,
            lag_ms: 400.0,
            max_noise_bps: 0.5,
            jump_probability_per_s: 0.5,
            jump_bps: 25.0,
            usdttwd_symbol: "usdttwd".into(),
            usdttwd_tick: "0.001".into(),
            usdttwd_level_qty: "2000".into(),
            ref_symbol: "USDTWD".into(),
            ref_rate: "32.00".into(),
            premium_mean_bps: 0.0,
            premium_reversion_per_s: 0.2,
            premium_vol_bps_per_s: 20.0,
            ref_update_ms: 1000,
            latency_min_ms: 50,
            latency_max_ms: 200,
            reject_probability: 0.02,
            maker_fee_bps: 5.0,
            taker_fee_bps: 15.0,
            duplicate_fill_probability: 0.0,
            gap_probability: 0.0,
            version_change_after_updates: 0,
            max_trade_probability: 0.2,
            ticker_interval_ms: 1000,
            pregenerate_s: 0.0,
            max_ping_timeout_ms: 130_000,
            binance_max_incoming_per_s: 5,
            binance_ping_interval_ms: 20_000,
            binance_pong_timeout_ms: 60_000,
            binance_max_streams_per_connection: 1024,
            max_subscriptions_per_message: 100,
            binance_spot_request_weight: 6000,
            binance_futures_request_weight: 2400,
            binance_weight_window_ms: 60_000,
            max_rest_addr: "127.0.0.1:18080".into(),
            max_ws_addr: "127.0.0.1:18081".into(),
            binance_ws_addr: "127.0.0.1:18082".into(),
            binance_rest_addr: "127.0.0.1:18083".into(),
        }
    }
}

fn positive_decimal(key: &str, v: &str) -> Result<Fixed, InvalidSetting> {
    match Fixed::parse(v) {
        Ok(f) if f.raw() > 0 => Ok(f),
        _ => Err(InvalidSetting::new(
            key,
            format!("expected a positive decimal, got {v:?}"),
        )),
    }
}

impl SimConfig {
    /// Every server of `arbline sim` on a free loopback port (the demo, tests, benchmarks).
    pub fn use_free_ports(&mut self) {
        for addr in [
            &mut self.max_rest_addr,
            &mut self.max_ws_addr,
            &mut self.binance_ws_addr,
            &mut self.binance_rest_addr,
        ] {
            *addr = "127.0.0.1:0".into();
        }
    }

    /// Whether the simulator generates market data for `(venue, symbol)`: each pair's leader
    /// and MAX market, the USDT/TWD market, the reference rate.
    pub fn serves(&self, venue: Venue, symbol: &str) -> bool {
        let is = |s: &str| s.eq_ignore_ascii_case(symbol);
        match venue {
            Venue::BinanceSpot | Venue::BinanceFutures => self
                .pairs
                .iter()
                .any(|p| p.leader_venue == venue && is(&p.leader_symbol)),
            Venue::Max => is(&self.usdttwd_symbol) || self.pairs.iter().any(|p| is(&p.max_symbol)),
            Venue::RefRate => is(&self.ref_symbol),
        }
    }

    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.pairs.is_empty() {
            return Err(InvalidSetting::new("sim.pairs", "at least one pair"));
        }
        for (i, p) in self.pairs.iter().enumerate() {
            let k = |f: &str| format!("sim.pairs[{i}].{f}");
            if !matches!(p.leader_venue, Venue::BinanceSpot | Venue::BinanceFutures) {
                return Err(InvalidSetting::new(
                    k("leader_venue"),
                    "must be binance_spot or binance_futures",
                ));
            }
            for (f, v) in [
                ("start_price", &p.start_price),
                ("leader_tick", &p.leader_tick),
                ("max_tick", &p.max_tick),
                ("level_qty", &p.level_qty),
            ] {
                positive_decimal(&k(f), v)?;
            }
            if !p.conversion.is_empty() && p.conversion != self.usdttwd_symbol {
                return Err(InvalidSetting::new(
                    k("conversion"),
                    format!("only {:?} converts", self.usdttwd_symbol),
                ));
            }
        }
        positive_decimal("sim.usdttwd_tick", &self.usdttwd_tick)?;
        positive_decimal("sim.usdttwd_level_qty", &self.usdttwd_level_qty)?;
        positive_decimal("sim.ref_rate", &self.ref_rate)?;
        if self.depth_levels == 0 || self.depth_levels > 1000 {
            return Err(InvalidSetting::new("sim.depth_levels", "1..=1000"));
        }
        for (k, v) in [
            ("leader_tick_ms", self.leader_tick_ms),
            ("max_tick_ms", self.max_tick_ms),
            ("ref_update_ms", self.ref_update_ms),
            ("ticker_interval_ms", self.ticker_interval_ms),
            ("max_ping_timeout_ms", self.max_ping_timeout_ms),
            (
                "binance_max_incoming_per_s",
                u64::from(self.binance_max_incoming_per_s),
            ),
            ("binance_ping_interval_ms", self.binance_ping_interval_ms),
            ("binance_pong_timeout_ms", self.binance_pong_timeout_ms),
            (
                "binance_max_streams_per_connection",
                u64::from(self.binance_max_streams_per_connection),
            ),
            (
                "max_subscriptions_per_message",
                u64::from(self.max_subscriptions_per_message),
            ),
            (
                "binance_spot_request_weight",
                u64::from(self.binance_spot_request_weight),
            ),
            (
                "binance_futures_request_weight",
                u64::from(self.binance_futures_request_weight),
            ),
            ("binance_weight_window_ms", self.binance_weight_window_ms),
        ] {
            if v == 0 {
                return Err(InvalidSetting::new(format!("sim.{k}"), "must be > 0"));
            }
        }
        if !(self.pregenerate_s.is_finite() && (0.0..=3600.0).contains(&self.pregenerate_s)) {
            return Err(InvalidSetting::new(
                "sim.pregenerate_s",
                format!("0..=3600 seconds, got {}", self.pregenerate_s),
            ));
        }
        for (k, v) in [
            ("max_rest_addr", &self.max_rest_addr),
            ("max_ws_addr", &self.max_ws_addr),
        ] {
            if v.parse::<std::net::SocketAddr>().is_err() {
                return Err(InvalidSetting::new(
                    format!("sim.{k}"),
                    format!("expected host:port, got {v:?}"),
                ));
            }
        }
        if self.latency_min_ms > self.latency_max_ms {
            return Err(InvalidSetting::new(
                "sim.latency_min_ms",
                "must not exceed latency_max_ms",
            ));
        }
        for (k, v) in [
            ("reject_probability", self.reject_probability),
            (
                "duplicate_fill_probability",
                self.duplicate_fill_probability,
            ),
            ("gap_probability", self.gap_probability),
            ("max_trade_probability", self.max_trade_probability),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(InvalidSetting::new(
                    format!("sim.{k}"),
                    format!("must be within 0..=1, got {v}"),
                ));
            }
        }
        for (k, v) in [
            ("leader_spread_bps", self.leader_spread_bps),
            ("max_spread_bps", self.max_spread_bps),
            ("volatility_bps_per_s", self.volatility_bps_per_s),
            ("lag_ms", self.lag_ms),
            ("max_noise_bps", self.max_noise_bps),
            ("jump_probability_per_s", self.jump_probability_per_s),
            ("jump_bps", self.jump_bps),
            ("premium_reversion_per_s", self.premium_reversion_per_s),
            ("premium_vol_bps_per_s", self.premium_vol_bps_per_s),
            ("maker_fee_bps", self.maker_fee_bps),
            ("taker_fee_bps", self.taker_fee_bps),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(InvalidSetting::new(
                    format!("sim.{k}"),
                    format!("must be a finite number ≥ 0, got {v}"),
                ));
            }
        }
        Ok(())
    }
}
