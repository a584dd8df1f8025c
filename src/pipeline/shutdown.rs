//! Clean shutdown, in phases, shared by every thread through atomics.
//!
//! 1. `StopFeeds` — Ctrl+C, SIGTERM or the end of a timed run: feeds stop publishing market
//!    data and drop their md producers (gateways keep serving).
//! 2. The md ring drains; each stage that sees its input closed and drained closes its own
//!    output, so the drain cascades book → scanner → order.
//! 3. The order stage cancels open orders (if configured) and waits, up to a timeout, for the
//!    venue to confirm; then it raises `orders_settled`. With live venues each gateway then runs
//!    a last reconcile round, so a fill whose private WebSocket message had not arrived (an
//!    order that filled as it was being cancelled) is read from REST and applied before the
//!    end; the order stage raises `reconciled` once that round's end is applied.
//! 4. `Done` — gateways and feeds exit, the exec ring closes, the side thread flushes
//!    telemetry, histograms are written.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    Running = 0,
    StopFeeds = 1,
    Done = 2,
}

#[derive(Default)]
struct Inner {
    phase: AtomicU8,
    orders_settled: AtomicBool,
    /// The gateway's last reconcile round (0: not started), and whether its end was applied.
    final_round: AtomicU64,
    reconciled: AtomicBool,
}

/// Cheap to clone; every thread holds one.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn phase(&self) -> Phase {
        match self.inner.phase.load(Ordering::Acquire) {
            0 => Phase::Running,
            1 => Phase::StopFeeds,
            _ => Phase::Done,
        }
    }

    /// Moves forward only; asking for an earlier phase does nothing.
    pub fn advance(&self, to: Phase) {
        self.inner.phase.fetch_max(to as u8, Ordering::AcqRel);
    }

    pub fn set_orders_settled(&self) {
        self.inner.orders_settled.store(true, Ordering::Release);
    }

    pub fn orders_settled(&self) -> bool {
        self.inner.orders_settled.load(Ordering::Acquire)
    }

    /// The gateway starts its last reconcile round, numbered `round`.
    pub fn set_final_round(&self, round: u64) {
        self.inner.final_round.store(round, Ordering::Release);
    }

    /// The last reconcile round's number (0: none started).
    pub fn final_round(&self) -> u64 {
        self.inner.final_round.load(Ordering::Acquire)
    }

    /// The last reconcile round's findings are applied (or the round could not run).
    pub fn set_reconciled(&self) {
        self.inner.reconciled.store(true, Ordering::Release);
    }

    pub fn reconciled(&self) -> bool {
        self.inner.reconciled.load(Ordering::Acquire)
    }

    /// Starts phase 1 on SIGINT or SIGTERM.
    pub fn install_signal_handlers(&self) -> std::io::Result<()> {
        let flag = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGINT, flag.clone())?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, flag.clone())?;
        let me = self.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                while me.phase() < Phase::Done {
                    if flag.load(Ordering::Acquire) {
                        me.advance(Phase::StopFeeds);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_only_move_forward() {
        let s = Shutdown::new();
        assert_eq!(s.phase(), Phase::Running);
        s.advance(Phase::Done);
        s.advance(Phase::StopFeeds);
        assert_eq!(s.phase(), Phase::Done);
        assert!(!s.orders_settled());
        s.set_orders_settled();
        assert!(s.clone().orders_settled());
    }
}
