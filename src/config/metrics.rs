//! `[metrics]`: the Prometheus endpoint (`/metrics`, `telemetry::metrics_server`).

use crate::model::InvalidSetting;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// `host:port` to serve `/metrics` on (e.g. `127.0.0.1:9464`; port 0: any free port);
    /// empty: no endpoint. `arbline demo` serves on `127.0.0.1:9464` (or a free port if that
    /// one is taken) unless the configuration says otherwise.
    pub addr: String,
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
        Ok(())
    }
}
