//! An IP ban of a whole venue, as the simulator's servers of that venue share it: while it
//! lasts, every WebSocket handshake and every REST request is refused with HTTP 429 and a
//! `Retry-After` header; it lifts by itself at its end.
//!
//! - MAX (spec max.md §3.5): `Retry-After` is the **absolute** Unix time in seconds when the
//!   client may come back, and reconnecting early "resets and prolongs the ban": each early
//!   attempt moves the end to that attempt's time plus the ban's original length.
//! - Binance (spec binance.md §4.5): `Retry-After` is in seconds **from now**; the simulator
//!   does not prolong.
//!
//! The first attempt refused after a ban is imposed is how a client learns of it. Attempts that
//! arrive within [`IN_FLIGHT_GRACE_MS`] of that first refusal were on their way before the
//! client could know (a REST call in flight while a WebSocket handshake was refused): refused,
//! but not held against it. Every later attempt before the end is *early*
//! ([`VenueBan::early_attempts`]): a client that honours `Retry-After`, across all of its
//! connections to the venue, makes none.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How a venue writes `Retry-After` (and whether early attempts prolong the ban).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// MAX: absolute Unix seconds; an early attempt prolongs the ban.
    UnixSeconds,
    /// Binance: seconds from now, rounded up; no prolonging.
    DeltaSeconds,
}

#[derive(Default)]
struct State {
    /// End of the ban, Unix ms (0: none).
    until_ms: u64,
    /// The length the ban was imposed with, ms (what an early attempt restarts).
    length_ms: u64,
    /// When the first refusal of this ban was sent (Unix ms; 0: not yet): attempts after the
    /// grace that follows it are early.
    told_at_ms: u64,
}

/// Attempts arriving this long after the first refusal of a ban crossed it in flight.
pub const IN_FLIGHT_GRACE_MS: u64 = 250;

pub struct VenueBan {
    style: RetryAfter,
    state: Mutex<State>,
    refused: AtomicU64,
    early: AtomicU64,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl VenueBan {
    pub fn new(style: RetryAfter) -> VenueBan {
        VenueBan {
            style,
            state: Mutex::new(State::default()),
            refused: AtomicU64::new(0),
            early: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bans the venue until `unix_s` (Unix seconds); 0 (or a time already past) lifts the ban.
    pub fn ban_until(&self, unix_s: u64) {
        let now = unix_ms();
        let until_ms = unix_s.saturating_mul(1000);
        let mut s = self.lock();
        *s = if until_ms > now {
            State {
                until_ms,
                length_ms: until_ms - now,
                told_at_ms: 0,
            }
        } else {
            State::default()
        };
    }

    /// The end of the ban in Unix seconds, rounded up (0: none now).
    pub fn until(&self) -> u64 {
        let s = self.lock();
        if s.until_ms > unix_ms() {
            s.until_ms.div_ceil(1000)
        } else {
            0
        }
    }

    /// One attempt (a handshake or a REST request): `None` lets it through; `Some(v)` refuses
    /// it with `Retry-After: v` as this venue writes it. An early attempt on MAX first
    /// prolongs the ban.
    pub fn attempt(&self) -> Option<u64> {
        self.attempt_at(unix_ms())
    }

    fn attempt_at(&self, now: u64) -> Option<u64> {
        let mut s = self.lock();
        if s.until_ms == 0 {
            return None;
        }
        if now >= s.until_ms {
            // Lifted by itself.
            *s = State::default();
            return None;
        }
        self.refused.fetch_add(1, Ordering::AcqRel);
        if s.told_at_ms == 0 {
            s.told_at_ms = now.max(1);
        } else if now > s.told_at_ms + IN_FLIGHT_GRACE_MS {
            self.early.fetch_add(1, Ordering::AcqRel);
            if self.style == RetryAfter::UnixSeconds {
                let length = s.length_ms.div_ceil(1000) * 1000;
                s.until_ms = s.until_ms.max((now + length).div_ceil(1000) * 1000);
            }
        }
        Some(match self.style {
            RetryAfter::UnixSeconds => s.until_ms.div_ceil(1000),
            RetryAfter::DeltaSeconds => (s.until_ms - now).div_ceil(1000),
        })
    }

    /// Attempts refused by the ban (handshakes and REST requests together).
    pub fn attempts_refused(&self) -> u64 {
        self.refused.load(Ordering::Acquire)
    }

    /// Refused attempts after the first of a ban, i.e. made although a `Retry-After` had been
    /// sent and had not passed.
    pub fn early_attempts(&self) -> u64 {
        self.early.load(Ordering::Acquire)
    }
}

/// The HTTP/1.1 answer of a refused WebSocket handshake.
pub fn refusal_response(retry_after: u64) -> String {
    format!(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {retry_after}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

/// Reads a refused handshake's request (so the client sees a reply, not a reset) and answers
/// it with 429 and `Retry-After`.
pub fn refuse_handshake(mut stream: std::net::TcpStream, retry_after: u64) {
    use std::io::{Read, Write};
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
    let mut req = [0u8; 2048];
    let _ = stream.read(&mut req);
    let _ = stream.write_all(refusal_response(retry_after).as_bytes());
    let _ = stream.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_prolongs_on_early_attempts_and_lifts_by_itself() {
        let b = VenueBan::new(RetryAfter::UnixSeconds);
        let now = unix_ms();
        b.ban_until(now / 1000 + 10);
        let until = b.until();
        assert_eq!(b.attempt_at(now), Some(until), "the first refusal tells");
        assert_eq!(b.early_attempts(), 0);
        // A request already in flight when it was told: refused, not held against the client.
        assert_eq!(b.attempt_at(now + IN_FLIGHT_GRACE_MS), Some(until));
        assert_eq!(b.early_attempts(), 0);
        // 5 s later, an early attempt: the ban restarts from there.
        let later = now + 5_000;
        let prolonged = b.attempt_at(later).unwrap();
        assert!(prolonged > until, "{prolonged} > {until}");
        assert_eq!(b.early_attempts(), 1);
        assert_eq!(b.attempts_refused(), 3);
        assert_eq!(b.attempt_at(prolonged * 1000), None, "lifted at its end");
        assert_eq!(b.until(), 0);
    }

    #[test]
    fn binance_answers_seconds_from_now_and_does_not_prolong() {
        let b = VenueBan::new(RetryAfter::DeltaSeconds);
        let now = unix_ms();
        b.ban_until(now / 1000 + 10);
        let first = b.attempt_at(now).unwrap();
        assert!((9..=10).contains(&first), "{first}");
        assert_eq!(b.attempt_at(now + 4_000), Some(first - 4));
        assert_eq!(b.early_attempts(), 1);
        b.ban_until(0);
        assert_eq!(b.attempt_at(now + 4_000), None);
    }
}
