//! MAX public WebSocket frames → [`MdEvent`]s (spec §3.2–§3.4).
//!
//! Handled: `c:"book"` (`snapshot` / `update`, with `fi`/`li`/`v` for the sequencer in
//! [`crate::book::max_sync`]), `c:"trade"` (`snapshot` / `update`), the `subscribed` /
//! `unsubscribed` replies and `error` events (`"E":["E-1004: invalid action"]`). `ticker`,
//! `kline`, `market_status` and `pool_quota` are recognised and ignored.
//!
//! Book and trade frames exactly as MAX writes them (compact, no escapes, known keys in any
//! order) go through a byte scanner ([`scan`]) that reads the decimal strings straight into fixed point;
//! every other frame, and any book frame it does not recognise, goes through the general path
//! below untouched, so no frame's correctness depends on the scanner (the differential check in
//! `parser_properties` and the `max_public` fuzz target compare both paths on every input).
//!
//! Allocation: `serde_json` reads the frame in place; strings are borrowed, levels go into two
//! vectors and trades into one, all owned by the parser and reserved at construction. Keys may
//! come in any order (MAX puts `M` before the levels and `fi`/`li`/`v` after them), so the whole
//! frame is read before anything is emitted: a bad frame emits nothing.
//!
//! A frame's levels go out in chunks by the rule both venues share ([`crate::venue::chunks`]); a
//! frame with no levels still emits one chunk: an empty MAX snapshot means "clear the book".

mod scan;

use super::json::{ErrSlot, ErrorsSeed, LevelsSeed, Seen, dec, fail, take_err};
use crate::model::{Fixed, Instruments, Level, MdEvent, MdKind, Side, Venue};
use crate::venue::ParseError;
use crate::venue::chunks::emit_chunks;
use crate::venue::md_sink::MdSink;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// Levels accepted per side in one frame (MAX sends at most 300; REST depth limit).
pub const MAX_LEVELS_PER_SIDE: usize = 4096;
/// Trades accepted in one `trade` frame.
pub const MAX_FRAME_TRADES: usize = 1024;

/// What a public frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxPublicOutcome {
    /// Book or trade data: `events` were handed to the callback.
    Market {
        events: usize,
    },
    Subscribed,
    Unsubscribed,
    /// `e:"error"`; `code` from `E-<code>`.
    Error {
        code: u32,
    },
    /// A channel arbline does not use (ticker, kline, market_status, pool_quota).
    Ignored,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PubTrade {
    price: Fixed,
    qty: Fixed,
    side: Side,
    ts: u64,
}

/// Reusable parser: one per feed thread.
pub struct MaxPublicParser {
    bids: Vec<Level>,
    asks: Vec<Level>,
    trades: Vec<PubTrade>,
    /// Try the byte scanner ([`scan`]) before the general path.
    fast: bool,
    /// Frames the byte scanner read (the rest went through the general path).
    scanned: u64,
}

impl Default for MaxPublicParser {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Header<'de> {
    c: Option<&'de str>,
    e: Option<&'de str>,
    m: Option<&'de str>,
    t: Option<u64>,
    fi: Option<u64>,
    li: Option<u64>,
    v: Option<u64>,
    err_code: Option<u32>,
}

struct FrameSeed<'a> {
    bids: &'a mut Vec<Level>,
    asks: &'a mut Vec<Level>,
    trades: &'a mut Vec<PubTrade>,
    slot: &'a ErrSlot,
}

impl<'de> DeserializeSeed<'de> for FrameSeed<'_> {
    type Value = Header<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FrameSeed<'_> {
    type Value = Header<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a MAX public WebSocket event object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut h = Header::default();
        let mut seen = Seen::default();
        let slot = self.slot;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "c" => {
                    seen.once(slot, 0, "c")?;
                    h.c = Some(map.next_value()?)
                }
                "e" => {
                    seen.once(slot, 1, "e")?;
                    h.e = Some(map.next_value()?)
                }
                "M" => {
                    seen.once(slot, 2, "M")?;
                    h.m = Some(map.next_value()?)
                }
                "T" => {
                    seen.once(slot, 3, "T")?;
                    h.t = Some(map.next_value()?)
                }
                "fi" => {
                    seen.once(slot, 4, "fi")?;
                    h.fi = Some(map.next_value()?)
                }
                "li" => {
                    seen.once(slot, 5, "li")?;
                    h.li = Some(map.next_value()?)
                }
                // `v` is the book version on the top level of a book event.
                "v" => {
                    seen.once(slot, 6, "v")?;
                    h.v = Some(map.next_value()?)
                }
                "b" => {
                    seen.once(slot, 7, "b")?;
                    map.next_value_seed(LevelsSeed {
                        out: &mut *self.bids,
                        slot,
                        field: "b",
                        cap: MAX_LEVELS_PER_SIDE,
                    })?
                }
                "a" => {
                    seen.once(slot, 8, "a")?;
                    map.next_value_seed(LevelsSeed {
                        out: &mut *self.asks,
                        slot,
                        field: "a",
                        cap: MAX_LEVELS_PER_SIDE,
                    })?
                }
                "t" => {
                    seen.once(slot, 9, "t")?;
                    map.next_value_seed(TradesSeed {
                        out: &mut *self.trades,
                        slot,
                    })?
                }
                "E" => {
                    seen.once(slot, 10, "E")?;
                    h.err_code = Some(map.next_value_seed(ErrorsSeed { slot })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(h)
    }
}

/// `t: [{"p":..,"v":..,"T":..,"tr":"up"|"down"}, ...]` of a public trade event.
struct TradesSeed<'a> {
    out: &'a mut Vec<PubTrade>,
    slot: &'a ErrSlot,
}

impl<'de> DeserializeSeed<'de> for TradesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TradesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of public trades")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.clear();
        while let Some(t) = seq.next_element_seed(TradeSeed { slot: self.slot })? {
            if self.out.len() >= MAX_FRAME_TRADES {
                return Err(fail(self.slot, ParseError::TooLarge));
            }
            self.out.push(t);
        }
        Ok(())
    }
}

struct TradeSeed<'a> {
    slot: &'a ErrSlot,
}

impl<'de> DeserializeSeed<'de> for TradeSeed<'_> {
    type Value = PubTrade;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<PubTrade, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TradeSeed<'_> {
    type Value = PubTrade;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a public trade object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PubTrade, A::Error> {
        let (mut p, mut v, mut side, mut ts) = (None, None, None, 0u64);
        let mut seen = Seen::default();
        let slot = self.slot;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "p" => {
                    seen.once(slot, 0, "p")?;
                    p = Some(dec(slot, "p", map.next_value()?)?)
                }
                "v" => {
                    seen.once(slot, 1, "v")?;
                    v = Some(dec(slot, "v", map.next_value()?)?)
                }
                "T" => {
                    seen.once(slot, 2, "T")?;
                    ts = map.next_value()?
                }
                // `tr` (trend): `up` = the taker bought, `down` = the taker sold.
                "tr" => {
                    seen.once(slot, 3, "tr")?;
                    side = Some(match map.next_value::<&'de str>()? {
                        "up" => Side::Buy,
                        "down" => Side::Sell,
                        _ => return Err(fail(self.slot, ParseError::BadValue("tr"))),
                    })
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let price = p.ok_or_else(|| fail(self.slot, ParseError::MissingField("p")))?;
        let qty = v.ok_or_else(|| fail(self.slot, ParseError::MissingField("v")))?;
        let side = side.ok_or_else(|| fail(self.slot, ParseError::MissingField("tr")))?;
        if price.raw() <= 0 || qty.raw() <= 0 {
            return Err(fail(self.slot, ParseError::BadValue("t")));
        }
        Ok(PubTrade {
            price,
            qty,
            side,
            ts,
        })
    }
}

impl MaxPublicParser {
    /// The general path: one serde walk over the frame.
    fn walk<'f>(&mut self, frame: &'f [u8]) -> Result<Header<'f>, ParseError> {
        let slot = ErrSlot::new(None);
        self.bids.clear();
        self.asks.clear();
        let mut de = serde_json::Deserializer::from_slice(frame);
        let h = FrameSeed {
            bids: &mut self.bids,
            asks: &mut self.asks,
            trades: &mut self.trades,
            slot: &slot,
        }
        .deserialize(&mut de)
        .map_err(|_| take_err(&slot))?;
        de.end().map_err(|_| ParseError::Json)?;
        Ok(h)
    }

    pub fn new() -> Self {
        MaxPublicParser {
            bids: Vec::with_capacity(512),
            asks: Vec::with_capacity(512),
            trades: Vec::with_capacity(128),
            fast: true,
            scanned: 0,
        }
    }

    /// A parser that always takes the general (serde) path: the reference the byte scanner is
    /// checked against, in the differential tests and the fuzz target.
    pub fn general_only() -> Self {
        MaxPublicParser {
            fast: false,
            ..MaxPublicParser::new()
        }
    }

    /// Frames the byte scanner read since this parser was made (a book frame that did not take
    /// it costs the general path's time: MAX changed its layout).
    pub fn scanned_frames(&self) -> u64 {
        self.scanned
    }

    /// Parses one text frame and hands its events to `out` (nothing is emitted on error).
    ///
    /// * `c=book e=snapshot` → [`MdKind::BookSnapshot`], `e=update` → [`MdKind::BookUpdate`],
    ///   with `first_id = fi`, `last_id = li`, `version = v`, `exch_ts_ms = T` (missing
    ///   `fi`/`li`/`v` is [`ParseError::MissingField`]).
    /// * `c=trade` → one [`MdKind::Trade`] per trade: `levels[0]` = price and volume
    ///   (`n_bids = 1`), `side` the
    ///   taker side from `tr` (`up` = buy, `down` = sell), `exch_ts_ms` the trade's `T`.
    /// * `M` is resolved with `instruments.lookup(Venue::Max, M)`: [`ParseError::UnknownSymbol`]
    ///   when absent.
    pub fn parse<F: FnMut(&MdEvent)>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        out: F,
    ) -> Result<MaxPublicOutcome, ParseError> {
        self.parse_into(frame, ts_frame, instruments, out)
    }

    /// As [`Self::parse`], each event written straight into `out`'s slot (a feed's md
    /// ring: `feed::ws_conn::RingSink`).
    pub fn parse_into<S: MdSink>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        mut out: S,
    ) -> Result<MaxPublicOutcome, ParseError> {
        self.trades.clear();
        let fast = if self.fast {
            scan::frame(frame, &mut self.bids, &mut self.asks, &mut self.trades)
        } else {
            None
        };
        let h = match fast {
            Some(h) => {
                self.scanned += 1;
                h
            }
            None => self.walk(frame)?,
        };

        let Some(channel) = h.c else {
            return match h.e {
                Some("subscribed") => Ok(MaxPublicOutcome::Subscribed),
                Some("unsubscribed") => Ok(MaxPublicOutcome::Unsubscribed),
                Some("error") => Ok(MaxPublicOutcome::Error {
                    code: h.err_code.ok_or(ParseError::MissingField("E"))?,
                }),
                Some(_) => Err(ParseError::UnknownEvent),
                None => Err(ParseError::MissingField("e")),
            };
        };
        let kind = match channel {
            "book" => match h.e {
                Some("snapshot") => MdKind::BookSnapshot,
                Some("update") => MdKind::BookUpdate,
                Some(_) => return Err(ParseError::UnknownEvent),
                None => return Err(ParseError::MissingField("e")),
            },
            "trade" => match h.e {
                Some("snapshot") | Some("update") => MdKind::Trade,
                Some(_) => return Err(ParseError::UnknownEvent),
                None => return Err(ParseError::MissingField("e")),
            },
            "ticker" | "kline" | "market_status" | "pool_quota" => {
                return Ok(MaxPublicOutcome::Ignored);
            }
            _ => return Err(ParseError::UnknownEvent),
        };
        let market = h.m.ok_or(ParseError::MissingField("M"))?;
        let instrument = instruments
            .lookup(Venue::Max, market.as_bytes())
            .ok_or(ParseError::UnknownSymbol)?;
        let mut ev = MdEvent {
            kind,
            venue: Venue::Max,
            instrument,
            exch_ts_ms: h.t.unwrap_or(0),
            ts_frame,
            ..MdEvent::default()
        };
        if kind == MdKind::Trade {
            // As the Binance parser does: the trade is `levels[0]`, read as the one "bid".
            for t in &self.trades {
                let head = MdEvent {
                    last_chunk: true,
                    n_bids: 1,
                    side: t.side,
                    exch_ts_ms: if t.ts != 0 { t.ts } else { ev.exch_ts_ms },
                    ..ev
                };
                let trade = Level {
                    price: t.price,
                    qty: t.qty,
                };
                out.publish_md(move |slot| {
                    *slot = head;
                    slot.levels[0] = trade;
                });
            }
            return Ok(MaxPublicOutcome::Market {
                events: self.trades.len(),
            });
        }
        ev.first_id = h.fi.ok_or(ParseError::MissingField("fi"))?;
        ev.last_id = h.li.ok_or(ParseError::MissingField("li"))?;
        if ev.first_id > ev.last_id {
            return Err(ParseError::BadValue("fi"));
        }
        ev.version = h.v.ok_or(ParseError::MissingField("v"))?;
        let events = emit_chunks(&ev, &self.bids, &self.asks, &mut out)?;
        Ok(MaxPublicOutcome::Market { events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instruments() -> Instruments {
        let mut i = Instruments::new();
        i.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
        i
    }

    #[test]
    fn doc_snapshot_parses_into_one_chunk() {
        let mut p = MaxPublicParser::new();
        let mut got = Vec::new();
        let frame = br#"{"c":"book","e":"snapshot","M":"btcusdt","a":[["5337.3","0.1"]],"b":[["5333.3","0.5"]],"T":1591869939634,"fi":12141725,"li":12141725,"v":1725602999632}"#;
        let r = p.parse(frame, 7, &instruments(), |e| got.push(*e)).unwrap();
        assert_eq!(r, MaxPublicOutcome::Market { events: 1 });
        assert_eq!(got[0].kind, MdKind::BookSnapshot);
        assert_eq!(got[0].bids()[0].price, Fixed::parse("5333.3").unwrap());
        assert_eq!(got[0].asks()[0].qty, Fixed::parse("0.1").unwrap());
        assert!(got[0].last_chunk);
        assert_eq!(got[0].ts_frame, 7);
    }
}
