//! Rings, stage threads, placement on cores, wait strategies (with the readiness wait of parked
//! socket threads), shutdown.

pub mod backoff;
pub mod board;
pub mod clock;
pub mod gateway_queue;
pub mod placement;
pub mod readiness;
pub mod ring;
pub mod shutdown;
pub mod stage;
pub mod thread;
pub mod wait;

pub use clock::EngineClock;
pub use placement::{ResolvedThread, StageName, ThreadSpec};
pub use readiness::Readiness;
pub use ring::{RingSizes, Rings};
pub use shutdown::{Phase, Shutdown};
pub use stage::{Poll, Stage, WaitFd};
pub use wait::{Park, Spin, Wait, WaitKind, Yield};
