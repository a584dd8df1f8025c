//! The model: fixed-point numbers, interned instruments, venues, order vocabulary and the
//! fixed-size events that cross the rings; the errors several layers share ([`InvalidSetting`],
//! [`FileError`]).

pub mod calendar;
pub mod events;
pub mod file_error;
pub mod fixed;
pub mod instrument;
pub mod invalid_setting;
pub mod order_types;
pub mod resync_reason;
pub mod risk_reject;
pub mod system_event;
pub mod venue;

pub use events::*;
pub use file_error::FileError;
pub use fixed::{DecimalError, DecimalRule, Fixed, Price, Qty, SCALE};
pub use instrument::{Instrument, InstrumentId, Instruments, MAX_INSTRUMENTS, MarketRules, Symbol};
pub use invalid_setting::InvalidSetting;
pub use order_types::*;
pub use resync_reason::ResyncReason;
pub use risk_reject::RiskReject;
pub use system_event::{FeedLink, SystemCode, SystemEvent, SystemKind};
pub use venue::Venue;
