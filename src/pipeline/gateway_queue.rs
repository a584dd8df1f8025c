//! Order stage → gateway hand-off: a bounded lock-free queue of complete requests, and the
//! gateway's wake-up.
//!
//! `push` never blocks; a full queue makes the order stage reject the order locally (counted),
//! because a request that cannot be sent now should not be sent late. The gateway waits for
//! work like any stage — spinning, yielding, or parked — and a parked gateway is unparked by the
//! push that gives it work, so an order never waits out a sleep. The protocol: the gateway
//! announces it is going to sleep, checks the queue once more and parks; the order stage pushes,
//! then unparks if the gateway announced sleep (both sides `SeqCst`: either the gateway sees the
//! request or the order stage sees the announcement, and `unpark` before `park` is not lost).
//! The order stage pays one atomic load per push while the gateway is awake.

use crate::model::OrderRequest;
use crossbeam::queue::ArrayQueue;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

struct Shared {
    requests: ArrayQueue<OrderRequest>,
    /// The gateway announced that it parks (or is parked).
    parking: AtomicBool,
    /// The gateway thread, once it has waited.
    gateway: OnceLock<Thread>,
}

/// The queue and the gateway's wake-up; cloned to each side.
#[derive(Clone)]
pub struct GatewayQueue(Arc<Shared>);

pub fn gateway_queue(capacity: usize) -> GatewayQueue {
    GatewayQueue(Arc::new(Shared {
        requests: ArrayQueue::new(capacity.max(1)),
        parking: AtomicBool::new(false),
        gateway: OnceLock::new(),
    }))
}

impl GatewayQueue {
    /// Order stage: hands over a request without blocking (`Err`: the queue is full) and wakes
    /// a parked gateway.
    #[inline]
    pub fn push(&self, req: OrderRequest) -> Result<(), OrderRequest> {
        self.0.requests.push(req)?;
        if self.0.parking.load(Ordering::SeqCst)
            && let Some(t) = self.0.gateway.get()
        {
            t.unpark();
        }
        Ok(())
    }

    /// Gateway: the next request, if any.
    #[inline]
    pub fn pop(&self) -> Option<OrderRequest> {
        self.0.requests.pop()
    }

    pub fn is_empty(&self) -> bool {
        self.0.requests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.requests.len()
    }

    /// Gateway: sleeps until a request is pushed or `timeout` passed (a spurious early return is
    /// possible: the caller polls again). Must be called from the gateway's own thread.
    pub fn park(&self, timeout: Duration) {
        let me = self.0.gateway.get_or_init(std::thread::current);
        debug_assert_eq!(me.id(), std::thread::current().id(), "one gateway thread");
        self.0.parking.store(true, Ordering::SeqCst);
        if self.0.requests.is_empty() {
            std::thread::park_timeout(timeout);
        }
        self.0.parking.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A parked gateway wakes for the push, not at the end of its timeout; and a push made
    /// while it was awake is found without any wake-up.
    #[test]
    fn a_push_wakes_the_parked_gateway() {
        let q = gateway_queue(4);
        let gw = q.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            let mut got = 0;
            let t0 = Instant::now();
            while got < 2 {
                match gw.pop() {
                    Some(_) => got += 1,
                    // A minute: a lost wake-up would show as a minute-long wait.
                    None => gw.park(Duration::from_secs(60)),
                }
                if got == 1 {
                    tx.send(()).unwrap();
                }
            }
            t0.elapsed()
        });
        q.push(OrderRequest::default()).unwrap();
        rx.recv().unwrap();
        q.push(OrderRequest::default()).unwrap();
        let waited = h.join().unwrap();
        assert!(
            waited < Duration::from_secs(60),
            "woken by the pushes, not the timeout"
        );
        assert!(q.is_empty());
    }

    #[test]
    fn a_full_queue_gives_the_request_back() {
        let q = gateway_queue(1);
        q.push(OrderRequest::default()).unwrap();
        assert!(q.push(OrderRequest::default()).is_err());
        assert_eq!(q.len(), 1);
    }
}
