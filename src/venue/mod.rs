//! Wire protocols: parsers that turn exchange frames into fixed-size events, writers that
//! produce the same frames (for the synthetic venue and the simulator), signing.

pub mod binance;
pub(crate) mod byte_scan;
pub use byte_scan::compact_json;
pub mod chunks;
#[cfg(feature = "full")]
pub mod connect;
pub mod max;
pub mod md_sink;
pub mod parse_error;
pub mod refrate;
#[cfg(feature = "full")]
pub mod tls;
pub mod venue_gate;
pub mod wall_clock;

pub use parse_error::{ParseError, decimal};
