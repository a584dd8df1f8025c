//! Boards: the pipeline's only backward edges.
//!
//! Data flows one way through the rings: feed → book → scanner → order → gateway, and venue
//! answers come back on the exec ring. A few facts must travel against that flow without a ring
//! hop or a lock; each is an array of atomics indexed by instrument (sized from the configuration
//! at start) or a bit set, with one writer and Release/Acquire ordering, so a reader may see a
//! value one update late and never a torn one:
//!
//! | board | writer | reader | what |
//! |---|---|---|---|
//! | [`ResyncRequests`] | book stage | feeds | "this book lost sync: fetch a snapshot" |
//! | [`MidBoard`] | book stage | order stage | mid prices for marks and the kill switch |
//! | [`PositionBoard`] | order stage | scanner | net positions for position-aware signals |
//! | [`HaltRequests`] | gateway, private user stream | order stage | "halt trading: here is why" |
//! | [`LiveBoard`] | book stage | side thread, summary | which books are live, which ever were |
//!
//! They live here, below every stage, so that no stage imports another stage to reach one.

pub mod halt_requests;
pub mod live_board;
pub mod mid_board;
pub mod position_board;
pub mod resync_requests;

pub use halt_requests::{HaltReason, HaltRequests};
pub use live_board::LiveBoard;
pub use mid_board::MidBoard;
pub use position_board::PositionBoard;
pub use resync_requests::ResyncRequests;
