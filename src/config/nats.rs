//! `[nats]`: where the engine publishes its events and `arbline record` reads them.
//!
//! One JetStream stream holds every subject the engine publishes. Whoever starts first (the
//! engine's forwarder or the recorder) creates it with [`NatsConfig::stream_subjects`].

use crate::model::InvalidSetting;
use crate::secrets::redact_url;
use serde::Deserialize;

/// The subject families of the stream, in the seed's convention
/// `{domain}.{exchange}.{data_type}.{market_type}.{sub_type}.{event_type}.{symbol}`.
pub const SUBJECT_FAMILIES: [&str; 6] = [
    "exchange.>",
    "signal.>",
    "order.>",
    "position.>",
    "latency.>",
    "system.>",
];

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// The NATS server (`nats://host:port`), or several, comma-separated: the nodes of a
    /// cluster (the client connects to one and moves to another when it fails; it also learns
    /// the cluster's other nodes from the server).
    pub url: String,
    /// Copies of the stream the cluster keeps (1 on a single server; 3 on a 3-node cluster, so
    /// losing a node loses nothing). Used when the stream is created.
    pub stream_replicas: usize,
    /// Limits of the stream when it is created (0: none): messages older than this many
    /// seconds, or past this many bytes, are discarded oldest first, recorded or not — pick
    /// them longer than the longest recorder or PostgreSQL outage to ride out. Without them the
    /// stream grows until a node's JetStream store is full and every new message is refused.
    pub stream_max_age_s: u64,
    pub stream_max_bytes: u64,
    /// The JetStream stream that holds every subject below.
    pub stream: String,
    /// Put in front of every subject (with a `.`); "" = none. Lets several deployments share one
    /// NATS account.
    pub subject_prefix: String,
    /// The engine publishes to NATS (`--nats URL` on `demo` / `run` sets it); otherwise it writes
    /// the same events as JSON lines to `file_dir`. The recorder ignores it.
    pub enabled: bool,
    /// Book tops published at most this often per instrument (0: every top). Orders, fills,
    /// positions and system events are never sampled.
    pub md_interval_ms: u64,
    /// What the forwarder holds while NATS is slow or down: orders, fills, positions and
    /// system events (dropped oldest-first past this, counted), and market data (dropped first).
    pub buffer_critical: usize,
    pub buffer_md: usize,
    /// Without NATS: where the events file goes, its size before rotation, rotated files kept.
    pub file_dir: String,
    pub file_max_mb: u64,
    pub file_keep: usize,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            url: "nats://127.0.0.1:4222".into(),
            stream_replicas: 1,
            stream_max_age_s: 0,
            stream_max_bytes: 0,
            stream: "ARBLINE".into(),
            subject_prefix: String::new(),
            enabled: false,
            md_interval_ms: 100,
            buffer_critical: 200_000,
            buffer_md: 10_000,
            file_dir: "events".into(),
            file_max_mb: 64,
            file_keep: 5,
        }
    }
}

impl NatsConfig {
    /// The stream's limits as JetStream takes them: (max age, max bytes; -1 for none).
    pub fn stream_limits(&self) -> (std::time::Duration, i64) {
        let bytes = match self.stream_max_bytes {
            0 => -1,
            b => i64::try_from(b).unwrap_or(i64::MAX),
        };
        (std::time::Duration::from_secs(self.stream_max_age_s), bytes)
    }

    /// The servers of [`Self::url`]: one, or a cluster's nodes.
    pub fn servers(&self) -> Vec<String> {
        crate::telemetry::nats_forwarder::servers(&self.url)
    }

    /// `subject` with the configured prefix in front.
    pub fn subject(&self, subject: &str) -> String {
        if self.subject_prefix.is_empty() {
            subject.to_string()
        } else {
            format!("{}.{subject}", self.subject_prefix)
        }
    }

    /// The stream's subjects: [`SUBJECT_FAMILIES`] under the prefix.
    pub fn stream_subjects(&self) -> Vec<String> {
        SUBJECT_FAMILIES.iter().map(|s| self.subject(s)).collect()
    }

    /// Errors name the key (`nats.url`, …).
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if self.servers().is_empty()
            || self
                .servers()
                .iter()
                .any(|u| !["nats://", "tls://"].iter().any(|s| u.starts_with(s)))
        {
            // Without its `user:password@`, if it has one.
            return Err(InvalidSetting::new(
                "nats.url",
                format!(
                    "expected nats:// or tls:// URLs (comma-separated for a cluster), got {:?}",
                    redact_url(&self.url)
                ),
            ));
        }
        if self.stream_max_bytes > i64::MAX as u64 {
            return Err(InvalidSetting::new(
                "nats.stream_max_bytes",
                format!("at most {}, got {}", i64::MAX, self.stream_max_bytes),
            ));
        }
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(InvalidSetting::new(
                "nats.stream_replicas",
                format!(
                    "JetStream keeps 1 to 5 copies, got {}",
                    self.stream_replicas
                ),
            ));
        }
        // JetStream stream names may not contain subject tokens' separators or wildcards.
        let bad = |c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\');
        if self.stream.is_empty() || self.stream.contains(bad) {
            return Err(InvalidSetting::new(
                "nats.stream",
                format!(
                    "must be a non-empty name without spaces, '.', '*', '>', '/' or '\\', got {:?}",
                    self.stream
                ),
            ));
        }
        if self.buffer_critical == 0 || self.buffer_md == 0 {
            return Err(InvalidSetting::new(
                "nats.buffer_critical / buffer_md",
                "must be > 0",
            ));
        }
        if self.file_dir.is_empty() || self.file_max_mb == 0 {
            return Err(InvalidSetting::new(
                "nats.file_dir / file_max_mb",
                "must be set (a directory, > 0 MB)",
            ));
        }
        let p = &self.subject_prefix;
        if !p.is_empty()
            && (p.starts_with('.')
                || p.ends_with('.')
                || p.contains("..")
                || p.contains(|c: char| c.is_whitespace() || c == '*' || c == '>'))
        {
            return Err(InvalidSetting::new(
                "nats.subject_prefix",
                format!("must be subject tokens joined by '.', without wildcards, got {p:?}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_take_the_prefix() {
        let mut c = NatsConfig::default();
        assert_eq!(c.stream_subjects()[0], "exchange.>");
        c.subject_prefix = "prod.tw".into();
        assert_eq!(
            c.subject("order.max.filled.BTCUSDT"),
            "prod.tw.order.max.filled.BTCUSDT"
        );
        assert_eq!(c.stream_subjects()[5], "prod.tw.system.>");
    }

    #[test]
    fn a_cluster_list_and_the_stream_limits_read_as_the_client_and_jetstream_take_them() {
        let c = NatsConfig {
            url: "nats://a:4222, nats://b:4222,nats://c:4222".into(),
            stream_max_age_s: 86_400,
            ..Default::default()
        };
        c.validate().unwrap();
        assert_eq!(
            c.servers(),
            ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
        );
        assert_eq!(
            c.stream_limits(),
            (std::time::Duration::from_secs(86_400), -1)
        );
        let bad = NatsConfig {
            url: "nats://a:4222,http://b".into(),
            ..Default::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("nats.url"));
        let bad = NatsConfig {
            stream_replicas: 7,
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("stream_replicas")
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases: &[(&str, NatsConfig, &str)] = &[
            (
                "http url",
                NatsConfig {
                    url: "http://x".into(),
                    ..NatsConfig::default()
                },
                "nats.url",
            ),
            (
                "dotted stream",
                NatsConfig {
                    stream: "A.B".into(),
                    ..NatsConfig::default()
                },
                "nats.stream",
            ),
            (
                "wildcard prefix",
                NatsConfig {
                    subject_prefix: "a.*".into(),
                    ..NatsConfig::default()
                },
                "nats.subject_prefix",
            ),
            (
                "trailing dot",
                NatsConfig {
                    subject_prefix: "a.".into(),
                    ..NatsConfig::default()
                },
                "nats.subject_prefix",
            ),
        ];
        for (name, c, key) in cases {
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{name}: {e}");
        }
        NatsConfig::default().validate().unwrap();
    }

    #[test]
    fn a_refused_url_is_shown_without_its_password() {
        let c = NatsConfig {
            url: "http://rec:hunter2-secret@bus:4222".into(),
            ..NatsConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.starts_with("nats.url") && !e.contains("hunter2"), "{e}");
    }
}
