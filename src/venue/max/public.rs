//! MAX public WebSocket frames → [`MdEvent`]s.
//!
//! Book (`c:"book"`): `e` is `snapshot` or `update`; `a`/`b` are `[[price, volume], …]` with
//! absolute volumes (`"0"` removes a level); `fi`/`li` are the first and last update ids of the
//! event and `v` the book-engine version (spec max.md §3.4). Trades (`c:"trade"`): `t` is an
//! array of `{p, v, T, tr}` with `tr` = `up`/`down` (taker buy/sell). Control: `subscribed`,
//! `unsubscribed`, `error` with `E: ["E-<code>: <message>"]`.
//!
//! The frame is decoded in one pass (serde_json, borrowed keys and strings) straight into
//! reused buffers; nothing is allocated per frame after warm-up.

use crate::model::{Fixed, Instruments, Level, MdEvent, MdKind, Side, Venue};
use crate::venue::levels::{LevelsInto, decimal, emit_chunks, json_error, reset_level_error};
use crate::venue::parse_error::ParseError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxPublicOutcome {
    Market { events: usize },
    Subscribed,
    Unsubscribed,
    Error { code: u32 },
    Ignored,
}

#[derive(Clone, Copy, Default)]
struct PublicTrade {
    price: Fixed,
    qty: Fixed,
    ts: u64,
    side: Side,
}

pub struct MaxPublicParser {
    bids: Vec<Level>,
    asks: Vec<Level>,
    trades: Vec<PublicTrade>,
}

impl Default for MaxPublicParser {
    fn default() -> Self {
        Self::new()
    }
}

/// The header fields of one frame.
#[derive(Default)]
struct Header<'a> {
    c: Option<&'a str>,
    e: Option<&'a str>,
    m: Option<&'a str>,
    t: Option<u64>,
    fi: Option<u64>,
    li: Option<u64>,
    v: Option<u64>,
    error: Option<&'a str>,
}

struct FrameVisitor<'p> {
    bids: &'p mut Vec<Level>,
    asks: &'p mut Vec<Level>,
    trades: &'p mut Vec<PublicTrade>,
}

impl<'de, 'p> Visitor<'de> for FrameVisitor<'p> {
    type Value = Header<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a MAX WebSocket object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
        let mut h = Header::default();
        while let Some(k) = map.next_key::<&'de str>()? {
            match k {
                "c" => h.c = Some(map.next_value()?),
                "e" => h.e = Some(map.next_value()?),
                "M" => h.m = Some(map.next_value()?),
                "T" => h.t = Some(map.next_value()?),
                "fi" => h.fi = Some(map.next_value()?),
                "li" => h.li = Some(map.next_value()?),
                "v" => h.v = Some(map.next_value()?),
                "a" => map.next_value_seed(LevelsInto {
                    levels: self.asks,
                    field: "a",
                })?,
                "b" => map.next_value_seed(LevelsInto {
                    levels: self.bids,
                    field: "b",
                })?,
                "t" => map.next_value_seed(TradesInto(self.trades))?,
                "E" => h.error = map.next_value::<FirstStr<'de>>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(h)
    }
}

/// First string of an array (`E: ["E-1004: invalid action"]`).
struct FirstStr<'a>(Option<&'a str>);

impl<'de> de::Deserialize<'de> for FirstStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FirstStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<FirstStr<'de>, A::Error> {
                let first: Option<&'de str> = s.next_element()?;
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstStr(first))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(serde::Deserialize)]
struct TradeRow<'a> {
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(rename = "T", default)]
    t: u64,
    #[serde(borrow, default)]
    tr: Option<&'a str>,
}

struct TradesInto<'p>(&'p mut Vec<PublicTrade>);

impl<'de> DeserializeSeed<'de> for TradesInto<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for TradesInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of trades")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        while let Some(r) = s.next_element::<TradeRow<'de>>()? {
            let price = decimal("t.p", r.p).map_err(|e| fail(e))?;
            let qty = decimal("t.v", r.v).map_err(|e| fail(e))?;
            let side = if r.tr == Some("down") {
                Side::Sell
            } else {
                Side::Buy
            };
            self.0.push(PublicTrade {
                price,
                qty,
                ts: r.t,
                side,
            });
        }
        Ok(())
    }
}

fn fail<E: de::Error>(e: ParseError) -> E {
    crate::venue::levels::record_error(e);
    E::custom("invalid trade")
}

/// `"E-1004: invalid action"` → 1004.
pub(crate) fn error_code(s: &str) -> u32 {
    let digits = s.trim_start_matches("E-");
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().unwrap_or(0)
}

impl MaxPublicParser {
    pub fn new() -> Self {
        MaxPublicParser {
            bids: Vec::with_capacity(1024),
            asks: Vec::with_capacity(1024),
            trades: Vec::with_capacity(256),
        }
    }

    /// Parses one frame; market events go to `out` (see the module doc).
    pub fn parse<F: FnMut(&MdEvent)>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        mut out: F,
    ) -> Result<MaxPublicOutcome, ParseError> {
        self.bids.clear();
        self.asks.clear();
        self.trades.clear();
        reset_level_error();
        let mut de = serde_json::Deserializer::from_slice(frame);
        let visitor = FrameVisitor {
            bids: &mut self.bids,
            asks: &mut self.asks,
            trades: &mut self.trades,
        };
        let h = de::Deserializer::deserialize_map(&mut de, visitor).map_err(json_error)?;
        de.end().map_err(|_| ParseError::Json)?;
        match (h.c, h.e) {
            (_, Some("subscribed")) => return Ok(MaxPublicOutcome::Subscribed),
            (_, Some("unsubscribed")) => return Ok(MaxPublicOutcome::Unsubscribed),
            (_, Some("error")) => {
                return Ok(MaxPublicOutcome::Error {
                    code: h.error.map(error_code).unwrap_or(0),
                });
            }
            (Some("book"), Some(e @ ("snapshot" | "update"))) => {
                let m = h.m.ok_or(ParseError::MissingField("M"))?;
                let instrument = instruments
                    .lookup(Venue::Max, m.as_bytes())
                    .ok_or(ParseError::UnknownSymbol)?;
                let header = MdEvent {
                    kind: if e == "snapshot" {
                        MdKind::BookSnapshot
                    } else {
                        MdKind::BookUpdate
                    },
                    venue: Venue::Max,
                    instrument,
                    first_id: h.fi.ok_or(ParseError::MissingField("fi"))?,
                    last_id: h.li.ok_or(ParseError::MissingField("li"))?,
                    prev_id: -1,
                    version: h.v.ok_or(ParseError::MissingField("v"))?,
                    exch_ts_ms: h.t.unwrap_or(0),
                    ts_frame,
                    ..Default::default()
                };
                let n = emit_chunks(&header, &self.bids, &self.asks, &mut out);
                Ok(MaxPublicOutcome::Market { events: n })
            }
            (Some("trade"), Some("snapshot" | "update")) => {
                let m = h.m.ok_or(ParseError::MissingField("M"))?;
                let instrument = instruments
                    .lookup(Venue::Max, m.as_bytes())
                    .ok_or(ParseError::UnknownSymbol)?;
                for t in &self.trades {
                    let mut ev = MdEvent {
                        kind: MdKind::Trade,
                        venue: Venue::Max,
                        instrument,
                        last_chunk: true,
                        side: t.side,
                        prev_id: -1,
                        exch_ts_ms: t.ts,
                        ts_frame,
                        n_bids: 1,
                        ..Default::default()
                    };
                    ev.levels[0] = Level {
                        price: t.price,
                        qty: t.qty,
                    };
                    out(&ev);
                }
                Ok(MaxPublicOutcome::Market {
                    events: self.trades.len(),
                })
            }
            (Some("book" | "trade"), _) => Err(ParseError::UnknownEvent),
            (Some(_), _) => Ok(MaxPublicOutcome::Ignored),
            (None, _) => Err(ParseError::MissingField("c")),
        }
    }
}
