//! [`ReplayVenueConfig`]: the settings of the replay's simulated MAX execution venue
//! ([`super::max_venue::ReplayMaxVenue`]), checked before a replay starts.

use super::error::ReplayVenueError;
use super::latency_model::LatencyModel;

/// The venue's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayVenueConfig {
    /// Gateway → venue time of every request.
    pub latency: LatencyModel,
    /// Fee of maker fills, in basis points of the notional (finite, ≥ 0).
    pub maker_fee_bps: f64,
    /// Fee of taker fills, in basis points of the notional (finite, ≥ 0).
    pub taker_fee_bps: f64,
    /// Seed of the latency draws.
    pub seed: u64,
}

impl ReplayVenueConfig {
    /// Refuses fees that are not finite or negative (naming the setting) and an empirical
    /// latency with no sample.
    pub fn validate(&self) -> Result<(), ReplayVenueError> {
        for (setting, value) in [
            ("maker_fee_bps", self.maker_fee_bps),
            ("taker_fee_bps", self.taker_fee_bps),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(ReplayVenueError::InvalidFee { setting, value });
            }
        }
        self.latency.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ReplayVenueConfig {
        ReplayVenueConfig {
            latency: LatencyModel::Constant { ns: 5_000_000 },
            maker_fee_bps: 0.0,
            taker_fee_bps: 15.0,
            seed: 1,
        }
    }

    #[test]
    fn bad_fees_are_refused_naming_the_setting() {
        assert!(cfg().validate().is_ok());
        for (maker, taker, name) in [
            (-0.5, 15.0, "maker_fee_bps"),
            (f64::NAN, 15.0, "maker_fee_bps"),
            (0.0, f64::INFINITY, "taker_fee_bps"),
            (0.0, -1.0, "taker_fee_bps"),
        ] {
            let c = ReplayVenueConfig {
                maker_fee_bps: maker,
                taker_fee_bps: taker,
                ..cfg()
            };
            let err = c.validate().unwrap_err();
            assert!(
                matches!(err, ReplayVenueError::InvalidFee { setting, .. } if setting == name),
                "{err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn an_empirical_latency_without_samples_is_refused() {
        let c = ReplayVenueConfig {
            latency: LatencyModel::Empirical {
                samples_ns: Vec::new(),
            },
            ..cfg()
        };
        assert!(matches!(
            c.validate(),
            Err(ReplayVenueError::NoLatencySamples)
        ));
    }
}
