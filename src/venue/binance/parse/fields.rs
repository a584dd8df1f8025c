//! What one pass over a Binance frame collects: the event kind, the scalar fields of wrapper
//! and payload merged ([`Fields`]), and the keys the visitor knows ([`Key`]).

use crate::model::instrument::SYMBOL_CAP;
use crate::model::{Fixed, InstrumentId, Instruments, Venue};
use crate::venue::ParseError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) enum Event {
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
    pub(super) fn from_name(name: &[u8]) -> Event {
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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Fields {
    pub(super) event: Event,
    pub(super) symbol: [u8; SYMBOL_CAP],
    /// Bytes of `s`; `SYMBOL_CAP + 1` marks a symbol too long to be one we know.
    pub(super) symbol_len: usize,
    pub(super) first_id: Option<u64>,
    pub(super) last_id: Option<u64>,
    pub(super) prev_id: Option<i64>,
    pub(super) event_ms: Option<u64>,
    pub(super) last_update_id: Option<u64>,
    pub(super) agg_id: Option<u64>,
    pub(super) trade_id: Option<u64>,
    pub(super) bid: Option<Fixed>,
    pub(super) bid_qty: Option<Fixed>,
    pub(super) ask: Option<Fixed>,
    pub(super) ask_qty: Option<Fixed>,
    pub(super) price: Option<Fixed>,
    pub(super) qty: Option<Fixed>,
    pub(super) buyer_maker: Option<bool>,
    pub(super) has_bids: bool,
    pub(super) has_asks: bool,
    pub(super) has_bids_rest: bool,
    pub(super) has_asks_rest: bool,
    pub(super) has_result: bool,
    pub(super) has_id: bool,
    pub(super) has_code: bool,
    pub(super) has_msg: bool,
    /// The first input error met; reported after the walk.
    pub(super) err: Option<ParseError>,
    /// Set on the `data` object's fields once the wrapper's `data` key is met.
    pub(super) is_payload: bool,
}

impl Fields {
    pub(super) fn instrument(
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
    pub(super) fn fail(&mut self, e: ParseError) {
        if self.err.is_none() {
            self.err = Some(e);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
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
    /// Its bit in a set of keys met; 0 for [`Key::Other`], which may repeat.
    pub(super) fn bit(self) -> u32 {
        match self {
            Key::Other => 0,
            k => 1 << k as u32,
        }
    }

    pub(super) fn from_bytes(k: &[u8]) -> Key {
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
    pub(super) fn name(self) -> &'static str {
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
