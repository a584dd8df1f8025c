//! Order vocabulary shared by every stage, as in the seed's `config_enum.py`: sides, order
//! types, order states, wallet types, strategies, the trading state of the kill switch, and the
//! fixed-size client order id.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Side {
    #[default]
    Buy = 0,
    Sell = 1,
}

impl Side {
    /// MAX REST v3 orders: `buy` / `sell`.
    pub fn rest(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
    /// MAX WebSocket and REST trades: `bid` / `ask`.
    pub fn ws(self) -> &'static str {
        match self {
            Side::Buy => "bid",
            Side::Sell => "ask",
        }
    }
    /// Accepts `buy`/`bid` and `sell`/`ask`.
    pub fn from_wire(s: &[u8]) -> Option<Side> {
        match s {
            b"buy" | b"bid" => Some(Side::Buy),
            b"sell" | b"ask" => Some(Side::Sell),
            _ => None,
        }
    }
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    /// +1 for buys, -1 for sells.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

/// MAX `ord_type` values arbline sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum OrderType {
    /// Good-till-cancelled limit order (`limit`).
    #[default]
    Limit = 0,
    /// Maker-only (`post_only`): rejected or cancelled by the venue if it would cross.
    PostOnly = 1,
    /// Immediate-or-cancel limit (`ioc_limit`): fills what it can, cancels the rest.
    IocLimit = 2,
}

impl OrderType {
    pub fn wire(self) -> &'static str {
        match self {
            OrderType::Limit => "limit",
            OrderType::PostOnly => "post_only",
            OrderType::IocLimit => "ioc_limit",
        }
    }
    pub fn from_wire(s: &[u8]) -> Option<OrderType> {
        match s {
            b"limit" => Some(OrderType::Limit),
            b"post_only" => Some(OrderType::PostOnly),
            b"ioc_limit" => Some(OrderType::IocLimit),
            _ => None,
        }
    }
}

/// Where an order is in its life, as the order stage sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum OrderState {
    /// Handed to the gateway, no answer yet.
    #[default]
    PendingNew = 0,
    /// Acknowledged and resting (MAX `wait` with nothing executed).
    New = 1,
    /// MAX `wait` with some volume executed.
    PartiallyFilled = 2,
    /// MAX `done`: fully executed.
    Filled = 3,
    /// A cancel was sent and the venue has not confirmed it: the order may still fill.
    PendingCancel = 4,
    /// MAX `cancel`: no more fills (may be partially filled).
    Cancelled = 5,
    /// Refused by risk or by the venue.
    Rejected = 6,
}

impl OrderState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected
        )
    }
}

/// MAX wallet: `spot` or `m` (M-wallet, margin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum WalletType {
    #[default]
    Spot = 0,
    #[serde(rename = "m")]
    Margin = 1,
}

impl WalletType {
    pub fn wire(self) -> &'static str {
        match self {
            WalletType::Spot => "spot",
            WalletType::Margin => "m",
        }
    }
}

/// The seed's `RunningStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Strategy {
    #[default]
    Arbitrage = 0,
    StableCoin = 1,
    Test = 2,
    /// Orders the engine did not place (by hand, another program): adopted by the reconciler,
    /// counted in exposure, never cancelled by the engine.
    External = 3,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::Arbitrage,
        Strategy::StableCoin,
        Strategy::Test,
        Strategy::External,
    ];
    /// The `{strategy_id}` of client order ids and the name in reports.
    pub fn id(self) -> &'static str {
        match self {
            Strategy::Arbitrage => "arbitrage",
            Strategy::StableCoin => "stable_coin",
            Strategy::Test => "test",
            Strategy::External => "external",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The kill switch. `Reducing` lets only position-reducing orders through; `Halted` none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum TradingState {
    #[default]
    Active = 0,
    Reducing = 1,
    Halted = 2,
}

/// MAX's limit on `client_oid`.
pub const CLIENT_OID_CAP: usize = 36;

/// A client order id stored inline: `{strategy_id}_{wallet_type}_{ms_timestamp}`, ≤ 36 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOid {
    len: u8,
    bytes: [u8; CLIENT_OID_CAP],
}

impl Default for ClientOid {
    fn default() -> Self {
        ClientOid {
            len: 0,
            bytes: [0; CLIENT_OID_CAP],
        }
    }
}

impl ClientOid {
    /// `None` when longer than 36 bytes or not printable ASCII.
    pub fn from_bytes(b: &[u8]) -> Option<ClientOid> {
        if b.is_empty() || b.len() > CLIENT_OID_CAP || !b.iter().all(|c| c.is_ascii_graphic()) {
            return None;
        }
        let mut bytes = [0u8; CLIENT_OID_CAP];
        bytes[..b.len()].copy_from_slice(b);
        Some(ClientOid {
            len: b.len() as u8,
            bytes,
        })
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for ClientOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
impl fmt::Debug for ClientOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}
