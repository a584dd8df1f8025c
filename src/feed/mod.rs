//! Feeds: where frames enter the engine. In this version the feed is the in-process synthetic
//! venue ([`sim_feed`]); socket feeds for MAX and Binance use the same parsers, over `ws://` or
//! `wss://` ([`ws_conn::connect`], trusting [`tls::TlsTrust`]).

pub mod binance_ws_feed;
pub mod conn_upkeep;
pub mod gateway;
pub mod handover;
pub mod liveness;
pub mod max_user_feed;
pub mod max_ws_feed;
pub mod message_budget;
pub mod reconciler;
pub mod refrate_feed;
pub mod resync;
pub mod resync_pacer;
pub mod sim_feed;
pub mod tls;
pub mod ws_conn;
