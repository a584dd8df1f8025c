//! The Binance market-data parser: WebSocket text frames and REST depth snapshots → [`MdEvent`]s.
//!
//! One parser serves spot and USDⓈ-M futures (spec `binance.md` §2). It walks the JSON once with
//! `serde_json` and a hand-written visitor, so nothing is collected per message:
//!
//! * strings are read borrowed from the frame (an escaped string is unescaped into serde_json's
//!   scratch, which only allocates if a frame ever carries an escape; Binance frames do not);
//! * decimals are read straight from the wire text with [`Fixed::read`] (unsigned, exact),
//!   never via f64; prices are above zero, quantities too except a diff's 0 that removes a
//!   level (bookTicker, snapshot and trade quantities are live amounts);
//! * a combined-stream frame's payload is its `data` object alone, and a known key twice in one
//!   object is [`ParseError::DuplicateField`];
//! * level arrays (`b`/`a`, `bids`/`asks`) are pushed into two level buffers owned by the parser,
//!   reserved once and cleared per frame;
//! * input errors (bad decimals, negative values, wrong JSON types) are recorded in the visitor's
//!   state and reported after the walk, so the unhappy paths do not build serde error strings.
//!   Only malformed JSON syntax goes through serde_json's (allocating) error type.
//!
//! Key order is not relied on (the real futures captures send `T`,`E` after the levels) and
//! unknown fields (`st`, `ps`, `nq`, `M`, ...) are skipped. The same one-letter key means
//! different things per event: `a` is the ask price (bookTicker, string), the asks (depthUpdate,
//! array) or the aggregate trade id (aggTrade, integer); the visitor dispatches on the JSON type.
//!
//! A frame's levels go out in chunks by the rule both venues share ([`crate::venue::chunks`]).
//! `ts_parsed` is left 0: the feed stamps it when it publishes.

use crate::model::instrument::SYMBOL_CAP;
use crate::model::{
    DecimalError, DecimalRule, Fixed, InstrumentId, Instruments, Level, MdEvent, MdKind, Side,
    Venue,
};
use crate::venue::chunks::emit_chunks;
use crate::venue::{ParseError, decimal};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Which Binance market a connection belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMarket {
    Spot,
    Futures,
}

impl BinanceMarket {
    /// The venue its instruments are interned under.
    pub fn venue(self) -> Venue {
        match self {
            BinanceMarket::Spot => Venue::BinanceSpot,
            BinanceMarket::Futures => Venue::BinanceFutures,
        }
    }
}

/// What a frame turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceOutcome {
    /// Market data: `events` chunks were handed to the callback.
    Market { events: usize },
    /// A control frame: a SUBSCRIBE/UNSUBSCRIBE/property reply (`{"result":..,"id":..}`) or an
    /// error (`{"code":..,"msg":..}`).
    Control,
    /// `serverShutdown` (raw `{"e":"serverShutdown","E":..}` or combined
    /// `{"stream":"!serverShutdown","data":{..}}`, spec §1.1): the server is about to close
    /// this connection (the 24 h cut); the feed should move to a new one now.
    ServerShutdown,
    /// A known stream the engine does not use (kline, tickers, mark price, spot partial depth).
    Ignored,
}

/// Levels reserved per side at start: a REST snapshot carries at most 5000 per side (spot).
pub const RESERVED_LEVELS: usize = 5000;

/// Reusable parsing state for one connection. Not `Sync`; one per feed thread.
pub struct BinanceParser {
    market: BinanceMarket,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl BinanceParser {
    pub fn new(market: BinanceMarket) -> Self {
        BinanceParser {
            market,
            bids: Vec::with_capacity(RESERVED_LEVELS),
            asks: Vec::with_capacity(RESERVED_LEVELS),
        }
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    /// One WebSocket text frame: the combined-stream wrapper `{"stream":..,"data":..}` or a raw
    /// payload.
    ///
    /// * `bookTicker` → [`MdKind::BookTicker`] (`bids[0]`/`asks[0]`, `last_id = u`,
    ///   `exch_ts_ms = E`, 0 on spot which sends no time);
    /// * `depthUpdate` → [`MdKind::BookUpdate`] (`first_id = U`, `last_id = u`, `prev_id = pu`
    ///   or -1 on spot, `exch_ts_ms = E`), chunked;
    /// * `aggTrade`/`trade` → [`MdKind::Trade`]: `levels[0]` = price and quantity (`n_bids = 1`),
    ///   `last_id` = aggregate or trade id, taker side from `m` (buyer is maker ⇒ taker sold);
    /// * replies and errors → [`BinanceOutcome::Control`];
    /// * `serverShutdown` → [`BinanceOutcome::ServerShutdown`];
    /// * kline, tickers, mark price, spot partial depth → [`BinanceOutcome::Ignored`];
    /// * an event name not known at all → [`ParseError::UnknownEvent`].
    ///
    /// The symbol `s` is resolved with `instruments.lookup(market.venue(), s)`.
    pub fn parse_ws<F: FnMut(&MdEvent)>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        mut out: F,
    ) -> Result<BinanceOutcome, ParseError> {
        let mut f = self.walk(frame)?;
        if f.event == Event::None && f.symbol_len > 0 && f.last_id.is_some() {
            // Spot bookTicker: `{u,s,b,B,a,A}` with no `e` and no time (spec §2.1).
            f.event = Event::BookTicker;
        }
        let venue = self.market.venue();
        match f.event {
            Event::DepthUpdate => {
                let instrument = f.instrument(instruments, venue)?;
                let first_id = f.first_id.ok_or(ParseError::MissingField("U"))?;
                let last_id = f.last_id.ok_or(ParseError::MissingField("u"))?;
                if first_id > last_id {
                    return Err(ParseError::BadValue("U"));
                }
                let exch_ts_ms = f.event_ms.ok_or(ParseError::MissingField("E"))?;
                let prev_id = match self.market {
                    BinanceMarket::Spot => -1,
                    BinanceMarket::Futures => f.prev_id.ok_or(ParseError::MissingField("pu"))?,
                };
                if !f.has_bids {
                    return Err(ParseError::MissingField("b"));
                }
                if !f.has_asks {
                    return Err(ParseError::MissingField("a"));
                }
                let mut header = MdEvent {
                    kind: MdKind::BookUpdate,
                    venue,
                    instrument,
                    first_id,
                    last_id,
                    prev_id,
                    exch_ts_ms,
                    ts_frame,
                    ..MdEvent::default()
                };
                let events = emit_chunks(&mut header, &self.bids, &self.asks, &mut out)?;
                Ok(BinanceOutcome::Market { events })
            }
            Event::BookTicker => {
                let instrument = f.instrument(instruments, venue)?;
                let last_id = f.last_id.ok_or(ParseError::MissingField("u"))?;
                // A best level is a live level: price and quantity above zero.
                let bid = Level {
                    price: positive(f.bid, "b")?,
                    qty: positive(f.bid_qty, "B")?,
                };
                let ask = Level {
                    price: positive(f.ask, "a")?,
                    qty: positive(f.ask_qty, "A")?,
                };
                let mut ev = MdEvent {
                    kind: MdKind::BookTicker,
                    venue,
                    instrument,
                    last_chunk: true,
                    last_id,
                    exch_ts_ms: f.event_ms.unwrap_or(0),
                    ts_frame,
                    n_bids: 1,
                    n_asks: 1,
                    ..MdEvent::default()
                };
                ev.levels[0] = bid;
                ev.levels[1] = ask;
                out(&ev);
                Ok(BinanceOutcome::Market { events: 1 })
            }
            Event::AggTrade | Event::Trade => {
                let instrument = f.instrument(instruments, venue)?;
                let trade_id = match f.event {
                    Event::AggTrade => f.agg_id.ok_or(ParseError::MissingField("a"))?,
                    _ => f.trade_id.ok_or(ParseError::MissingField("t"))?,
                };
                let level = Level {
                    price: positive(f.price, "p")?,
                    qty: positive(f.qty, "q")?,
                };
                let buyer_is_maker = f.buyer_maker.ok_or(ParseError::MissingField("m"))?;
                let mut ev = MdEvent {
                    kind: MdKind::Trade,
                    venue,
                    instrument,
                    last_chunk: true,
                    // `m`: "Is the buyer the market maker?" – then the seller took liquidity.
                    side: if buyer_is_maker {
                        Side::Sell
                    } else {
                        Side::Buy
                    },
                    last_id: trade_id,
                    exch_ts_ms: f.event_ms.ok_or(ParseError::MissingField("E"))?,
                    ts_frame,
                    n_bids: 1,
                    ..MdEvent::default()
                };
                ev.levels[0] = level;
                out(&ev);
                Ok(BinanceOutcome::Market { events: 1 })
            }
            Event::Ignored => Ok(BinanceOutcome::Ignored),
            Event::Shutdown => Ok(BinanceOutcome::ServerShutdown),
            Event::Unknown => Err(ParseError::UnknownEvent),
            Event::None => {
                if (f.has_code && f.has_msg) || (f.has_result && f.has_id) {
                    // An error, or a reply to SUBSCRIBE / UNSUBSCRIBE / properties (spec §1.3).
                    Ok(BinanceOutcome::Control)
                } else if f.last_update_id.is_some() && f.has_bids_rest {
                    // Spot partial depth `{lastUpdateId,bids,asks}` (spec §2.3): not used.
                    Ok(BinanceOutcome::Ignored)
                } else {
                    Err(ParseError::MissingField("e"))
                }
            }
        }
    }

    /// A REST depth snapshot body (spot `GET /api/v3/depth`, futures `GET /fapi/v1/depth`) for
    /// `instrument` → [`MdKind::BookSnapshot`] chunks with `last_id = lastUpdateId`,
    /// `exch_ts_ms = E` (futures; 0 on spot). Returns the number of events. A REST error body
    /// (`{"code":..,"msg":..}`) is `BadValue("code")`.
    pub fn parse_depth_snapshot<F: FnMut(&MdEvent)>(
        &mut self,
        body: &[u8],
        instrument: InstrumentId,
        ts_frame: u64,
        mut out: F,
    ) -> Result<usize, ParseError> {
        let f = self.walk(body)?;
        if f.has_code && f.last_update_id.is_none() {
            return Err(ParseError::BadValue("code"));
        }
        let last_id = f
            .last_update_id
            .ok_or(ParseError::MissingField("lastUpdateId"))?;
        if !f.has_bids_rest {
            return Err(ParseError::MissingField("bids"));
        }
        if !f.has_asks_rest {
            return Err(ParseError::MissingField("asks"));
        }
        let mut header = MdEvent {
            kind: MdKind::BookSnapshot,
            venue: self.market.venue(),
            instrument,
            last_id,
            exch_ts_ms: f.event_ms.unwrap_or(0),
            ts_frame,
            ..MdEvent::default()
        };
        emit_chunks(&mut header, &self.bids, &self.asks, &mut out)
    }

    /// Walks one JSON document, filling the level buffers and returning the scalar fields.
    ///
    /// With a combined-stream wrapper (a top-level `data` key), `data` alone is the payload:
    /// the fields are the ones read inside it, the level buffers hold only its levels, and keys
    /// beside it (`stream`, or anything else) are read for syntax but never override it.
    fn walk(&mut self, json: &[u8]) -> Result<Fields, ParseError> {
        self.bids.clear();
        self.asks.clear();
        let mut outer = Fields::default();
        let mut data = Fields::default();
        let mut de = serde_json::Deserializer::from_slice(json);
        let ctx = Ctx {
            f: &mut outer,
            bids: &mut self.bids,
            asks: &mut self.asks,
        };
        let walked = ObjectSeed {
            ctx,
            data: Some(&mut data),
        }
        .deserialize(&mut de);
        let fields = if data.is_payload { data } else { outer };
        if let Some(e) = fields.err {
            return Err(e);
        }
        walked.map_err(|_| ParseError::Json)?;
        de.end().map_err(|_| ParseError::Json)?;
        Ok(fields)
    }
}

/// A present field that must be above zero.
fn positive(v: Option<Fixed>, field: &'static str) -> Result<Fixed, ParseError> {
    match v {
        Some(x) if x.raw() > 0 => Ok(x),
        Some(_) => Err(ParseError::BadValue(field)),
        None => Err(ParseError::MissingField(field)),
    }
}

// ---------------------------------------------------------------------------------------------
// The visitor: one pass over wrapper and payload, scalars into `Fields`, levels into buffers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Event {
    /// No `e` field (spot bookTicker, replies, errors, REST snapshot).
    #[default]
    None,
    DepthUpdate,
    BookTicker,
    AggTrade,
    Trade,
    Shutdown,
    /// A known event the engine does not use.
    Ignored,
    Unknown,
}

impl Event {
    fn from_name(name: &[u8]) -> Event {
        match name {
            b"depthUpdate" => Event::DepthUpdate,
            b"bookTicker" => Event::BookTicker,
            b"aggTrade" => Event::AggTrade,
            b"trade" => Event::Trade,
            b"serverShutdown" => Event::Shutdown,
            b"kline" | b"continuous_kline" | b"24hrTicker" | b"24hrMiniTicker"
            | b"markPriceUpdate" | b"forceOrder" | b"compositeIndex" | b"contractInfo"
            | b"assetIndexUpdate" | b"1hTicker" | b"4hTicker" | b"1dTicker" | b"avgPrice" => {
                Event::Ignored
            }
            _ => Event::Unknown,
        }
    }
}

/// Scalar fields of one frame (wrapper and payload merged).
#[derive(Clone, Copy, Default)]
struct Fields {
    event: Event,
    symbol: [u8; SYMBOL_CAP],
    /// Bytes of `s`; `SYMBOL_CAP + 1` marks a symbol too long to be one we know.
    symbol_len: usize,
    first_id: Option<u64>,
    last_id: Option<u64>,
    prev_id: Option<i64>,
    event_ms: Option<u64>,
    last_update_id: Option<u64>,
    agg_id: Option<u64>,
    trade_id: Option<u64>,
    bid: Option<Fixed>,
    bid_qty: Option<Fixed>,
    ask: Option<Fixed>,
    ask_qty: Option<Fixed>,
    price: Option<Fixed>,
    qty: Option<Fixed>,
    buyer_maker: Option<bool>,
    has_bids: bool,
    has_asks: bool,
    has_bids_rest: bool,
    has_asks_rest: bool,
    has_result: bool,
    has_id: bool,
    has_code: bool,
    has_msg: bool,
    /// The first input error met; reported after the walk.
    err: Option<ParseError>,
    /// Set on the `data` object's fields once the wrapper's `data` key is met.
    is_payload: bool,
}

impl Fields {
    fn instrument(
        &self,
        instruments: &Instruments,
        venue: Venue,
    ) -> Result<InstrumentId, ParseError> {
        if self.symbol_len == 0 {
            return Err(ParseError::MissingField("s"));
        }
        if self.symbol_len > SYMBOL_CAP {
            return Err(ParseError::UnknownSymbol);
        }
        instruments
            .lookup(venue, &self.symbol[..self.symbol_len])
            .ok_or(ParseError::UnknownSymbol)
    }

    #[inline]
    fn fail(&mut self, e: ParseError) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Stream,
    Data,
    EventType,
    EventTime,
    Symbol,
    FirstId,
    LastId,
    PrevId,
    /// `b`: bid price (string) or bids (array).
    B,
    BidQty,
    /// `a`: ask price (string), asks (array) or aggregate trade id (integer).
    A,
    AskQty,
    Price,
    Qty,
    BuyerMaker,
    TradeId,
    LastUpdateId,
    Bids,
    Asks,
    Result,
    Id,
    Code,
    Msg,
    Other,
}

impl Key {
    fn from_bytes(k: &[u8]) -> Key {
        match k {
            b"stream" => Key::Stream,
            b"data" => Key::Data,
            b"e" => Key::EventType,
            b"E" => Key::EventTime,
            b"s" => Key::Symbol,
            b"U" => Key::FirstId,
            b"u" => Key::LastId,
            b"pu" => Key::PrevId,
            b"b" => Key::B,
            b"B" => Key::BidQty,
            b"a" => Key::A,
            b"A" => Key::AskQty,
            b"p" => Key::Price,
            b"q" => Key::Qty,
            b"m" => Key::BuyerMaker,
            b"t" => Key::TradeId,
            b"lastUpdateId" => Key::LastUpdateId,
            b"bids" => Key::Bids,
            b"asks" => Key::Asks,
            b"result" => Key::Result,
            b"id" => Key::Id,
            b"code" => Key::Code,
            b"msg" => Key::Msg,
            _ => Key::Other,
        }
    }

    /// The wire name, for errors.
    fn name(self) -> &'static str {
        match self {
            Key::Stream => "stream",
            Key::Data => "data",
            Key::EventType => "e",
            Key::EventTime => "E",
            Key::Symbol => "s",
            Key::FirstId => "U",
            Key::LastId => "u",
            Key::PrevId => "pu",
            Key::B => "b",
            Key::BidQty => "B",
            Key::A => "a",
            Key::AskQty => "A",
            Key::Price => "p",
            Key::Qty => "q",
            Key::BuyerMaker => "m",
            Key::TradeId => "t",
            Key::LastUpdateId => "lastUpdateId",
            Key::Bids => "bids",
            Key::Asks => "asks",
            Key::Result => "result",
            Key::Id => "id",
            Key::Code => "code",
            Key::Msg => "msg",
            Key::Other => "?",
        }
    }
}

struct Ctx<'s> {
    f: &'s mut Fields,
    bids: &'s mut Vec<Level>,
    asks: &'s mut Vec<Level>,
}

impl Ctx<'_> {
    fn reborrow(&mut self) -> Ctx<'_> {
        Ctx {
            f: self.f,
            bids: self.bids,
            asks: self.asks,
        }
    }

    /// A decimal that must be an unsigned exact value (the range is checked per event).
    fn decimal(&mut self, key: Key, v: &[u8]) -> Option<Fixed> {
        match decimal(key.name(), v, DecimalRule::UNSIGNED) {
            Ok(x) => Some(x),
            Err(e) => {
                self.f.fail(e);
                None
            }
        }
    }

    fn on_str(&mut self, key: Key, v: &[u8]) {
        match key {
            Key::EventType => self.f.event = Event::from_name(v),
            Key::Symbol => {
                if v.len() <= SYMBOL_CAP {
                    self.f.symbol[..v.len()].copy_from_slice(v);
                    self.f.symbol_len = v.len();
                } else {
                    self.f.symbol_len = SYMBOL_CAP + 1;
                }
            }
            Key::B => self.f.bid = self.decimal(key, v),
            Key::BidQty => self.f.bid_qty = self.decimal(key, v),
            Key::A => self.f.ask = self.decimal(key, v),
            Key::AskQty => self.f.ask_qty = self.decimal(key, v),
            Key::Price => self.f.price = self.decimal(key, v),
            Key::Qty => self.f.qty = self.decimal(key, v),
            Key::Msg => self.f.has_msg = true,
            // `id` may be an alphanumeric string (spot); the stream name is not needed.
            Key::Id => self.f.has_id = true,
            Key::Stream | Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    fn on_u64(&mut self, key: Key, v: u64) {
        match key {
            Key::EventTime => self.f.event_ms = Some(v),
            Key::FirstId => self.f.first_id = Some(v),
            Key::LastId => self.f.last_id = Some(v),
            Key::PrevId => match i64::try_from(v) {
                Ok(v) => self.f.prev_id = Some(v),
                Err(_) => self.f.fail(ParseError::BadValue("pu")),
            },
            Key::A => self.f.agg_id = Some(v),
            Key::TradeId => self.f.trade_id = Some(v),
            Key::LastUpdateId => self.f.last_update_id = Some(v),
            Key::Id => self.f.has_id = true,
            Key::Code => self.f.has_code = true,
            Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    fn on_i64(&mut self, key: Key, v: i64) {
        match key {
            // `pu` is -1 when there is no previous event (COIN-M, spec §2.3).
            Key::PrevId => self.f.prev_id = Some(v),
            Key::Code => self.f.has_code = true,
            Key::Id => self.f.has_id = true,
            Key::Other => {}
            Key::EventTime
            | Key::FirstId
            | Key::LastId
            | Key::A
            | Key::TradeId
            | Key::LastUpdateId => self.f.fail(ParseError::BadValue(key.name())),
            _ => self.f.fail(ParseError::Json),
        }
    }

    fn on_bool(&mut self, key: Key, v: bool) {
        match key {
            Key::BuyerMaker => self.f.buyer_maker = Some(v),
            Key::Result | Key::Other => {}
            _ => self.f.fail(ParseError::Json),
        }
    }

    /// A value of a type no known key takes here (float, null, object, array).
    fn on_other(&mut self, key: Key, is_null: bool) {
        match (key, is_null) {
            (Key::Other | Key::Stream, _) => {}
            (Key::Id, true) => self.f.has_id = true,
            _ => self.f.fail(ParseError::Json),
        }
    }
}

/// Visits a JSON object: the top level (with `data`'s fields to fill if it is a wrapper) or
/// `data` (`data: None`: no further nesting).
struct ObjectSeed<'s> {
    ctx: Ctx<'s>,
    data: Option<&'s mut Fields>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        // Known keys met so far in this object (bit = `Key as u32`): a second one is refused.
        let mut seen: u32 = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key != Key::Other {
                let bit = 1u32 << key as u32;
                if seen & bit != 0 {
                    let e = ParseError::DuplicateField(key.name());
                    self.ctx.f.fail(e);
                    if let Some(d) = self.data.as_deref_mut() {
                        d.fail(e);
                    }
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                seen |= bit;
            }
            let payload_seen = self.data.as_deref().is_some_and(|d| d.is_payload);
            match key {
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Result => {
                    self.ctx.f.has_result = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Data if self.data.is_some() => {
                    let Some(d) = self.data.as_deref_mut() else {
                        continue;
                    };
                    d.is_payload = true;
                    // Levels read beside `data` before it are not the payload's.
                    self.ctx.bids.clear();
                    self.ctx.asks.clear();
                    map.next_value_seed(ObjectSeed {
                        ctx: Ctx {
                            f: d,
                            bids: &mut *self.ctx.bids,
                            asks: &mut *self.ctx.asks,
                        },
                        data: None,
                    })?;
                }
                // Level arrays beside `data`, after it: checked for syntax, kept out of the
                // payload's buffers.
                Key::B | Key::A | Key::Bids | Key::Asks if payload_seen => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => map.next_value_seed(ValueSeed {
                    key,
                    ctx: self.ctx.reborrow(),
                })?,
            }
        }
        Ok(())
    }
}

/// Reads an object key without allocating (borrowed, or transient when escaped).
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key::from_bytes(v.as_bytes()))
    }
}

/// Reads the value of one known key, dispatching on its JSON type.
struct ValueSeed<'s> {
    key: Key,
    ctx: Ctx<'s>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Binance field value")
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.ctx.on_str(self.key, v.as_bytes());
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.ctx.on_u64(self.key, v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        if v >= 0 {
            self.ctx.on_u64(self.key, v as u64);
        } else {
            self.ctx.on_i64(self.key, v);
        }
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, _v: f64) -> Result<(), E> {
        self.ctx.on_other(self.key, false);
        Ok(())
    }
    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.ctx.on_bool(self.key, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.ctx.on_other(self.key, true);
        Ok(())
    }
    fn visit_seq<S: SeqAccess<'de>>(mut self, mut seq: S) -> Result<(), S::Error> {
        let (out, has) = match self.key {
            Key::B => (&mut *self.ctx.bids, &mut self.ctx.f.has_bids),
            Key::A => (&mut *self.ctx.asks, &mut self.ctx.f.has_asks),
            Key::Bids => (&mut *self.ctx.bids, &mut self.ctx.f.has_bids_rest),
            Key::Asks => (&mut *self.ctx.asks, &mut self.ctx.f.has_asks_rest),
            _ => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                self.ctx.on_other(self.key, false);
                return Ok(());
            }
        };
        *has = true;
        out.clear();
        let mut err = None;
        // A diff's quantity 0 removes the level; a snapshot lists live levels only.
        let zero_qty_removes = matches!(self.key, Key::B | Key::A);
        while seq
            .next_element_seed(LevelSeed {
                side: self.key.name(),
                zero_qty_removes,
                out: &mut *out,
                err: &mut err,
            })?
            .is_some()
        {}
        if let Some(e) = err {
            self.ctx.f.fail(e);
        }
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.ctx.on_other(self.key, false);
        Ok(())
    }
}

/// One `["price","qty"]` pair, pushed onto the side's buffer. The price is above zero; the
/// quantity is above zero, or zero where `zero_qty_removes` (a diff deleting the level).
struct LevelSeed<'v> {
    side: &'static str,
    zero_qty_removes: bool,
    out: &'v mut Vec<Level>,
    err: &'v mut Option<ParseError>,
}

impl LevelSeed<'_> {
    fn fail(&mut self, e: ParseError) {
        if self.err.is_none() {
            *self.err = Some(e);
        }
    }
    fn decimal(&mut self, v: Option<Dec>) -> Fixed {
        match v {
            Some(Dec::Ok(x)) => x,
            Some(Dec::Bad(DecimalError::Sign)) => {
                self.fail(ParseError::BadValue(self.side));
                Fixed::ZERO
            }
            Some(Dec::Bad(err)) => {
                self.fail(ParseError::BadDecimal {
                    field: self.side,
                    err,
                });
                Fixed::ZERO
            }
            Some(Dec::WrongType) | None => {
                self.fail(ParseError::Json);
                Fixed::ZERO
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a [price, qty] pair")
    }
    fn visit_seq<S: SeqAccess<'de>>(mut self, mut seq: S) -> Result<(), S::Error> {
        let price = seq.next_element_seed(DecSeed)?;
        let qty = seq.next_element_seed(DecSeed)?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        let price = self.decimal(price);
        let qty = self.decimal(qty);
        let qty_ok = qty.raw() > 0 || (self.zero_qty_removes && qty.raw() == 0);
        if self.err.is_none() && (price.raw() <= 0 || !qty_ok) {
            self.fail(ParseError::BadValue(self.side));
        }
        if self.err.is_none() {
            self.out.push(Level { price, qty });
        }
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(mut self, mut map: M) -> Result<(), M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_str<E: de::Error>(mut self, _v: &str) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_u64<E: de::Error>(mut self, _v: u64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_i64<E: de::Error>(mut self, _v: i64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_f64<E: de::Error>(mut self, _v: f64) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_bool<E: de::Error>(mut self, _v: bool) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.fail(ParseError::Json);
        Ok(())
    }
}

/// A decimal string, parsed exactly; any other JSON type is `WrongType`.
enum Dec {
    Ok(Fixed),
    Bad(DecimalError),
    WrongType,
}

struct DecSeed;

impl<'de> DeserializeSeed<'de> for DecSeed {
    type Value = Dec;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Dec, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DecSeed {
    type Value = Dec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dec, E> {
        Ok(match Fixed::read(v.as_bytes(), DecimalRule::UNSIGNED) {
            Ok(x) => Dec::Ok(x),
            Err(e) => Dec::Bad(e),
        })
    }
    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Dec, E> {
        Ok(Dec::WrongType)
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Dec, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Dec::WrongType)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Dec, M::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Dec::WrongType)
    }
}
