//! The order stage: client ids, the table of live orders, the order manager.

pub mod client_oid;
pub mod config;
pub mod manager;
pub mod open_orders;
pub mod stage;

pub use manager::{OrderManager, OrderStats};
