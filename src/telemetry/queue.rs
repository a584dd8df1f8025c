//! Lossy telemetry queues: each hot thread pushes into its own bounded queue and the side thread
//! drains them all. A push never blocks or allocates: when the side thread falls behind and the
//! queue is full, the event is dropped and counted. The hot path never waits for telemetry.

use crate::model::Telemetry;
use crossbeam::queue::ArrayQueue;
use crossbeam::utils::CachePadded;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

struct Shared {
    q: ArrayQueue<Telemetry>,
    dropped: CachePadded<AtomicU64>,
    name: &'static str,
}

/// The hot thread's end.
#[derive(Clone)]
pub struct TelemetryTx {
    shared: Arc<Shared>,
}

/// The side thread's end.
pub struct TelemetryRx {
    shared: Arc<Shared>,
}

/// A queue of `capacity` events for the thread called `name`.
pub fn telemetry_queue(name: &'static str, capacity: usize) -> (TelemetryTx, TelemetryRx) {
    let shared = Arc::new(Shared {
        q: ArrayQueue::new(capacity.max(1)),
        dropped: CachePadded::new(AtomicU64::new(0)),
        name,
    });
    (
        TelemetryTx {
            shared: shared.clone(),
        },
        TelemetryRx { shared },
    )
}

impl TelemetryTx {
    /// Hands `t` to the side thread, or drops and counts it when the queue is full.
    #[inline]
    pub fn send(&self, t: Telemetry) {
        if self.shared.q.push(t).is_err() {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl TelemetryRx {
    #[inline]
    pub fn pop(&self) -> Option<Telemetry> {
        self.shared.q.pop()
    }
    /// Events waiting now.
    pub fn len(&self) -> usize {
        self.shared.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shared.q.is_empty()
    }

    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
    pub fn name(&self) -> &'static str {
        self.shared.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SystemEvent;

    #[test]
    fn full_queue_drops_and_counts_instead_of_waiting() {
        let (tx, rx) = telemetry_queue("t", 2);
        for _ in 0..5 {
            tx.send(Telemetry::System(SystemEvent::default()));
        }
        assert_eq!(rx.dropped(), 3);
        assert!(rx.pop().is_some() && rx.pop().is_some() && rx.pop().is_none());
    }
}
