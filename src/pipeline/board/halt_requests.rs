//! Requests to halt trading raised outside the order stage (gateway threads), taken by the
//! order stage on its timer and applied to its kill switch, lock-free.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum HaltReason {
    /// The venue's clock is further from ours than allowed: nonces and freshness are unsafe.
    ClockDrift = 1,
    /// The venue refused our credentials or permissions (a halt-class error).
    CredentialsRefused = 2,
}

impl HaltReason {
    pub fn text(self) -> &'static str {
        match self {
            HaltReason::ClockDrift => "venue clock drift beyond the limit",
            HaltReason::CredentialsRefused => "venue refused the API credentials",
        }
    }
}

#[derive(Default)]
pub struct HaltRequests {
    pending: AtomicU8,
}

impl HaltRequests {
    pub fn request(&self, r: HaltReason) {
        self.pending.store(r as u8, Ordering::Release);
    }

    /// The pending request, once.
    pub fn take(&self) -> Option<HaltReason> {
        match self.pending.swap(0, Ordering::AcqRel) {
            1 => Some(HaltReason::ClockDrift),
            2 => Some(HaltReason::CredentialsRefused),
            _ => None,
        }
    }
}
