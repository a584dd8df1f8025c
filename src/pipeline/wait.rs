//! Wait strategies for a stage thread that found no work.
//!
//! Zero-sized or tiny types behind one trait, chosen once when the thread starts, so the poll
//! loop is monomorphised and never dispatches dynamically.
//!
//! Operational advice: `spin` only on an isolated core (one per spinning thread, see
//! `tuning/`); on a shared or small host (this project's CI has 2 cores) use `yield` or `park`,
//! or spinning threads will starve each other and everything else, with ~2 ms stalls.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Configuration name of a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// Busy-spin with a `pause` hint: lowest latency, burns the core.
    Spin,
    /// Spin briefly, then `sched_yield`: lets other runnable threads on the core go first.
    Yield,
    /// Spin, yield, then park for `park_us` microseconds: nearly idle when quiet.
    #[default]
    Park,
}

pub trait Wait {
    /// Called when a poll found nothing to do.
    fn idle(&mut self);
    /// Called when a poll did work: the next idle starts from the cheap end again.
    fn reset(&mut self);
}

#[derive(Default)]
pub struct Spin;

impl Wait for Spin {
    #[inline]
    fn idle(&mut self) {
        std::hint::spin_loop();
    }
    #[inline]
    fn reset(&mut self) {}
}

/// Spins `SPINS` times, then yields on every idle call.
#[derive(Default)]
pub struct Yield {
    idle: u32,
}

const SPINS: u32 = 64;
const YIELDS: u32 = 16;

impl Wait for Yield {
    #[inline]
    fn idle(&mut self) {
        if self.idle < SPINS {
            self.idle += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    #[inline]
    fn reset(&mut self) {
        self.idle = 0;
    }
}

/// Spins, yields, then sleeps `park` at a time until work arrives.
pub struct Park {
    idle: u32,
    park: Duration,
}

impl Park {
    pub fn new(park: Duration) -> Self {
        Park { idle: 0, park }
    }
}

impl Wait for Park {
    #[inline]
    fn idle(&mut self) {
        if self.idle < SPINS {
            self.idle += 1;
            std::hint::spin_loop();
        } else if self.idle < SPINS + YIELDS {
            self.idle += 1;
            std::thread::yield_now();
        } else {
            std::thread::park_timeout(self.park);
        }
    }
    #[inline]
    fn reset(&mut self) {
        self.idle = 0;
    }
}
