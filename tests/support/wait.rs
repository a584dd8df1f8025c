//! Waiting for a condition instead of a wall-clock window. A loaded 2-core machine can take many
//! times longer than an idle one, so a test waits for what it needs, with a deadline far beyond
//! the normal time, and when it gives up it says what it waited for.

#![allow(dead_code)]

use arbline::engine::{self, Built, RunResult};
use arbline::pipeline::{Phase, ResolvedThread, Shutdown};
use arbline::telemetry::EngineCounters;
use std::time::{Duration, Instant};

/// The deadline for anything that takes a moment (up to a few seconds) on an idle machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Calls `cond` until it holds, napping 1 ms between calls: true when it did, false once
/// `deadline` has passed.
pub fn within(deadline: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(deadline, Some(Duration::from_millis(1)), cond)
}

/// [`within`] with a longer nap, for a `cond` that is costly to look at (a database query).
pub fn within_every(deadline: Duration, nap: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(deadline, Some(nap), cond)
}

/// [`within`] without the nap, for a `cond` that drives the work itself (polls a feed).
pub fn spin_within(deadline: Duration, cond: impl FnMut() -> bool) -> bool {
    poll(deadline, None, cond)
}

fn poll(deadline: Duration, nap: Option<Duration>, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        if let Some(n) = nap {
            std::thread::sleep(n);
        }
    }
}

/// [`within`], failing the test with `what` when the deadline passes.
pub fn wait_until(what: &str, deadline: Duration, cond: impl FnMut() -> bool) {
    assert!(
        within(deadline, cond),
        "gave up after {deadline:?} waiting for {what}"
    );
}

/// Runs `built` on `threads` until `done` holds on its counters (checked every 5 ms from a
/// watcher thread), then shuts it down in order as a timed run's end or a signal would, and
/// returns the result. Fails the test, naming `what`, if `done` does not hold within
/// `deadline`.
pub fn run_engine_until(
    built: Built,
    threads: &[ResolvedThread],
    what: &str,
    deadline: Duration,
    mut done: impl FnMut(&EngineCounters) -> bool + Send,
) -> RunResult {
    let counters = built.counters.clone();
    let shutdown = built.shutdown.clone();
    let (result, reached) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            // However the watcher ends (`done` held, the deadline, a panic in `done`), the
            // run ends with it.
            let _stop = StopOnDrop(shutdown.clone());
            let end = Instant::now() + deadline;
            while shutdown.phase() == Phase::Running {
                if done(&counters) {
                    return true;
                }
                if Instant::now() >= end {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            false
        });
        // The watcher ends the run; the engine's own limit is only a backstop.
        let result = engine::run(built, threads, deadline + PATIENCE);
        // A run that failed to start leaves the phase alone: release the watcher.
        shutdown.advance(Phase::Done);
        let reached = watcher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (result, reached)
    });
    let r = result.unwrap_or_else(|e| panic!("engine run while waiting for {what}: {e}"));
    assert!(
        reached,
        "gave up after {deadline:?} waiting for {what}: events {:?}, orders {:?}",
        r.summary.events, r.order_stats
    );
    r
}

/// Starts the engine's shutdown when dropped (a test that fails while the engine runs on
/// another thread does not leave it running).
pub struct StopOnDrop(pub Shutdown);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.advance(Phase::StopFeeds);
    }
}
