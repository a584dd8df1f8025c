//! MAX REST v3 replies: Order bodies (create 201, get, open/closed/history lists, cancel-all),
//! Trades (`/wallet/{w}/trades`, `/order/trades`), Accounts (`/wallet/{w}/accounts`) and the
//! classification of error replies by what the caller must do (spec §2.2, §2.3, §7).
//!
//! Not on the hot path (the gateway thread reads these), so owned `String`s are fine here, but
//! nothing panics on a malformed body: every failure is a [`ParseError`] or a [`MaxApiError`].
//!
//! The error replies' classification ([`classify_error`], [`MaxApiError`], [`sanitize`]) is
//! in `error.rs`; this file parses the success bodies.

mod error;

pub use error::{ErrorAction, MaxApiError, classify_error, sanitize};

use super::json::{ErrSlot, fail, take_err};
use super::private::MaxOrderState;
use crate::model::{ClientOid, DecimalRule, Fixed, OrderState, Side, Symbol, WalletType};
use crate::venue::{self, ParseError};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// Every MAX `ord_type` (arbline's [`crate::model::OrderType`] covers only what it sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxOrdType {
    Limit,
    Market,
    StopLimit,
    StopMarket,
    PostOnly,
    IocLimit,
    /// "Retail Price Improvement" (listed by V3SPEC, undocumented).
    Rpi,
}

impl MaxOrdType {
    pub fn from_wire(s: &str) -> Option<MaxOrdType> {
        Some(match s {
            "limit" => MaxOrdType::Limit,
            "market" => MaxOrdType::Market,
            "stop_limit" => MaxOrdType::StopLimit,
            "stop_market" => MaxOrdType::StopMarket,
            "post_only" => MaxOrdType::PostOnly,
            "ioc_limit" => MaxOrdType::IocLimit,
            "rpi" => MaxOrdType::Rpi,
            _ => return None,
        })
    }
}

/// A REST v3 Order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxOrder {
    pub id: u64,
    /// Empty when `null`.
    pub client_oid: ClientOid,
    pub market: Symbol,
    pub wallet: WalletType,
    pub side: Side,
    pub ord_type: MaxOrdType,
    /// arbline's view of `venue_state` (see [`MaxOrderState::exec`]).
    pub state: OrderState,
    /// The state as MAX wrote it.
    pub venue_state: MaxOrderState,
    /// `None` for market orders.
    pub price: Option<Fixed>,
    pub avg_price: Fixed,
    pub volume: Fixed,
    pub remaining_volume: Fixed,
    pub executed_volume: Fixed,
    pub trades_count: u32,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

#[derive(Deserialize)]
struct RawOrder<'a> {
    id: u64,
    #[serde(borrow, default)]
    wallet_type: Option<&'a str>,
    #[serde(borrow)]
    market: &'a str,
    #[serde(borrow, default)]
    client_oid: Option<&'a str>,
    #[serde(borrow)]
    side: &'a str,
    #[serde(borrow)]
    state: &'a str,
    #[serde(borrow)]
    ord_type: &'a str,
    #[serde(borrow, default)]
    price: Option<&'a str>,
    #[serde(borrow, default)]
    avg_price: Option<&'a str>,
    #[serde(borrow)]
    volume: &'a str,
    #[serde(borrow)]
    remaining_volume: &'a str,
    #[serde(borrow)]
    executed_volume: &'a str,
    #[serde(default)]
    trades_count: u32,
    created_at: u64,
    updated_at: u64,
}

/// An unsigned, exact decimal (a `-` is [`ParseError::BadValue`]).
fn decimal(field: &'static str, s: &str) -> Result<Fixed, ParseError> {
    venue::decimal(field, s.as_bytes(), DecimalRule::UNSIGNED)
}

/// An unsigned decimal cut toward zero after 8 fractional digits: only for values MAX computes
/// and sends with more (average prices: up to 27 decimals; balances: dust such as
/// `"0.000000495687689"` in the Node SDK fixture). The digits cut must still be digits.
fn truncating(field: &'static str, s: &str) -> Result<Fixed, ParseError> {
    venue::decimal(field, s.as_bytes(), DecimalRule::UNSIGNED_TRUNCATING)
}

impl RawOrder<'_> {
    fn convert(&self) -> Result<MaxOrder, ParseError> {
        let wallet = wallet_of(self.wallet_type)?;
        let client_oid = match self.client_oid {
            None | Some("") => ClientOid::default(),
            Some(s) => {
                ClientOid::from_bytes(s.as_bytes()).ok_or(ParseError::BadValue("client_oid"))?
            }
        };
        let volume = decimal("volume", self.volume)?;
        let remaining_volume = decimal("remaining_volume", self.remaining_volume)?;
        let executed_volume = decimal("executed_volume", self.executed_volume)?;
        if volume.raw() <= 0 {
            return Err(ParseError::BadValue("volume"));
        }
        if executed_volume > volume {
            return Err(ParseError::BadValue("executed_volume"));
        }
        if remaining_volume > volume {
            return Err(ParseError::BadValue("remaining_volume"));
        }
        let ord_type =
            MaxOrdType::from_wire(self.ord_type).ok_or(ParseError::BadValue("ord_type"))?;
        // A limit price is above zero; a market order has none (`null`).
        let price = match self.price.map(|p| decimal("price", p)).transpose()? {
            Some(p) if p.raw() <= 0 => return Err(ParseError::BadValue("price")),
            p => p,
        };
        let venue_state =
            MaxOrderState::from_wire(self.state.as_bytes()).ok_or(ParseError::BadValue("state"))?;
        Ok(MaxOrder {
            id: self.id,
            client_oid,
            market: Symbol::new(self.market).ok_or(ParseError::BadValue("market"))?,
            wallet,
            side: Side::from_wire(self.side.as_bytes()).ok_or(ParseError::BadValue("side"))?,
            ord_type,
            state: venue_state.exec(executed_volume).0,
            venue_state,
            price,
            avg_price: self
                .avg_price
                // A computed quotient with up to 27 decimals on the wire: truncated to 10⁻⁸.
                .map(|p| truncating("avg_price", p))
                .transpose()?
                .unwrap_or(Fixed::ZERO),
            volume,
            remaining_volume,
            executed_volume,
            trades_count: self.trades_count,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
        })
    }
}

/// One Order body (create, `GET /api/v3/order`).
pub fn parse_order(body: &[u8]) -> Result<MaxOrder, ParseError> {
    let raw: RawOrder = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    raw.convert()
}

/// A bare array of Orders (open / closed / history lists).
pub fn parse_orders(body: &[u8]) -> Result<Vec<MaxOrder>, ParseError> {
    let raw: Vec<RawOrder> = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    raw.iter().map(RawOrder::convert).collect()
}

/// The reply to a single cancel (`DELETE /api/v3/order`). Sources disagree on its shape
/// (spec §2.2): V3SPEC and the Node SDK say `{"success": true}`, bbgo and PYMAI expect an Order.
/// Both are accepted; either way the cancel is only *queued* and is confirmed by the WS
/// `order_update` with state `cancel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxCancelReply {
    /// `{"success": true}`.
    Accepted,
    /// An Order body (its state may still be `wait`).
    Order(MaxOrder),
}

#[derive(Deserialize)]
struct Success {
    success: bool,
}

pub fn parse_cancel_reply(body: &[u8]) -> Result<MaxCancelReply, ParseError> {
    if let Ok(Success { success }) = serde_json::from_slice::<Success>(body) {
        return if success {
            Ok(MaxCancelReply::Accepted)
        } else {
            Err(ParseError::BadValue("success"))
        };
    }
    parse_order(body).map(MaxCancelReply::Order)
}

#[derive(Deserialize)]
struct RawCancelAllEntry<'a> {
    #[serde(default)]
    error: Option<String>,
    #[serde(borrow)]
    order: RawOrder<'a>,
}

/// Cancel-all (`DELETE /api/v3/wallet/{w}/orders`): `[{"error": null|string, "order": Order}]`;
/// `[]` when nothing was open. Each entry is `(error, order)`, the venue's error text
/// [`sanitize`]d.
pub fn parse_cancel_all(body: &[u8]) -> Result<Vec<(Option<String>, MaxOrder)>, ParseError> {
    let raw: Vec<RawCancelAllEntry> = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    raw.into_iter()
        .map(|e| Ok((e.error.as_deref().map(sanitize), e.order.convert()?)))
        .collect()
}

/// A bare JSON array whose rows are converted as they are read: no list of raw rows is kept,
/// and the first row that fails to convert aborts the parse with its typed error.
struct RowsSeed<'s, R, T> {
    slot: &'s ErrSlot,
    convert: fn(&R) -> Result<T, ParseError>,
    _rows: PhantomData<fn() -> R>,
}

impl<'de, R: Deserialize<'de>, T> DeserializeSeed<'de> for RowsSeed<'_, R, T> {
    type Value = Vec<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: Deserialize<'de>, T> Visitor<'de> for RowsSeed<'_, R, T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(raw) = seq.next_element::<R>()? {
            out.push((self.convert)(&raw).map_err(|e| fail(self.slot, e))?);
        }
        Ok(out)
    }
}

fn parse_rows<'de, R: Deserialize<'de>, T>(
    body: &'de [u8],
    convert: fn(&R) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let slot = ErrSlot::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let rows = RowsSeed {
        slot: &slot,
        convert,
        _rows: PhantomData,
    }
    .deserialize(&mut de)
    .map_err(|_| take_err(&slot))?;
    de.end().map_err(|_| ParseError::Json)?;
    Ok(rows)
}

fn required<T>(v: Option<T>, field: &'static str) -> Result<T, ParseError> {
    v.ok_or(ParseError::MissingField(field))
}

/// One of our trades (REST v3 Trade, spec §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxTrade {
    pub id: u64,
    pub order_id: u64,
    pub wallet: WalletType,
    pub market: Symbol,
    /// `bid` → Buy, `ask` → Sell. A self-trade is reported as Sell: its `order_id` and fee
    /// fields describe the ask side (the `self_trade_bid_*` fields, not kept, the bid side).
    pub side: Side,
    /// `side: "self-trade"`: both sides were ours; the position did not change.
    pub self_trade: bool,
    pub price: Fixed,
    pub volume: Fixed,
    /// Quote amount, as MAX rounded it.
    pub funds: Fixed,
    /// `None` while MAX is still computing it (`fee: null`, bbgo's reading).
    pub fee: Option<Fixed>,
    /// Upper-cased (`BTC`, `MAX`); `None` when `null`.
    pub fee_currency: Option<Symbol>,
    /// `liquidity: "maker"`.
    pub maker: bool,
    pub created_at_ms: u64,
}

/// v2 `info`: `{"maker": "bid"|"ask", "bid": {..}, "ask": {..}}`.
#[derive(Deserialize)]
struct RawV2Info<'a> {
    #[serde(borrow)]
    maker: Option<&'a str>,
}

/// Every field optional, so a missing one is reported by name.
#[derive(Deserialize)]
struct RawTrade<'a> {
    id: Option<u64>,
    order_id: Option<u64>,
    #[serde(borrow)]
    wallet_type: Option<&'a str>,
    #[serde(borrow)]
    market: Option<&'a str>,
    #[serde(borrow)]
    side: Option<&'a str>,
    #[serde(borrow)]
    price: Option<&'a str>,
    #[serde(borrow)]
    volume: Option<&'a str>,
    #[serde(borrow)]
    funds: Option<&'a str>,
    #[serde(borrow)]
    fee: Option<&'a str>,
    #[serde(borrow)]
    fee_currency: Option<&'a str>,
    #[serde(borrow)]
    liquidity: Option<&'a str>,
    created_at: Option<u64>,
    /// v2 only: there `created_at` is in seconds.
    created_at_in_ms: Option<u64>,
    /// v2 only: which side was the maker (v2 has no `liquidity`).
    #[serde(borrow)]
    info: Option<RawV2Info<'a>>,
}

fn wallet_of(w: Option<&str>) -> Result<WalletType, ParseError> {
    match w {
        None | Some("spot") => Ok(WalletType::Spot),
        Some("m") => Ok(WalletType::Margin),
        Some(_) => Err(ParseError::BadValue("wallet_type")),
    }
}

impl RawTrade<'_> {
    fn convert(&self) -> Result<MaxTrade, ParseError> {
        let (side, self_trade) = match required(self.side, "side")? {
            "bid" => (Side::Buy, false),
            "ask" => (Side::Sell, false),
            "self-trade" => (Side::Sell, true),
            _ => return Err(ParseError::BadValue("side")),
        };
        let maker = match (self.liquidity, &self.info) {
            (Some("maker"), _) => true,
            (Some("taker"), _) => false,
            (Some(_), _) => return Err(ParseError::BadValue("liquidity")),
            // v2: we were the maker when the maker side is our side.
            (None, Some(RawV2Info { maker: Some(m) })) => match *m {
                "bid" | "ask" => *m == side.ws(),
                _ => return Err(ParseError::BadValue("info.maker")),
            },
            (None, _) => return Err(ParseError::MissingField("liquidity")),
        };
        let price = decimal("price", required(self.price, "price")?)?;
        let volume = decimal("volume", required(self.volume, "volume")?)?;
        let funds = decimal("funds", required(self.funds, "funds")?)?;
        if price.raw() <= 0 {
            return Err(ParseError::BadValue("price"));
        }
        if volume.raw() <= 0 {
            return Err(ParseError::BadValue("volume"));
        }
        if funds.raw() < 0 {
            return Err(ParseError::BadValue("funds"));
        }
        Ok(MaxTrade {
            id: required(self.id, "id")?,
            order_id: required(self.order_id, "order_id")?,
            wallet: wallet_of(self.wallet_type)?,
            market: Symbol::new(required(self.market, "market")?)
                .ok_or(ParseError::BadValue("market"))?,
            side,
            self_trade,
            price,
            volume,
            funds,
            fee: self.fee.map(|f| decimal("fee", f)).transpose()?,
            fee_currency: self
                .fee_currency
                .map(|c| Symbol::new(c).ok_or(ParseError::BadValue("fee_currency")))
                .transpose()?,
            maker,
            created_at_ms: required(self.created_at_in_ms.or(self.created_at), "created_at")?,
        })
    }
}

/// `[Trade]` from `GET /api/v3/wallet/{w}/trades` or `GET /api/v3/order/trades` (v2's
/// `/api/v2/trades/my` too: `created_at_in_ms` and `info.maker` stand in for v3's fields).
/// Decimals are exact: NaN, exponents, numbers and more than 8 decimals are refused.
pub fn parse_trades(body: &[u8]) -> Result<Vec<MaxTrade>, ParseError> {
    parse_rows(body, RawTrade::convert)
}

/// One currency of one wallet (REST v3 Account, spec §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxAccountBalance {
    /// Upper-cased (`BTC`).
    pub currency: Symbol,
    /// `balance` on the wire: what can be spent now.
    pub available: Fixed,
    pub locked: Fixed,
    /// `None` when `null` (the currency cannot be staked).
    pub staked: Option<Fixed>,
}

#[derive(Deserialize)]
struct RawAccount<'a> {
    #[serde(borrow)]
    currency: Option<&'a str>,
    #[serde(borrow)]
    balance: Option<&'a str>,
    #[serde(borrow)]
    locked: Option<&'a str>,
    #[serde(borrow)]
    staked: Option<&'a str>,
}

/// A balance truncated toward zero to 8 decimals: MAX keeps dust finer than that
/// (`"0.000000495687689"` in the Node SDK fixture), and one dusty currency must not make the
/// whole balance sheet unreadable. Truncating never shows more than the account holds.
fn amount(field: &'static str, s: &str) -> Result<Fixed, ParseError> {
    truncating(field, s)
}

impl RawAccount<'_> {
    fn convert(&self) -> Result<MaxAccountBalance, ParseError> {
        Ok(MaxAccountBalance {
            currency: Symbol::new(required(self.currency, "currency")?)
                .ok_or(ParseError::BadValue("currency"))?,
            available: amount("balance", required(self.balance, "balance")?)?,
            locked: amount("locked", required(self.locked, "locked")?)?,
            staked: self.staked.map(|s| amount("staked", s)).transpose()?,
        })
    }
}

/// `[Account]` from `GET /api/v3/wallet/{w}/accounts`. The M-wallet's extra `principal` and
/// `interest` are ignored.
pub fn parse_accounts(body: &[u8]) -> Result<Vec<MaxAccountBalance>, ParseError> {
    parse_rows(body, RawAccount::convert)
}
