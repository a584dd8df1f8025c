//! A venue's ban, shared by every connection to it: one "not before" time that every
//! WebSocket connection attempt and REST call of the venue respects.
//!
//! MAX bans an IP that connects too often: the refused handshake (or REST call) carries `429`
//! and `Retry-After` = the Unix time in seconds when it may come back, and connecting earlier
//! prolongs the ban (spec max.md §3.5). The public and the private connection and the REST
//! client share the IP, so a ban seen by one holds for all. Binance answers `429` (and `418`
//! once banned) with `Retry-After` in seconds from now (spec binance.md §4).
//!
//! [`VenueGate::refused`] reads either form (a value of a billion or more is an absolute Unix
//! time, a smaller one seconds from now) and moves the venue's "not before" time there, plus a
//! small margin for clocks that differ by a fraction of a second; without a `Retry-After` it
//! waits a back-off of its own. Refusals in a row back off further on top of what the venue
//! said (1 s, 2 s, 4 s … up to 5 min). A connection or call that gets through clears the count.
//! Lock-free: a few atomics.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Added to the venue's time: it speaks in whole seconds and its clock may be a little ahead.
pub const RETRY_MARGIN_MS: u64 = 500;
/// The most extra back-off repeated refusals add.
pub const MAX_EXTRA_BACKOFF_MS: u64 = 300_000;
/// Without a `Retry-After`, the first refusal waits this long.
pub const DEFAULT_RETRY_MS: u64 = 1_000;

#[derive(Debug, Default)]
pub struct VenueGate {
    /// Unix ms before which nothing may be sent (0: open).
    not_before_ms: AtomicU64,
    /// Refusals since the last success.
    refusals_in_a_row: AtomicU32,
    /// Refusals seen.
    refusals: AtomicU64,
}

/// The time a `Retry-After` value names, in Unix ms: an absolute Unix time in seconds (MAX) or
/// seconds from `now_ms` (Binance, RFC 9110). None when it is not a number of seconds.
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let secs: u64 = value.trim().parse().ok()?;
    if secs >= 1_000_000_000 {
        secs.checked_mul(1000)
    } else {
        now_ms.checked_add(secs.checked_mul(1000)?)
    }
}

impl VenueGate {
    pub fn new() -> Self {
        Self::default()
    }

    /// How long to wait before the next attempt at `now_ms` (None: go ahead).
    pub fn wait(&self, now_ms: u64) -> Option<Duration> {
        let nb = self.not_before_ms.load(Ordering::Acquire);
        if now_ms >= nb {
            return None;
        }
        Some(Duration::from_millis(nb - now_ms))
    }

    /// The venue refused an attempt at `now_ms` (HTTP 429/418), with this `Retry-After` header
    /// if it sent one. Returns the Unix ms before which nothing may be sent.
    pub fn refused(&self, retry_after: Option<&str>, now_ms: u64) -> u64 {
        self.refusals.fetch_add(1, Ordering::Relaxed);
        let k = self.refusals_in_a_row.fetch_add(1, Ordering::AcqRel);
        let extra = if k == 0 {
            0
        } else {
            (DEFAULT_RETRY_MS << (k - 1).min(20)).min(MAX_EXTRA_BACKOFF_MS)
        };
        let told = retry_after.and_then(|v| retry_after_ms(v, now_ms));
        let until = match told {
            Some(t) => t.saturating_add(RETRY_MARGIN_MS),
            None => now_ms.saturating_add(DEFAULT_RETRY_MS),
        }
        .saturating_add(extra);
        self.not_before_ms.fetch_max(until, Ordering::AcqRel);
        self.not_before_ms.load(Ordering::Acquire)
    }

    /// An attempt got through: refusals in a row start again from zero.
    pub fn succeeded(&self) {
        self.refusals_in_a_row.store(0, Ordering::Release);
    }

    /// Unix ms before which nothing may be sent (0 or past: open).
    pub fn not_before_ms(&self) -> u64 {
        self.not_before_ms.load(Ordering::Acquire)
    }

    /// Refusals (429/418) seen from the venue.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_retry_after() {
        assert_eq!(
            retry_after_ms("1767225615", 1_767_225_600_000),
            Some(1_767_225_615_000),
            "MAX: absolute Unix seconds"
        );
        assert_eq!(
            retry_after_ms(" 15 ", 1_767_225_600_000),
            Some(1_767_225_615_000),
            "Binance: seconds from now"
        );
        for bad in [
            "",
            "soon",
            "-5",
            "1.5",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "99999999999999999999",
        ] {
            assert_eq!(retry_after_ms(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn a_ban_holds_every_attempt_until_its_end_and_repeated_refusals_back_off_further() {
        let g = VenueGate::new();
        let now = 1_767_225_600_000;
        assert_eq!(g.wait(now), None, "open");
        let until = g.refused(Some("1767225615"), now);
        assert_eq!(until, 1_767_225_615_000 + RETRY_MARGIN_MS);
        assert_eq!(
            g.wait(now + 1_000),
            Some(Duration::from_millis(until - now - 1_000))
        );
        assert_eq!(g.wait(until - 1), Some(Duration::from_millis(1)));
        assert_eq!(g.wait(until), None, "at the time given, not before");
        // Refused again at the end (the ban was prolonged): further than the venue says.
        let again = g.refused(Some("1767225630"), until);
        assert_eq!(
            again,
            1_767_225_630_000 + RETRY_MARGIN_MS + DEFAULT_RETRY_MS
        );
        let third = g.refused(None, again);
        assert_eq!(third, again + DEFAULT_RETRY_MS + 2 * DEFAULT_RETRY_MS);
        assert_eq!(g.refusals(), 3);
        g.succeeded();
        let fresh = g.refused(None, third + 10_000);
        assert_eq!(
            fresh,
            third + 10_000 + DEFAULT_RETRY_MS,
            "the count restarts"
        );
    }

    #[test]
    fn a_shorter_retry_after_never_shortens_a_ban() {
        let g = VenueGate::new();
        let until = g.refused(Some("1767225615"), 1_767_225_600_000);
        g.succeeded();
        assert_eq!(g.refused(Some("1"), 1_767_225_600_000), until);
    }
}
