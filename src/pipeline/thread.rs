//! Stage threads: named, optionally pinned, polling their stages round-robin with a wait
//! strategy chosen once at start.

use super::placement::ResolvedThread;
use super::stage::{Poll, Stage};
use super::wait::{Park, Spin, Wait, WaitKind, Yield};
use std::thread::JoinHandle;
use std::time::Duration;

/// Spawns a thread that runs `stages` until every one of them is [`Poll::Finished`], then
/// returns them (with their statistics and histograms) through the join handle.
pub fn spawn_stage_thread<S: Stage + Send + 'static>(
    spec: &ResolvedThread,
    stages: Vec<S>,
) -> std::io::Result<JoinHandle<Vec<S>>> {
    let core = spec.core;
    let wait = spec.wait;
    let park = Duration::from_micros(spec.park_us.max(1));
    std::thread::Builder::new()
        .name(spec.name.clone())
        .spawn(move || {
            if let Some(c) = core {
                // Pinning failure is not fatal: the thread runs unpinned and the report says so.
                let _ = core_affinity::set_for_current(core_affinity::CoreId { id: c });
            }
            match wait {
                WaitKind::Spin => run(stages, Spin),
                WaitKind::Yield => run(stages, Yield::default()),
                WaitKind::Park => run(stages, Park::new(park)),
            }
        })
}

/// The poll loop, monomorphised per wait strategy.
pub fn run<S: Stage, W: Wait>(mut stages: Vec<S>, mut wait: W) -> Vec<S> {
    let mut finished = vec![false; stages.len()];
    loop {
        let mut work = 0usize;
        let mut live = 0usize;
        for (s, done) in stages.iter_mut().zip(finished.iter_mut()) {
            if *done {
                continue;
            }
            match s.poll() {
                Poll::Idle => live += 1,
                Poll::Busy(n) => {
                    live += 1;
                    work += n;
                }
                Poll::Finished => *done = true,
            }
        }
        if live == 0 {
            return stages;
        }
        if work == 0 {
            wait.idle();
        } else {
            wait.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Countdown(u32, u32);
    impl Stage for Countdown {
        fn name(&self) -> &'static str {
            "countdown"
        }
        fn poll(&mut self) -> Poll {
            self.1 += 1;
            if self.0 == 0 {
                Poll::Finished
            } else {
                self.0 -= 1;
                if self.0 % 2 == 0 {
                    Poll::Idle
                } else {
                    Poll::Busy(1)
                }
            }
        }
    }

    #[test]
    fn runs_until_every_stage_finishes_and_returns_them() {
        let spec = ResolvedThread {
            name: "t".into(),
            stages: vec![],
            core: None,
            wait: WaitKind::Park,
            park_us: 10,
        };
        let h = spawn_stage_thread(&spec, vec![Countdown(5, 0), Countdown(50, 0)]).unwrap();
        let back = h.join().unwrap();
        assert_eq!(back[0].1, 6);
        assert_eq!(back[1].1, 51);
    }
}
