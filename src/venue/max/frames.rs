//! Writers of MAX's exact wire text (public book, private order and trade updates, REST order
//! and error bodies), for the synthetic venue and the simulator. Each clears `out` and writes
//! into it; nothing is allocated once `out` has grown to the largest frame.

use crate::model::{ClientOid, Fixed, Level, OrderType, Side, WalletType};
use crate::venue::write::{dec, int, levels, string};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxBookFrame {
    Snapshot,
    Update,
}

/// `{"c":"book","e":"snapshot"|"update","M":..,"a":..,"b":..,"T":..,"fi":..,"li":..,"v":..}`
#[allow(clippy::too_many_arguments)]
pub fn write_book(
    out: &mut Vec<u8>,
    kind: MaxBookFrame,
    market_lower: &str,
    first_id: u64,
    last_id: u64,
    version: u64,
    ts_ms: u64,
    bids: &[Level],
    asks: &[Level],
) {
    out.clear();
    out.extend_from_slice(b"{\"c\":\"book\",\"e\":");
    out.extend_from_slice(match kind {
        MaxBookFrame::Snapshot => b"\"snapshot\"",
        MaxBookFrame::Update => b"\"update\"",
    });
    out.extend_from_slice(b",\"M\":");
    string(out, market_lower);
    out.extend_from_slice(b",\"a\":");
    levels(out, asks, None);
    out.extend_from_slice(b",\"b\":");
    levels(out, bids, None);
    out.extend_from_slice(b",\"T\":");
    int(out, ts_ms);
    out.extend_from_slice(b",\"fi\":");
    int(out, first_id);
    out.extend_from_slice(b",\"li\":");
    int(out, last_id);
    out.extend_from_slice(b",\"v\":");
    int(out, version);
    out.push(b'}');
}

/// One order as MAX describes it.
pub struct MaxOrderFrame<'a> {
    pub id: u64,
    pub client_oid: &'a ClientOid,
    pub market_lower: &'a str,
    pub wallet: WalletType,
    pub side: Side,
    pub ord_type: OrderType,
    pub price: Fixed,
    pub avg_price: Fixed,
    pub volume: Fixed,
    pub remaining: Fixed,
    pub executed: Fixed,
    /// `wait`, `done` or `cancel`.
    pub state: &'a str,
    pub trades_count: u32,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// One trade of ours as MAX describes it.
pub struct MaxTradeFrame<'a> {
    pub id: u64,
    pub order_id: u64,
    pub client_oid: &'a ClientOid,
    pub market_lower: &'a str,
    pub wallet: WalletType,
    pub side: Side,
    pub price: Fixed,
    pub volume: Fixed,
    pub fee: Fixed,
    pub fee_currency: &'a str,
    pub maker: bool,
    pub ts_ms: u64,
}

fn oid(out: &mut Vec<u8>, c: &ClientOid) {
    if c.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        string(out, c.as_str());
    }
}

/// Private `order_update` (or `mwallet_order_update`) with one order.
pub fn write_order_update(out: &mut Vec<u8>, o: &MaxOrderFrame, ts_ms: u64) {
    out.clear();
    out.extend_from_slice(b"{\"c\":\"user\",\"e\":");
    out.extend_from_slice(match o.wallet {
        WalletType::Spot => b"\"order_update\"",
        WalletType::Margin => b"\"mwallet_order_update\"",
    });
    out.extend_from_slice(b",\"o\":[{\"i\":");
    int(out, o.id);
    out.extend_from_slice(b",\"sd\":");
    string(out, o.side.ws());
    out.extend_from_slice(b",\"ot\":");
    string(out, o.ord_type.wire());
    out.extend_from_slice(b",\"p\":");
    dec(out, o.price);
    out.extend_from_slice(b",\"sp\":null,\"ap\":");
    dec(out, o.avg_price);
    out.extend_from_slice(b",\"v\":");
    dec(out, o.volume);
    out.extend_from_slice(b",\"rv\":");
    dec(out, o.remaining);
    out.extend_from_slice(b",\"ev\":");
    dec(out, o.executed);
    out.extend_from_slice(b",\"S\":");
    string(out, o.state);
    out.extend_from_slice(b",\"M\":");
    string(out, o.market_lower);
    out.extend_from_slice(b",\"tc\":");
    int(out, o.trades_count);
    out.extend_from_slice(b",\"T\":");
    int(out, o.created_ms);
    out.extend_from_slice(b",\"TU\":");
    int(out, o.updated_ms);
    out.extend_from_slice(b",\"gi\":null,\"ci\":");
    oid(out, o.client_oid);
    out.extend_from_slice(b"}],\"T\":");
    int(out, ts_ms);
    out.push(b'}');
}

/// Private `trade_update` (or `mwallet_trade_update`) with one trade; `fn` = price × volume.
pub fn write_trade_update(out: &mut Vec<u8>, t: &MaxTradeFrame, ts_ms: u64) {
    out.clear();
    out.extend_from_slice(b"{\"c\":\"user\",\"e\":");
    out.extend_from_slice(match t.wallet {
        WalletType::Spot => b"\"trade_update\"",
        WalletType::Margin => b"\"mwallet_trade_update\"",
    });
    out.extend_from_slice(b",\"t\":[{\"i\":");
    int(out, t.id);
    out.extend_from_slice(b",\"M\":");
    string(out, t.market_lower);
    out.extend_from_slice(b",\"sd\":");
    string(out, t.side.ws());
    out.extend_from_slice(b",\"p\":");
    dec(out, t.price);
    out.extend_from_slice(b",\"v\":");
    dec(out, t.volume);
    out.extend_from_slice(b",\"f\":");
    dec(out, t.fee);
    out.extend_from_slice(b",\"fc\":");
    string(out, t.fee_currency);
    out.extend_from_slice(b",\"fd\":false,\"fn\":");
    dec(out, t.price.checked_mul(t.volume).unwrap_or_default());
    out.extend_from_slice(b",\"T\":");
    int(out, t.ts_ms);
    out.extend_from_slice(b",\"TU\":");
    int(out, t.ts_ms);
    out.extend_from_slice(if t.maker {
        b",\"m\":true,\"oi\":"
    } else {
        b",\"m\":false,\"oi\":"
    });
    int(out, t.order_id);
    out.extend_from_slice(b",\"ci\":");
    oid(out, t.client_oid);
    out.extend_from_slice(b"}],\"T\":");
    int(out, ts_ms);
    out.push(b'}');
}

/// REST v3 Order body, as returned by `POST /api/v3/wallet/{w}/order` (HTTP 201).
pub fn write_order_created(out: &mut Vec<u8>, o: &MaxOrderFrame) {
    out.clear();
    out.extend_from_slice(b"{\"id\":");
    int(out, o.id);
    out.extend_from_slice(b",\"wallet_type\":");
    string(out, o.wallet.wire());
    out.extend_from_slice(b",\"market\":");
    string(out, o.market_lower);
    out.extend_from_slice(b",\"client_oid\":");
    oid(out, o.client_oid);
    out.extend_from_slice(b",\"group_id\":null,\"side\":");
    string(out, o.side.rest());
    out.extend_from_slice(b",\"state\":");
    string(out, o.state);
    out.extend_from_slice(b",\"ord_type\":");
    string(out, o.ord_type.wire());
    out.extend_from_slice(b",\"price\":");
    dec(out, o.price);
    out.extend_from_slice(b",\"stop_price\":null,\"avg_price\":");
    dec(out, o.avg_price);
    out.extend_from_slice(b",\"volume\":");
    dec(out, o.volume);
    out.extend_from_slice(b",\"remaining_volume\":");
    dec(out, o.remaining);
    out.extend_from_slice(b",\"executed_volume\":");
    dec(out, o.executed);
    out.extend_from_slice(b",\"trades_count\":");
    int(out, o.trades_count);
    out.extend_from_slice(b",\"created_at\":");
    int(out, o.created_ms);
    out.extend_from_slice(b",\"updated_at\":");
    int(out, o.updated_ms);
    out.push(b'}');
}

/// REST error body `{"success":false,"error":{"code":..,"message":".."}}`.
pub fn write_error(out: &mut Vec<u8>, code: u32, message: &str) {
    out.clear();
    out.extend_from_slice(b"{\"success\":false,\"error\":{\"code\":");
    int(out, code);
    out.extend_from_slice(b",\"message\":");
    string(out, message);
    out.extend_from_slice(b"}}");
}
