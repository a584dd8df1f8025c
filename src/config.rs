//! The TOML configuration (`--config FILE`; every key documented in `arbline.example.toml`).
//!
//! Unknown keys, wrong types and bad values fail at start with a message that names the key.
//! Secrets are never read from this file: see [`crate::secrets`].

pub use crate::feed::venue_config::{BinanceVenue, MaxVenue};
use crate::model::{FileError, Fixed, Instruments, InvalidSetting, MarketRules, Venue};
use crate::order::config::OrderConfig;
use crate::pipeline::RingSizes;
use crate::pipeline::placement::{self, ResolvedThread, ThreadSpec};
use crate::risk::config::RiskConfig;
use crate::scanner::config::ScannerConfig;
use crate::venue::refrate::provider::RefRateConfig;
use crate::venue::tls::{TlsCaError, TlsTrust};
use serde::Deserialize;
use sim::SimConfig;
use std::path::Path;

pub mod duration;
pub mod error;
pub mod metrics;
pub mod nats;
pub mod replay;
pub mod sim;
pub use crate::logging::config::{ConsoleMode, LogConfig};
pub use duration::parse_duration;
pub use error::ConfigError;
pub use nats::NatsConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub engine: EngineSection,
    pub pipeline: PipelineSection,
    pub markets: Vec<MarketSpec>,
    pub scanner: ScannerConfig,
    pub order: OrderConfig,
    pub risk: RiskConfig,
    pub sim: SimConfig,
    pub refrate: RefRateConfig,
    pub venues: VenuesSection,
    pub nats: NatsConfig,
    pub log: LogConfig,
    pub demo: DemoSection,
    pub replay: replay::ReplayConfig,
    pub metrics: metrics::MetricsConfig,
}

/// `[venues.max]` and `[venues.binance]`: where `arbline run` connects. Pointing the engine at
/// the real exchanges or at `arbline sim` is a change of these URLs (and of the keys).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct VenuesSection {
    pub max: MaxVenue,
    pub binance: BinanceVenue,
}

impl VenuesSection {
    /// Whom MAX's `wss://` WebSockets trust; the error names `venues.max.tls_ca_file`.
    pub fn max_tls(&self) -> Result<TlsTrust, TlsCaError> {
        TlsTrust::load("venues.max.tls_ca_file", &self.max.tls_ca_file)
    }

    /// Whom Binance's `wss://` WebSocket trusts; the error names `venues.binance.tls_ca_file`.
    pub fn binance_tls(&self) -> Result<TlsTrust, TlsCaError> {
        TlsTrust::load("venues.binance.tls_ca_file", &self.binance.tls_ca_file)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Names this engine in telemetry and client reports.
    pub instance_id: String,
    /// Take Binance tops from `bookTicker` (real-time) rather than from diff depth.
    pub binance_ticker_tops: bool,
    /// Cancel every open order on shutdown.
    pub cancel_on_shutdown: bool,
    /// How long shutdown waits for the venue to confirm cancels.
    pub cancel_timeout_ms: u64,
    /// Watchdog: a venue silent this long has its books marked stale (no trading on them);
    /// 0 turns it off.
    pub stale_feed_ms: u64,
    /// A configured market whose book is not live this long after start is named in a warning
    /// and a `market_not_live` system event; 0 turns it off.
    pub live_timeout_ms: u64,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            instance_id: "arbline-1".into(),
            binance_ticker_tops: true,
            cancel_on_shutdown: true,
            cancel_timeout_ms: 3000,
            stale_feed_ms: 5000,
            live_timeout_ms: 15000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    pub md_ring: usize,
    pub book_ring: usize,
    pub signal_ring: usize,
    pub exec_ring: usize,
    pub gateway_queue: usize,
    pub telemetry_queue: usize,
    /// Most events a stage takes from one input per poll, so stages sharing a thread interleave.
    pub batch: u64,
    /// Live venues: each Binance feed (one per connection) gets an md ring of its own (no
    /// contention between the feeds for a slot). `false`: one md ring for every feed, so the
    /// book stage sees the frames of all venues in the order the feeds read them, which is
    /// capture order: a replay of a capture then evaluates the strategies on the same sequence
    /// of tops.
    pub md_ring_per_feed: bool,
    pub threads: Vec<ThreadSpec>,
}

impl Default for PipelineSection {
    fn default() -> Self {
        PipelineSection {
            md_ring: 8192,
            book_ring: 4096,
            signal_ring: 1024,
            exec_ring: 1024,
            gateway_queue: 256,
            telemetry_queue: 65536,
            batch: 64,
            md_ring_per_feed: true,
            threads: placement::default_threads(),
        }
    }
}

/// One market the engine watches or trades: the config file's text form (`[[markets]]`). The
/// engine's form is [`crate::model::Instrument`] (built by [`Config::instruments`] through
/// [`MarketSpec::rules`]); MAX's wire form is [`crate::venue::max::markets::MaxMarket`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    pub venue: Venue,
    pub symbol: String,
    pub base: String,
    pub quote: String,
    #[serde(default = "default_step")]
    pub tick: String,
    #[serde(default = "default_step")]
    pub lot: String,
    #[serde(default = "zero")]
    pub min_qty: String,
    #[serde(default = "zero")]
    pub min_notional: String,
}

impl MarketSpec {
    /// The trading rules, parsed; an error names the key under `at` (`markets[0]`).
    pub fn rules(&self, at: &str) -> Result<MarketRules, InvalidSetting> {
        let k = |f: &str| format!("{at}.{f}");
        Ok(MarketRules {
            tick: decimal(&k("tick"), &self.tick)?,
            lot: decimal(&k("lot"), &self.lot)?,
            min_qty: decimal(&k("min_qty"), &self.min_qty)?,
            min_notional: decimal(&k("min_notional"), &self.min_notional)?,
        })
    }
}

fn default_step() -> String {
    "0.00000001".into()
}
fn zero() -> String {
    "0".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoSection {
    pub duration_s: f64,
    /// Print each signal, order and fill as it happens.
    pub live: bool,
    /// Stats line period; 0 turns it off.
    pub stats_interval_ms: u64,
}

impl Default for DemoSection {
    fn default() -> Self {
        DemoSection {
            duration_s: 30.0,
            live: true,
            stats_interval_ms: 1000,
        }
    }
}

impl Default for Config {
    /// The demo's markets: Binance USDⓈ-M BTCUSDT leading MAX btcusdt and btctwd (through MAX
    /// usdttwd), and MAX usdttwd against the USD/TWD reference rate.
    fn default() -> Self {
        let m = |venue,
                 symbol: &str,
                 base: &str,
                 quote: &str,
                 tick: &str,
                 lot: &str,
                 min_qty: &str,
                 min_notional: &str| MarketSpec {
            venue,
            symbol: symbol.into(),
            base: base.into(),
            quote: quote.into(),
            tick: tick.into(),
            lot: lot.into(),
            min_qty: min_qty.into(),
            min_notional: min_notional.into(),
        };
        Config {
            engine: EngineSection::default(),
            pipeline: PipelineSection::default(),
            markets: vec![
                m(
                    Venue::BinanceFutures,
                    "BTCUSDT",
                    "btc",
                    "usdt",
                    "0.1",
                    "0.001",
                    "0",
                    "0",
                ),
                m(
                    Venue::Max,
                    "btcusdt",
                    "btc",
                    "usdt",
                    "0.01",
                    "0.000001",
                    "0.0001",
                    "8",
                ),
                m(
                    Venue::Max,
                    "btctwd",
                    "btc",
                    "twd",
                    "0.1",
                    "0.00000001",
                    "0.0001",
                    "250",
                ),
                m(
                    Venue::Max,
                    "usdttwd",
                    "usdt",
                    "twd",
                    "0.001",
                    "0.01",
                    "8",
                    "250",
                ),
                m(
                    Venue::RefRate,
                    "USDTWD",
                    "usd",
                    "twd",
                    "0.0001",
                    "0.0001",
                    "0",
                    "0",
                ),
            ],
            scanner: ScannerConfig::default(),
            order: OrderConfig::default(),
            risk: RiskConfig::default(),
            sim: SimConfig::default(),
            refrate: RefRateConfig::default(),
            venues: VenuesSection::default(),
            nats: NatsConfig::default(),
            log: LogConfig::default(),
            demo: DemoSection::default(),
            replay: replay::ReplayConfig::default(),
            metrics: metrics::MetricsConfig::default(),
        }
    }
}

fn decimal(key: &str, v: &str) -> Result<Fixed, InvalidSetting> {
    Fixed::parse(v)
        .map_err(|e| InvalidSetting::new(key, format!("{v:?} is not a valid decimal ({e})")))
}

impl Config {
    /// Reads and validates `path`. Errors name the file and the key.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(FileError::at("read", path))?;
        Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Toml { path: None, source } => ConfigError::Toml {
                path: Some(path.to_path_buf()),
                source,
            },
            ConfigError::Invalid(e) => ConfigError::Invalid(e.within(&path.display().to_string())),
            e => e,
        })
    }

    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: None,
            source: Box::new(e),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.pipeline;
        // The disruptor's multi-producer rings (md, exec) need 64 slots or more.
        for (k, v, min) in [
            ("md_ring", p.md_ring, 64),
            ("book_ring", p.book_ring, 2),
            ("signal_ring", p.signal_ring, 2),
            ("exec_ring", p.exec_ring, 64),
        ] {
            if v < min || !v.is_power_of_two() {
                return Err(InvalidSetting::new(
                    format!("pipeline.{k}"),
                    format!("must be a power of two ≥ {min}, got {v}"),
                )
                .into());
            }
        }
        if p.batch == 0 {
            return Err(InvalidSetting::new("pipeline.batch", "must be > 0").into());
        }
        if p.gateway_queue == 0 || p.telemetry_queue == 0 {
            return Err(InvalidSetting::new(
                "pipeline.gateway_queue / telemetry_queue",
                "must be > 0",
            )
            .into());
        }
        placement::resolve(&p.threads, usize::MAX)?;
        self.replay.validate()?;
        self.metrics.validate()?;
        if self.venues.max.reconcile_interval_ms < 200 {
            return Err(InvalidSetting::new(
                "venues.max.reconcile_interval_ms",
                format!(
                    "must be at least 200 ms, got {}",
                    self.venues.max.reconcile_interval_ms
                ),
            )
            .into());
        }
        let m = &self.venues.max;
        if !(60..=1140).contains(&m.order_requests_per_minute) {
            return Err(InvalidSetting::new(
                "venues.max.order_requests_per_minute",
                format!(
                    "must be in 60..=1140 (of MAX's 1 200 a minute, the rest for reads), got {}",
                    m.order_requests_per_minute
                ),
            )
            .into());
        }
        if !(200..=120_000).contains(&m.liveness_timeout_ms) {
            return Err(InvalidSetting::new(
                "venues.max.liveness_timeout_ms",
                format!("must be in 200..=120000, got {}", m.liveness_timeout_ms),
            )
            .into());
        }
        if !(100..=120_000).contains(&m.ping_interval_ms) {
            return Err(InvalidSetting::new(
                "venues.max.ping_interval_ms",
                format!(
                    "must be in 100..=120000 (MAX closes a connection without a ping for \
                     130 s), got {}",
                    m.ping_interval_ms
                ),
            )
            .into());
        }
        m.validate()?;
        self.venues.binance.validate()?;
        let b = self.venues.binance.liveness_timeout_ms;
        if !(200..=600_000).contains(&b) {
            return Err(InvalidSetting::new(
                "venues.binance.liveness_timeout_ms",
                format!("must be in 200..=600000, got {b}"),
            )
            .into());
        }
        if self.engine.instance_id.is_empty() {
            return Err(InvalidSetting::new("engine.instance_id", "must not be empty").into());
        }
        if !(self.demo.duration_s.is_finite()
            && self.demo.duration_s > 0.0
            && std::time::Duration::try_from_secs_f64(self.demo.duration_s).is_ok())
        {
            return Err(InvalidSetting::new(
                "demo.duration_s",
                format!(
                    "must be a positive number of seconds, got {}",
                    self.demo.duration_s
                ),
            )
            .into());
        }
        let r = self.venues.binance.rotate_after_s;
        if r == 0 || r >= 86_400 {
            return Err(InvalidSetting::new(
                "venues.binance.rotate_after_s",
                format!("must be > 0 and < 86400 (Binance cuts a connection at 24 h), got {r}"),
            )
            .into());
        }
        let instruments = self.instruments()?;
        if !instruments.iter().any(|i| i.venue == Venue::Max) {
            return Err(InvalidSetting::new(
                "markets",
                "at least one MAX market is needed to trade",
            )
            .into());
        }
        self.scanner.validate()?;
        self.order.validate()?;
        self.risk.validate()?;
        self.sim.validate()?;
        self.refrate.validate()?;
        for (k, u, schemes) in [
            (
                "venues.max.rest_url",
                &self.venues.max.rest_url,
                ["http://", "https://"],
            ),
            (
                "venues.max.ws_url",
                &self.venues.max.ws_url,
                ["ws://", "wss://"],
            ),
            (
                "venues.binance.ws_url",
                &self.venues.binance.ws_url,
                ["ws://", "wss://"],
            ),
            (
                "venues.binance.rest_url",
                &self.venues.binance.rest_url,
                ["http://", "https://"],
            ),
        ] {
            if !schemes.iter().any(|s| u.starts_with(s)) {
                return Err(InvalidSetting::new(
                    k,
                    format!("expected a {} or {} URL, got {u:?}", schemes[0], schemes[1]),
                )
                .into());
            }
        }
        self.venues.max_tls()?;
        self.venues.binance_tls()?;
        self.nats.validate()?;
        self.log.validate()?;
        Ok(())
    }

    /// Interns every market in file order.
    /// A hash of the whole effective configuration (defaults included), for capture headers and
    /// replay summaries: equal hashes, equal settings. Stable for one build of arbline (it
    /// hashes the `Debug` form with SipHash's fixed keys), not across versions.
    pub fn hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        format!("{self:?}").hash(&mut h);
        h.finish()
    }

    pub fn instruments(&self) -> Result<Instruments, InvalidSetting> {
        let mut t = Instruments::new();
        for (i, m) in self.markets.iter().enumerate() {
            let rules = m.rules(&format!("markets[{i}]"))?;
            t.intern_with_rules(m.venue, &m.symbol, &m.base, &m.quote, rules)
                .map_err(|e| e.within(&format!("markets[{i}]")))?;
        }
        Ok(t)
    }

    pub fn ring_sizes(&self) -> RingSizes {
        RingSizes {
            md: self.pipeline.md_ring,
            book: self.pipeline.book_ring,
            signal: self.pipeline.signal_ring,
            exec: self.pipeline.exec_ring,
        }
    }

    /// The thread plan for this host.
    pub fn threads(&self) -> Result<Vec<ResolvedThread>, InvalidSetting> {
        placement::resolve(&self.pipeline.threads, placement::host_cores())
    }
}
