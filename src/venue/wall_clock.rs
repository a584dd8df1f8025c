//! Local wall-clock milliseconds, off the hot path: REST nonces, time sync, venue bans.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn local_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
