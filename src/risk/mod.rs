//! Pre-trade risk, positions and the kill switch.

pub mod config;
pub mod kill_switch;
pub mod limits;
pub mod positions;

pub use config::RiskConfig;
pub use kill_switch::KillSwitch;
pub use limits::{Exposure, RiskApproved, RiskLimits, RiskReject};
pub use positions::Positions;
