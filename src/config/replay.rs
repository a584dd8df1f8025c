//! `[replay]`: the simulated MAX execution venue of `arbline replay` (its order latency and
//! fees) and how often the replay samples P&L.

use crate::model::InvalidSetting;
use serde::Deserialize;

/// How long an order takes to reach the simulated venue.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayLatency {
    /// Drawn from the capture's own create-order answers (send to answer).
    Capture,
    /// The same for every request, nanoseconds.
    Constant(u64),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// `"capture"` (the empirical ack latencies of the capture) or a duration (`"5ms"`).
    pub latency: String,
    pub maker_fee_bps: f64,
    pub taker_fee_bps: f64,
    /// Seeds the latency draws: one seed, one replay.
    pub seed: u64,
    /// P&L is sampled at every fill and at least this often (capture time).
    pub pnl_interval_ms: u64,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            latency: "capture".into(),
            // MAX's standard spot fees (as the simulator's `[sim]` defaults).
            maker_fee_bps: 5.0,
            taker_fee_bps: 15.0,
            seed: 7,
            pnl_interval_ms: 1000,
        }
    }
}

impl ReplayConfig {
    pub fn latency(&self) -> Result<ReplayLatency, InvalidSetting> {
        if self.latency.trim() == "capture" {
            return Ok(ReplayLatency::Capture);
        }
        let d = super::parse_duration(&self.latency).map_err(|e| {
            InvalidSetting::new(
                "replay.latency",
                format!("\"capture\" or a duration like \"5ms\": {e}"),
            )
        })?;
        Ok(ReplayLatency::Constant(d.as_nanos() as u64))
    }

    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.latency()?;
        for (k, v) in [
            ("maker_fee_bps", self.maker_fee_bps),
            ("taker_fee_bps", self.taker_fee_bps),
        ] {
            if !v.is_finite() || !(0.0..=1000.0).contains(&v) {
                return Err(InvalidSetting::new(
                    format!("replay.{k}"),
                    format!("must be within 0..=1000 bps, got {v}"),
                ));
            }
        }
        if self.pnl_interval_ms == 0 {
            return Err(InvalidSetting::new("replay.pnl_interval_ms", "must be > 0"));
        }
        Ok(())
    }
}
