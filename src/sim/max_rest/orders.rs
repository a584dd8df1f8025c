//! The order, trade and balance endpoints over the [`MaxAccount`]: create, cancel all, open
//! orders, trades, and the JSON the replies are written in.
//!
//! [`MaxAccount`]: crate::sim::max_account::MaxAccount

use super::{Reply, State, as_text, error, refusal};
use crate::model::{ClientOid, Fixed, OrderType, Side, WalletType};
use crate::sim::max_account::{NewVenueOrder, OrderKey, VenueOrder};
use crate::sim::max_frames::{write_order_created, write_rest_trade};
use serde_json::{Map, Value};

pub(super) fn order_json(o: &VenueOrder) -> Vec<u8> {
    let mut b = Vec::new();
    write_order_created(&mut b, &o.frame());
    b
}

pub(super) fn trade_json(t: &crate::sim::max_account::VenueTrade) -> Vec<u8> {
    let mut b = Vec::new();
    write_rest_trade(&mut b, &t.frame());
    b
}

impl State {
    pub(super) fn create(&mut self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let s = |k: &str| p.get(k).map(as_text);
        let Some((market, min)) = s("market").and_then(|m| {
            let x = self.markets.iter().find(|x| x.id.eq_lower(m.as_bytes()))?;
            Some((m, x.min_volume))
        }) else {
            return error(400, 1001, "market does not have a valid value");
        };
        let Some(side) = s("side").and_then(|v| Side::from_wire(v.as_bytes())) else {
            return error(400, 1001, "side does not have a valid value");
        };
        let ord_type = match s("ord_type") {
            None => OrderType::Limit,
            Some(t) => match OrderType::from_wire(t.as_bytes()) {
                Some(t) => t,
                None => return error(400, 1001, "ord_type does not have a valid value"),
            },
        };
        let (Some(volume), Some(price)) = (
            s("volume").and_then(|v| Fixed::parse(&v).ok()),
            s("price").and_then(|v| Fixed::parse(&v).ok()),
        ) else {
            return error(400, 1001, "volume and price must be decimals");
        };
        if volume.raw() <= 0 || volume < min {
            return error(400, 2016, "amount too small");
        }
        let client_oid = match s("client_oid") {
            Some(c) => match ClientOid::from_bytes(c.as_bytes()) {
                Some(c) => c,
                None => return error(400, 1001, "client_oid does not have a valid value"),
            },
            None => ClientOid::default(),
        };
        let o = NewVenueOrder {
            wallet,
            market: &market,
            side,
            ord_type,
            price,
            volume,
            client_oid,
        };
        match self.account.create(&o) {
            Ok(order) => (201, order_json(&order)),
            Err(r) => refusal(r),
        }
    }

    pub(super) fn cancel_all(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let market = p.get("market").map(as_text);
        let side = match p.get("side").map(as_text) {
            None => None,
            Some(s) => match Side::from_wire(s.as_bytes()) {
                Some(s) => Some(s),
                None => return error(400, 1001, "side does not have a valid value"),
            },
        };
        let orders = self.account.cancel_all(wallet, market.as_deref(), side);
        json_list(orders.iter().map(|o| {
            let mut b = b"{\"error\":null,\"order\":".to_vec();
            b.extend_from_slice(&order_json(o));
            b.push(b'}');
            b
        }))
    }

    /// `from_id` (ascending from it) or the newest first; `limit` 1–1000, default 50.
    pub(super) fn trades(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let limit = match p.get("limit").map(as_text) {
            None => 50,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return error(400, 1001, "limit does not have a valid value"),
            },
        };
        let from_id = p
            .get("from_id")
            .and_then(|v| as_text(v).parse::<u64>().ok());
        let market = p.get("market").map(as_text);
        let list = self
            .account
            .trades(wallet, market.as_deref(), from_id, limit);
        json_list(list.iter().map(trade_json))
    }

    pub(super) fn open(&self, wallet: WalletType, p: &Map<String, Value>) -> Reply {
        let market = p.get("market").map(as_text);
        let list = self.account.open_orders(wallet, market.as_deref());
        json_list(list.iter().map(order_json))
    }
}

/// `[a, b]` from the JSON texts of its elements.
pub(super) fn json_list(items: impl Iterator<Item = Vec<u8>>) -> Reply {
    let mut b = vec![b'['];
    for (i, item) in items.enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(&item);
    }
    b.push(b']');
    (200, b)
}

/// An order named by `id` or `client_oid` in a request's parameters.
pub(super) enum OwnedKey {
    Id(u64),
    ClientOid(String),
}

impl OwnedKey {
    pub(super) fn as_key(&self) -> OrderKey<'_> {
        match self {
            OwnedKey::Id(id) => OrderKey::Id(*id),
            OwnedKey::ClientOid(c) => OrderKey::ClientOid(c),
        }
    }
}

pub(super) fn order_key(p: &Map<String, Value>) -> Option<OwnedKey> {
    if let Some(id) = p.get("id").map(as_text).and_then(|v| v.parse::<u64>().ok()) {
        return Some(OwnedKey::Id(id));
    }
    p.get("client_oid").map(|c| OwnedKey::ClientOid(as_text(c)))
}
