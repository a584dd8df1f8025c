//! Pre-trade risk, positions and the kill switch.

pub mod config;
pub mod halt_requests;
pub mod kill_switch;
pub mod limits;
pub mod position_board;
pub mod positions;

pub use config::RiskConfig;
pub use halt_requests::{HaltReason, HaltRequests};
pub use kill_switch::KillSwitch;
pub use limits::{Exposure, RiskApproved, RiskLimits, RiskReject};
pub use position_board::PositionBoard;
pub use positions::Positions;
