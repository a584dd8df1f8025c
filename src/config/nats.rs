//! `[nats]`: where the engine publishes its events and `arbline record` reads them.
//!
//! One JetStream stream holds every subject the engine publishes. Whoever starts first (the
//! engine's forwarder or the recorder) creates it with [`NatsConfig::stream_subjects`].

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
    /// The NATS server (`nats://host:port`).
    pub url: String,
    /// The JetStream stream that holds every subject below.
    pub stream: String,
    /// Put in front of every subject (with a `.`); "" = none. Lets several deployments share one
    /// NATS account.
    pub subject_prefix: String,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            url: "nats://127.0.0.1:4222".into(),
            stream: "ARBLINE".into(),
            subject_prefix: String::new(),
        }
    }
}

impl NatsConfig {
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
    pub fn validate(&self) -> Result<(), String> {
        if !["nats://", "tls://"]
            .iter()
            .any(|s| self.url.starts_with(s))
        {
            return Err(format!(
                "nats.url: expected a nats:// or tls:// URL, got {:?}",
                self.url
            ));
        }
        // JetStream stream names may not contain subject tokens' separators or wildcards.
        let bad = |c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\');
        if self.stream.is_empty() || self.stream.contains(bad) {
            return Err(format!(
                "nats.stream: must be a non-empty name without spaces, '.', '*', '>', '/' or '\\', \
                 got {:?}",
                self.stream
            ));
        }
        let p = &self.subject_prefix;
        if !p.is_empty()
            && (p.starts_with('.')
                || p.ends_with('.')
                || p.contains("..")
                || p.contains(|c: char| c.is_whitespace() || c == '*' || c == '>'))
        {
            return Err(format!(
                "nats.subject_prefix: must be subject tokens joined by '.', without wildcards, \
                 got {p:?}"
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
            let e = c.validate().unwrap_err();
            assert!(e.starts_with(key), "{name}: {e}");
        }
        NatsConfig::default().validate().unwrap();
    }
}
