//! One nonce sequence per MAX API key (spec max.md §1.3), shared lock-free by everything that
//! signs with the key: a REST client (orders and cancels, or the reconciler's reads, or both
//! with one key) and the private WebSocket's `auth` on a feed thread.
//!
//! MAX documents nonces as milliseconds of server time, within 30 s of it, each used once;
//! production clients (bbgo) keep one strictly increasing sequence per key under a lock. Here a
//! compare-and-swap on one atomic does the same: every nonce handed out, by any thread, is
//! greater than every nonce handed out before it.
//!
//! Time sync moves the sequence onto the venue's clock ([`KeyNonce::set_offset_ms`]). A
//! correction forward simply raises the next nonces. A correction backward within the venue's
//! 30 s window keeps the sequence increasing: the next nonces run ahead of the venue's clock by
//! less than 30 s (still accepted) until it catches up. A correction backward by more than the
//! window means every nonce issued so far was more than 30 s off the venue's clock, so the
//! venue refused them all (2007 / E-1006) and none of them counts as used: the sequence
//! restarts on the venue's clock.
//!
//! Increasing as handed out is not yet increasing as the venue receives them: a REST call and
//! an `auth` on two sockets can overtake each other in flight, and a venue that refuses a nonce
//! below the last one it accepted (arbline's simulator does) would refuse the later-arriving
//! one. So the key also takes turns between its two kinds of signed message: an `auth` is sent
//! only while no REST call is in flight ([`KeyNonce::try_begin_auth`]), and a REST call waits
//! (on the gateway thread, whose job is waiting) while an `auth` is unanswered
//! ([`KeyNonce::begin_rest`]). Each key's REST calls are one at a time on one thread (the
//! gateway's with one key; with a read key, the order lane's for the trading key and the read
//! lane's for the read key, which also signs the private `auth`), so every signed message of a
//! key reaches the venue in the order its nonce was taken. Two atomics,
//! checked in the order that makes the exclusion sound (each side raises its own flag, then
//! looks at the other's).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The venue accepts nonces within this distance of its clock.
pub const NONCE_WINDOW_MS: i64 = 30_000;

#[derive(Debug, Default)]
pub struct KeyNonce {
    last: AtomicU64,
    offset_ms: AtomicI64,
    /// REST calls between taking their nonce and reading the venue's answer.
    rest_in_flight: AtomicU32,
    /// An `auth` sent and not yet answered.
    auth_in_flight: AtomicBool,
}

/// The longest a REST call waits for an unanswered `auth` (a lost answer must not stop orders).
pub const AUTH_WAIT_MAX: Duration = Duration::from_secs(2);

/// A REST call's turn: held from before its nonce is taken until its answer is read.
pub struct RestTurn<'a>(&'a KeyNonce);

impl Drop for RestTurn<'_> {
    fn drop(&mut self) {
        self.0.rest_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl KeyNonce {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next nonce: the venue's time now (`local_ms` corrected by the offset), or one more
    /// than the last nonce handed out if that is later.
    pub fn next(&self, local_ms: u64) -> u64 {
        let offset = self.offset_ms.load(Ordering::Acquire);
        let server = if offset >= 0 {
            local_ms.saturating_add(offset as u64)
        } else {
            local_ms.saturating_sub(offset.unsigned_abs())
        };
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let n = server.max(last.saturating_add(1));
            match self
                .last
                .compare_exchange_weak(last, n, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return n,
                Err(seen) => last = seen,
            }
        }
    }

    /// The venue's clock minus ours, from time sync (see the module doc for what a backward
    /// correction does).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        let before = self.offset_ms.swap(offset_ms, Ordering::AcqRel);
        if before.saturating_sub(offset_ms) > NONCE_WINDOW_MS {
            self.last.store(0, Ordering::Release);
        }
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Acquire)
    }

    /// Takes a REST call's turn: waits while an `auth` is unanswered (at most
    /// [`AUTH_WAIT_MAX`]). Take the nonce after this, and drop the turn once the answer is read.
    pub fn begin_rest(&self) -> RestTurn<'_> {
        let start = Instant::now();
        loop {
            self.rest_in_flight.fetch_add(1, Ordering::SeqCst);
            if !self.auth_in_flight.load(Ordering::SeqCst) || start.elapsed() >= AUTH_WAIT_MAX {
                return RestTurn(self);
            }
            self.rest_in_flight.fetch_sub(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// Takes an `auth`'s turn if no REST call is in flight (false: try again at the next
    /// poll). Call [`KeyNonce::end_auth`] when the venue answered or the connection is gone.
    pub fn try_begin_auth(&self) -> bool {
        self.auth_in_flight.store(true, Ordering::SeqCst);
        if self.rest_in_flight.load(Ordering::SeqCst) > 0 {
            self.auth_in_flight.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    pub fn end_auth(&self) {
        self.auth_in_flight.store(false, Ordering::SeqCst);
    }

    /// The latest nonce handed out (0: none yet).
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::KeyNonce;
    use std::sync::Arc;

    #[test]
    fn on_the_venue_clock_and_strictly_increasing() {
        let n = KeyNonce::new();
        assert_eq!(n.next(20_000), 20_000);
        assert_eq!(n.next(20_000), 20_001, "same millisecond: one more");
        assert_eq!(
            n.next(19_000),
            20_002,
            "our clock stepped back: still increasing"
        );
        n.set_offset_ms(5_000);
        assert_eq!(
            n.next(20_000),
            25_000,
            "a correction forward raises the sequence"
        );
        n.set_offset_ms(-5_000);
        assert_eq!(
            n.next(20_000),
            25_001,
            "a correction back within the window never repeats a nonce"
        );
        assert_eq!(
            n.next(40_000),
            35_000,
            "back on the venue's clock once it caught up"
        );
    }

    #[test]
    fn a_correction_beyond_the_window_restarts_on_the_venue_clock() {
        let n = KeyNonce::new();
        assert_eq!(n.next(100_000), 100_000);
        // Our clock was 60 s fast: the venue refused everything issued so far.
        n.set_offset_ms(-60_000);
        assert_eq!(n.next(100_010), 40_010);
        assert_eq!(n.next(100_010), 40_011);
    }

    #[test]
    fn rest_and_auth_take_turns() {
        let n = KeyNonce::new();
        let turn = n.begin_rest();
        assert!(!n.try_begin_auth(), "a REST call is in flight");
        drop(turn);
        assert!(n.try_begin_auth());
        // An unanswered auth holds REST back until answered (here: from another thread).
        let t0 = std::time::Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                n.end_auth();
            });
            let _turn = n.begin_rest();
            assert!(t0.elapsed() >= std::time::Duration::from_millis(50));
        });
        assert!(n.try_begin_auth(), "turn released with the REST call");
    }

    #[test]
    fn threads_sharing_a_key_never_see_the_same_or_a_smaller_nonce() {
        let n = Arc::new(KeyNonce::new());
        let per_thread = 2_500;
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let n = n.clone();
                std::thread::spawn(move || {
                    let mut mine = Vec::with_capacity(per_thread);
                    for _ in 0..per_thread {
                        let v = n.next(1_000);
                        if let Some(&prev) = mine.last() {
                            assert!(v > prev, "{v} after {prev} on one thread");
                        }
                        mine.push(v);
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 4 * per_thread, "every nonce handed out once");
    }
}
