//! Pre-trade risk, positions and the kill switch.

pub mod position_board;

pub use position_board::PositionBoard;
