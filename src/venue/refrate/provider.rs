//! The USD/TWD reference-rate provider: fetched with ureq from the Bank of Taiwan board CSV,
//! the TAIFEX daily JSON as fallback, and the day's cached value when every source is down.
//! It runs on its own unpinned thread (`refrate`), never on the hot path.

use super::bot_csv::BotCsvError;
use super::cache::RateCache;
use super::taifex::TaifexError;
use super::{RefQuote, bot_csv, taifex};
use crate::model::InvalidSetting;
use serde::Deserialize;
use std::time::Duration;

/// `[refrate]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RefRateConfig {
    /// Bank of Taiwan board CSV (primary).
    pub url: String,
    /// TAIFEX DailyForeignExchangeRates JSON (fallback); empty: none.
    pub fallback_url: String,
    /// Where the day's rate is cached.
    pub cache_dir: String,
    /// How often to fetch.
    pub poll_interval_s: u64,
    pub timeout_ms: u64,
}

impl Default for RefRateConfig {
    fn default() -> Self {
        RefRateConfig {
            url: "https://rate.bot.com.tw/xrt/flcsv/0/day".into(),
            fallback_url: "https://openapi.taifex.com.tw/v1/DailyForeignExchangeRates".into(),
            cache_dir: "cache/refrate".into(),
            poll_interval_s: 300,
            timeout_ms: 5000,
        }
    }
}

impl RefRateConfig {
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(InvalidSetting::new(
                "refrate.url",
                format!("expected an http(s) URL, got {:?}", self.url),
            ));
        }
        if !self.fallback_url.is_empty()
            && !self.fallback_url.starts_with("http://")
            && !self.fallback_url.starts_with("https://")
        {
            return Err(InvalidSetting::new(
                "refrate.fallback_url",
                format!(
                    "expected an http(s) URL or empty, got {:?}",
                    self.fallback_url
                ),
            ));
        }
        if self.poll_interval_s == 0 || self.timeout_ms == 0 {
            return Err(InvalidSetting::new(
                "refrate.poll_interval_s / timeout_ms",
                "must be > 0",
            ));
        }
        if self.cache_dir.is_empty() {
            return Err(InvalidSetting::new(
                "refrate.cache_dir",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

/// One source that gave no rate.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer: DNS, connection, TLS, timeout, or the body cut short.
    #[error("{url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: ureq::Error,
    },
    /// An answer other than 2xx.
    #[error("{url}: HTTP {status}")]
    Http { url: String, status: u16 },
    /// The bank's answer is not its board CSV (or has no USD quote).
    #[error("{url}: {source}")]
    BankCsv {
        url: String,
        #[source]
        source: BotCsvError,
    },
    /// TAIFEX's answer has no usable rate.
    #[error("{url}: {source}")]
    Taifex {
        url: String,
        #[source]
        source: TaifexError,
    },
}

impl FetchError {
    /// Whether the same request later can succeed: no answer, a server error, 408 or 429. Any
    /// other status or an answer of another format stays until the URL (or the parser) changes.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Transport { .. } => true,
            FetchError::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
            FetchError::BankCsv { .. } | FetchError::Taifex { .. } => false,
        }
    }
}

/// Every source failed and the cache holds nothing for the day.
#[derive(Debug, thiserror::Error)]
#[error("no USD/TWD reference rate: {}", join(.failures))]
pub struct NoReferenceRate {
    /// Each source's failure, in the order tried.
    pub failures: Vec<FetchError>,
}

impl NoReferenceRate {
    /// Whether a later round can get a rate: some source failed for a reason that may pass.
    pub fn is_retryable(&self) -> bool {
        self.failures.iter().any(FetchError::is_retryable)
    }
}

fn join(failures: &[FetchError]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a quote came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    BankOfTaiwan,
    Taifex,
    /// Every source failed; the day's cached value (the failures are listed, as their
    /// [`FetchError`] messages: an `Origin` is a value to compare and to log).
    Cache {
        failures: Vec<String>,
    },
}

pub struct RefRateProvider {
    agent: ureq::Agent,
    cfg: RefRateConfig,
    cache: RateCache,
}

impl RefRateProvider {
    pub fn new(cfg: &RefRateConfig) -> Result<Self, InvalidSetting> {
        cfg.validate()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(cfg.timeout_ms)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(RefRateProvider {
            agent,
            cache: RateCache::new(&cfg.cache_dir),
            cfg: cfg.clone(),
        })
    }

    fn get(&self, url: &str) -> Result<(Vec<u8>, Option<String>), FetchError> {
        let transport = |source| FetchError::Transport {
            url: url.to_string(),
            source,
        };
        let mut r = self.agent.get(url).call().map_err(transport)?;
        let status = r.status().as_u16();
        let disposition = r
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = r.body_mut().read_to_vec().map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(FetchError::Http {
                url: url.to_string(),
                status,
            });
        }
        Ok((body, disposition))
    }

    /// Fetches the rate for `day` (YYYYMMDD, Taipei): the bank, then TAIFEX, then the cache.
    /// A fetched quote is cached for the day.
    pub fn fetch(&self, day: u32) -> Result<(RefQuote, Origin), NoReferenceRate> {
        let mut failures = Vec::new();
        match self.get(&self.cfg.url).and_then(|(b, d)| {
            bot_csv::parse(&b, d.as_deref().and_then(bot_csv::board_time_ms)).map_err(|source| {
                FetchError::BankCsv {
                    url: self.cfg.url.clone(),
                    source,
                }
            })
        }) {
            Ok(q) => {
                let _ = self.cache.store(&q, day, "bank_of_taiwan");
                return Ok((q, Origin::BankOfTaiwan));
            }
            Err(e) => failures.push(e),
        }
        if !self.cfg.fallback_url.is_empty() {
            match self
                .get(&self.cfg.fallback_url)
                .and_then(|(b, _)| {
                    taifex::parse_rates(&b).map_err(|source| FetchError::Taifex {
                        url: self.cfg.fallback_url.clone(),
                        source,
                    })
                })
                .map(|r| {
                    if r.skipped_rows > 0 {
                        tracing::warn!(
                            skipped = r.skipped_rows,
                            "TAIFEX rates: rows without a string Date and USD/NTD skipped"
                        );
                    }
                    r.quote
                }) {
                Ok(q) => {
                    let _ = self.cache.store(&q, day, "taifex");
                    return Ok((q, Origin::Taifex));
                }
                Err(e) => failures.push(e),
            }
        }
        match self.cache.load(day) {
            Some((q, _)) => Ok((
                q,
                Origin::Cache {
                    failures: failures.iter().map(ToString::to_string).collect(),
                },
            )),
            None => Err(NoReferenceRate { failures }),
        }
    }
}
