//! The whole in-process pipeline (synthetic venue → feed → book → scanner → order → synthetic
//! execution venue) driven on the test's thread with the engine clock mocked: each step moves
//! the clock 1 ms, polls the feeds (unless the test silences them) and then book, scanner and
//! order until a round does no work. The seeded market produces the same frames on every run,
//! however loaded the machine, so a test can ask for "700 ms of silence" and get exactly that
//! (the same driver as `bench/instructions.rs`).

use arbline::config::Config;
use arbline::engine::{self, Built, Venues};
use arbline::pipeline::{EngineClock, Poll, Stage};
use std::sync::Arc;
use std::time::Duration;

pub struct SteppedEngine {
    pub built: Built,
    mock: Arc<quanta::Mock>,
    /// Simulated milliseconds since the start.
    pub now_ms: u64,
}

fn work(p: Poll) -> usize {
    match p {
        Poll::Busy(n) => n,
        Poll::Idle | Poll::Finished => 0,
    }
}

#[allow(dead_code)]
impl SteppedEngine {
    pub fn new(cfg: &Config) -> Self {
        let (clock, mock) = EngineClock::mock(1_767_225_600_000_000_000);
        mock.increment(1_000_000u64);
        let built =
            engine::build_with_clock(cfg, false, Venues::Synthetic, clock).expect("engine builds");
        SteppedEngine {
            built,
            mock,
            now_ms: 0,
        }
    }

    /// One millisecond of simulated time.
    pub fn step(&mut self, feeds_on: bool) {
        self.mock.increment(Duration::from_millis(1));
        self.now_ms += 1;
        let b = &mut self.built;
        if feeds_on {
            for f in b.feeds.iter_mut() {
                f.poll();
            }
        }
        while work(b.book.poll()) + work(b.scanner.poll()) + work(b.order.poll()) > 0 {}
    }

    /// `ms` milliseconds of simulated time.
    pub fn run_ms(&mut self, ms: u64, feeds_on: bool) {
        for _ in 0..ms {
            self.step(feeds_on);
        }
    }

    /// Steps until `done` holds, at most `limit_ms` simulated milliseconds; panics naming
    /// `what` if it never does. Returns the simulated milliseconds it took.
    pub fn run_until(
        &mut self,
        what: &str,
        limit_ms: u64,
        feeds_on: bool,
        mut done: impl FnMut(&Built) -> bool,
    ) -> u64 {
        let start = self.now_ms;
        while !done(&self.built) {
            assert!(
                self.now_ms - start < limit_ms,
                "waited {limit_ms} simulated ms for {what}"
            );
            self.step(feeds_on);
        }
        self.now_ms - start
    }
}
