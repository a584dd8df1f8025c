//! MAX private WebSocket frames (`c:"user"`, spec §4) → [`ExecEvent`]s and [`Balance`]s.
//!
//! Events, spot and `mwallet_` alike:
//! * `order_snapshot` / `order_update`: one [`ExecEvent`] per element of `o`, mapped by
//!   [`MaxOrderState::exec`] (`qty` = executed volume `ev`, `price` = average price `ap`,
//!   truncated to 8 decimals: MAX sends computed averages with up to 27).
//! * `trade_snapshot` / `trade_update` / `fast_trade_update` (and the deprecated
//!   `trade_fast_update`): one [`ExecKind::Fill`] per element of `t` with `trade_id = i`,
//!   `exchange_order_id = oi`, `price = p`, `qty = v`, `fee = f`. **`fast_trade_update` carries
//!   no fee fields**: its fills have `fee = 0`, and the fee must be taken from a later
//!   `trade_update` or REST. The fee is in the currency `fc` (quote, base or MAX token), which
//!   `ExecEvent` has no field for. Fills leave `state` at its default: a trade says nothing
//!   about the order's state (the next `order_update` does).
//! * `account_snapshot` / `account_update`: one [`Balance`] per element of `B`.
//! * `authenticated`, `error` (`E-1007: authentication failed`, ...); other `user` events
//!   (`ad_ratio_*`, `borrowing_*`, ...) are ignored.
//!
//! Every decimal is unsigned (a `-` is [`ParseError::BadValue`]), exact except `ap`; an order's
//! `ev` is at most its `v`; a key twice in one object is [`ParseError::DuplicateField`]; each
//! event carries only its own rows (`o` for orders, `t` for trades, `B` for balances: another
//! array beside them is [`ParseError::BadValue`]), so nothing is delivered twice or as what it
//! is not.
//!
//! Orders and trades on markets not in [`Instruments`] (a manual trade on another market) are
//! skipped and counted ([`MaxPrivateParser::skipped_unknown_market`]); the rest of the frame is
//! still delivered. Nothing is emitted for a frame that fails to parse.
//!
//! Two paths read a frame. Order and trade frames exactly as MAX writes them (compact, no
//! escapes, each known key once, decimals it reads exactly) go through a byte scanner ([`scan`])
//! that reads the decimal strings straight into fixed point; every other frame, and any order or
//! trade frame it does not recognise, goes through the general path here, one single-pass serde
//! deserializer whose seeds nest (frame → rows → order, trade or balance) and share one context
//! and error slot. Both paths read an order or trade element into a [`Row`] and make its event
//! with the same [`Row::exec`], and share the frame's checks in [`MaxPrivateParser::parse`], so
//! each rule above is written once; no frame's correctness depends on the scanner (the
//! differential check in `parser_properties` and the `max_private` fuzz target compare both
//! paths on every input).
//!
//! One file: the general path's single-pass deserializer. Its seeds nest (frame → rows → order,
//! trade or balance) and share one context and error slot; splitting them would scatter one
//! grammar.

mod scan;

use super::json::{ErrSlot, ErrorsSeed, OptDecSeed, Seen, dec, fail, take_err};
use crate::model::{
    ClientOid, DecimalRule, ExecEvent, ExecKind, Fixed, InstrumentId, Instruments, OrderState,
    Side, Symbol, Venue, WalletType,
};
use crate::venue::ParseError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A frame must carry fewer rows than this (orders and trades counted together, balances
/// apart); one with this many is `TooLarge`. MAX sends at most 100 trades in a snapshot.
pub const MAX_PRIVATE_ROWS: usize = 4096;

/// One currency of one wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Balance {
    pub wallet: WalletType,
    /// Upper-cased currency (`BTC`).
    pub currency: Symbol,
    pub available: Fixed,
    pub locked: Fixed,
    /// `TU`, or the frame's `T` when the entry has none (the mwallet examples).
    pub updated_ms: u64,
}

/// What a private frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxPrivateOutcome {
    Exec { events: usize },
    Balances { count: usize },
    Authenticated,
    Error { code: u32 },
    Ignored,
}

/// MAX order states (spec §5) as they appear in `S` / `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MaxOrderState {
    #[default]
    Wait,
    Done,
    Cancel,
    /// A stop order was triggered (it now rests or fills like a normal order).
    Convert,
    /// Being closed by the matching engine; `done` or `cancel` follows.
    Finalizing,
    Failed,
}

impl MaxOrderState {
    pub fn from_wire(s: &[u8]) -> Option<MaxOrderState> {
        Some(match s {
            b"wait" => MaxOrderState::Wait,
            b"done" => MaxOrderState::Done,
            b"cancel" => MaxOrderState::Cancel,
            b"convert" => MaxOrderState::Convert,
            b"finalizing" => MaxOrderState::Finalizing,
            b"failed" => MaxOrderState::Failed,
            _ => return None,
        })
    }

    /// arbline's state and event kind for a venue state with `executed` volume:
    ///
    /// | MAX | executed | state | kind |
    /// |---|---|---|---|
    /// | wait | 0 | New | Ack |
    /// | wait | > 0 | PartiallyFilled | StateUpdate |
    /// | done | – | Filled | StateUpdate |
    /// | cancel | – | Cancelled | Cancelled |
    /// | failed | – | Rejected | Reject |
    /// | convert | 0 / > 0 | New / PartiallyFilled | StateUpdate |
    /// | finalizing | 0 / > 0 | New / PartiallyFilled | StateUpdate |
    ///
    /// `convert` (stop triggered) is a live order again. `finalizing` is deliberately *not*
    /// terminal (bbgo maps it to filled): the order may still be cancelled with a remainder,
    /// and the `done`/`cancel` that follows is what closes it, so no position is booked early.
    pub fn exec(self, executed: Fixed) -> (OrderState, ExecKind) {
        let live = if executed.raw() > 0 {
            OrderState::PartiallyFilled
        } else {
            OrderState::New
        };
        match self {
            MaxOrderState::Wait if executed.raw() > 0 => (live, ExecKind::StateUpdate),
            MaxOrderState::Wait => (OrderState::New, ExecKind::Ack),
            MaxOrderState::Done => (OrderState::Filled, ExecKind::StateUpdate),
            MaxOrderState::Cancel => (OrderState::Cancelled, ExecKind::Cancelled),
            MaxOrderState::Failed => (OrderState::Rejected, ExecKind::Reject),
            MaxOrderState::Convert | MaxOrderState::Finalizing => (live, ExecKind::StateUpdate),
        }
    }
}

/// Reusable parser: one per private feed.
pub struct MaxPrivateParser {
    execs: Vec<ExecEvent>,
    balances: Vec<Balance>,
    skipped_unknown: u64,
    /// Try the byte scanner ([`scan`]) before the general path.
    fast: bool,
    /// Frames the byte scanner read (the rest went through the general path).
    scanned: u64,
}

impl Default for MaxPrivateParser {
    fn default() -> Self {
        Self::new()
    }
}

/// What a frame said besides its rows, as either path reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Header<'de> {
    c: Option<&'de str>,
    e: Option<&'de str>,
    t: Option<u64>,
    err_code: Option<u32>,
    /// Which row arrays the frame carried (`o`, `t`, `B`): each event takes only its own.
    seen: Seen,
    /// Orders and trades skipped: their market is not an instrument.
    skipped: u64,
}

/// Bits of the frame's keys in [`Header::seen`].
const K_C: u32 = 0;
const K_E: u32 = 1;
const K_T: u32 = 2;
const K_ERR: u32 = 3;
const K_ORDERS: u32 = 4;
const K_TRADES: u32 = 5;
const K_BALANCES: u32 = 6;

struct Ctx<'a> {
    slot: &'a ErrSlot,
    instruments: &'a Instruments,
    ts_recv: u64,
    skipped: u64,
}

struct FrameSeed<'a> {
    execs: &'a mut Vec<ExecEvent>,
    balances: &'a mut Vec<Balance>,
    ctx: Ctx<'a>,
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
        f.write_str("a MAX private WebSocket event object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut h = Header::default();
        let slot = self.ctx.slot;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "c" => {
                    h.seen.once(slot, K_C, "c")?;
                    h.c = Some(map.next_value()?)
                }
                "e" => {
                    h.seen.once(slot, K_E, "e")?;
                    h.e = Some(map.next_value()?)
                }
                "T" => {
                    h.seen.once(slot, K_T, "T")?;
                    h.t = Some(map.next_value()?)
                }
                "E" => {
                    h.seen.once(slot, K_ERR, "E")?;
                    h.err_code = Some(map.next_value_seed(ErrorsSeed { slot })?)
                }
                "o" => {
                    h.seen.once(slot, K_ORDERS, "o")?;
                    map.next_value_seed(RowsSeed {
                        kind: RowKind::Order,
                        execs: &mut *self.execs,
                        balances: &mut *self.balances,
                        ctx: &mut self.ctx,
                    })?
                }
                "t" => {
                    h.seen.once(slot, K_TRADES, "t")?;
                    map.next_value_seed(RowsSeed {
                        kind: RowKind::Trade,
                        execs: &mut *self.execs,
                        balances: &mut *self.balances,
                        ctx: &mut self.ctx,
                    })?
                }
                "B" => {
                    h.seen.once(slot, K_BALANCES, "B")?;
                    map.next_value_seed(RowsSeed {
                        kind: RowKind::Balance,
                        execs: &mut *self.execs,
                        balances: &mut *self.balances,
                        ctx: &mut self.ctx,
                    })?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        h.skipped = self.ctx.skipped;
        Ok(h)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Order,
    Trade,
    Balance,
}

struct RowsSeed<'a, 'c> {
    kind: RowKind,
    execs: &'a mut Vec<ExecEvent>,
    balances: &'a mut Vec<Balance>,
    ctx: &'a mut Ctx<'c>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of order, trade or balance objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let slot = self.ctx.slot;
        loop {
            if self.execs.len() >= MAX_PRIVATE_ROWS || self.balances.len() >= MAX_PRIVATE_ROWS {
                return Err(fail(slot, ParseError::TooLarge));
            }
            match self.kind {
                RowKind::Balance => match seq.next_element_seed(BalanceSeed { slot })? {
                    Some(b) => self.balances.push(b),
                    None => return Ok(()),
                },
                kind => match seq.next_element_seed(ExecSeed {
                    kind,
                    ctx: &*self.ctx,
                })? {
                    Some(Some(ev)) => self.execs.push(ev),
                    Some(None) => self.ctx.skipped += 1,
                    None => return Ok(()),
                },
            }
        }
    }
}

/// One element of `o` or `t`; `None` when its market is not an instrument of ours.
struct ExecSeed<'a, 'c> {
    kind: RowKind,
    ctx: &'a Ctx<'c>,
}

impl<'de> DeserializeSeed<'de> for ExecSeed<'_, '_> {
    type Value = Option<ExecEvent>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

/// One element of `o` or `t` as read, each field as its key carried it (absent or `null`:
/// `None`; `T`/`TU` absent: 0), before the rules of [`Row::exec`]. Both paths fill it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Row<'de> {
    id: Option<u64>,
    oi: Option<u64>,
    side: Option<Side>,
    state: Option<MaxOrderState>,
    market: Option<&'de [u8]>,
    price: Option<Fixed>,
    avg: Option<Fixed>,
    vol: Option<Fixed>,
    executed: Option<Fixed>,
    fee: Option<Fixed>,
    ci: Option<&'de [u8]>,
    t: u64,
    tu: u64,
}

impl Row<'_> {
    /// The event of an order row (`order`) or a trade row, read at `ts_recv`; `Ok(None)` when
    /// its market is not an instrument of ours.
    fn exec(
        &self,
        order: bool,
        ts_recv: u64,
        instruments: &Instruments,
    ) -> Result<Option<ExecEvent>, ParseError> {
        let id = self.id.ok_or(ParseError::MissingField("i"))?;
        let side = self.side.ok_or(ParseError::MissingField("sd"))?;
        let market = self.market.ok_or(ParseError::MissingField("M"))?;
        let client_oid = match self.ci {
            None | Some(b"") => ClientOid::default(),
            Some(s) => ClientOid::from_bytes(s).ok_or(ParseError::BadValue("ci"))?,
        };
        let mut ev = ExecEvent {
            client_oid,
            side,
            ts_recv,
            ..ExecEvent::default()
        };
        if order {
            let state = self.state.ok_or(ParseError::MissingField("S"))?;
            let executed = self.executed.ok_or(ParseError::MissingField("ev"))?;
            // An order's volume, when sent, is positive and bounds what was executed.
            if let Some(v) = self.vol {
                if v.raw() <= 0 {
                    return Err(ParseError::BadValue("v"));
                }
                if executed > v {
                    return Err(ParseError::BadValue("ev"));
                }
            }
            let (st, kind) = state.exec(executed);
            ev.kind = kind;
            ev.state = st;
            ev.exchange_order_id = id;
            ev.qty = executed;
            ev.price = self.avg.unwrap_or(Fixed::ZERO);
            ev.venue_ts_ms = if self.tu != 0 { self.tu } else { self.t };
        } else {
            ev.kind = ExecKind::Fill;
            ev.trade_id = id;
            ev.exchange_order_id = self.oi.ok_or(ParseError::MissingField("oi"))?;
            ev.price = self.price.ok_or(ParseError::MissingField("p"))?;
            ev.qty = self.vol.ok_or(ParseError::MissingField("v"))?;
            if ev.price.raw() <= 0 || ev.qty.raw() <= 0 {
                return Err(ParseError::BadValue("t"));
            }
            // fast_trade_update has no `f`: the fee is unknown here and reported as 0.
            ev.fee = self.fee.unwrap_or(Fixed::ZERO);
            ev.venue_ts_ms = if self.t != 0 { self.t } else { self.tu };
        }
        let instrument: Option<InstrumentId> = instruments.lookup(Venue::Max, market);
        Ok(instrument.map(|i| {
            ev.instrument = i;
            ev
        }))
    }
}

impl<'de> Visitor<'de> for ExecSeed<'_, '_> {
    type Value = Option<ExecEvent>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an order or trade object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let slot = self.ctx.slot;
        let mut r = Row::default();
        let mut seen = Seen::default();
        let dec_seed = |field: &'static str, rule: DecimalRule| OptDecSeed { slot, field, rule };
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "i" => {
                    seen.once(slot, 0, "i")?;
                    r.id = Some(map.next_value()?)
                }
                "oi" => {
                    seen.once(slot, 1, "oi")?;
                    r.oi = Some(map.next_value()?)
                }
                "sd" => {
                    seen.once(slot, 2, "sd")?;
                    let s: &'de str = map.next_value()?;
                    r.side = Some(
                        Side::from_wire(s.as_bytes())
                            .ok_or_else(|| fail(slot, ParseError::BadValue("sd")))?,
                    );
                }
                "S" => {
                    seen.once(slot, 3, "S")?;
                    let s: &'de str = map.next_value()?;
                    r.state = Some(
                        MaxOrderState::from_wire(s.as_bytes())
                            .ok_or_else(|| fail(slot, ParseError::BadValue("S")))?,
                    );
                }
                "M" => {
                    seen.once(slot, 4, "M")?;
                    r.market = Some(map.next_value::<&'de str>()?.as_bytes())
                }
                "p" => {
                    seen.once(slot, 5, "p")?;
                    r.price = map.next_value_seed(dec_seed("p", DecimalRule::UNSIGNED))?
                }
                "ap" => {
                    seen.once(slot, 6, "ap")?;
                    r.avg = map.next_value_seed(dec_seed("ap", DecimalRule::UNSIGNED_TRUNCATING))?
                }
                "v" => {
                    seen.once(slot, 7, "v")?;
                    r.vol = map.next_value_seed(dec_seed("v", DecimalRule::UNSIGNED))?
                }
                "ev" => {
                    seen.once(slot, 8, "ev")?;
                    r.executed = map.next_value_seed(dec_seed("ev", DecimalRule::UNSIGNED))?
                }
                "f" => {
                    seen.once(slot, 9, "f")?;
                    r.fee = map.next_value_seed(dec_seed("f", DecimalRule::UNSIGNED))?
                }
                "ci" => {
                    seen.once(slot, 10, "ci")?;
                    r.ci = map.next_value::<Option<&'de str>>()?.map(str::as_bytes)
                }
                "T" => {
                    seen.once(slot, 11, "T")?;
                    r.t = map.next_value()?
                }
                "TU" => {
                    seen.once(slot, 12, "TU")?;
                    r.tu = map.next_value()?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        r.exec(
            self.kind == RowKind::Order,
            self.ctx.ts_recv,
            self.ctx.instruments,
        )
        .map_err(|e| fail(slot, e))
    }
}

struct BalanceSeed<'a> {
    slot: &'a ErrSlot,
}

impl<'de> DeserializeSeed<'de> for BalanceSeed<'_> {
    type Value = Balance;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Balance, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BalanceSeed<'_> {
    type Value = Balance;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a balance object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Balance, A::Error> {
        let slot = self.slot;
        let mut b = Balance::default();
        let (mut cu, mut av) = (None, None);
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "cu" => {
                    seen.once(slot, 0, "cu")?;
                    let s: &'de str = map.next_value()?;
                    cu =
                        Some(Symbol::new(s).ok_or_else(|| fail(slot, ParseError::BadValue("cu")))?);
                }
                "av" => {
                    seen.once(slot, 1, "av")?;
                    av = Some(dec(slot, "av", map.next_value()?)?)
                }
                "l" => {
                    seen.once(slot, 2, "l")?;
                    b.locked = map
                        .next_value_seed(OptDecSeed {
                            slot,
                            field: "l",
                            rule: DecimalRule::UNSIGNED,
                        })?
                        .unwrap_or(Fixed::ZERO)
                }
                "TU" => {
                    seen.once(slot, 3, "TU")?;
                    b.updated_ms = map.next_value()?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        b.currency = cu.ok_or_else(|| fail(slot, ParseError::MissingField("cu")))?;
        b.available = av.ok_or_else(|| fail(slot, ParseError::MissingField("av")))?;
        Ok(b)
    }
}

enum UserEvent {
    Orders,
    Trades,
    Account,
    Other,
}

/// `(wallet, event)` of a `user` event name.
fn user_event(e: &str) -> (WalletType, UserEvent) {
    let (wallet, base) = match e.strip_prefix("mwallet_") {
        Some(rest) => (WalletType::Margin, rest),
        None => (WalletType::Spot, e),
    };
    let ev = match base {
        "order_snapshot" | "order_update" => UserEvent::Orders,
        "trade_snapshot" | "trade_update" | "fast_trade_update" | "trade_fast_update" => {
            UserEvent::Trades
        }
        "account_snapshot" | "account_update" => UserEvent::Account,
        _ => UserEvent::Other,
    };
    (wallet, ev)
}

impl MaxPrivateParser {
    pub fn new() -> Self {
        MaxPrivateParser {
            execs: Vec::with_capacity(256),
            balances: Vec::with_capacity(64),
            skipped_unknown: 0,
            fast: true,
            scanned: 0,
        }
    }

    /// A parser that always takes the general (serde) path: the reference the byte scanner is
    /// checked against, in the differential tests and the fuzz target.
    pub fn general_only() -> Self {
        MaxPrivateParser {
            fast: false,
            ..MaxPrivateParser::new()
        }
    }

    /// Frames the byte scanner read since this parser was made (an order or trade frame that
    /// did not take it costs the general path's time: MAX changed its layout).
    pub fn scanned_frames(&self) -> u64 {
        self.scanned
    }

    /// Orders and trades skipped so far because their market is not an instrument.
    pub fn skipped_unknown_market(&self) -> u64 {
        self.skipped_unknown
    }

    /// The general path: one serde walk over the frame, rows into `execs` and `balances`.
    fn walk<'f>(
        &mut self,
        frame: &'f [u8],
        ts_recv: u64,
        instruments: &Instruments,
    ) -> Result<Header<'f>, ParseError> {
        let slot = ErrSlot::new(None);
        self.execs.clear();
        self.balances.clear();
        let mut de = serde_json::Deserializer::from_slice(frame);
        let h = FrameSeed {
            execs: &mut self.execs,
            balances: &mut self.balances,
            ctx: Ctx {
                slot: &slot,
                instruments,
                ts_recv,
                skipped: 0,
            },
        }
        .deserialize(&mut de)
        .map_err(|_| take_err(&slot))?;
        de.end().map_err(|_| ParseError::Json)?;
        Ok(h)
    }

    /// Parses one private frame; see the module doc for the mapping.
    pub fn parse<FE: FnMut(&ExecEvent), FB: FnMut(&Balance)>(
        &mut self,
        frame: &[u8],
        ts_recv: u64,
        instruments: &Instruments,
        mut on_exec: FE,
        mut on_balance: FB,
    ) -> Result<MaxPrivateOutcome, ParseError> {
        self.execs.clear();
        self.balances.clear();
        let fast = if self.fast {
            scan::frame(frame, ts_recv, instruments, &mut self.execs)
        } else {
            None
        };
        let h = match fast {
            Some(h) => {
                self.scanned += 1;
                h
            }
            None => self.walk(frame, ts_recv, instruments)?,
        };

        let e = h.e.ok_or(ParseError::MissingField("e"))?;
        match h.c {
            None => {
                return match e {
                    "authenticated" => Ok(MaxPrivateOutcome::Authenticated),
                    "error" => Ok(MaxPrivateOutcome::Error {
                        code: h.err_code.ok_or(ParseError::MissingField("E"))?,
                    }),
                    "subscribed" | "unsubscribed" => Ok(MaxPrivateOutcome::Ignored),
                    _ => Err(ParseError::UnknownEvent),
                };
            }
            Some("user") => {}
            Some(_) => return Err(ParseError::UnknownEvent),
        }
        let (wallet, kind) = user_event(e);
        // Rows are bound to the event that carries them: an order event's `t` rows are not
        // fills, a trade event's `o` rows not order states, and neither carries balances.
        let own = match kind {
            UserEvent::Orders => Some(K_ORDERS),
            UserEvent::Trades => Some(K_TRADES),
            UserEvent::Account => Some(K_BALANCES),
            UserEvent::Other => None,
        };
        if let Some(own) = own {
            for (bit, key) in [(K_ORDERS, "o"), (K_TRADES, "t"), (K_BALANCES, "B")] {
                if bit != own && h.seen.has(bit) {
                    return Err(ParseError::BadValue(key));
                }
            }
        }
        self.skipped_unknown += h.skipped;
        match kind {
            UserEvent::Orders | UserEvent::Trades => {
                // The wallet is the event's (`mwallet_` prefix), not a field of the rows.
                for ev in &mut self.execs {
                    ev.wallet = wallet;
                    on_exec(ev);
                }
                Ok(MaxPrivateOutcome::Exec {
                    events: self.execs.len(),
                })
            }
            UserEvent::Account => {
                for b in &mut self.balances {
                    b.wallet = wallet;
                    if b.updated_ms == 0 {
                        b.updated_ms = h.t.unwrap_or(0);
                    }
                    on_balance(b);
                }
                Ok(MaxPrivateOutcome::Balances {
                    count: self.balances.len(),
                })
            }
            UserEvent::Other => Ok(MaxPrivateOutcome::Ignored),
        }
    }
}
