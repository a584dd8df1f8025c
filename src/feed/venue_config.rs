//! `[venues.max]` and `[venues.binance]`: the connection settings of the socket feeds, the
//! private user stream and the gateway (URLs, TLS trust, liveness and ping timing, how the
//! subscriptions are spread within the venues' limits). They live with the feeds that read
//! them; `crate::config` embeds them in the configuration file.

use crate::model::InvalidSetting;
use crate::venue::binance::BinanceMarket;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MaxVenue {
    pub rest_url: String,
    pub ws_url: String,
    pub timeout_ms: u64,
    /// Halt trading when the venue's clock is further than this from ours.
    pub max_clock_drift_ms: u64,
    /// A PEM file of CAs the `wss://` WebSockets trust besides Mozilla's roots; "" = none.
    pub tls_ca_file: String,
    /// The reconciler compares local orders and fills with the venue's REST view this often
    /// (and at start and after every private WebSocket reconnect).
    pub reconcile_interval_ms: u64,
    /// The order lane's share of MAX's 1 200 private requests a minute (orders and cancels);
    /// the read lane has the rest. Used when a read key is configured (`MAX_READ_API_KEY`);
    /// with one key, one limiter of 1 200 serves both. 60..=1140.
    pub order_requests_per_minute: u32,
    /// A WebSocket (public or private) from which neither a frame nor the answer to a ping
    /// arrived for this long is dead: closed, reported and reconnected. Probe pings go out
    /// after half of it.
    pub liveness_timeout_ms: u64,
    /// The longest time between two pings on every MAX connection (MAX closes one it has not
    /// heard a ping from in 130 s).
    pub ping_interval_ms: u64,
    /// The most subscriptions (a market's `book` and its `trade` are two) one `sub` or `unsub`
    /// message carries; a larger board is subscribed in several messages, within the
    /// connection's 20 messages a second and 200 a minute. MAX documents no cap (spec max.md
    /// §3.5 only asks for many subscriptions in one message): this bounds the size of one
    /// request. At least 2 (one market's book and trade).
    pub subscriptions_per_message: usize,
}

/// The default of `[venues.max] subscriptions_per_message`.
pub const MAX_SUBSCRIPTIONS_PER_MESSAGE: usize = 100;

impl MaxVenue {
    /// The settings `crate::config` does not check itself.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !(2..=10_000).contains(&self.subscriptions_per_message) {
            return Err(InvalidSetting::new(
                "venues.max.subscriptions_per_message",
                format!(
                    "must be in 2..=10000 (a market's book and trade fit in one message), got {}",
                    self.subscriptions_per_message
                ),
            ));
        }
        Ok(())
    }
}

impl Default for MaxVenue {
    fn default() -> Self {
        MaxVenue {
            rest_url: "https://max-api.maicoin.com".into(),
            ws_url: "wss://max-stream.maicoin.com/ws".into(),
            timeout_ms: 5000,
            max_clock_drift_ms: 5000,
            tls_ca_file: String::new(),
            reconcile_interval_ms: 10_000,
            order_requests_per_minute: 900,
            liveness_timeout_ms: 5_000,
            ping_interval_ms: 30_000,
            subscriptions_per_message: MAX_SUBSCRIPTIONS_PER_MESSAGE,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BinanceVenue {
    /// Without the route: `/stream` (spot) or `/public/stream` (futures) is appended.
    pub ws_url: String,
    pub rest_url: String,
    #[serde(deserialize_with = "binance_market")]
    pub market: BinanceMarket,
    /// Binance closes a connection at 24 h (spec §1.1, §1.2): at this age the feed opens a
    /// second connection and hands over to it without a gap. Must be in (0, 86400).
    pub rotate_after_s: u64,
    /// A PEM file of CAs the `wss://` WebSocket trusts besides Mozilla's roots; "" = none.
    pub tls_ca_file: String,
    /// A connection from which neither a frame nor the answer to a ping arrived for this long
    /// is dead: closed, reported and reconnected (its books resync).
    pub liveness_timeout_ms: u64,
    /// The most streams one connection carries (each symbol has two: diff depth and
    /// bookTicker). Binance allows 1024 (spec binance.md §1); more symbols than fit are spread
    /// over several connections, each its own feed. 2..=1024.
    pub streams_per_connection: usize,
    /// The REST request weight the depth snapshots may spend a minute, all connections
    /// together (Binance's `REQUEST_WEIGHT` is per IP: spot 6000, futures 2400, spec §4.6; a
    /// snapshot costs 50 or 20). 0: the market's documented limit.
    pub request_weight_per_minute: u32,
}

/// Binance's limit of streams on one connection (spec binance.md §1.1, §1.2).
pub const BINANCE_MAX_STREAMS_PER_CONNECTION: usize = 1024;

impl BinanceVenue {
    /// The settings `crate::config` does not check itself.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if !(2..=BINANCE_MAX_STREAMS_PER_CONNECTION).contains(&self.streams_per_connection) {
            return Err(InvalidSetting::new(
                "venues.binance.streams_per_connection",
                format!(
                    "must be in 2..={BINANCE_MAX_STREAMS_PER_CONNECTION} (a symbol has 2 \
                     streams; Binance allows {BINANCE_MAX_STREAMS_PER_CONNECTION} a \
                     connection), got {}",
                    self.streams_per_connection
                ),
            ));
        }
        if self.request_weight_per_minute > 1_000_000 {
            return Err(InvalidSetting::new(
                "venues.binance.request_weight_per_minute",
                format!(
                    "must be at most 1000000 (0: the market's documented limit), got {}",
                    self.request_weight_per_minute
                ),
            ));
        }
        Ok(())
    }

    /// The weight a minute the snapshots may spend: the setting, or the market's documented
    /// limit when it is 0.
    pub fn weight_per_minute(&self) -> u32 {
        match self.request_weight_per_minute {
            0 => crate::venue::binance::weight::weight_per_minute(self.market),
            w => w,
        }
    }
}

impl Default for BinanceVenue {
    fn default() -> Self {
        BinanceVenue {
            ws_url: "wss://fstream.binance.com".into(),
            rest_url: "https://fapi.binance.com".into(),
            market: BinanceMarket::Futures,
            rotate_after_s: 23 * 3600,
            tls_ca_file: String::new(),
            liveness_timeout_ms: 10_000,
            streams_per_connection: BINANCE_MAX_STREAMS_PER_CONNECTION,
            request_weight_per_minute: 0,
        }
    }
}

fn binance_market<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BinanceMarket, D::Error> {
    let s = String::deserialize(d)?;
    match s.as_str() {
        "spot" => Ok(BinanceMarket::Spot),
        "futures" => Ok(BinanceMarket::Futures),
        other => Err(serde::de::Error::custom(format!(
            "venues.binance.market: expected \"spot\" or \"futures\", got {other:?}"
        ))),
    }
}
