//! `[metrics]`: the Prometheus endpoint (`/metrics`, `telemetry::metrics_server`).

use crate::model::InvalidSetting;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `host:port` to serve `/metrics` on (e.g. `127.0.0.1:9464`; port 0: any free port);
    /// empty: no endpoint. `arbline demo` serves on `127.0.0.1:9464` (or a free port if that
    /// one is taken) unless the configuration says otherwise.
    pub addr: String,
    /// After the engine stops, the endpoint keeps serving the final values this long, so the
    /// next scrape records how the run ended (a `--duration` run, a restart).
    pub linger_ms: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            addr: String::new(),
            linger_ms: 2000,
        }
    }
}

impl MetricsConfig {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !self.addr.is_empty() && self.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(InvalidSetting::new(
                "metrics.addr",
                format!(
                    "expected host:port such as 127.0.0.1:9464, got {:?}",
                    self.addr
                ),
            ));
        }
        if self.linger_ms > 600_000 {
            return Err(InvalidSetting::new(
                "metrics.linger_ms",
                format!("at most 600000 (10 min), got {}", self.linger_ms),
            ));
        }
        Ok(())
    }
}
