//! Rotation (module doc, step 5): before Binance's 24 h cut, or when the server announces it,
//! a second connection with the same streams is opened off the feed's thread and each depth
//! stream is handed over where its update ids chain; then the old connection is closed.

use super::conn::{Conn, open_in_background};
use super::{BinanceWsFeed, HANDOVER_MAX, OPEN_TIMEOUT};
use crate::feed::ws_conn::{next_conn_id, publish_md};
use crate::model::SystemKind;
use crate::venue::wall_clock::local_ms as unix_ms;
use crossbeam::channel::TryRecvError;
use std::time::Instant;

impl BinanceWsFeed {
    /// Starts, advances or ends a rotation (module doc, step 5).
    pub(super) fn rotate(&mut self) {
        let Some(live) = &self.live else {
            return;
        };
        if self.next.is_some() {
            let elapsed = self.clock.delta_ns(self.handover_started, self.clock.raw());
            if self.handover.complete() || elapsed >= HANDOVER_MAX.as_nanos() as u64 {
                self.promote();
            }
            return;
        }
        if let Some((rx, since)) = &self.opening {
            match rx.try_recv() {
                Ok(Ok(ws)) => {
                    self.opening = None;
                    self.last_error = None;
                    let now = self.clock.raw();
                    self.next = Some(Conn {
                        ws,
                        id: next_conn_id(),
                        opened: now,
                        shutdown_announced: false,
                        upkeep: self.rules.upkeep(),
                    });
                    self.handover.begin();
                    self.handover_started = now;
                }
                Err(TryRecvError::Empty) if since.elapsed() < OPEN_TIMEOUT => {}
                Ok(Err(e)) => {
                    self.last_error = Some(e);
                    self.rotation_failed();
                }
                _ => self.rotation_failed(),
            }
            return;
        }
        let Some(after) = self.rotate_after_ns else {
            return;
        };
        let age = self.clock.delta_ns(live.opened, self.clock.raw());
        if (live.shutdown_announced || age >= after) && Instant::now() >= self.next_rotation {
            // A rotation is not urgent: it waits out a ban like any connection.
            if self.gate.wait(unix_ms()).is_none() {
                self.opening = Some((
                    open_in_background(&self.url, &self.tls, &self.gate, &self.clock),
                    Instant::now(),
                ));
            }
        }
    }

    /// The new connection could not be opened or died before the handover ended: the old one
    /// keeps (or takes back) every stream; try again later.
    pub(super) fn rotation_failed(&mut self) {
        self.opening = None;
        let next = self.next.take();
        self.retire(next);
        self.handover.abort();
        self.rotation_failures += 1;
        self.next_rotation = Instant::now() + self.rotation_backoff.next_wait();
    }

    /// The new connection becomes the live one; the old one is closed.
    pub(super) fn promote(&mut self) {
        let Some(next) = self.next.take() else {
            return;
        };
        let old = self.live.take();
        self.retire(old);
        let BinanceWsFeed {
            handover,
            md,
            clock,
            latency,
            counts,
            ..
        } = self;
        handover.promote(|ev| publish_md(md, clock, latency, &mut counts.md_events, ev));
        self.live = Some(next);
        self.rotations += 1;
        self.counters.rotations.add_shared(1);
        self.rotation_backoff.reset();
        self.system(SystemKind::FeedRotated {
            rotations: self.rotations,
        });
    }
}
