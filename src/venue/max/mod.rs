//! MAX (MaiCoin) wire protocol: public and private WebSocket parsers, REST v3 reply parsing and
//! error classification, request signing. The simulator writes the same frames with
//! `crate::sim::max_frames`.
//! The protocol notes these files implement are in `docs/specs/max.md`.

mod json;
pub mod key_nonce;
pub mod kline;
pub mod markets;
#[cfg(feature = "full")]
pub mod order_http;
pub mod order_template;
pub mod private;
pub mod public;
pub mod rate_limit;
pub mod rest;
#[cfg(feature = "full")]
pub mod rest_client;
#[cfg(feature = "full")]
pub mod sent_stamp;
pub mod sign;
pub use crate::venue::wall_clock;

pub use key_nonce::KeyNonce;
#[cfg(feature = "full")]
pub use kline::fetch_range;
pub use kline::{Kline, parse_klines};
pub use private::{Balance, MaxOrderState, MaxPrivateOutcome, MaxPrivateParser};
pub use public::{MaxPublicOutcome, MaxPublicParser};
pub use rest::{
    ErrorAction, MaxAccountBalance, MaxApiError, MaxCancelReply, MaxOrdType, MaxOrder, MaxTrade,
    classify_error, parse_accounts, parse_cancel_all, parse_cancel_reply, parse_order,
    parse_orders, parse_trades,
};
pub use sign::{MaxSigner, ParamValue, SignedRequest, verify_payload};
