//! The readiness wait: a parked stage thread sleeps in `epoll` (through mio) on the sockets its
//! stages expose ([`Stage::wait_fds`](super::Stage::wait_fds)) instead of a plain sleep.
//!
//! Without it a frame that lands while a `park` feed thread sleeps waits up to `park_us` in the
//! kernel before it is read, and since a frame's `ts_frame` is stamped when it is read, that
//! wait never shows in the latency report. With it the thread wakes as soon as a socket turns
//! readable; the timeout stays `park_us`, so timers, reconnect backoffs and stages without
//! sockets (rings, channels from helper threads) are still polled at least that often.
//!
//! How it stays correct:
//! 1. The set follows the stages. Before each wait the stages append their sockets; a set that
//!    differs from the registered one is applied: sockets that left are deregistered first,
//!    then new ones registered. A socket is a pair of fd and connection id
//!    ([`WaitFd`]): a reconnect usually gets the closed socket's fd number back, epoll forgot
//!    the closed one, and only the new id says to register the number again.
//! 2. Edge-triggered: epoll reports a socket when data arrives, not while it is unread. That is
//!    enough because a stage that returns `Idle` has read its sockets to `WouldBlock` (the
//!    contract of `wait_fds`), and the thread only waits after a round in which no stage did
//!    any work: data already in user space (rustls plaintext, a tungstenite frame) was handled
//!    in that round, and data arriving after it raises a new edge, even before the wait starts
//!    (epoll keeps it until the wait collects it). Registering a socket that already holds data
//!    reports it at once.
//! 3. Readable only. A write queued on a full socket is flushed by the next poll, at most
//!    `park_us` later, as before.
//! 4. No allocation per wait after warm-up: the event buffer and both sets are reused.
//!
//! A stale event (data that arrived while the thread was busy and was read before the wait)
//! ends one wait early: the thread polls once more, finds nothing, and waits again.

use super::stage::WaitFd;
use mio::unix::SourceFd;
use mio::{Events, Interest, Token};
use std::io;
use std::time::Duration;

/// Events collected per wait: which socket woke the thread does not matter (every stage is
/// polled after a wait), only that one did.
const EVENTS: usize = 16;

/// What the readiness wait has done, for tests and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadinessCounts {
    /// Sockets registered (a reconnected socket counts again).
    pub registered: u64,
    /// Sockets that left the set and were deregistered (a closed one has left epoll already).
    pub deregistered: u64,
    /// Registrations epoll refused: that socket is polled only after each timeout.
    pub errors: u64,
    /// Waits a socket event ended before the timeout (stale events included).
    pub wakes: u64,
    /// Waits that ran to the timeout.
    pub timeouts: u64,
}

/// One thread's readiness wait. The `epoll` instance is created at the first wait that has
/// sockets, so a thread whose stages have none never opens one and sleeps as before.
pub struct Readiness {
    poll: Option<mio::Poll>,
    /// `epoll` could not be created: plain sleeps from then on.
    unavailable: bool,
    events: Events,
    registered: Vec<WaitFd>,
    wanted: Vec<WaitFd>,
    counts: ReadinessCounts,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness::new()
    }
}

impl Readiness {
    pub fn new() -> Readiness {
        Readiness {
            poll: None,
            unavailable: false,
            events: Events::with_capacity(EVENTS),
            registered: Vec::with_capacity(4),
            wanted: Vec::with_capacity(4),
            counts: ReadinessCounts::default(),
        }
    }

    /// Waits up to `timeout` for one of the sockets `fds` appends to turn readable; without
    /// sockets (or without `epoll`) sleeps `timeout` like [`std::thread::park_timeout`]. True
    /// when a socket event ended the wait.
    pub fn wait<F: FnOnce(&mut Vec<WaitFd>)>(&mut self, timeout: Duration, fds: F) -> bool {
        self.wanted.clear();
        fds(&mut self.wanted);
        if self.wanted != self.registered {
            self.sync();
        }
        let poll = match self.poll.as_mut() {
            Some(p) if !self.registered.is_empty() => p,
            _ => {
                std::thread::park_timeout(timeout);
                return false;
            }
        };
        match poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) if !self.events.is_empty() => {
                self.counts.wakes += 1;
                true
            }
            Ok(()) => {
                self.counts.timeouts += 1;
                false
            }
            // EINTR: the thread polls its stages and comes back.
            Err(_) => false,
        }
    }

    /// The sockets registered now.
    pub fn registered(&self) -> &[WaitFd] {
        &self.registered
    }

    pub fn counts(&self) -> ReadinessCounts {
        self.counts
    }

    /// Step 1 of the module doc: applies `wanted`.
    fn sync(&mut self) {
        if self.poll.is_none() && !self.unavailable && !self.wanted.is_empty() {
            match mio::Poll::new() {
                Ok(p) => self.poll = Some(p),
                Err(_) => self.unavailable = true,
            }
        }
        let Some(poll) = self.poll.as_ref() else {
            return;
        };
        let registry = poll.registry();
        // Removals first: a number that left the set may come back as another connection.
        for r in &self.registered {
            if !self.wanted.contains(r) {
                // A closed socket has left epoll already (EBADF or ENOENT): nothing to undo.
                let _ = registry.deregister(&mut SourceFd(&r.fd));
                self.counts.deregistered += 1;
            }
        }
        for w in &self.wanted {
            if self.registered.contains(w) {
                continue;
            }
            let token = Token(w.fd as usize);
            let done = match registry.register(&mut SourceFd(&w.fd), token, Interest::READABLE) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    registry.reregister(&mut SourceFd(&w.fd), token, Interest::READABLE)
                }
                r => r,
            };
            match done {
                Ok(()) => self.counts.registered += 1,
                Err(_) => self.counts.errors += 1,
            }
        }
        self.registered.clear();
        self.registered.extend_from_slice(&self.wanted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    use std::time::Instant;

    /// A connected pair: the non-blocking end the "stage" reads, and the end a peer writes.
    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (ours, _) = l.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        (ours, peer)
    }

    fn drain(mut s: &TcpStream) -> usize {
        let mut buf = [0u8; 256];
        let mut n = 0;
        loop {
            match s.read(&mut buf) {
                Ok(0) => return n,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return n,
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn fd(s: &TcpStream, conn: u64) -> WaitFd {
        WaitFd {
            fd: s.as_raw_fd(),
            conn,
        }
    }

    /// Waits with a long timeout while the peer writes 50 ms later: how long the wait took.
    fn wait_for_write(r: &mut Readiness, ours: &TcpStream, conn: u64, peer: TcpStream) -> Duration {
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let mut peer = peer;
            peer.write_all(b"x").unwrap();
            peer
        });
        let t = Instant::now();
        let woke = r.wait(Duration::from_secs(5), |out| out.push(fd(ours, conn)));
        let took = t.elapsed();
        drop(writer.join().unwrap());
        assert!(woke, "a socket event ended the wait");
        took
    }

    #[test]
    fn a_wait_on_a_socket_wakes_when_data_arrives_long_before_the_timeout() {
        let (ours, peer) = pair();
        let mut r = Readiness::new();
        let took = wait_for_write(&mut r, &ours, 1, peer);
        assert!(took < Duration::from_secs(2), "woke after {took:?}");
        assert_eq!(drain(&ours), 1);
        assert_eq!(r.counts().registered, 1);
    }

    #[test]
    fn data_that_arrived_before_the_wait_ends_it_at_once() {
        let (ours, mut peer) = pair();
        let mut r = Readiness::new();
        // Registered while empty, then data lands while the thread is "busy".
        assert!(!r.wait(Duration::from_millis(1), |out| out.push(fd(&ours, 1))));
        peer.write_all(b"y").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        assert!(r.wait(Duration::from_secs(5), |out| out.push(fd(&ours, 1))));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(drain(&ours), 1);
        // A socket that already holds data when it is first registered is reported too.
        let (ours2, mut peer2) = pair();
        peer2.write_all(b"z").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        assert!(r.wait(Duration::from_secs(5), |out| {
            out.push(fd(&ours, 1));
            out.push(fd(&ours2, 2));
        }));
        assert!(t.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn without_sockets_it_sleeps_the_timeout_and_opens_no_epoll() {
        let mut r = Readiness::new();
        let t = Instant::now();
        assert!(!r.wait(Duration::from_millis(20), |_| {}));
        assert!(t.elapsed() >= Duration::from_millis(15));
        assert!(r.poll.is_none());
    }

    /// A reconnect: the old socket closes, a new one (often on the same fd number) takes its
    /// place under a new connection id and is registered again; a socket that leaves the set
    /// is deregistered; the rotation's two sockets at once are both watched.
    #[test]
    fn registration_follows_the_set_across_reconnects_and_rotations() {
        let mut r = Readiness::new();
        let (a, peer_a) = pair();
        let mut a = Some(a);
        let took = wait_for_write(&mut r, a.as_ref().unwrap(), 1, peer_a);
        assert!(took < Duration::from_secs(2));
        let old_fd = a.as_ref().unwrap().as_raw_fd();
        drop(a.take());

        // The disconnected feed exposes nothing: a plain sleep, the old socket deregistered.
        assert!(!r.wait(Duration::from_millis(1), |_| {}));
        assert_eq!(r.registered(), &[]);
        assert_eq!(r.counts().deregistered, 1);

        // Reconnected (the number is probably the old one, reused): registered again.
        let (b, peer_b) = pair();
        let took = wait_for_write(&mut r, &b, 2, peer_b);
        assert!(
            took < Duration::from_secs(2),
            "fd {old_fd} → {}",
            b.as_raw_fd()
        );
        assert_eq!(drain(&b), 1);
        assert_eq!(r.counts().registered, 2);

        // The same number under a new id without an idle wait in between (closed and reopened
        // within one busy stretch): it is registered again all the same.
        let (c, _peer_c) = pair();
        let (d, peer_d) = pair();
        let n = c.into_raw_fd();
        assert!(!r.wait(Duration::from_millis(1), |out| {
            out.push(WaitFd { fd: n, conn: 3 })
        }));
        // SAFETY: `n` is ours (taken from `c`) and `d`'s fd is open; `dup2` closes the socket
        // behind `n` (epoll forgets it) and puts `d`'s there.
        assert_eq!(unsafe { libc::dup2(d.as_raw_fd(), n) }, n);
        drop(d);
        // SAFETY: `n` now holds the only fd of `d`'s socket and nothing else closes it.
        let d = unsafe { TcpStream::from_raw_fd(n) };
        let took = wait_for_write(&mut r, &d, 4, peer_d);
        assert!(
            took < Duration::from_secs(2),
            "the reused number was registered again"
        );

        // A rotation: two connections at once; data on either wakes the wait.
        let (e, mut peer_e) = pair();
        let (f, mut peer_f) = pair();
        let both = |out: &mut Vec<WaitFd>| {
            out.push(fd(&e, 5));
            out.push(fd(&f, 6));
        };
        assert!(!r.wait(Duration::from_millis(1), both));
        assert_eq!(r.registered().len(), 2);
        for (peer, ours) in [(&mut peer_e, &e), (&mut peer_f, &f)] {
            peer.write_all(b"r").unwrap();
            let t = Instant::now();
            assert!(r.wait(Duration::from_secs(5), |out| {
                out.push(fd(&e, 5));
                out.push(fd(&f, 6));
            }));
            assert!(t.elapsed() < Duration::from_secs(2));
            assert_eq!(drain(ours), 1);
        }
        // Handed over: the old one leaves, the new one stays registered without a new syscall.
        let before = r.counts();
        assert!(!r.wait(Duration::from_millis(1), |out| out.push(fd(&f, 6))));
        assert_eq!(r.registered(), &[fd(&f, 6)]);
        assert_eq!(r.counts().registered, before.registered);
        assert_eq!(r.counts().deregistered, before.deregistered + 1);
        assert_eq!(r.counts().errors, 0);
    }
}
