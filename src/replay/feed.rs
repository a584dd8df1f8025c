//! The replay's feed: a captured frame handed to the parser its live feed used, its events
//! published on the md ring exactly as live, stamped with the frame's capture time.
//!
//! What each kind becomes:
//! - MAX public frames (`WsText` of `Max`) → [`MaxPublicParser`]; the public trades among its
//!   events are also kept for the simulated venue's queue model ([`FrameEffects::trades`]).
//! - Binance frames and REST snapshots → [`BinanceParser`] of their market.
//! - The reference rate → a `RefRate` event, as the live reference-rate feed publishes it.
//! - MAX private frames and order answers are not replayed: the simulated venue answers the
//!   replay's own orders. The order answers' send and receive times are the empirical latency
//!   model's samples ([`ack_latencies`]).
//!
//! A Binance feed may hold two connections for a moment while it rotates them; the capture
//! holds both streams. And a venue with many symbols is served by several connections at once,
//! each with its own symbols. The replay follows the newest connection of each book and skips
//! a frame of an older one once a newer one has delivered for that book (counted in
//! [`ReplayFeedCounts::skipped_old_connection`]), leaving any gap to the book's sequencer as
//! live. (The live feed's handover publishes the overlap exactly once; a capture of a rotation
//! replays through a resync instead.)

use crate::capture::payload::{parse_refrate, split_order_answer, split_snapshot};
use crate::capture::{CapturedFrame, FrameKind};
use crate::model::{InstrumentId, Instruments, Level, MdEvent, MdKind, Side, Venue};
use crate::pipeline::ring::MdProducer;
use crate::venue::binance::{BinanceMarket, BinanceParser};
use crate::venue::max::MaxPublicParser;
use crate::venue::md_sink::MdSink;
use crate::venue::refrate::ref_rate_event;
use disruptor::Producer;

/// What one frame did besides publishing, for the simulated venue.
#[derive(Default)]
pub struct FrameEffects {
    /// MAX instruments whose book events were published (the venue looks at their books again
    /// once the book stage has applied them).
    pub max_books: Vec<InstrumentId>,
    /// MAX public trades: instrument, price and quantity, taker side.
    pub trades: Vec<(InstrumentId, Level, Side)>,
}

impl FrameEffects {
    fn clear(&mut self) {
        self.max_books.clear();
        self.trades.clear();
    }
}

/// Frames read, per what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplayFeedCounts {
    /// Frames handed to a parser.
    pub frames: u64,
    /// Md events published.
    pub md_events: u64,
    /// Frames a parser refused (as live, counted and skipped).
    pub parse_errors: u64,
    /// Private frames and order answers: the simulated venue stands in for them.
    pub not_replayed: u64,
    /// Binance frames of a connection a newer one had replaced (for the frame's book).
    pub skipped_old_connection: u64,
    /// Frames of an instrument or market this configuration does not have.
    pub unknown_market: u64,
}

/// The md ring as the replay's sink: publishes like the live feeds' sink and notes what the
/// simulated venue needs to see.
struct TeeSink<'a> {
    md: &'a mut MdProducer,
    ts: u64,
    count: &'a mut u64,
    effects: &'a mut FrameEffects,
}

/// Skips the events of a Binance connection older than the newest one that delivered for their
/// book; notes that connection as the newest otherwise.
struct NewestConnection<'a, S> {
    inner: S,
    conn: u32,
    /// Newest connection seen per instrument.
    newest: &'a mut [Option<u32>],
    skipped: &'a mut bool,
}

impl<S: MdSink> MdSink for NewestConnection<'_, S> {
    #[inline]
    fn publish_md(&mut self, write: impl FnOnce(&mut MdEvent)) {
        let mut ev = MdEvent::default();
        write(&mut ev);
        if let Some(slot) = self.newest.get_mut(ev.instrument.index()) {
            match *slot {
                // Connection ids count up (and may wrap).
                Some(c) if self.conn < c && c - self.conn < u32::MAX / 2 => {
                    *self.skipped = true;
                    return;
                }
                _ => *slot = Some(self.conn),
            }
        }
        self.inner.publish_md(|slot| *slot = ev);
    }
}

impl MdSink for TeeSink<'_> {
    #[inline]
    fn publish_md(&mut self, write: impl FnOnce(&mut MdEvent)) {
        let (ts, effects) = (self.ts, &mut *self.effects);
        self.md.publish(|slot| {
            write(slot);
            slot.ts_parsed = ts;
            if slot.venue == Venue::Max {
                match slot.kind {
                    MdKind::Trade => {
                        effects
                            .trades
                            .push((slot.instrument, slot.levels[0], slot.side));
                    }
                    MdKind::BookSnapshot | MdKind::BookUpdate if slot.last_chunk => {
                        effects.max_books.push(slot.instrument);
                    }
                    _ => {}
                }
            }
        });
        *self.count += 1;
    }
}

pub struct ReplayFeed {
    instruments: Instruments,
    max: MaxPublicParser,
    spot: BinanceParser,
    futures: BinanceParser,
    /// Newest Binance connection seen per instrument.
    binance_conn: Vec<Option<u32>>,
    counts: ReplayFeedCounts,
    effects: FrameEffects,
}

impl ReplayFeed {
    pub fn new(instruments: Instruments) -> ReplayFeed {
        ReplayFeed {
            binance_conn: vec![None; instruments.len()],
            instruments,
            max: MaxPublicParser::new(),
            spot: BinanceParser::new(BinanceMarket::Spot),
            futures: BinanceParser::new(BinanceMarket::Futures),
            counts: ReplayFeedCounts::default(),
            effects: FrameEffects::default(),
        }
    }

    pub fn counts(&self) -> ReplayFeedCounts {
        self.counts
    }

    /// Parses `f` and publishes its events; `ts` is the engine clock's reading for it (the
    /// replay's clock stands at the frame's capture time). Returns what the venue must see.
    pub fn ingest(&mut self, f: &CapturedFrame<'_>, ts: u64, md: &mut MdProducer) -> &FrameEffects {
        self.effects.clear();
        let ReplayFeed {
            instruments,
            max,
            spot,
            futures,
            binance_conn,
            counts,
            effects,
        } = self;
        let sink = TeeSink {
            md,
            ts,
            count: &mut counts.md_events,
            effects,
        };
        let ok = match (f.venue, f.kind) {
            (_, FrameKind::Private | FrameKind::OrderAnswer) => {
                counts.not_replayed += 1;
                return &self.effects;
            }
            (Venue::Max, FrameKind::WsText | FrameKind::WsBinary) => {
                max.parse_into(f.bytes, ts, instruments, sink).is_ok()
            }
            (Venue::BinanceSpot | Venue::BinanceFutures, kind) => {
                let parser = if f.venue == Venue::BinanceSpot {
                    spot
                } else {
                    futures
                };
                match kind {
                    FrameKind::RestSnapshot => match split_snapshot(f.bytes) {
                        Ok((symbol, body)) => {
                            match instruments.lookup(f.venue, symbol.as_bytes()) {
                                Some(id) => {
                                    parser.parse_depth_snapshot_into(body, id, ts, sink).is_ok()
                                }
                                None => {
                                    counts.unknown_market += 1;
                                    return &self.effects;
                                }
                            }
                        }
                        Err(_) => false,
                    },
                    FrameKind::WsText | FrameKind::WsBinary => {
                        let mut skipped = false;
                        let sink = NewestConnection {
                            inner: sink,
                            conn: f.conn,
                            newest: binance_conn,
                            skipped: &mut skipped,
                        };
                        let ok = parser.parse_ws_into(f.bytes, ts, instruments, sink).is_ok();
                        if skipped {
                            counts.skipped_old_connection += 1;
                            return &self.effects;
                        }
                        ok
                    }
                    _ => false,
                }
            }
            (Venue::RefRate, FrameKind::RefRate) => match parse_refrate(f.bytes) {
                Ok((symbol, mid, board_ms)) => {
                    match instruments.lookup(Venue::RefRate, symbol.as_bytes()) {
                        Some(id) => {
                            let ev = ref_rate_event(id, mid, board_ms, ts);
                            let mut sink = sink;
                            sink.publish_md(|slot| *slot = ev);
                            true
                        }
                        None => {
                            counts.unknown_market += 1;
                            return &self.effects;
                        }
                    }
                }
                Err(_) => false,
            },
            _ => false,
        };
        counts.frames += 1;
        if !ok {
            counts.parse_errors += 1;
        }
        &self.effects
    }
}

/// The ack latencies of a capture's create-order answers (successful ones, with a send time),
/// in nanoseconds, in capture order: the samples of the empirical latency model.
pub fn ack_latencies<'a>(frames: impl IntoIterator<Item = CapturedFrame<'a>>) -> Vec<u64> {
    frames
        .into_iter()
        .filter(|f| f.kind == FrameKind::OrderAnswer)
        .filter_map(|f| {
            let (sent, status, _) = split_order_answer(f.bytes).ok()?;
            ((200..300).contains(&status) && sent > 0 && f.ts_utc_ns >= sent)
                .then(|| f.ts_utc_ns - sent)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticker(symbol: &str, u: u64) -> Vec<u8> {
        let lower = symbol.to_lowercase();
        format!(
            r#"{{"stream":"{lower}@bookTicker","data":{{"e":"bookTicker","u":{u},"E":1,"T":1,"s":"{symbol}","b":"10.00","B":"1","a":"10.01","A":"1"}}}}"#
        )
        .into_bytes()
    }

    /// Several connections of one market live at once (each with its own symbols) are all
    /// replayed; an older connection is skipped only for a book a newer one has delivered.
    #[test]
    fn each_book_follows_its_newest_connection() {
        let mut instruments = Instruments::new();
        let a = instruments
            .intern(Venue::BinanceFutures, "AAAUSDT", "aaa", "usdt")
            .unwrap();
        let b = instruments
            .intern(Venue::BinanceFutures, "BBBUSDT", "bbb", "usdt")
            .unwrap();
        let (mut md, mut poll) = crate::pipeline::ring::md_ring(64);
        let mut feed = ReplayFeed::new(instruments);
        let frames = [
            (1, "AAAUSDT", 1),
            (2, "BBBUSDT", 1),
            (1, "AAAUSDT", 2),
            (2, "BBBUSDT", 2),
        ];
        // A rotation of AAAUSDT's connection: 3 replaces 1.
        let rotated = [(3, "AAAUSDT", 3), (1, "AAAUSDT", 3), (2, "BBBUSDT", 3)];
        for (conn, symbol, u) in frames.into_iter().chain(rotated) {
            let bytes = ticker(symbol, u);
            let f = CapturedFrame {
                ts_utc_ns: 1,
                ts_engine: 1,
                venue: Venue::BinanceFutures,
                conn,
                kind: FrameKind::WsText,
                bytes: &bytes,
            };
            feed.ingest(&f, 1, &mut md);
        }
        let mut got = Vec::new();
        if let Ok(mut events) = poll.take(64) {
            got.extend((&mut events).map(|e| (e.instrument, e.last_id)));
        }
        assert_eq!(
            got,
            [(a, 1), (b, 1), (a, 2), (b, 2), (a, 3), (b, 3)],
            "both connections' books, and AAAUSDT's old connection skipped"
        );
        assert_eq!(feed.counts().skipped_old_connection, 1);
        assert_eq!(feed.counts().parse_errors, 0);
    }
}
