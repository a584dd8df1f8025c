//! Exponentially weighted mean and variance with a time-based decay.
//!
//! With half-life `h`, a sample `dt` after the previous one gets weight `α = 1 − 2^(−dt/h)`;
//! mean and variance follow West's incremental update:
//! `δ = x − μ; μ += αδ; σ² = (1 − α)(σ² + αδ²)`.

#[derive(Clone, Copy, Debug)]
pub struct Ewma {
    halflife_ns: f64,
    mean: f64,
    var: f64,
    last_ns: u64,
    samples: u64,
}

impl Ewma {
    pub fn new(halflife_s: f64) -> Self {
        Ewma {
            halflife_ns: halflife_s * 1e9,
            mean: 0.0,
            var: 0.0,
            last_ns: 0,
            samples: 0,
        }
    }

    /// Adds `x` observed at `t_ns`; non-finite samples are ignored.
    #[inline]
    pub fn update(&mut self, x: f64, t_ns: u64) {
        if !x.is_finite() {
            return;
        }
        if self.samples == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let dt = t_ns.saturating_sub(self.last_ns) as f64;
            let alpha = 1.0 - (-dt / self.halflife_ns * std::f64::consts::LN_2).exp();
            let d = x - self.mean;
            self.mean += alpha * d;
            self.var = (1.0 - alpha) * (self.var + alpha * d * d);
        }
        // Samples from two feeds may arrive a little out of order: time never runs back.
        self.last_ns = self.last_ns.max(t_ns);
        self.samples += 1;
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }
    pub fn std(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
    pub fn samples(&self) -> u64 {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_half_absorbed_after_one_half_life() {
        let mut e = Ewma::new(1.0);
        e.update(0.0, 0);
        e.update(1.0, 1_000_000_000);
        assert!((e.mean() - 0.5).abs() < 1e-9, "{}", e.mean());
        for i in 2..200 {
            e.update(1.0, i * 1_000_000_000);
        }
        assert!((e.mean() - 1.0).abs() < 1e-9);
        assert!(e.std() < 1e-6);
        e.update(f64::NAN, 300_000_000_000);
        assert_eq!(e.samples(), 200);
    }
}
