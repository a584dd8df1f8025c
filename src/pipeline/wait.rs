//! Wait strategies for a stage thread that found no work.
//!
//! Zero-sized or tiny types behind one trait, chosen once when the thread starts, so the poll
//! loop is monomorphised and never dispatches dynamically.
//!
//! `park` on a thread whose stages expose sockets (the WebSocket feeds, see
//! [`Stage::wait_fds`](super::Stage::wait_fds)) sleeps in `epoll` on them
//! ([`super::readiness`]): a frame wakes the thread as soon as it lands instead of waiting out
//! `park_us`, which stays the longest sleep (timers and the stages without sockets). `spin` and
//! `yield` busy-poll the non-blocking sockets and never enter the kernel to wait.
//!
//! Operational advice: `spin` only on an isolated core (one per spinning thread, see
//! `tuning/`); on a shared or small host (this project's CI has 2 cores) use `yield` or `park`,
//! or spinning threads will starve each other and everything else, with ~2 ms stalls. `park`
//! with the readiness wake-up is the choice for feed threads that share cores.

use super::readiness::Readiness;
use super::stage::WaitFd;
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
    /// Spin, yield, then park for `park_us` microseconds: nearly idle when quiet. A thread
    /// with sockets parks in `epoll` on them and wakes when one turns readable.
    #[default]
    Park,
}

pub trait Wait {
    /// Called when a round of polls found nothing to do. A strategy about to block asks `fds`
    /// for the sockets the thread's stages wait on (it appends them).
    fn idle<F: FnOnce(&mut Vec<WaitFd>)>(&mut self, fds: F);
    /// Called when a poll did work: the next idle starts from the cheap end again.
    fn reset(&mut self);
}

#[derive(Default)]
pub struct Spin;

impl Wait for Spin {
    #[inline]
    fn idle<F: FnOnce(&mut Vec<WaitFd>)>(&mut self, _fds: F) {
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
    fn idle<F: FnOnce(&mut Vec<WaitFd>)>(&mut self, _fds: F) {
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

/// Spins, yields, then sleeps `park` at a time until work arrives — or, when the stages expose
/// sockets, until one of them turns readable.
pub struct Park {
    idle: u32,
    park: Duration,
    ready: Readiness,
}

impl Park {
    pub fn new(park: Duration) -> Self {
        Park {
            idle: 0,
            park,
            ready: Readiness::new(),
        }
    }

    /// The readiness wait behind the sleeps.
    pub fn readiness(&self) -> &Readiness {
        &self.ready
    }
}

impl Wait for Park {
    #[inline]
    fn idle<F: FnOnce(&mut Vec<WaitFd>)>(&mut self, fds: F) {
        if self.idle < SPINS {
            self.idle += 1;
            std::hint::spin_loop();
        } else if self.idle < SPINS + YIELDS {
            self.idle += 1;
            std::thread::yield_now();
        } else {
            self.ready.wait(self.park, fds);
        }
    }
    #[inline]
    fn reset(&mut self) {
        self.idle = 0;
    }
}
