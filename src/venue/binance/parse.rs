//! Binance spot and USDⓈ-M futures WebSocket frames and REST depth snapshots → [`MdEvent`]s
//! (spec binance.md §2, §3.1).
//!
//! One visitor reads a frame in a single pass, whether it is a combined-stream wrapper
//! (`{"stream":…,"data":{…}}`) or a raw payload, straight into reused level buffers:
//! - `bookTicker` (spot `{u,s,b,B,a,A}`, futures adds `e,E,T`) → `BookTicker`, `last_id = u`;
//! - `depthUpdate` (`U,u,b,a`, futures adds `T,pu`) → `BookUpdate`, `first_id = U`,
//!   `last_id = u`, `prev_id = pu` (−1 on spot and when absent);
//! - `aggTrade` / `trade` → `Trade` (taker side: `m` = buyer is maker ⇒ taker sold);
//! - `{"result":…,"id":…}` and `{"code":…,"msg":…}` → control; `kline`, partial depth and other
//!   streams → ignored.
//!
//! Keys are shared between payload types with different JSON types (`b` is a price string in a
//! bookTicker and a level array in a depthUpdate; `a` is also aggTrade's numeric id), so those
//! fields accept either shape. Unknown fields (`st`, `ps`, `nq`, …) are skipped.

use crate::model::{InstrumentId, Instruments, Level, MdEvent, MdKind, Side, Venue};
use crate::venue::levels::{LevelsInto, decimal, emit_chunks, json_error, reset_level_error};
use crate::venue::parse_error::ParseError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinanceMarket {
    Spot,
    Futures,
}

impl BinanceMarket {
    pub fn venue(self) -> Venue {
        match self {
            BinanceMarket::Spot => Venue::BinanceSpot,
            BinanceMarket::Futures => Venue::BinanceFutures,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceOutcome {
    Market { events: usize },
    Control,
    Ignored,
}

pub struct BinanceParser {
    market: BinanceMarket,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

/// Every field any supported payload has.
#[derive(Default)]
struct Fields<'a> {
    e: Option<&'a str>,
    big_e: Option<u64>,
    s: Option<&'a str>,
    first: Option<u64>,
    last: Option<u64>,
    pu: Option<i64>,
    b_str: Option<&'a str>,
    a_str: Option<&'a str>,
    bq: Option<&'a str>,
    aq: Option<&'a str>,
    p: Option<&'a str>,
    q: Option<&'a str>,
    m: Option<bool>,
    last_update_id: Option<u64>,
    control: bool,
}

struct FrameVisitor<'p> {
    bids: &'p mut Vec<Level>,
    asks: &'p mut Vec<Level>,
}

/// `b` / `a`: a price string (bookTicker), a level array (depth) or a number (aggTrade's id).
struct StrOrLevels<'p, 'a> {
    levels: &'p mut Vec<Level>,
    field: &'static str,
    s: &'p mut Option<&'a str>,
}

impl<'de, 'p> DeserializeSeed<'de> for StrOrLevels<'p, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'p> Visitor<'de> for StrOrLevels<'p, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal string or an array of levels")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        *self.s = Some(v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        LevelsInto {
            levels: self.levels,
            field: self.field,
        }
        .visit_seq(seq)
    }
}

impl<'de, 'p> Visitor<'de> for FrameVisitor<'p> {
    type Value = Fields<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Binance JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let FrameVisitor { bids, asks } = self;
        let mut f = Fields::default();
        while let Some(k) = map.next_key::<&'de str>()? {
            match k {
                "data" => {
                    // Combined stream: the payload is what matters; `stream` is redundant with `s`.
                    f = map.next_value_seed(Nested {
                        bids: &mut *bids,
                        asks: &mut *asks,
                    })?;
                }
                "e" => f.e = Some(map.next_value()?),
                "E" => f.big_e = Some(map.next_value()?),
                "s" => f.s = Some(map.next_value()?),
                "U" => f.first = Some(map.next_value()?),
                "u" => f.last = Some(map.next_value()?),
                "pu" => f.pu = Some(map.next_value()?),
                "b" => map.next_value_seed(StrOrLevels {
                    levels: &mut *bids,
                    field: "b",
                    s: &mut f.b_str,
                })?,
                "a" => map.next_value_seed(StrOrLevels {
                    levels: &mut *asks,
                    field: "a",
                    s: &mut f.a_str,
                })?,
                "bids" => map.next_value_seed(LevelsInto {
                    levels: &mut *bids,
                    field: "bids",
                })?,
                "asks" => map.next_value_seed(LevelsInto {
                    levels: &mut *asks,
                    field: "asks",
                })?,
                "B" => f.bq = Some(map.next_value()?),
                "A" => f.aq = Some(map.next_value()?),
                "p" => f.p = Some(map.next_value()?),
                "q" => f.q = Some(map.next_value()?),
                "m" => f.m = Some(map.next_value()?),
                "lastUpdateId" => f.last_update_id = Some(map.next_value()?),
                "result" | "id" | "code" | "msg" => {
                    f.control = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(f)
    }
}

struct Nested<'p> {
    bids: &'p mut Vec<Level>,
    asks: &'p mut Vec<Level>,
}

impl<'de> DeserializeSeed<'de> for Nested<'_> {
    type Value = Fields<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Fields<'de>, D::Error> {
        d.deserialize_map(FrameVisitor {
            bids: self.bids,
            asks: self.asks,
        })
    }
}

fn need<T>(v: Option<T>, field: &'static str) -> Result<T, ParseError> {
    v.ok_or(ParseError::MissingField(field))
}

impl BinanceParser {
    pub fn new(market: BinanceMarket) -> Self {
        BinanceParser {
            market,
            bids: Vec::with_capacity(1024),
            asks: Vec::with_capacity(1024),
        }
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    /// One WebSocket text frame (see the module doc).
    pub fn parse_ws<F: FnMut(&MdEvent)>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        mut out: F,
    ) -> Result<BinanceOutcome, ParseError> {
        self.bids.clear();
        self.asks.clear();
        reset_level_error();
        let mut de = serde_json::Deserializer::from_slice(frame);
        let f = de::Deserializer::deserialize_map(
            &mut de,
            FrameVisitor {
                bids: &mut self.bids,
                asks: &mut self.asks,
            },
        )
        .map_err(json_error)?;
        de.end().map_err(|_| ParseError::Json)?;
        if f.control {
            return Ok(BinanceOutcome::Control);
        }
        let venue = self.market.venue();
        let lookup = |s: Option<&str>| -> Result<InstrumentId, ParseError> {
            instruments
                .lookup(venue, need(s, "s")?.as_bytes())
                .ok_or(ParseError::UnknownSymbol)
        };
        let kind = match f.e {
            Some("depthUpdate") => MdKind::BookUpdate,
            Some("bookTicker") => MdKind::BookTicker,
            Some("aggTrade" | "trade") => MdKind::Trade,
            Some(_) => return Ok(BinanceOutcome::Ignored),
            // Spot bookTicker has no event type.
            None if f.b_str.is_some() && f.last.is_some() => MdKind::BookTicker,
            None if f.last_update_id.is_some() => return Ok(BinanceOutcome::Ignored),
            None => return Err(ParseError::UnknownEvent),
        };
        let instrument = lookup(f.s)?;
        let mut header = MdEvent {
            kind,
            venue,
            instrument,
            prev_id: -1,
            exch_ts_ms: f.big_e.unwrap_or(0),
            ts_frame,
            last_chunk: true,
            ..Default::default()
        };
        match kind {
            MdKind::BookUpdate => {
                header.first_id = need(f.first, "U")?;
                header.last_id = need(f.last, "u")?;
                header.prev_id = match self.market {
                    BinanceMarket::Futures => need(f.pu, "pu")?,
                    BinanceMarket::Spot => f.pu.unwrap_or(-1),
                };
                let n = emit_chunks(&header, &self.bids, &self.asks, &mut out);
                Ok(BinanceOutcome::Market { events: n })
            }
            MdKind::BookTicker => {
                header.last_id = need(f.last, "u")?;
                header.first_id = header.last_id;
                header.n_bids = 1;
                header.n_asks = 1;
                header.levels[0] = Level {
                    price: decimal("b", need(f.b_str, "b")?)?,
                    qty: decimal("B", need(f.bq, "B")?)?,
                };
                header.levels[1] = Level {
                    price: decimal("a", need(f.a_str, "a")?)?,
                    qty: decimal("A", need(f.aq, "A")?)?,
                };
                out(&header);
                Ok(BinanceOutcome::Market { events: 1 })
            }
            _ => {
                header.n_bids = 1;
                header.side = if need(f.m, "m")? {
                    Side::Sell
                } else {
                    Side::Buy
                };
                header.levels[0] = Level {
                    price: decimal("p", need(f.p, "p")?)?,
                    qty: decimal("q", need(f.q, "q")?)?,
                };
                out(&header);
                Ok(BinanceOutcome::Market { events: 1 })
            }
        }
    }

    /// A REST depth snapshot body for `instrument` → `BookSnapshot` chunks, `last_id =
    /// lastUpdateId`. Levels are applied in the order given (best first on Binance).
    pub fn parse_depth_snapshot<F: FnMut(&MdEvent)>(
        &mut self,
        body: &[u8],
        instrument: InstrumentId,
        ts_frame: u64,
        mut out: F,
    ) -> Result<usize, ParseError> {
        self.bids.clear();
        self.asks.clear();
        reset_level_error();
        let mut de = serde_json::Deserializer::from_slice(body);
        let f = de::Deserializer::deserialize_map(
            &mut de,
            FrameVisitor {
                bids: &mut self.bids,
                asks: &mut self.asks,
            },
        )
        .map_err(json_error)?;
        de.end().map_err(|_| ParseError::Json)?;
        let last = need(f.last_update_id, "lastUpdateId")?;
        let header = MdEvent {
            kind: MdKind::BookSnapshot,
            venue: self.market.venue(),
            instrument,
            first_id: last,
            last_id: last,
            prev_id: -1,
            exch_ts_ms: f.big_e.unwrap_or(0),
            ts_frame,
            ..Default::default()
        };
        Ok(emit_chunks(&header, &self.bids, &self.asks, &mut out))
    }
}
