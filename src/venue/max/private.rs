//! MAX private WebSocket (`c:"user"`) frames → [`ExecEvent`]s and [`Balance`]s
//! (spec max.md §4; spot events and their `mwallet_` twins).
//!
//! Orders (`o`): `order_snapshot` / `order_update`. The state `S` and executed volume `ev` map
//! to the order stage's vocabulary:
//!
//! | MAX `S` | `ev` | [`OrderState`] | [`ExecKind`] |
//! |---|---|---|---|
//! | `wait` | 0 | `New` | `Ack` |
//! | `wait` | > 0 | `PartiallyFilled` | `StateUpdate` |
//! | `convert` (stop triggered) | any | as `wait` | as `wait` |
//! | `done`, `finalizing` | — | `Filled` | `StateUpdate` |
//! | `cancel` | — | `Cancelled` | `Cancelled` |
//! | `failed` | — | `Rejected` | `Reject` |
//!
//! Trades (`t`): `trade_snapshot`, `trade_update`, `fast_trade_update` → `Fill` with the trade id
//! (the order stage applies each id once). `fast_trade_update` carries no fee: the fee is then 0
//! and the full trade (with fee) may follow on `trade_update`.
//! Accounts (`B`): `account_snapshot` / `account_update` → one [`Balance`] per currency.

use super::public::error_code;
use crate::model::{
    ClientOid, ExecEvent, ExecKind, Fixed, InstrumentId, Instruments, OrderState, Side, Symbol,
    Venue, WalletType,
};
use crate::venue::levels::{decimal, json_error, record_error, reset_level_error};
use crate::venue::parse_error::ParseError;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A wallet balance from `account_snapshot` / `account_update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Balance {
    pub wallet: WalletType,
    pub currency: Symbol,
    pub available: Fixed,
    pub locked: Fixed,
    pub updated_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxPrivateOutcome {
    Exec { events: usize },
    Balances { count: usize },
    Authenticated,
    Error { code: u32 },
    Ignored,
}

pub struct MaxPrivateParser {
    exec: Vec<ExecEvent>,
    balances: Vec<Balance>,
}

impl Default for MaxPrivateParser {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Default)]
struct Header<'a> {
    c: Option<&'a str>,
    e: Option<&'a str>,
    t: Option<u64>,
    error: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct OrderRow<'a> {
    i: u64,
    #[serde(borrow)]
    sd: &'a str,
    #[serde(borrow, default)]
    ap: Option<&'a str>,
    #[serde(borrow, default)]
    ev: Option<&'a str>,
    #[serde(borrow, rename = "S")]
    state: &'a str,
    #[serde(borrow, rename = "M")]
    market: &'a str,
    #[serde(rename = "TU", default)]
    tu: Option<u64>,
    #[serde(borrow, default)]
    ci: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct TradeRow<'a> {
    i: u64,
    #[serde(borrow, rename = "M")]
    market: &'a str,
    #[serde(borrow)]
    sd: &'a str,
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    v: &'a str,
    #[serde(borrow, default)]
    f: Option<&'a str>,
    #[serde(rename = "T", default)]
    t: u64,
    oi: u64,
    #[serde(borrow, default)]
    ci: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct BalanceRow<'a> {
    #[serde(borrow)]
    cu: &'a str,
    #[serde(borrow)]
    av: &'a str,
    #[serde(borrow)]
    l: &'a str,
    #[serde(rename = "TU", default)]
    tu: u64,
}

fn fail<E: de::Error>(e: ParseError) -> E {
    record_error(e);
    E::custom("invalid private event")
}

fn client_oid<E: de::Error>(ci: Option<&str>) -> Result<ClientOid, E> {
    match ci {
        None | Some("") => Ok(ClientOid::default()),
        Some(s) => {
            ClientOid::from_bytes(s.as_bytes()).ok_or_else(|| fail(ParseError::BadValue("ci")))
        }
    }
}

fn market<E: de::Error>(instruments: &Instruments, m: &str) -> Result<InstrumentId, E> {
    instruments
        .lookup(Venue::Max, m.as_bytes())
        .ok_or_else(|| fail(ParseError::UnknownSymbol))
}

fn side<E: de::Error>(sd: &str) -> Result<Side, E> {
    Side::from_wire(sd.as_bytes()).ok_or_else(|| fail(ParseError::BadValue("sd")))
}

/// Which array a key holds; decided by the key, converted by the seed.
struct Rows<'p> {
    kind: RowKind,
    instruments: &'p Instruments,
    exec: &'p mut Vec<ExecEvent>,
    balances: &'p mut Vec<Balance>,
    ts_recv: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    Orders,
    Trades,
    Balances,
}

impl<'de> DeserializeSeed<'de> for Rows<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of orders, trades or balances")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
        match self.kind {
            RowKind::Orders => {
                while let Some(r) = s.next_element::<OrderRow<'de>>()? {
                    let executed = match r.ev {
                        Some(v) => decimal("ev", v).map_err(fail)?,
                        None => Fixed::ZERO,
                    };
                    let (state, kind) = match r.state {
                        "wait" | "convert" if executed.is_zero() => {
                            (OrderState::New, ExecKind::Ack)
                        }
                        "wait" | "convert" => (OrderState::PartiallyFilled, ExecKind::StateUpdate),
                        "done" | "finalizing" => (OrderState::Filled, ExecKind::StateUpdate),
                        "cancel" => (OrderState::Cancelled, ExecKind::Cancelled),
                        "failed" => (OrderState::Rejected, ExecKind::Reject),
                        _ => return Err(fail(ParseError::BadValue("S"))),
                    };
                    self.exec.push(ExecEvent {
                        kind,
                        client_oid: client_oid(r.ci)?,
                        exchange_order_id: r.i,
                        instrument: market(self.instruments, r.market)?,
                        side: side(r.sd)?,
                        state,
                        price: match r.ap {
                            Some(p) => decimal("ap", p).map_err(fail)?,
                            None => Fixed::ZERO,
                        },
                        qty: executed,
                        venue_ts_ms: r.tu.unwrap_or(0),
                        ts_recv: self.ts_recv,
                        ..Default::default()
                    });
                }
            }
            RowKind::Trades => {
                while let Some(r) = s.next_element::<TradeRow<'de>>()? {
                    self.exec.push(ExecEvent {
                        kind: ExecKind::Fill,
                        client_oid: client_oid(r.ci)?,
                        exchange_order_id: r.oi,
                        instrument: market(self.instruments, r.market)?,
                        side: side(r.sd)?,
                        state: OrderState::PartiallyFilled,
                        trade_id: r.i,
                        price: decimal("p", r.p).map_err(fail)?,
                        qty: decimal("v", r.v).map_err(fail)?,
                        fee: match r.f {
                            Some(f) => decimal("f", f).map_err(fail)?,
                            None => Fixed::ZERO,
                        },
                        venue_ts_ms: r.t,
                        ts_recv: self.ts_recv,
                        ..Default::default()
                    });
                }
            }
            RowKind::Balances => {
                while let Some(r) = s.next_element::<BalanceRow<'de>>()? {
                    self.balances.push(Balance {
                        wallet: WalletType::Spot,
                        currency: Symbol::new(r.cu)
                            .ok_or_else(|| fail(ParseError::BadValue("cu")))?,
                        available: decimal("av", r.av).map_err(fail)?,
                        locked: decimal("l", r.l).map_err(fail)?,
                        updated_ms: r.tu,
                    });
                }
            }
        }
        Ok(())
    }
}

struct FrameVisitor<'p> {
    instruments: &'p Instruments,
    exec: &'p mut Vec<ExecEvent>,
    balances: &'p mut Vec<Balance>,
    ts_recv: u64,
}

impl<'de> Visitor<'de> for FrameVisitor<'_> {
    type Value = Header<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a MAX private WebSocket object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
        let mut h = Header::default();
        while let Some(k) = map.next_key::<&'de str>()? {
            let kind = match k {
                "c" => {
                    h.c = Some(map.next_value()?);
                    continue;
                }
                "e" => {
                    h.e = Some(map.next_value()?);
                    continue;
                }
                "T" => {
                    h.t = Some(map.next_value()?);
                    continue;
                }
                "E" => {
                    let errs: Vec<&'de str> = map.next_value()?;
                    h.error = errs.first().copied();
                    continue;
                }
                "o" => RowKind::Orders,
                "t" => RowKind::Trades,
                "B" => RowKind::Balances,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(Rows {
                kind,
                instruments: self.instruments,
                exec: self.exec,
                balances: self.balances,
                ts_recv: self.ts_recv,
            })?;
        }
        Ok(h)
    }
}

impl MaxPrivateParser {
    pub fn new() -> Self {
        MaxPrivateParser {
            exec: Vec::with_capacity(256),
            balances: Vec::with_capacity(64),
        }
    }

    /// Parses one private frame; events go to `on_exec`, balances to `on_balance`. Nothing is
    /// delivered from a frame that fails to parse.
    pub fn parse<FE: FnMut(&ExecEvent), FB: FnMut(&Balance)>(
        &mut self,
        frame: &[u8],
        ts_recv: u64,
        instruments: &Instruments,
        mut on_exec: FE,
        mut on_balance: FB,
    ) -> Result<MaxPrivateOutcome, ParseError> {
        self.exec.clear();
        self.balances.clear();
        reset_level_error();
        let mut de = serde_json::Deserializer::from_slice(frame);
        let v = FrameVisitor {
            instruments,
            exec: &mut self.exec,
            balances: &mut self.balances,
            ts_recv,
        };
        let h = de::Deserializer::deserialize_map(&mut de, v).map_err(json_error)?;
        de.end().map_err(|_| ParseError::Json)?;
        let e = h.e.ok_or(ParseError::MissingField("e"))?;
        match e {
            "authenticated" => return Ok(MaxPrivateOutcome::Authenticated),
            "error" => {
                return Ok(MaxPrivateOutcome::Error {
                    code: h.error.map(error_code).unwrap_or(0),
                });
            }
            _ => {}
        }
        if h.c != Some("user") {
            return Err(ParseError::UnknownEvent);
        }
        let base = e.strip_prefix("mwallet_").unwrap_or(e);
        let wallet = if base.len() != e.len() {
            WalletType::Margin
        } else {
            WalletType::Spot
        };
        match base {
            "order_snapshot" | "order_update" | "trade_snapshot" | "trade_update"
            | "fast_trade_update" | "trade_fast_update" => {
                for ev in &self.exec {
                    on_exec(ev);
                }
                Ok(MaxPrivateOutcome::Exec {
                    events: self.exec.len(),
                })
            }
            "account_snapshot" | "account_update" => {
                for b in &mut self.balances {
                    b.wallet = wallet;
                    on_balance(b);
                }
                Ok(MaxPrivateOutcome::Balances {
                    count: self.balances.len(),
                })
            }
            "ad_ratio_snapshot" | "ad_ratio_update" | "borrowing_snapshot" | "borrowing_update" => {
                Ok(MaxPrivateOutcome::Ignored)
            }
            _ => Err(ParseError::UnknownEvent),
        }
    }
}
