//! Every server of `arbline sim` together, on loopback: MAX REST (with the reference-rate
//! routes) and MAX WebSocket sharing one [`MaxAccount`], and Binance WebSocket + depth REST.
//! Used by `arbline sim` and by the demo, which runs them in the engine's process.
//!
//! The two MAX servers share the account, and with it one nonce sequence per key
//! ([`super::nonce_ledger`]) and one IP ban ([`super::venue_ban`]).

use super::binance_ws::BinanceSim;
use super::error::SimError;
use super::max_account::MaxAccount;
use super::max_rest::{MaxRestSim, SimMarket};
use super::max_ws::MaxWsSim;
use super::venue_ban::VenueBan;
use crate::config::Config;
use crate::model::{Fixed, Venue};
use std::sync::Arc;

pub struct SimServers {
    pub account: Arc<MaxAccount>,
    pub max_rest: MaxRestSim,
    pub max_ws: MaxWsSim,
    pub binance: BinanceSim,
}

impl SimServers {
    /// Starts the servers on `cfg.sim`'s addresses (port 0: any free port), serving `cfg`'s MAX
    /// markets and accepting the keys given (access key, secret).
    pub fn start(cfg: &Config, keys: &[(&str, &str)]) -> Result<SimServers, SimError> {
        let instruments = cfg.instruments()?;
        let markets: Vec<SimMarket> = instruments
            .iter()
            .filter(|i| i.venue == Venue::Max)
            .map(SimMarket::from_instrument)
            .collect();
        let account = MaxAccount::new(&cfg.sim)?;
        let max_rest =
            MaxRestSim::start_with_account(&cfg.sim.max_rest_addr, keys, markets, account.clone())?;
        // K-lines start where the price process does (TWD markets converted at the reference).
        let ref_rate = Fixed::parse(&cfg.sim.ref_rate).unwrap_or(Fixed::from_int(32));
        max_rest.set_kline_start(&cfg.sim.usdttwd_symbol, ref_rate);
        for p in &cfg.sim.pairs {
            if let Ok(start) = Fixed::parse(&p.start_price) {
                let start = if p.conversion.is_empty() {
                    Some(start)
                } else {
                    start.checked_mul(ref_rate)
                };
                if let Some(start) = start {
                    max_rest.set_kline_start(&p.max_symbol, start);
                }
            }
        }
        let max_ws =
            MaxWsSim::start_with_account(&cfg.sim.max_ws_addr, &cfg.sim, keys, account.clone())?;
        let binance = BinanceSim::start(
            &cfg.sim.binance_ws_addr,
            &cfg.sim.binance_rest_addr,
            &cfg.sim,
        )?;
        Ok(SimServers {
            account,
            max_rest,
            max_ws,
            binance,
        })
    }

    /// Points `cfg`'s venues and reference-rate sources at these servers.
    pub fn point(&self, cfg: &mut Config) {
        let rest = self.max_rest.base_url();
        cfg.venues.max.rest_url = rest.clone();
        cfg.venues.max.ws_url = self.max_ws.url();
        cfg.venues.binance.ws_url = self.binance.ws_base();
        cfg.venues.binance.rest_url = self.binance.rest_base();
        cfg.refrate.url = format!("{rest}/xrt/flcsv/0/day");
        cfg.refrate.fallback_url = format!("{rest}/v1/DailyForeignExchangeRates");
    }

    /// Bans MAX until `unix_s` (0 lifts it): REST requests and WebSocket handshakes alike get
    /// 429 with `Retry-After: <unix s>`; early attempts prolong the ban.
    pub fn ban_max_until(&self, unix_s: u64) {
        self.account.venue_ban().ban_until(unix_s);
    }

    /// MAX's ban, with its counters (`attempts_refused`, `early_attempts`).
    pub fn max_ban(&self) -> &Arc<VenueBan> {
        self.account.venue_ban()
    }

    /// Nonces MAX refused (REST 2006/2007, WebSocket E-1006/E-1012).
    pub fn max_nonce_refusals(&self) -> u64 {
        self.account.nonce_refusals()
    }

    /// One line naming every address.
    pub fn describe(&self) -> String {
        format!(
            "MAX REST {} (reference rate at /xrt/flcsv/0/day), MAX WS {}, Binance WS {} and REST {}",
            self.max_rest.base_url(),
            self.max_ws.url(),
            self.binance.ws_base(),
            self.binance.rest_base()
        )
    }
}
