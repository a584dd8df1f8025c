//! The Binance market-data parser: WebSocket text frames and REST depth snapshots → [`MdEvent`]s.
//!
//! One parser serves spot and USDⓈ-M futures (spec `binance.md` §2). The hot frames —
//! `bookTicker`, `depthUpdate` and the trades, raw or enveloped, exactly as Binance writes them —
//! go through a byte scanner ([`scan`]: no whitespace, no escapes, known keys in any order) that
//! reads the decimal strings straight into fixed point. Whatever it does not recognise it hands,
//! untouched, to the general path, so no frame's correctness depends on it (the differential tests
//! and the fuzz target check that both paths agree on every input). The general path walks the
//! JSON once with `serde_json` and a hand-written visitor, so nothing is collected per message:
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

mod fields;
mod scan;
mod visitor;

use crate::model::{Fixed, InstrumentId, Instruments, Level, MdEvent, MdKind, Side, Venue};
use crate::venue::ParseError;
use crate::venue::chunks::emit_chunks;
use crate::venue::md_sink::MdSink;
use fields::{Event, Fields};
use serde::de::DeserializeSeed;
use visitor::{Ctx, ObjectSeed};

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
    /// Try the byte scanner ([`scan`]) before the general path.
    fast: bool,
    /// Frames the byte scanner read (the rest went through the general path).
    scanned: u64,
}

impl BinanceParser {
    pub fn new(market: BinanceMarket) -> Self {
        BinanceParser {
            market,
            bids: Vec::with_capacity(RESERVED_LEVELS),
            asks: Vec::with_capacity(RESERVED_LEVELS),
            fast: true,
            scanned: 0,
        }
    }

    /// Frames the byte scanner read since this parser was made. A hot frame that did not take
    /// it (Binance changed its layout: whitespace, a new nested field) costs the general path's
    /// time; compare with the events parsed to see it.
    pub fn scanned_frames(&self) -> u64 {
        self.scanned
    }

    /// A parser that always takes the general (serde) path: the reference the fast path is
    /// checked against, in the differential tests and the fuzz target.
    pub fn general_only(market: BinanceMarket) -> Self {
        BinanceParser {
            fast: false,
            ..BinanceParser::new(market)
        }
    }

    pub fn market(&self) -> BinanceMarket {
        self.market
    }

    /// One WebSocket text frame: the combined-stream wrapper `{"stream":..,"data":..}` or a raw
    /// payload. `bookTicker`, `depthUpdate`, `aggTrade` and `trade` in Binance's own layout take
    /// the byte scanner; everything else, and anything the scanner does not recognise, the serde
    /// walk.
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
        out: F,
    ) -> Result<BinanceOutcome, ParseError> {
        self.parse_ws_into(frame, ts_frame, instruments, out)
    }

    /// As [`Self::parse_ws`], each event written straight into `out`'s slot (a feed's md
    /// ring: `feed::ws_conn::RingSink`).
    pub fn parse_ws_into<S: MdSink>(
        &mut self,
        frame: &[u8],
        ts_frame: u64,
        instruments: &Instruments,
        mut out: S,
    ) -> Result<BinanceOutcome, ParseError> {
        let fast = if self.fast {
            scan::scan(frame, &mut self.bids, &mut self.asks)
        } else {
            None
        };
        let mut f = match fast {
            Some(f) => {
                self.scanned += 1;
                f
            }
            None => self.walk(frame)?,
        };
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
                let header = MdEvent {
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
                let events = emit_chunks(&header, &self.bids, &self.asks, &mut out)?;
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
                let exch_ts_ms = f.event_ms.unwrap_or(0);
                out.publish_md(|slot| {
                    *slot = MdEvent {
                        kind: MdKind::BookTicker,
                        venue,
                        instrument,
                        last_chunk: true,
                        last_id,
                        exch_ts_ms,
                        ts_frame,
                        n_bids: 1,
                        n_asks: 1,
                        ..MdEvent::default()
                    };
                    slot.levels[0] = bid;
                    slot.levels[1] = ask;
                });
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
                let exch_ts_ms = f.event_ms.ok_or(ParseError::MissingField("E"))?;
                out.publish_md(|slot| {
                    *slot = MdEvent {
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
                        exch_ts_ms,
                        ts_frame,
                        n_bids: 1,
                        ..MdEvent::default()
                    };
                    slot.levels[0] = level;
                });
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
        out: F,
    ) -> Result<usize, ParseError> {
        self.parse_depth_snapshot_into(body, instrument, ts_frame, out)
    }

    /// As [`Self::parse_depth_snapshot`], each event written straight into `out`'s slot (a feed's md
    /// ring: `feed::ws_conn::RingSink`).
    pub fn parse_depth_snapshot_into<S: MdSink>(
        &mut self,
        body: &[u8],
        instrument: InstrumentId,
        ts_frame: u64,
        mut out: S,
    ) -> Result<usize, ParseError> {
        let fast = if self.fast {
            scan::snapshot(body, &mut self.bids, &mut self.asks)
        } else {
            None
        };
        let f = match fast {
            Some(f) => {
                self.scanned += 1;
                f
            }
            None => self.walk(body)?,
        };
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
        let header = MdEvent {
            kind: MdKind::BookSnapshot,
            venue: self.market.venue(),
            instrument,
            last_id,
            exch_ts_ms: f.event_ms.unwrap_or(0),
            ts_frame,
            ..MdEvent::default()
        };
        emit_chunks(&header, &self.bids, &self.asks, &mut out)
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
