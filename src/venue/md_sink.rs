//! Where a parser's md events go: straight into a ring slot, or to a closure.
//!
//! A parser hands each event to [`MdSink::publish_md`] as a function that writes a whole slot,
//! so a feed's sink ([`RingSink`]) lets it write into the md ring's slot itself —
//! no event built on the stack and copied in afterwards. A frame is still read and checked in
//! full before its first event is written (the disruptor cannot take back a slot, so a frame
//! found bad half way must not have published anything); only the levels of a depth frame wait
//! in the parser's buffers meanwhile.
//!
//! Any `FnMut(&MdEvent)` is a sink too (tests, benchmarks, and the Binance feed, whose
//! connection hand-over looks at each event before publishing it): the event is written into a
//! local and passed by reference.

use crate::model::MdEvent;
use crate::pipeline::EngineClock;
use crate::pipeline::ring::MdProducer;
use crate::telemetry::{LatencySet, Segment};
use disruptor::Producer;

pub trait MdSink {
    /// Publishes one event; `write` overwrites every field of `slot` (it may hold an older
    /// event).
    fn publish_md(&mut self, write: impl FnOnce(&mut MdEvent));
}

impl<F: FnMut(&MdEvent)> MdSink for F {
    #[inline]
    fn publish_md(&mut self, write: impl FnOnce(&mut MdEvent)) {
        let mut ev = MdEvent::default();
        write(&mut ev);
        self(&ev);
    }
}

/// A feed's md ring as a parser's sink: each event is written straight into its slot, stamped
/// `ts_parsed` when publishing, counted, and the frame's parse latency recorded at its first
/// chunk. With no ring (`md: None`: the feed closed it at shutdown) events are dropped.
pub struct RingSink<'a> {
    pub md: Option<&'a mut MdProducer>,
    pub clock: &'a EngineClock,
    pub latency: &'a mut LatencySet,
    pub count: &'a mut u64,
}

impl MdSink for RingSink<'_> {
    #[inline]
    fn publish_md(&mut self, write: impl FnOnce(&mut MdEvent)) {
        let Some(md) = self.md.as_deref_mut() else {
            return;
        };
        let now = self.clock.raw();
        let mut first_chunk_of = None;
        md.publish(|slot| {
            write(slot);
            slot.ts_parsed = now;
            if slot.chunk == 0 {
                first_chunk_of = Some(slot.ts_frame);
            }
        });
        *self.count += 1;
        if let Some(ts_frame) = first_chunk_of {
            self.latency
                .record(Segment::Parse, self.clock.delta_ns(ts_frame, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instruments, Venue};
    use crate::pipeline::ring::md_ring;
    use crate::venue::binance::{BinanceMarket, BinanceParser};

    /// A depthUpdate of 14 levels, written as the simulator writes them.
    fn frame() -> Vec<u8> {
        let lv = |i: u32| format!("[\"7.{:03}\",\"{}\"]", 500 + i, i + 1);
        let bids: Vec<String> = (0..8).map(lv).collect();
        let asks: Vec<String> = (8..14).map(lv).collect();
        format!(
            r#"{{"e":"depthUpdate","E":5,"T":4,"s":"SUSHIUSDT","U":10,"u":12,"pu":9,"b":[{}],"a":[{}]}}"#,
            bids.join(","),
            asks.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn a_ring_slot_gets_exactly_the_event_a_closure_gets_whatever_it_held() {
        let mut ins = Instruments::new();
        ins.intern(Venue::BinanceFutures, "SUSHIUSDT", "SUSHI", "USDT")
            .unwrap();
        let mut p = BinanceParser::new(BinanceMarket::Futures);
        let mut want = Vec::new();
        p.parse_ws(&frame(), 7, &ins, |e| want.push(*e)).unwrap();
        assert!(want.len() > 1, "a frame of several slots");

        let (mut md, mut poll) = md_ring(64);
        // Fill every slot with junk first: the sink must overwrite all of it.
        let junk = MdEvent {
            kind: crate::model::MdKind::Trade,
            first_id: 99,
            version: 77,
            side: crate::model::Side::Sell,
            n_bids: 2,
            levels: [crate::model::Level {
                price: crate::model::Fixed::ONE,
                qty: crate::model::Fixed::ONE,
            }; crate::model::MD_LEVELS],
            ..MdEvent::default()
        };
        for _ in 0..64 {
            md.publish(|s| *s = junk);
        }
        while poll.take(64).is_ok() {}
        let (clock, mut latency, mut count) = (EngineClock::new(), LatencySet::default(), 0);
        let sink = RingSink {
            md: Some(&mut md),
            clock: &clock,
            latency: &mut latency,
            count: &mut count,
        };
        p.parse_ws_into(&frame(), 7, &ins, sink).unwrap();
        assert_eq!(count, want.len() as u64);
        let mut got = Vec::new();
        if let Ok(mut g) = poll.take(64) {
            got.extend((&mut g).map(|e| MdEvent { ts_parsed: 0, ..*e }));
        }
        assert_eq!(got, want);
    }
}
