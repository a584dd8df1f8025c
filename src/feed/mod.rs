//! Feeds: where market data enters the engine. The socket feeds for MAX ([`max_ws_feed`]) and
//! Binance ([`binance_ws_feed`]) read `ws://` or `wss://` ([`ws_conn::connect`], trusting
//! [`tls::TlsTrust`]), parse with [`crate::venue`]'s parsers and publish onto the md ring; the
//! reference rate comes over REST ([`refrate_feed`]). The in-process synthetic venue that stands
//! in for them in benchmarks and the engine's `Venues::Synthetic` mode is `crate::sim::in_process_feed`.

pub mod binance_ws_feed;
pub mod conn_upkeep;
pub mod handover;
pub mod liveness;
pub mod max_sub_messages;
pub mod max_ws_feed;
pub mod message_budget;
pub mod refrate_feed;
pub mod resync_pacer;
pub mod venue_config;
pub mod weight_budget;
pub mod ws_conn;
