//! Local wall-clock milliseconds for REST nonces and time sync (gateway threads only).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn local_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
