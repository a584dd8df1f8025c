//! `[log]`: operator logging (console and daily files) and the signal log. See
//! [`crate::logging`] for what writes them.

use crate::model::InvalidSetting;
use serde::Deserialize;

/// Where the console log goes, and whether it is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleMode {
    /// stderr, coloured when stderr is a terminal.
    Auto,
    /// stderr, always coloured.
    Always,
    /// stderr, never coloured.
    Never,
    /// No console log (files only).
    Off,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Per-module levels, `tracing_subscriber::EnvFilter` syntax; `RUST_LOG` replaces it when set.
    pub filter: String,
    /// Directory of the daily log files and the signal log.
    pub dir: String,
    /// Daily files are `{file_prefix}.YYYY-MM-DD.log`.
    pub file_prefix: String,
    /// Files of this prefix (and signal logs) older than this are deleted at start and daily.
    pub retention_days: u64,
    /// `auto`, `always`, `never` or `off`: see [`ConsoleMode`].
    pub console: String,
    /// Write `signals.YYYY-MM-DD.log`: one JSON line per signal with its inputs.
    pub signal_log: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info,arbline::feed=info".into(),
            dir: "logs".into(),
            file_prefix: "arbline".into(),
            retention_days: 30,
            console: "auto".into(),
            signal_log: true,
        }
    }
}

impl LogConfig {
    /// The parsed `console` key.
    pub fn console_mode(&self) -> Result<ConsoleMode, InvalidSetting> {
        match self.console.as_str() {
            "auto" => Ok(ConsoleMode::Auto),
            "always" => Ok(ConsoleMode::Always),
            "never" => Ok(ConsoleMode::Never),
            "off" => Ok(ConsoleMode::Off),
            other => Err(InvalidSetting::new(
                "log.console",
                format!("expected \"auto\", \"always\", \"never\" or \"off\", got {other:?}"),
            )),
        }
    }

    /// Errors name the key (`log.filter`, …).
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        tracing_subscriber::EnvFilter::try_new(&self.filter).map_err(|e| {
            InvalidSetting::new(
                "log.filter",
                format!("{:?} is not a valid filter ({e})", self.filter),
            )
        })?;
        if self.dir.is_empty() {
            return Err(InvalidSetting::new("log.dir", "must not be empty"));
        }
        let p = &self.file_prefix;
        if p.is_empty() || p.contains(['/', '\\']) || p == "signals" {
            return Err(InvalidSetting::new(
                "log.file_prefix",
                format!("must be a non-empty file name other than \"signals\", got {p:?}"),
            ));
        }
        if self.retention_days == 0 {
            return Err(InvalidSetting::new(
                "log.retention_days",
                "must be at least 1",
            ));
        }
        self.console_mode()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_the_key() {
        let cases: &[(&str, LogConfig, &str)] = &[
            (
                "bad filter",
                LogConfig {
                    filter: "info,arbline=loud".into(),
                    ..LogConfig::default()
                },
                "log.filter",
            ),
            (
                "empty dir",
                LogConfig {
                    dir: String::new(),
                    ..LogConfig::default()
                },
                "log.dir",
            ),
            (
                "prefix with a slash",
                LogConfig {
                    file_prefix: "a/b".into(),
                    ..LogConfig::default()
                },
                "log.file_prefix",
            ),
            (
                "zero retention",
                LogConfig {
                    retention_days: 0,
                    ..LogConfig::default()
                },
                "log.retention_days",
            ),
            (
                "console colour",
                LogConfig {
                    console: "rainbow".into(),
                    ..LogConfig::default()
                },
                "log.console",
            ),
        ];
        for (name, c, key) in cases {
            let e = c.validate().unwrap_err().to_string();
            assert!(e.starts_with(key), "{name}: {e}");
        }
        LogConfig::default().validate().unwrap();
    }
}
