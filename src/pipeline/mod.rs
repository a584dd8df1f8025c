//! Rings, stage threads, placement on cores, wait strategies, shutdown.

pub mod clock;
pub mod wait;

pub use clock::EngineClock;
pub use wait::{Park, Spin, Wait, WaitKind, Yield};
