//! A token bucket per API key, so the gateway stays under MAX's limits: 1 200 private requests
//! per minute per account (spec max.md §2.4), with a burst (bbgo uses 20). The bucket is pure
//! logic over an explicit clock; the REST client sleeps for the wait it returns.

#[derive(Clone, Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_ms: f64,
    tokens: f64,
    last_ms: u64,
}

impl RateLimiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let capacity = burst.max(1) as f64;
        RateLimiter {
            capacity,
            per_ms: per_minute as f64 / 60_000.0,
            tokens: capacity,
            last_ms: 0,
        }
    }

    /// Takes a token at `now_ms`, or says how many ms to wait for one (nothing is taken then).
    pub fn try_acquire(&mut self, now_ms: u64) -> Result<(), u64> {
        if self.last_ms != 0 && now_ms > self.last_ms {
            self.tokens =
                (self.tokens + (now_ms - self.last_ms) as f64 * self.per_ms).min(self.capacity);
        }
        if self.last_ms == 0 || now_ms > self.last_ms {
            self.last_ms = now_ms;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if self.per_ms <= 0.0 {
            Err(u64::MAX)
        } else {
            // (less a hair of float error, so an exact wait is not rounded up a whole ms)
            Err(((1.0 - self.tokens) / self.per_ms - 1e-6).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_the_sustained_rate() {
        let mut r = RateLimiter::new(1200, 3); // 20 per second
        let t = 1_000_000;
        assert!(r.try_acquire(t).is_ok() && r.try_acquire(t).is_ok() && r.try_acquire(t).is_ok());
        assert_eq!(r.try_acquire(t), Err(50), "one token per 50 ms");
        assert_eq!(r.try_acquire(t + 49), Err(1));
        assert!(r.try_acquire(t + 50).is_ok());
        // A long pause refills only up to the burst.
        assert!((0..3).all(|_| r.try_acquire(t + 60_000).is_ok()));
        assert!(r.try_acquire(t + 60_000).is_err());
    }
}
