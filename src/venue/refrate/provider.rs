//! The USD/TWD reference-rate provider: fetched with ureq from the Bank of Taiwan board CSV,
//! the TAIFEX daily JSON as fallback, and the day's cached value when every source is down.
//! It runs on its own unpinned thread (`refrate`), never on the hot path.

use super::cache::RateCache;
use super::{RefQuote, bot_csv, taifex};
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
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "refrate.url: expected an http(s) URL, got {:?}",
                self.url
            ));
        }
        if !self.fallback_url.is_empty()
            && !(self.fallback_url.starts_with("http://")
                || self.fallback_url.starts_with("https://"))
        {
            return Err(format!(
                "refrate.fallback_url: expected an http(s) URL or empty, got {:?}",
                self.fallback_url
            ));
        }
        if self.poll_interval_s == 0 || self.timeout_ms == 0 {
            return Err("refrate.poll_interval_s / timeout_ms: must be > 0".into());
        }
        if self.cache_dir.is_empty() {
            return Err("refrate.cache_dir: must not be empty".into());
        }
        Ok(())
    }
}

/// Where a quote came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    BankOfTaiwan,
    Taifex,
    /// Every source failed; the day's cached value (the failures are listed).
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
    pub fn new(cfg: &RefRateConfig) -> Result<Self, String> {
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

    fn get(&self, url: &str) -> Result<(Vec<u8>, Option<String>), String> {
        let mut r = self
            .agent
            .get(url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let status = r.status().as_u16();
        let disposition = r
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = r
            .body_mut()
            .read_to_vec()
            .map_err(|e| format!("{url}: {e}"))?;
        if !(200..300).contains(&status) {
            return Err(format!("{url}: HTTP {status}"));
        }
        Ok((body, disposition))
    }

    /// Fetches the rate for `day` (YYYYMMDD, Taipei): the bank, then TAIFEX, then the cache.
    /// A fetched quote is cached for the day.
    pub fn fetch(&self, day: u32) -> Result<(RefQuote, Origin), String> {
        let mut failures = Vec::new();
        match self.get(&self.cfg.url).and_then(|(b, d)| {
            bot_csv::parse(&b, d.as_deref().and_then(bot_csv::board_time_ms))
                .map_err(|e| format!("{}: {e}", self.cfg.url))
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
                .and_then(|(b, _)| taifex::parse_rates(&b))
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
            Some((q, _)) => Ok((q, Origin::Cache { failures })),
            None => Err(format!(
                "no USD/TWD reference rate: {}",
                failures.join("; ")
            )),
        }
    }
}
