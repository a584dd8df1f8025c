//! What every WebSocket feed does the same way: drain the non-blocking socket, publish parsed
//! events on the md ring with their parse latency, flush queued pongs, back off between
//! reconnects, and add its counts to the engine's shared counters.

use crate::model::MdEvent;
use crate::pipeline::EngineClock;
use crate::pipeline::ring::MdProducer;
use crate::telemetry::{EngineCounters, LatencySet, Stage as LatencyStage};
use disruptor::Producer;
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::{Message, WebSocket};

pub fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
}

/// Reads every frame buffered on `ws`, handing each text frame and its arrival time to
/// `on_text`. Returns the number of text frames and whether the connection failed or closed.
#[inline]
pub fn drain<F: FnMut(&[u8], u64)>(
    ws: &mut WebSocket<TcpStream>,
    clock: &EngineClock,
    mut on_text: F,
) -> (usize, bool) {
    let mut n = 0;
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                n += 1;
                on_text(t.as_bytes(), clock.raw());
            }
            Ok(Message::Close(_)) => return (n, true),
            Ok(_) => {}
            Err(e) if would_block(&e) => return (n, false),
            Err(_) => return (n, true),
        }
    }
}

/// Sends what is queued (pongs, partial writes); true when the connection failed.
pub fn flush_failed(ws: &mut WebSocket<TcpStream>) -> bool {
    matches!(ws.flush(), Err(e) if !would_block(&e))
}

/// Publishes a parsed event, stamping when parsing finished and recording the parse latency
/// once per frame (on its first chunk).
#[inline]
pub fn publish_md(
    md: &mut Option<MdProducer>,
    clock: &EngineClock,
    latency: &mut LatencySet,
    count: &mut u64,
    ev: &MdEvent,
) {
    let Some(md) = md.as_mut() else { return };
    let now = clock.raw();
    md.publish(|slot| {
        *slot = *ev;
        slot.ts_parsed = now;
    });
    *count += 1;
    if ev.chunk == 0 {
        latency.record(LatencyStage::Parse, clock.delta_ns(ev.ts_frame, now));
    }
}

/// A feed's own counts, added to the engine's shared counters as they grow.
#[derive(Default)]
pub struct FeedCounts {
    pub frames: u64,
    pub md_events: u64,
    pub parse_errors: u64,
    published: (u64, u64, u64),
}

impl FeedCounts {
    pub fn publish(&mut self, c: &EngineCounters) {
        let (f, m, e) = self.published;
        c.frames.add_shared(self.frames - f);
        c.md.add_shared(self.md_events - m);
        c.parse_errors.add_shared(self.parse_errors - e);
        self.published = (self.frames, self.md_events, self.parse_errors);
    }
}

/// Exponential backoff with ±25 % jitter between reconnects.
pub struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
    seed: u64,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            min,
            max,
            current: min,
            seed: seed | 1,
        }
    }
    pub fn reset(&mut self) {
        self.current = self.min;
    }
    /// The next wait; doubles the following one (up to the cap).
    pub fn next_wait(&mut self) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let base = self.current.as_millis() as u64;
        let wait = base * 3 / 4 + self.seed % (base / 2 + 1);
        self.current = (self.current * 2).min(self.max);
        Duration::from_millis(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000), 7);
        let waits: Vec<u64> = (0..6).map(|_| b.next_wait().as_millis() as u64).collect();
        for (w, base) in waits.iter().zip([100u64, 200, 400, 800, 1000, 1000]) {
            assert!(*w >= base * 3 / 4 && *w <= base * 5 / 4, "{waits:?}");
        }
        b.reset();
        assert!(b.next_wait() <= Duration::from_millis(125));
    }
}
