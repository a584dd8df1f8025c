//! MAX REST v3 replies: orders, and error bodies classified by what the caller must do
//! (spec max.md §2.2, §2.3). Not on the hot path; never panics on a body.

use crate::model::{ClientOid, Fixed, OrderState, OrderType, Side, Symbol, WalletType};
use crate::venue::levels::decimal;
use crate::venue::parse_error::ParseError;
use serde::Deserialize;
use std::fmt;

/// A REST v3 Order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxOrder {
    pub id: u64,
    pub client_oid: ClientOid,
    pub market: Symbol,
    pub wallet: WalletType,
    pub side: Side,
    pub ord_type: OrderType,
    pub state: OrderState,
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
struct OrderBody<'a> {
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
    #[serde(default)]
    created_at: u64,
    #[serde(default)]
    updated_at: u64,
}

fn convert(b: OrderBody) -> Result<MaxOrder, ParseError> {
    let executed = decimal("executed_volume", b.executed_volume)?;
    // bbgo's mapping (spec §5): done/finalizing → filled; cancel → cancelled; wait/convert → new or
    // partially filled; failed → rejected.
    let state = match b.state {
        "wait" | "convert" if executed.is_zero() => OrderState::New,
        "wait" | "convert" => OrderState::PartiallyFilled,
        "done" | "finalizing" => OrderState::Filled,
        "cancel" => OrderState::Cancelled,
        "failed" => OrderState::Rejected,
        _ => return Err(ParseError::BadValue("state")),
    };
    Ok(MaxOrder {
        id: b.id,
        client_oid: match b.client_oid {
            None | Some("") => ClientOid::default(),
            Some(s) => {
                ClientOid::from_bytes(s.as_bytes()).ok_or(ParseError::BadValue("client_oid"))?
            }
        },
        market: Symbol::new(b.market).ok_or(ParseError::BadValue("market"))?,
        wallet: match b.wallet_type {
            None | Some("spot") => WalletType::Spot,
            Some("m") => WalletType::Margin,
            Some(_) => return Err(ParseError::BadValue("wallet_type")),
        },
        side: Side::from_wire(b.side.as_bytes()).ok_or(ParseError::BadValue("side"))?,
        // Only the types arbline sends; market and stop orders are refused as unknown.
        ord_type: OrderType::from_wire(b.ord_type.as_bytes())
            .ok_or(ParseError::BadValue("ord_type"))?,
        state,
        price: b.price.map(|p| decimal("price", p)).transpose()?,
        avg_price: b
            .avg_price
            .map(|p| decimal("avg_price", p))
            .transpose()?
            .unwrap_or_default(),
        volume: decimal("volume", b.volume)?,
        remaining_volume: decimal("remaining_volume", b.remaining_volume)?,
        executed_volume: executed,
        trades_count: b.trades_count,
        created_at_ms: b.created_at,
        updated_at_ms: b.updated_at,
    })
}

pub fn parse_order(body: &[u8]) -> Result<MaxOrder, ParseError> {
    let b: OrderBody = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    convert(b)
}

pub fn parse_orders(body: &[u8]) -> Result<Vec<MaxOrder>, ParseError> {
    let v: Vec<OrderBody> = serde_json::from_slice(body).map_err(|_| ParseError::Json)?;
    v.into_iter().map(convert).collect()
}

/// What the caller must do about a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// The nonce was refused before the request reached the engine: resend with a new nonce.
    RetryWithNewNonce,
    /// The venue is overloaded or down: wait and retry later.
    BackOff,
    /// This order is refused; other orders may go on.
    Reject,
    /// Credentials, permissions or account state: stop trading until an operator looks.
    Halt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxApiError {
    pub http_status: u16,
    pub code: Option<u32>,
    pub message: String,
    pub action: ErrorAction,
}

impl fmt::Display for MaxApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(c) => write!(
                f,
                "MAX HTTP {} error {c}: {} ({:?})",
                self.http_status, self.message, self.action
            ),
            None => write!(
                f,
                "MAX HTTP {}: {} ({:?})",
                self.http_status, self.message, self.action
            ),
        }
    }
}

impl std::error::Error for MaxApiError {}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorInner,
}

#[derive(Deserialize)]
struct ErrorInner {
    code: u32,
    #[serde(default)]
    message: String,
}

fn action_for(status: u16, code: Option<u32>) -> ErrorAction {
    match code {
        Some(2006 | 2007) => ErrorAction::RetryWithNewNonce,
        Some(2001 | 2005 | 2008..=2011 | 2014 | 2015 | 2017 | 2060..=2066 | 4009 | 5004) => {
            ErrorAction::Halt
        }
        Some(5999) => ErrorAction::BackOff,
        Some(_) if status >= 500 || status == 429 => ErrorAction::BackOff,
        Some(_) => ErrorAction::Reject,
        None if status >= 500 || status == 429 => ErrorAction::BackOff,
        None if status == 401 || status == 403 => ErrorAction::Halt,
        None => ErrorAction::Reject,
    }
}

/// Classifies a non-2xx reply: MAX's JSON error object, or an HTML / plain-text body (proxy
/// pages on 5xx). The message is the venue's text, cut to 200 characters; request data is never
/// included.
pub fn classify_error(http_status: u16, body: &[u8]) -> MaxApiError {
    if let Ok(b) = serde_json::from_slice::<ErrorBody>(body) {
        let message: String = b.error.message.chars().take(200).collect();
        return MaxApiError {
            http_status,
            code: Some(b.error.code),
            message,
            action: action_for(http_status, Some(b.error.code)),
        };
    }
    let text = String::from_utf8_lossy(body);
    let message = if text.trim_start().starts_with('<') {
        "non-JSON (HTML) error body".to_string()
    } else {
        text.trim().chars().take(200).collect()
    };
    MaxApiError {
        http_status,
        code: None,
        message,
        action: action_for(http_status, None),
    }
}
