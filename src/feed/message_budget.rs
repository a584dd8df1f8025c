//! A per-connection budget of outgoing messages that enforces a venue's documented limits, so
//! no code path of a feed can exceed them: MAX allows 20 request messages per second and 200
//! per minute on one WebSocket (spec max.md §3.5; beyond that it rate-limits, then bans);
//! Binance 5 incoming messages per second on a spot connection and 10 on a futures one, pings
//! and pongs included (spec binance.md §1; beyond that the connection is dropped).
//!
//! Every control message a feed sends (subscriptions, resubscriptions, pings, `auth`) asks the
//! budget first and is deferred when the budget says no; a message the feed cannot hold back
//! (tungstenite's automatic pong to a server ping) is recorded so the next ones account for
//! it. The budget keeps the send times of the last `max count` messages in a ring, so checking a
//! limit is one look at the n-th most recent send: no allocation after construction.
//!
//! Windows are padded by [`WINDOW_MARGIN`] on our side: the venue counts arrival times, and two
//! messages sent a window apart may arrive less than a window apart.

use std::time::{Duration, Instant};

/// At most `count` messages in any `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub window: Duration,
}

/// Added to every window on the client's side.
pub const WINDOW_MARGIN: Duration = Duration::from_millis(100);

/// MAX WebSocket, per connection: 20 per second and 200 per minute (spec max.md §3.5).
pub const MAX_WS: [Limit; 2] = [
    Limit {
        count: 20,
        window: Duration::from_secs(1),
    },
    Limit {
        count: 200,
        window: Duration::from_secs(60),
    },
];

/// Binance spot WebSocket, per connection: 5 incoming messages per second (spec binance.md §1).
pub const BINANCE_SPOT_WS: [Limit; 1] = [Limit {
    count: 5,
    window: Duration::from_secs(1),
}];

/// Binance USDⓈ-M futures WebSocket, per connection: 10 per second (spec binance.md §1).
pub const BINANCE_FUTURES_WS: [Limit; 1] = [Limit {
    count: 10,
    window: Duration::from_secs(1),
}];

pub struct MessageBudget {
    limits: Vec<Limit>,
    /// Send times of the most recent messages, a ring of the largest limit's count.
    sent: Vec<Instant>,
    /// Next slot to write in `sent`.
    head: usize,
    /// Messages recorded so far (saturating at the ring's size for lookups).
    len: usize,
    /// Since when the oldest deferred message has been waiting (None: nothing waits).
    waiting_since: Option<Instant>,
    /// Messages that had to wait, and for how long in all.
    pub deferred: u64,
    pub waited: Duration,
}

impl MessageBudget {
    pub fn new(limits: &[Limit]) -> MessageBudget {
        let cap = limits
            .iter()
            .map(|l| l.count as usize)
            .max()
            .unwrap_or(1)
            .max(1);
        let now = Instant::now();
        MessageBudget {
            limits: limits.to_vec(),
            sent: vec![now; cap],
            head: 0,
            len: 0,
            waiting_since: None,
            deferred: 0,
            waited: Duration::ZERO,
        }
    }

    /// A fresh connection starts with the whole budget.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.waiting_since = None;
    }

    /// The send time of the `n`-th most recent message (1 = the latest), if there were `n`.
    fn nth_latest(&self, n: usize) -> Option<Instant> {
        if n == 0 || n > self.len.min(self.sent.len()) {
            return None;
        }
        let cap = self.sent.len();
        Some(self.sent[(self.head + cap - n) % cap])
    }

    /// The earliest time one more message may be sent (`now` or earlier: at once).
    pub fn available_at(&self, now: Instant) -> Instant {
        let mut at = now;
        for l in &self.limits {
            if let Some(t) = self.nth_latest(l.count as usize) {
                at = at.max(t + l.window + WINDOW_MARGIN);
            }
        }
        at
    }

    /// Takes one message from the budget if it allows one now; otherwise the message is
    /// deferred (counted; the wait is measured until a later `try_take` succeeds).
    pub fn try_take(&mut self, now: Instant) -> bool {
        if self.available_at(now) > now {
            if self.waiting_since.is_none() {
                self.waiting_since = Some(now);
                self.deferred += 1;
            }
            return false;
        }
        if let Some(since) = self.waiting_since.take() {
            self.waited += now.saturating_duration_since(since);
        }
        self.record(now);
        true
    }

    /// A message could not go out for want of budget (the caller checked [`remaining`]): count
    /// it as deferred, as [`MessageBudget::try_take`] does.
    ///
    /// [`remaining`]: MessageBudget::remaining
    pub fn defer(&mut self, now: Instant) {
        if self.waiting_since.is_none() {
            self.waiting_since = Some(now);
            self.deferred += 1;
        }
    }

    /// Records a message that went out without asking (an automatic pong).
    pub fn record(&mut self, now: Instant) {
        let cap = self.sent.len();
        self.sent[self.head] = now;
        self.head = (self.head + 1) % cap;
        self.len = (self.len + 1).min(cap);
    }

    /// Messages the budget would still allow at `now` (for the tightest limit).
    pub fn remaining(&self, now: Instant) -> u32 {
        self.limits
            .iter()
            .map(|l| {
                let recent = (1..=l.count as usize)
                    .take_while(|&n| {
                        self.nth_latest(n)
                            .is_some_and(|t| t + l.window + WINDOW_MARGIN > now)
                    })
                    .count() as u32;
                l.count - recent
            })
            .min()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends as fast as the budget allows over `secs` seconds in 1 ms steps and returns the
    /// send times (ms).
    fn greedy(limits: &[Limit], secs: u64) -> Vec<u64> {
        let mut b = MessageBudget::new(limits);
        let t0 = Instant::now();
        let mut sent = Vec::new();
        for ms in 0..secs * 1000 {
            let now = t0 + Duration::from_millis(ms);
            while b.try_take(now) {
                sent.push(ms);
            }
        }
        sent
    }

    fn max_in_window(sent: &[u64], window_ms: u64) -> usize {
        sent.iter()
            .map(|&s| {
                sent.iter()
                    .filter(|&&t| t >= s && t < s + window_ms)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_greedy_sender_stays_within_maxs_limits() {
        let sent = greedy(&MAX_WS, 130);
        assert!(sent.len() >= 400, "it does send: {}", sent.len());
        assert_eq!(max_in_window(&sent, 1_000), 20, "20 per second");
        assert!(max_in_window(&sent, 60_000) <= 200, "200 per minute");
        assert_eq!(sent[..20], [0; 20], "the first 20 at once");
    }

    #[test]
    fn a_greedy_sender_stays_within_binances_limit() {
        let sent = greedy(&BINANCE_SPOT_WS, 10);
        assert!(sent.len() >= 40, "{}", sent.len());
        assert_eq!(max_in_window(&sent, 1_000), 5);
        let sent = greedy(&BINANCE_FUTURES_WS, 10);
        assert_eq!(max_in_window(&sent, 1_000), 10);
    }

    #[test]
    fn recorded_pongs_count_and_waits_are_measured() {
        let mut b = MessageBudget::new(&BINANCE_SPOT_WS);
        let t0 = Instant::now();
        for _ in 0..5 {
            b.record(t0);
        }
        assert_eq!(b.remaining(t0), 0);
        assert!(!b.try_take(t0), "five pongs used the second");
        assert!(!b.try_take(t0 + Duration::from_millis(500)));
        assert_eq!(
            b.deferred, 1,
            "one message deferred, however often it asked"
        );
        let later = b.available_at(t0);
        assert_eq!(later, t0 + Duration::from_secs(1) + WINDOW_MARGIN);
        assert!(b.try_take(later));
        assert_eq!(b.waited, later - t0);
        b.reset();
        assert_eq!(b.remaining(later), 5);
    }
}
