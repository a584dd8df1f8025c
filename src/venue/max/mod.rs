//! MAX (MaiCoin) wire protocol: public and private WebSocket parsers, REST replies and error
//! classification, signing, and writers of the same frames.

pub mod frames;
pub mod private;
pub mod public;
pub mod rest;
pub mod sign;

pub use private::{Balance, MaxPrivateOutcome, MaxPrivateParser};
pub use public::{MaxPublicOutcome, MaxPublicParser};
pub use rest::{ErrorAction, MaxApiError, MaxOrder, classify_error, parse_order, parse_orders};
pub use sign::{MaxSigner, ParamValue, SignedRequest, verify_payload};
