//! The correlated price process: Binance leads, MAX lags.
//!
//! - Leader mid `L`: a log random walk (`volatility_bps_per_s` per √s) with occasional jumps of
//!   `±jump_bps`.
//! - Each MAX market follows its leader through an exponential lag with time constant `lag_ms`
//!   (`M += (L − M)(1 − e^(−dt/τ))`), plus a little noise where it is quoted; a TWD market is
//!   `M × USDT/TWD`. After a jump, MAX stays stale for a while: the arbitrage's opportunity.
//! - MAX USDT/TWD = reference USD/TWD × (1 + premium), the premium an Ornstein–Uhlenbeck process
//!   in bps: the stable-coin strategy's opportunity.
//!
//! Time is an input: [`PriceProcess::advance_to`] steps in 1 ms increments of simulated time, so
//! the same seed gives the same paths however often it is polled.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub struct ProcessParams {
    pub volatility_bps_per_s: f64,
    pub jump_probability_per_s: f64,
    pub jump_bps: f64,
    pub lag_ms: f64,
    pub premium_mean_bps: f64,
    pub premium_reversion_per_s: f64,
    pub premium_vol_bps_per_s: f64,
}

pub struct PriceProcess {
    p: ProcessParams,
    rng: SmallRng,
    t_ns: u64,
    /// Leader mids (USDT), one per distinct leader.
    pub leaders: Vec<f64>,
    /// Lagged follower of each leader, in the leader's quote.
    pub lagged: Vec<f64>,
    /// USDT/TWD premium over the reference, bps.
    pub premium_bps: f64,
    pub ref_rate: f64,
}

const STEP_NS: u64 = 1_000_000;

impl PriceProcess {
    pub fn new(seed: u64, p: ProcessParams, leader_starts: &[f64], ref_rate: f64) -> Self {
        PriceProcess {
            premium_bps: p.premium_mean_bps,
            p,
            rng: SmallRng::seed_from_u64(seed),
            t_ns: 0,
            leaders: leader_starts.to_vec(),
            lagged: leader_starts.to_vec(),
            ref_rate,
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.t_ns
    }

    pub fn usdttwd(&self) -> f64 {
        self.ref_rate * (1.0 + self.premium_bps / 1e4)
    }

    /// Steps the process to `t_ns` (never backwards).
    pub fn advance_to(&mut self, t_ns: u64) {
        let dt = STEP_NS as f64 / 1e9;
        let sigma = self.p.volatility_bps_per_s / 1e4 * dt.sqrt();
        let jump_p = self.p.jump_probability_per_s * dt;
        let follow = 1.0 - (-(STEP_NS as f64 / 1e6) / self.p.lag_ms.max(1e-6)).exp();
        let theta = self.p.premium_reversion_per_s * dt;
        let pvol = self.p.premium_vol_bps_per_s * dt.sqrt();
        while self.t_ns + STEP_NS <= t_ns {
            self.t_ns += STEP_NS;
            for i in 0..self.leaders.len() {
                let mut r = sigma * normal(&mut self.rng);
                if self.rng.random::<f64>() < jump_p {
                    let sign = if self.rng.random::<bool>() { 1.0 } else { -1.0 };
                    r += sign * self.p.jump_bps / 1e4;
                }
                self.leaders[i] *= r.exp();
                self.lagged[i] += (self.leaders[i] - self.lagged[i]) * follow;
            }
            self.premium_bps +=
                theta * (self.p.premium_mean_bps - self.premium_bps) + pvol * normal(&mut self.rng);
        }
    }
}
