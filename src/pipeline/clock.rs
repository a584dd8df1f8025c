//! Time on the hot path: raw TSC readings (quanta, ~13 ns) converted to nanoseconds only when
//! a latency is recorded, and a wall clock anchored once so a stage can tell Unix time from a
//! TSC reading without a syscall.

use quanta::Clock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calibrated TSC clock plus the Unix time at one of its readings. `Clone` is cheap.
#[derive(Clone, Debug)]
pub struct EngineClock {
    clock: Clock,
    anchor_raw: u64,
    anchor_unix_ns: u64,
}

impl Default for EngineClock {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineClock {
    pub fn new() -> Self {
        let clock = Clock::new();
        let anchor_raw = clock.raw();
        let anchor_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        EngineClock {
            clock,
            anchor_raw,
            anchor_unix_ns,
        }
    }

    /// A clock that only moves when the returned handle moves it (raw readings are nanoseconds),
    /// anchored at `unix_ns`: a deterministic run, e.g. the instruction-count bench, sees the
    /// same times on every run.
    pub fn mock(unix_ns: u64) -> (Self, std::sync::Arc<quanta::Mock>) {
        let (clock, mock) = Clock::mock();
        let anchor_raw = clock.raw();
        (
            EngineClock {
                clock,
                anchor_raw,
                anchor_unix_ns: unix_ns,
            },
            mock,
        )
    }

    /// A raw TSC reading: what events carry in their `ts_*` fields.
    #[inline]
    pub fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// Nanoseconds from `start` to `end` (0 if `end` is earlier).
    #[inline]
    pub fn delta_ns(&self, start: u64, end: u64) -> u64 {
        if end <= start {
            0
        } else {
            self.clock.delta_as_nanos(start, end)
        }
    }

    /// Unix time in ns of a raw reading taken after the anchor.
    #[inline]
    pub fn unix_ns(&self, raw: u64) -> u64 {
        self.anchor_unix_ns + self.delta_ns(self.anchor_raw, raw)
    }

    /// Unix time in ms now.
    #[inline]
    pub fn now_unix_ms(&self) -> u64 {
        self.unix_ns(self.raw()) / 1_000_000
    }
}
