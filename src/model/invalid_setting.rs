//! [`InvalidSetting`]: a configuration value that cannot be used. What the caller must do is
//! always the same: reject it, and have the operator fix the configuration (a retry gives the
//! same answer).

/// A setting that cannot be used: which one (`key`, e.g. `scanner.arbitrage[0].edge_bps`,
/// `--durable`, `PG_PORT`) and why. Displayed as `key: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct InvalidSetting {
    pub key: String,
    pub reason: String,
}

impl InvalidSetting {
    pub fn new(key: impl Into<String>, reason: impl Into<String>) -> InvalidSetting {
        InvalidSetting {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The same problem one level down a configuration: `prefix: key: reason` (a market's
    /// symbol under `markets[2]`, the `--nats` option around `nats.url`).
    pub fn within(self, prefix: &str) -> InvalidSetting {
        InvalidSetting {
            key: format!("{prefix}: {}", self.key),
            reason: self.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_key_then_the_reason() {
        let e = InvalidSetting::new("order.cancel_after_ms", "must be > 0");
        assert_eq!(e.to_string(), "order.cancel_after_ms: must be > 0");
        assert_eq!(
            e.within("--config x.toml").to_string(),
            "--config x.toml: order.cancel_after_ms: must be > 0"
        );
    }
}
