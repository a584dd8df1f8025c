//! One nonce sequence per MAX access key, shared by the simulator's REST server and its
//! WebSocket `auth` (spec max.md §1.3, §4.1): a nonce must be within 30 s of server time and
//! greater than the last one the key had accepted, whether that came over REST or WebSocket.
//!
//! MAX's docs only say "each nonce can be used only once"; the simulator is as strict as the
//! strictest reading (strictly increasing per key), which every correct client satisfies.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How far a nonce may be from server time, ms.
pub const NONCE_WINDOW_MS: u64 = 30_000;

/// Why a nonce was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceRefusal {
    /// More than 30 s from server time: REST 2007, WS E-1006.
    OutOfWindow,
    /// Not greater than the key's last accepted nonce: REST 2006, WS E-1012.
    Used,
}

#[derive(Default)]
pub struct NonceLedger {
    /// access key → last accepted nonce
    last: Mutex<HashMap<String, u64>>,
    refusals: AtomicU64,
}

impl NonceLedger {
    pub fn new() -> NonceLedger {
        NonceLedger::default()
    }

    fn judge(
        last: &HashMap<String, u64>,
        key: &str,
        nonce: u64,
        server_ms: u64,
    ) -> Result<(), NonceRefusal> {
        if nonce.abs_diff(server_ms) > NONCE_WINDOW_MS {
            return Err(NonceRefusal::OutOfWindow);
        }
        if last.get(key).is_some_and(|&l| nonce <= l) {
            return Err(NonceRefusal::Used);
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `nonce` would be accepted now, without taking it (a refusal counts).
    pub fn check(&self, key: &str, nonce: u64, server_ms: u64) -> Result<(), NonceRefusal> {
        let r = Self::judge(&self.lock(), key, nonce, server_ms);
        if r.is_err() {
            self.refusals.fetch_add(1, Ordering::AcqRel);
        }
        r
    }

    /// Takes `nonce` for `key` if acceptable: it becomes the key's last (a refusal counts).
    pub fn accept(&self, key: &str, nonce: u64, server_ms: u64) -> Result<(), NonceRefusal> {
        let mut last = self.lock();
        match Self::judge(&last, key, nonce, server_ms) {
            Ok(()) => {
                last.insert(key.to_string(), nonce);
                Ok(())
            }
            Err(e) => {
                self.refusals.fetch_add(1, Ordering::AcqRel);
                Err(e)
            }
        }
    }

    /// The key's last accepted nonce.
    pub fn last(&self, key: &str) -> Option<u64> {
        self.lock().get(key).copied()
    }

    /// Nonces refused so far (out of window or not increasing), REST and WebSocket together.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_increasing_sequence_per_key() {
        let l = NonceLedger::new();
        let now = 1_800_000_000_000;
        assert_eq!(l.accept("k", now, now), Ok(()));
        assert_eq!(l.accept("k", now, now), Err(NonceRefusal::Used));
        assert_eq!(l.accept("k", now - 1, now), Err(NonceRefusal::Used));
        assert_eq!(l.check("k", now + 1, now), Ok(()));
        assert_eq!(l.accept("other", now - 5, now), Ok(()), "keys are separate");
        assert_eq!(
            l.accept("k", now + 30_001, now),
            Err(NonceRefusal::OutOfWindow)
        );
        assert_eq!(l.accept("k", now + 30_000, now), Ok(()));
        assert_eq!(l.last("k"), Some(now + 30_000));
        assert_eq!(l.refusals(), 3);
    }
}
