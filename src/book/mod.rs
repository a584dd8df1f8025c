//! Local order books: one L2 ladder per instrument, each venue's sequence rules, the book stage.

pub mod binance_sync;
pub mod l2book;
pub mod ladder;
pub mod max_sync;
pub mod stage;
pub mod sync;

pub use l2book::L2Book;
pub use ladder::{Ladder, LadderSide};
pub use stage::{BookStage, BookStageParts};
pub use sync::{ResyncReason, SyncOutcome};
