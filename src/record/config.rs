//! What `arbline record` connects to and how it batches: [`RecordOptions`], and [`PgTarget`],
//! the PostgreSQL connection whose password never reaches a log line or an error.

use crate::config::NatsConfig;
use crate::model::InvalidSetting;
pub use crate::secrets::redact_url;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;

/// Where the recorder writes. Built from `PG_HOST`, `PG_PORT`, `PG_USER`, `PG_PASSWORD`,
/// `PG_NAME` (the seed's `.env` names) or from a `postgresql://` URL. `Debug` and
/// [`PgTarget::describe`] show `user@host:port/dbname`, never the password.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgTarget({})", self.describe())
    }
}

impl PgTarget {
    /// From the environment (call [`crate::secrets::load_dotenv`] first to honour `.env`).
    /// Defaults: host `localhost`, port 5432, user `postgres`, database = the user, no password.
    pub fn from_env() -> Result<PgTarget, InvalidSetting> {
        PgTarget::from_vars(|k| std::env::var(k).ok())
    }

    /// As [`PgTarget::from_env`], reading variables through `get`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<PgTarget, InvalidSetting> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut c = tokio_postgres::Config::new();
        let user = get("PG_USER").unwrap_or_else(|| "postgres".into());
        c.host(get("PG_HOST").as_deref().unwrap_or("localhost"));
        if let Some(p) = get("PG_PORT") {
            let port: u16 = p.trim().parse().map_err(|_| {
                InvalidSetting::new("PG_PORT", format!("expected a port number, got {p:?}"))
            })?;
            c.port(port);
        }
        c.dbname(get("PG_NAME").as_deref().unwrap_or(&user));
        c.user(&user);
        if let Some(pw) = get("PG_PASSWORD") {
            c.password(pw);
        }
        Ok(PgTarget::from_config(c))
    }

    /// From `postgresql://user:password@host:port/dbname?options` (or libpq's `key=value`
    /// form). The error never repeats the URL: it may hold the password.
    pub fn from_url(url: &str) -> Result<PgTarget, InvalidSetting> {
        // The driver's error is dropped: it may quote the URL.
        tokio_postgres::Config::from_str(url)
            .map(PgTarget::from_config)
            .map_err(|_| {
                InvalidSetting::new(
                    "--pg-url",
                    "not a PostgreSQL connection URL (postgresql://user:password@host:port/dbname)",
                )
            })
    }

    /// From a ready driver configuration (tests use it to set `search_path`).
    pub fn from_config(mut config: tokio_postgres::Config) -> PgTarget {
        if config.get_application_name().is_none() {
            config.application_name("arbline-record");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        PgTarget { config }
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// `user@host:port/dbname`, for logs.
    pub fn describe(&self) -> String {
        let c = &self.config;
        let host = match c.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = c.get_ports().first().copied().unwrap_or(5432);
        format!(
            "{}@{host}:{port}/{}",
            c.get_user().unwrap_or("?"),
            c.get_dbname().unwrap_or("?")
        )
    }
}

/// Everything [`super::run`] needs.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub nats: NatsConfig,
    pub pg: PgTarget,
    /// The durable consumer's name; recorders sharing it share the work.
    pub durable: String,
    /// Most messages written per transaction.
    pub batch: usize,
    /// How long a fetch waits for the batch to fill before writing what it has.
    pub fetch_wait: Duration,
    /// The consumer's ack wait: a message fetched and not acknowledged this long is delivered
    /// again. Applies when the recorder creates the consumer.
    pub ack_wait: Duration,
    /// The consumer's bound on fetched, unacknowledged messages. Applies when the recorder
    /// creates the consumer.
    pub max_ack_pending: i64,
    /// Counters line period; zero prints only at exit.
    pub stats_interval: Duration,
    /// Longest pause between reconnect attempts (the backoff doubles from 100 ms to this).
    pub max_backoff: Duration,
    /// Test hook: after this many committed batches, stop without acknowledging the last one,
    /// as a crash between commit and ack would.
    pub crash_after_commits: Option<u64>,
}

impl RecordOptions {
    pub fn new(nats: NatsConfig, pg: PgTarget) -> RecordOptions {
        RecordOptions {
            nats,
            pg,
            durable: "arbline-record".into(),
            batch: 500,
            fetch_wait: Duration::from_millis(100),
            ack_wait: Duration::from_secs(30),
            max_ack_pending: 10_000,
            stats_interval: Duration::from_secs(10),
            max_backoff: Duration::from_secs(5),
            crash_after_commits: None,
        }
    }

    pub fn validate(&self) -> Result<(), InvalidSetting> {
        self.nats.validate()?;
        let bad = |c: char| c.is_whitespace() || matches!(c, '.' | '*' | '>' | '/' | '\\');
        if self.durable.is_empty() || self.durable.contains(bad) {
            return Err(InvalidSetting::new(
                "--durable",
                format!(
                    "must be a non-empty name without spaces, '.', '*', '>', '/' or '\\', got {:?}",
                    self.durable
                ),
            ));
        }
        if self.batch == 0 || self.batch as i64 > self.max_ack_pending {
            return Err(InvalidSetting::new(
                "--batch",
                format!(
                    "must be in 1..={} (the consumer's max ack pending), got {}",
                    self.max_ack_pending, self.batch
                ),
            ));
        }
        if self.fetch_wait.is_zero() || self.ack_wait <= self.fetch_wait {
            return Err(InvalidSetting::new(
                "record",
                "fetch_wait must be > 0 and below ack_wait",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let vars = |k: &str| match k {
            "PG_HOST" => Some("db.internal".to_string()),
            "PG_PORT" => Some("6543".to_string()),
            "PG_USER" => Some("rec".to_string()),
            "PG_PASSWORD" => Some("hunter2-secret".to_string()),
            "PG_NAME" => Some("hft_db".to_string()),
            _ => None,
        };
        let t = PgTarget::from_vars(vars).unwrap();
        assert_eq!(t.describe(), "rec@db.internal:6543/hft_db");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(t.config().get_password(), Some(&b"hunter2-secret"[..]));

        let e = PgTarget::from_url("postgresql://u:hunter2-secret@h:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        let u = PgTarget::from_url("postgresql://u:hunter2-secret@h:5433/db").unwrap();
        assert_eq!(u.describe(), "u@h:5433/db");
        assert!(!format!("{u:?}").contains("hunter2"));
        assert_eq!(
            redact_url("nats://u:hunter2-secret@host:4222"),
            "nats://***@host:4222"
        );
    }

    #[test]
    fn defaults_follow_postgres_conventions() {
        let t = PgTarget::from_vars(|_| None).unwrap();
        assert_eq!(t.describe(), "postgres@localhost:5432/postgres");
        let e = PgTarget::from_vars(|k| (k == "PG_PORT").then(|| "x".into()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("PG_PORT"), "{e}");
    }
}
