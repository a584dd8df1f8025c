//! Exponential back-off with ±25 % jitter: the wait between retries of anything that talks to
//! the outside (WebSocket reconnects, resync requests, the recorder's NATS and PostgreSQL
//! connections). The jitter keeps many connections — or two recorders sharing a consumer —
//! from retrying in step. Deterministic from its seed, so tests and the simulator replay.

use std::time::Duration;

/// Waits that double from `min` up to `max` (the base of each wait), each within ±25 % of its
/// base.
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
    seed: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            min,
            max,
            current: min,
            seed: seed | 1,
        }
    }
    pub fn reset(&mut self) {
        self.current = self.min;
    }
    /// The next wait; doubles the following one (up to the cap).
    pub fn next_wait(&mut self) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let base = self.current.as_millis() as u64;
        let wait = base * 3 / 4 + self.seed % (base / 2 + 1);
        self.current = (self.current * 2).min(self.max);
        Duration::from_millis(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000), 7);
        let waits: Vec<u64> = (0..6).map(|_| b.next_wait().as_millis() as u64).collect();
        for (w, base) in waits.iter().zip([100u64, 200, 400, 800, 1000, 1000]) {
            assert!(*w >= base * 3 / 4 && *w <= base * 5 / 4, "{waits:?}");
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(125));
    }
}
