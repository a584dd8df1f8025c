//! A venue-wide budget of REST request weight: Binance lets an IP spend `REQUEST_WEIGHT` a
//! minute (spec binance.md §4.6; a depth snapshot of 1000 levels costs 20 on futures, 50 on
//! spot, §3.1) and answers 429 beyond it. Every snapshot thread of the venue (one per
//! connection) takes its request's weight here first and waits when the window is spent, so
//! many books resyncing at once are spread over the minutes instead of exceeding it.
//!
//! The window slides (stricter than Binance's calendar minute, so the budget holds whichever
//! way the venue counts) and is padded by [`WINDOW_MARGIN`] like the WebSocket budgets.

use crate::feed::message_budget::WINDOW_MARGIN;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct WeightBudget {
    limit: u32,
    window: Duration,
    /// When each request of the window went out, and its weight.
    spent: Mutex<VecDeque<(Instant, u32)>>,
    deferred: AtomicU64,
}

impl WeightBudget {
    /// At most `limit` weight in any `window` (Binance: a minute).
    pub fn new(limit: u32, window: Duration) -> WeightBudget {
        WeightBudget {
            limit,
            window,
            spent: Mutex::new(VecDeque::new()),
            deferred: AtomicU64::new(0),
        }
    }

    pub fn per_minute(limit: u32) -> WeightBudget {
        Self::new(limit, Duration::from_secs(60))
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Takes `weight` if the window has room for it at `now`; otherwise says how long until it
    /// will. A request heavier than the whole limit goes when nothing else is in the window.
    pub fn try_take(&self, weight: u32, now: Instant) -> Result<(), Duration> {
        let span = self.window + WINDOW_MARGIN;
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while spent
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= span)
        {
            spent.pop_front();
        }
        let used: u64 = spent.iter().map(|(_, w)| u64::from(*w)).sum();
        let need = u64::from(weight).min(u64::from(self.limit));
        if used + need <= u64::from(self.limit) {
            spent.push_back((now, weight));
            return Ok(());
        }
        // When the oldest requests leave the window and free enough.
        let mut left = used;
        for (t, w) in spent.iter() {
            left -= u64::from(*w);
            if left + need <= u64::from(self.limit) {
                return Err((*t + span).saturating_duration_since(now));
            }
        }
        Err(span)
    }

    /// A request had to wait for the budget (counted once per request).
    pub fn note_deferred(&self) {
        self.deferred.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests that waited for the budget so far.
    pub fn deferred(&self) -> u64 {
        self.deferred.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_greedy_taker_never_spends_more_than_the_limit_in_a_window() {
        let b = WeightBudget::new(100, Duration::from_secs(1));
        let t0 = Instant::now();
        let mut taken: Vec<(u64, u32)> = Vec::new();
        for ms in 0..5_000u64 {
            let now = t0 + Duration::from_millis(ms);
            while b.try_take(20, now).is_ok() {
                taken.push((ms, 20));
            }
        }
        assert!(taken.len() >= 20, "it does take: {}", taken.len());
        for &(s, _) in &taken {
            let in_window: u32 = taken
                .iter()
                .filter(|(t, _)| *t >= s && *t < s + 1_000)
                .map(|(_, w)| w)
                .sum();
            assert!(in_window <= 100, "{in_window} in the second from {s} ms");
        }
        assert_eq!(taken[..5].iter().map(|t| t.0).collect::<Vec<_>>(), [0; 5]);
    }

    #[test]
    fn a_refusal_says_when_there_will_be_room() {
        let b = WeightBudget::new(50, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(b.try_take(20, t0).is_ok());
        assert!(b.try_take(20, t0 + Duration::from_secs(10)).is_ok());
        let wait = b.try_take(20, t0 + Duration::from_secs(20)).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(40) + WINDOW_MARGIN,
            "when the first leaves"
        );
        let later = t0 + Duration::from_secs(20) + wait;
        assert!(b.try_take(20, later).is_ok());
        // Heavier than the limit: only into an empty window.
        let b = WeightBudget::new(10, Duration::from_secs(1));
        assert!(b.try_take(250, t0).is_ok());
        assert!(b.try_take(1, t0).is_err());
    }
}
