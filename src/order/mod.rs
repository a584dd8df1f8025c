//! The order stage: client ids, nonces, the table of live orders, the order manager.

pub mod client_oid;
pub mod config;
pub mod manager;
pub mod nonce;
pub mod open_orders;
pub mod stage;

pub use manager::{OrderManager, OrderStats};
