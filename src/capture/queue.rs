//! The feeds' side of a capture: [`CaptureTx`] copies a frame into a buffer taken from a
//! recycled pool and hands it to the capture thread ([`super::thread`]) through a bounded
//! lock-free queue. A feed never waits on it: with no free buffer or a full queue the frame is
//! counted as not captured (`dropped`) and the feed goes on.
//!
//! Cost on the feed's thread per frame: a pop from the pool, a copy of the frame's bytes, a
//! push, two relaxed counter adds. The pool's buffers keep their capacity when they come back,
//! so once each has held a frame as large as the ones it gets, capturing allocates nothing.

use super::record::{FrameKind, OwnedFrame};
use crate::model::Venue;
use crate::pipeline::EngineClock;
use crossbeam::queue::ArrayQueue;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes reserved in each pool buffer at start: most frames fit without growing it.
const RESERVED_FRAME_BYTES: usize = 2048;

pub(super) struct Shared {
    pub(super) full: ArrayQueue<OwnedFrame>,
    pub(super) free: ArrayQueue<Vec<u8>>,
    captured: AtomicU64,
    dropped: AtomicU64,
}

/// How many frames were handed to the capture and how many could not be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureCounts {
    /// Frames queued for the capture thread.
    pub captured: u64,
    /// Frames not captured: no free buffer, or the queue was full.
    pub dropped: u64,
}

/// A feed's handle on the capture: cheap to clone, one per feed or thread.
#[derive(Clone)]
pub struct CaptureTx {
    shared: Arc<Shared>,
    clock: EngineClock,
}

/// The queue between the feeds and the capture thread, with room for `capacity` frames.
pub fn capture_queue(capacity: usize, clock: EngineClock) -> CaptureTx {
    let capacity = capacity.max(1);
    let free = ArrayQueue::new(capacity);
    for _ in 0..capacity {
        let _ = free.push(Vec::with_capacity(RESERVED_FRAME_BYTES));
    }
    CaptureTx {
        shared: Arc::new(Shared {
            full: ArrayQueue::new(capacity),
            free,
            captured: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }),
        clock,
    }
}

impl CaptureTx {
    /// Hands a frame to the capture: `ts` is the engine clock's raw reading when the frame was
    /// read (the feed's `ts_frame`). Never blocks; a frame that finds no room is counted in
    /// [`CaptureCounts::dropped`].
    #[inline]
    pub fn frame(&self, venue: Venue, kind: FrameKind, conn: u64, ts: u64, bytes: &[u8]) {
        self.frame_with(venue, kind, conn, ts, |buf| buf.extend_from_slice(bytes));
    }

    /// As [`frame`](Self::frame), the record's bytes written by `fill` into the (empty) buffer:
    /// for records that put something before the frame (a snapshot's market, an order
    /// answer's send time).
    #[inline]
    pub fn frame_with(
        &self,
        venue: Venue,
        kind: FrameKind,
        conn: u64,
        ts: u64,
        fill: impl FnOnce(&mut Vec<u8>),
    ) {
        let s = &*self.shared;
        let Some(mut bytes) = s.free.pop() else {
            s.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        bytes.clear();
        fill(&mut bytes);
        let q = OwnedFrame {
            ts_utc_ns: self.clock.unix_ns(ts),
            ts_engine: ts,
            venue,
            kind,
            // Connection ids are process-wide counters; the low 32 bits tell them apart.
            conn: conn as u32,
            bytes,
        };
        match s.full.push(q) {
            Ok(()) => {
                s.captured.fetch_add(1, Ordering::Relaxed);
            }
            Err(q) => {
                let _ = s.free.push(q.bytes);
                s.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The engine clock the times are read with.
    pub fn clock(&self) -> &EngineClock {
        &self.clock
    }

    pub fn counts(&self) -> CaptureCounts {
        CaptureCounts {
            captured: self.shared.captured.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
        }
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_queued_until_the_pool_runs_out_then_counted_as_dropped() {
        let (clock, _mock) = EngineClock::mock(1_000);
        let tx = capture_queue(2, clock);
        tx.frame(Venue::Max, FrameKind::WsText, 7, 5, b"a");
        tx.frame(Venue::Max, FrameKind::WsText, 7, 6, b"bc");
        tx.frame(Venue::Max, FrameKind::WsText, 7, 7, b"d");
        assert_eq!(
            tx.counts(),
            CaptureCounts {
                captured: 2,
                dropped: 1
            }
        );
        let first = tx.shared().full.pop().unwrap();
        assert_eq!(first.bytes, b"a");
        assert_eq!(first.conn, 7);
        assert_eq!(first.ts_engine, 5);
        // The mocked clock's raw readings are ns after its anchor reading.
        assert_eq!(first.ts_utc_ns, 1_005);
        // The buffer goes back to the pool and carries the next frame.
        tx.shared().free.push(first.bytes).unwrap();
        tx.frame_with(Venue::BinanceSpot, FrameKind::RestSnapshot, 1, 9, |b| {
            b.extend_from_slice(b"BTCUSDT ");
            b.extend_from_slice(b"{}");
        });
        assert_eq!(tx.counts().captured, 3);
        let _ = tx.shared().full.pop().unwrap();
        assert_eq!(tx.shared().full.pop().unwrap().bytes, b"BTCUSDT {}");
    }
}
