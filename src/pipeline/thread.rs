//! Stage threads: named, optionally pinned, polling their stages round-robin with a wait
//! strategy chosen once at start. The thread waits only after a whole round did no work; a
//! `park` thread then sleeps in `epoll` on the sockets its live stages expose
//! ([`Stage::wait_fds`], [`super::readiness`]), at most `park_us`.

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
            wait.idle(|out| {
                for (s, done) in stages.iter().zip(&finished) {
                    if !*done {
                        s.wait_fds(out);
                    }
                }
            });
        } else {
            wait.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::WaitFd;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

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
                if self.0.is_multiple_of(2) {
                    Poll::Idle
                } else {
                    Poll::Busy(1)
                }
            }
        }
    }

    /// Reads a socket to `WouldBlock` on every poll; finished after `want` bytes.
    struct SocketStage {
        sock: std::net::TcpStream,
        got: Arc<AtomicUsize>,
        want: usize,
    }
    impl Stage for SocketStage {
        fn name(&self) -> &'static str {
            "socket"
        }
        fn poll(&mut self) -> Poll {
            let mut buf = [0u8; 64];
            let mut n = 0;
            loop {
                match self.sock.read(&mut buf) {
                    Ok(0) => return Poll::Finished,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            let got = self.got.fetch_add(n, Ordering::AcqRel) + n;
            if got >= self.want {
                Poll::Finished
            } else if n == 0 {
                Poll::Idle
            } else {
                Poll::Busy(n)
            }
        }
        fn wait_fds(&self, out: &mut Vec<WaitFd>) {
            out.push(WaitFd {
                fd: self.sock.as_raw_fd(),
                conn: 1,
            });
        }
    }

    /// A parked feed thread with a 5 s `park_us` reads each frame as it lands, not 5 s later.
    #[test]
    fn a_parked_thread_wakes_when_its_socket_turns_readable() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (sock, _) = l.accept().unwrap();
        sock.set_nonblocking(true).unwrap();
        let got = Arc::new(AtomicUsize::new(0));
        let spec = ResolvedThread {
            name: "feed.test".into(),
            stages: vec![],
            core: None,
            wait: WaitKind::Park,
            park_us: 5_000_000,
        };
        let stage = SocketStage {
            sock,
            got: got.clone(),
            want: 3,
        };
        let h = spawn_stage_thread(&spec, vec![stage]).unwrap();
        for i in 1..=3 {
            // Long enough for the thread to spin, yield and park in the wait.
            std::thread::sleep(Duration::from_millis(100));
            let t = Instant::now();
            peer.write_all(b"f").unwrap();
            while got.load(Ordering::Acquire) < i && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let took = t.elapsed();
            assert!(
                took < Duration::from_secs(2),
                "frame {i} was read after {took:?}: the thread slept out its park_us"
            );
        }
        h.join().unwrap();
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
