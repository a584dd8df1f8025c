//! [`LatencyModel`]: how long a request the gateway hands over takes to reach the replayed MAX
//! venue, on the capture's clock.
//!
//! A constant, or draws from measured latencies (e.g. the REST acknowledgement times of a live
//! session): each draw picks one sample uniformly at random with the venue's seeded
//! [`SmallRng`], so a replay with the same seed draws the same latencies.

use super::error::ReplayVenueError;
use rand::Rng;
use rand::rngs::SmallRng;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LatencyModel {
    /// Every request takes `ns` nanoseconds.
    Constant { ns: u64 },
    /// Each request takes one of `samples_ns`, picked uniformly at random. Never empty when
    /// built with [`LatencyModel::empirical`].
    Empirical { samples_ns: Vec<u64> },
}

impl LatencyModel {
    /// The empirical model of `samples_ns`; refused when there is no sample to draw.
    pub fn empirical(samples_ns: Vec<u64>) -> Result<Self, ReplayVenueError> {
        if samples_ns.is_empty() {
            return Err(ReplayVenueError::NoLatencySamples);
        }
        Ok(LatencyModel::Empirical { samples_ns })
    }

    /// Refuses an empirical model with no samples (one built by hand, not by
    /// [`LatencyModel::empirical`]).
    pub fn validate(&self) -> Result<(), ReplayVenueError> {
        match self {
            LatencyModel::Empirical { samples_ns } if samples_ns.is_empty() => {
                Err(ReplayVenueError::NoLatencySamples)
            }
            _ => Ok(()),
        }
    }

    /// One latency in nanoseconds. A constant model leaves `rng` untouched; an empirical one
    /// draws one index (an empty one, which [`LatencyModel::validate`] refuses, gives 0).
    pub fn draw(&self, rng: &mut SmallRng) -> u64 {
        match self {
            LatencyModel::Constant { ns } => *ns,
            LatencyModel::Empirical { samples_ns } if samples_ns.is_empty() => 0,
            LatencyModel::Empirical { samples_ns } => {
                samples_ns[rng.random_range(0..samples_ns.len())]
            }
        }
    }

    /// The model in words, for logs and reports: `constant 5 ms`,
    /// `empirical: 120 acks, p50 3.2 ms` (the median by nearest rank).
    pub fn describe(&self) -> String {
        match self {
            LatencyModel::Constant { ns } => format!("constant {} ms", ms(*ns)),
            LatencyModel::Empirical { samples_ns } => {
                let mut sorted = samples_ns.clone();
                sorted.sort_unstable();
                let p50 = sorted
                    .get(sorted.len().div_ceil(2).saturating_sub(1))
                    .copied()
                    .unwrap_or(0);
                format!("empirical: {} acks, p50 {} ms", sorted.len(), ms(p50))
            }
        }
    }
}

/// Nanoseconds as milliseconds with at most three decimals, trailing zeros dropped (`5`, `3.2`).
fn ms(ns: u64) -> String {
    let micros = ns / 1_000;
    let (whole, frac) = (micros / 1_000, micros % 1_000);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:03}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn constant_draws_its_value_and_leaves_the_rng_alone() {
        let m = LatencyModel::Constant { ns: 5_000_000 };
        let mut a = SmallRng::seed_from_u64(7);
        let mut b = SmallRng::seed_from_u64(7);
        assert_eq!(m.draw(&mut a), 5_000_000);
        assert_eq!(a.random::<u64>(), b.random::<u64>());
        assert_eq!(m.describe(), "constant 5 ms");
    }

    #[test]
    fn empirical_draws_are_samples_and_reproducible_with_the_same_seed() {
        let m = LatencyModel::empirical(vec![1_000_000, 2_000_000, 3_000_000, 9_000_000]).unwrap();
        let draw = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            (0..64).map(|_| m.draw(&mut rng)).collect::<Vec<_>>()
        };
        let a = draw(42);
        assert_eq!(a, draw(42));
        assert!(a.iter().all(|v| [1, 2, 3, 9].contains(&(v / 1_000_000))));
        // Uniform over the samples: 64 draws reach more than one of them.
        assert!(a.iter().any(|&v| v != a[0]));
        assert_ne!(a, draw(43));
    }

    #[test]
    fn empty_samples_are_refused() {
        assert!(matches!(
            LatencyModel::empirical(Vec::new()),
            Err(ReplayVenueError::NoLatencySamples)
        ));
        let by_hand = LatencyModel::Empirical {
            samples_ns: Vec::new(),
        };
        assert!(by_hand.validate().is_err());
        assert_eq!(by_hand.draw(&mut SmallRng::seed_from_u64(1)), 0);
    }

    #[test]
    fn describes_the_median_of_the_samples() {
        let mut samples = vec![3_200_000; 60];
        samples.extend(vec![9_000_000; 60]);
        samples.rotate_left(17);
        let m = LatencyModel::empirical(samples).unwrap();
        assert_eq!(m.describe(), "empirical: 120 acks, p50 3.2 ms");
        assert_eq!(ms(1_234_567), "1.234");
        assert_eq!(ms(10_500_000), "10.5");
        assert_eq!(ms(0), "0");
    }
}
