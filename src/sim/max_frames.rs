//! Writers of MAX wire text, for the simulator and the synthetic venue: public `book`, `trade`
//! and `ticker` frames, private `order_*` / `trade_*` / `account_*` events, snapshots and updates (spot and
//! `mwallet_`), the REST v3 Order body a create returns (HTTP 201), REST Trade and Account
//! objects, and the REST error body.
//!
//! Every frame writer clears the caller-owned `out` first and appends with `extend_from_slice`
//! only, so it allocates nothing once `out` has the capacity of the largest frame written
//! before. The REST object writers (`write_rest_trade`, `write_rest_account`) do not clear:
//! they append one element, so a caller builds a list `[a,b,..]` around them.
//! Decimals go through [`Fixed::write_to`] (canonical text, no `f64`); market and currency
//! names of orders, trades and balances are written lower case, as MAX does. Field order and key
//! names follow the WSDOC / V3SPEC examples in spec §3.4, §4.2, §4.3 and §2.2.
//!
//! One file: every writer of MAX's wire text shares the same field writers (decimals, levels,
//! order and trade rows), so public, private and REST writers stay together; the code is ~540
//! lines, the rest is its tests against the documented examples.

use crate::model::{ClientOid, Fixed, Level, OrderType, Side, WalletType};
use crate::venue::max::sign::{push_json_str, push_u64};

/// Which book event to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxBookFrame {
    Snapshot,
    Update,
}

/// An order as the venue reports it (`o` element of `order_update`, or a REST v3 Order).
#[derive(Clone, Copy, Debug)]
pub struct MaxOrderFrame<'a> {
    pub id: u64,
    /// Empty writes `null`.
    pub client_oid: &'a ClientOid,
    /// Any case; written lower case, as MAX does.
    pub market: &'a str,
    pub wallet: WalletType,
    pub side: Side,
    pub ord_type: OrderType,
    pub price: Fixed,
    pub avg_price: Fixed,
    pub volume: Fixed,
    pub remaining: Fixed,
    pub executed: Fixed,
    /// `wait` | `done` | `cancel` (written as given).
    pub state: &'a str,
    pub trades_count: u32,
    pub created_ms: u64,
    pub updated_ms: u64,
}

/// One of our trades (`t` element of `trade_update`).
#[derive(Clone, Copy, Debug)]
pub struct MaxTradeFrame<'a> {
    pub id: u64,
    pub order_id: u64,
    /// Empty leaves `ci` out.
    pub client_oid: &'a ClientOid,
    /// Any case; written lower case, as MAX does.
    pub market: &'a str,
    pub wallet: WalletType,
    pub side: Side,
    pub price: Fixed,
    pub volume: Fixed,
    pub fee: Fixed,
    /// Any case; written lower case.
    pub fee_currency: &'a str,
    pub maker: bool,
    pub ts_ms: u64,
}

/// One public trade (`t` element of a public `trade` event, spec §3.4): price, volume, time and
/// trend only — public trades carry no id and no user fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPublicTrade {
    pub price: Fixed,
    pub volume: Fixed,
    /// The taker's side: `Buy` is written `"tr":"up"`, `Sell` `"tr":"down"`.
    pub taker_side: Side,
    pub ts_ms: u64,
}

/// The statistics of a public `ticker` event (`tk`, spec §3.4). MAX's ticker has no best bid or
/// ask; the book with depth 1 gives those.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxTickerFrame {
    pub open: Fixed,
    pub high: Fixed,
    pub low: Fixed,
    pub close: Fixed,
    /// `v`: volume in the base currency.
    pub volume: Fixed,
    /// `V`: "volume in BTC" (the doc's example has `V` = `v`).
    pub volume_in_btc: Fixed,
}

/// Appends `"<decimal>"`.
fn push_dec(out: &mut Vec<u8>, v: Fixed) {
    let mut buf = [0u8; 24];
    out.push(b'"');
    out.extend_from_slice(v.write_to(&mut buf).as_bytes());
    out.push(b'"');
}

/// Appends `"<name>"` lower case: MAX writes market and currency names so (`btcusdt`, `twd`),
/// whatever case the caller keeps them in (`Symbol` keeps upper case).
fn push_name(out: &mut Vec<u8>, name: &str) {
    let start = out.len();
    push_json_str(out, name);
    // Escapes are lower case already (`\n`, `\u001f`).
    out[start..].make_ascii_lowercase();
}

fn push_levels(out: &mut Vec<u8>, levels: &[Level]) {
    out.push(b'[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        push_dec(out, l.price);
        out.push(b',');
        push_dec(out, l.qty);
        out.push(b']');
    }
    out.push(b']');
}

fn push_client_oid_or_null(out: &mut Vec<u8>, c: &ClientOid) {
    if c.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        push_json_str(out, c.as_str());
    }
}

/// `{"c":"book","e":"snapshot"|"update","M":m,"a":[[p,q]..],"b":[[p,q]..],"T":..,"fi":..,"li":..,"v":..}`
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
    push_json_str(out, market_lower);
    out.extend_from_slice(b",\"a\":");
    push_levels(out, asks);
    out.extend_from_slice(b",\"b\":");
    push_levels(out, bids);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, ts_ms);
    out.extend_from_slice(b",\"fi\":");
    push_u64(out, first_id);
    out.extend_from_slice(b",\"li\":");
    push_u64(out, last_id);
    out.extend_from_slice(b",\"v\":");
    push_u64(out, version);
    out.push(b'}');
}

fn push_public_head(out: &mut Vec<u8>, channel: &[u8], snapshot: bool, market_lower: &str) {
    out.extend_from_slice(b"{\"c\":\"");
    out.extend_from_slice(channel);
    out.extend_from_slice(if snapshot {
        b"\",\"e\":\"snapshot\",\"M\":"
    } else {
        b"\",\"e\":\"update\",\"M\":"
    });
    push_json_str(out, market_lower);
}

/// `{"c":"trade","e":"snapshot"|"update","M":m,"t":[{"p":..,"v":..,"T":..,"tr":"up"|"down"}..],
/// "T":ts}` (spec §3.4). A snapshot carries the recent trades (it may be empty); an update the
/// new ones, oldest first.
pub fn write_public_trades(
    out: &mut Vec<u8>,
    market_lower: &str,
    snapshot: bool,
    trades: &[MaxPublicTrade],
    ts_ms: u64,
) {
    out.clear();
    push_public_head(out, b"trade", snapshot, market_lower);
    out.extend_from_slice(b",\"t\":[");
    for (i, t) in trades.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"p\":");
        push_dec(out, t.price);
        out.extend_from_slice(b",\"v\":");
        push_dec(out, t.volume);
        out.extend_from_slice(b",\"T\":");
        push_u64(out, t.ts_ms);
        out.extend_from_slice(match t.taker_side {
            Side::Buy => b",\"tr\":\"up\"}",
            Side::Sell => b",\"tr\":\"down\"}",
        });
    }
    out.extend_from_slice(b"],\"T\":");
    push_u64(out, ts_ms);
    out.push(b'}');
}

/// `{"c":"ticker","e":"snapshot"|"update","M":m,"tk":{"M":m,"O":..,"H":..,"L":..,"C":..,"v":..,
/// "V":..},"T":ts}` (spec §3.4; both events have the same shape).
pub fn write_ticker(
    out: &mut Vec<u8>,
    market_lower: &str,
    snapshot: bool,
    tk: &MaxTickerFrame,
    ts_ms: u64,
) {
    out.clear();
    push_public_head(out, b"ticker", snapshot, market_lower);
    out.extend_from_slice(b",\"tk\":{\"M\":");
    push_json_str(out, market_lower);
    for (key, v) in [
        (&b",\"O\":"[..], tk.open),
        (b",\"H\":", tk.high),
        (b",\"L\":", tk.low),
        (b",\"C\":", tk.close),
        (b",\"v\":", tk.volume),
        (b",\"V\":", tk.volume_in_btc),
    ] {
        out.extend_from_slice(key);
        push_dec(out, v);
    }
    out.extend_from_slice(b"},\"T\":");
    push_u64(out, ts_ms);
    out.push(b'}');
}

fn event_prefix(wallet: WalletType) -> &'static [u8] {
    match wallet {
        WalletType::Spot => b"",
        WalletType::Margin => b"mwallet_",
    }
}

/// `{"c":"user","e":"<mwallet_?><event>","<key>":[` — the head of every private `user` event.
fn push_user_head(out: &mut Vec<u8>, wallet: WalletType, event: &[u8], key: u8) {
    out.extend_from_slice(b"{\"c\":\"user\",\"e\":\"");
    out.extend_from_slice(event_prefix(wallet));
    out.extend_from_slice(event);
    out.extend_from_slice(b"\",\"");
    out.push(key);
    out.extend_from_slice(b"\":[");
}

/// `],"T":ts}` — closes what [`push_user_head`] opened.
fn push_user_tail(out: &mut Vec<u8>, ts_ms: u64) {
    out.extend_from_slice(b"],\"T\":");
    push_u64(out, ts_ms);
    out.push(b'}');
}

/// One `o` element with the keys of spec §4.2 (`sp`, `gi` written as `null`).
fn push_order_row(out: &mut Vec<u8>, o: &MaxOrderFrame) {
    out.extend_from_slice(b"{\"i\":");
    push_u64(out, o.id);
    out.extend_from_slice(b",\"sd\":\"");
    out.extend_from_slice(o.side.ws().as_bytes());
    out.extend_from_slice(b"\",\"ot\":\"");
    out.extend_from_slice(o.ord_type.wire().as_bytes());
    out.extend_from_slice(b"\",\"p\":");
    push_dec(out, o.price);
    out.extend_from_slice(b",\"sp\":null,\"ap\":");
    push_dec(out, o.avg_price);
    out.extend_from_slice(b",\"v\":");
    push_dec(out, o.volume);
    out.extend_from_slice(b",\"rv\":");
    push_dec(out, o.remaining);
    out.extend_from_slice(b",\"ev\":");
    push_dec(out, o.executed);
    out.extend_from_slice(b",\"S\":");
    push_json_str(out, o.state);
    out.extend_from_slice(b",\"M\":");
    push_name(out, o.market);
    out.extend_from_slice(b",\"tc\":");
    push_u64(out, o.trades_count as u64);
    out.extend_from_slice(b",\"T\":");
    push_u64(out, o.created_ms);
    out.extend_from_slice(b",\"TU\":");
    push_u64(out, o.updated_ms);
    out.extend_from_slice(b",\"gi\":null,\"ci\":");
    push_client_oid_or_null(out, o.client_oid);
    out.push(b'}');
}

/// `price × volume`, the `fn` / `funds` a trade reports (0 if it overflows).
fn funds(t: &MaxTradeFrame) -> Fixed {
    t.price.checked_mul(t.volume).unwrap_or(Fixed::ZERO)
}

/// Whether MAX reports the fee as discounted: it is when paid in MAX token.
fn fee_discounted(t: &MaxTradeFrame) -> bool {
    t.fee_currency.eq_ignore_ascii_case("max")
}

/// One `t` element with the fee fields of spec §4.3; `fn` (funds) = price × volume, `fd` true
/// when the fee is paid in MAX.
fn push_trade_row(out: &mut Vec<u8>, t: &MaxTradeFrame) {
    out.extend_from_slice(b"{\"i\":");
    push_u64(out, t.id);
    out.extend_from_slice(b",\"M\":");
    push_name(out, t.market);
    out.extend_from_slice(b",\"sd\":\"");
    out.extend_from_slice(t.side.ws().as_bytes());
    out.extend_from_slice(b"\",\"p\":");
    push_dec(out, t.price);
    out.extend_from_slice(b",\"v\":");
    push_dec(out, t.volume);
    out.extend_from_slice(b",\"f\":");
    push_dec(out, t.fee);
    out.extend_from_slice(b",\"fc\":");
    push_name(out, t.fee_currency);
    out.extend_from_slice(if fee_discounted(t) {
        b",\"fd\":true,\"fn\":"
    } else {
        b",\"fd\":false,\"fn\":"
    });
    push_dec(out, funds(t));
    out.extend_from_slice(b",\"T\":");
    push_u64(out, t.ts_ms);
    out.extend_from_slice(b",\"TU\":");
    push_u64(out, t.ts_ms);
    out.extend_from_slice(if t.maker {
        b",\"m\":true,\"oi\":"
    } else {
        b",\"m\":false,\"oi\":"
    });
    push_u64(out, t.order_id);
    if !t.client_oid.is_empty() {
        out.extend_from_slice(b",\"ci\":");
        push_json_str(out, t.client_oid.as_str());
    }
    out.push(b'}');
}

/// `{"c":"user","e":"order_update"|"mwallet_order_update","o":[{..}],"T":ts}` (spec §4.2).
pub fn write_order_update(out: &mut Vec<u8>, o: &MaxOrderFrame, ts_ms: u64) {
    out.clear();
    push_user_head(out, o.wallet, b"order_update", b'o');
    push_order_row(out, o);
    push_user_tail(out, ts_ms);
}

/// `{"c":"user","e":"order_snapshot"|"mwallet_order_snapshot","o":[..],"T":ts}`: the open
/// orders MAX sends right after auth (spec §4.2). The wallet is the first order's (all must
/// share it); an empty slice writes the spot event `"o":[]` — use
/// [`write_order_snapshot_in`] for an empty M-wallet snapshot.
pub fn write_order_snapshot(out: &mut Vec<u8>, orders: &[MaxOrderFrame], ts_ms: u64) {
    let wallet = orders.first().map_or(WalletType::Spot, |o| o.wallet);
    write_order_snapshot_in(out, wallet, orders, ts_ms);
}

/// [`write_order_snapshot`] with the wallet named, so an empty snapshot of either wallet can
/// be written.
pub fn write_order_snapshot_in(
    out: &mut Vec<u8>,
    wallet: WalletType,
    orders: &[MaxOrderFrame],
    ts_ms: u64,
) {
    debug_assert!(orders.iter().all(|o| o.wallet == wallet), "one wallet");
    out.clear();
    push_user_head(out, wallet, b"order_snapshot", b'o');
    for (i, o) in orders.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_order_row(out, o);
    }
    push_user_tail(out, ts_ms);
}

/// `{"c":"user","e":"trade_update"|"mwallet_trade_update","t":[{..}],"T":ts}` (spec §4.3).
pub fn write_trade_update(out: &mut Vec<u8>, t: &MaxTradeFrame, ts_ms: u64) {
    out.clear();
    push_user_head(out, t.wallet, b"trade_update", b't');
    push_trade_row(out, t);
    push_user_tail(out, ts_ms);
}

/// `{"c":"user","e":"trade_snapshot"|"mwallet_trade_snapshot","t":[..],"T":ts}`: the last
/// trades MAX sends right after auth (at most 100, spec §4.3). Wallet as in
/// [`write_order_snapshot`].
pub fn write_trade_snapshot(out: &mut Vec<u8>, trades: &[MaxTradeFrame], ts_ms: u64) {
    let wallet = trades.first().map_or(WalletType::Spot, |t| t.wallet);
    write_trade_snapshot_in(out, wallet, trades, ts_ms);
}

/// [`write_trade_snapshot`] with the wallet named.
pub fn write_trade_snapshot_in(
    out: &mut Vec<u8>,
    wallet: WalletType,
    trades: &[MaxTradeFrame],
    ts_ms: u64,
) {
    debug_assert!(trades.iter().all(|t| t.wallet == wallet), "one wallet");
    out.clear();
    push_user_head(out, wallet, b"trade_snapshot", b't');
    for (i, t) in trades.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_trade_row(out, t);
    }
    push_user_tail(out, ts_ms);
}

/// `{"c":"user","e":"account_snapshot"|"account_update"|"mwallet_…","B":[{"cu","av","l",
/// "stk":null,"TU"}..],"T":ts}` (spec §4.4); each balance is `(currency, available, locked)`
/// (the currency written lower case) and carries `TU` = `ts_ms`. An update lists only the currencies that changed.
pub fn write_account_event(
    out: &mut Vec<u8>,
    wallet: WalletType,
    snapshot: bool,
    balances: &[(&str, Fixed, Fixed)],
    ts_ms: u64,
) {
    out.clear();
    let event: &[u8] = if snapshot {
        b"account_snapshot"
    } else {
        b"account_update"
    };
    push_user_head(out, wallet, event, b'B');
    for (i, (currency, available, locked)) in balances.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"cu\":");
        push_name(out, currency);
        out.extend_from_slice(b",\"av\":");
        push_dec(out, *available);
        out.extend_from_slice(b",\"l\":");
        push_dec(out, *locked);
        out.extend_from_slice(b",\"stk\":null,\"TU\":");
        push_u64(out, ts_ms);
        out.push(b'}');
    }
    push_user_tail(out, ts_ms);
}

/// One REST v3 Trade object (spec §2.2), appended to `out` (no clear), from the same frame the
/// WS writer uses: `funds` = price × volume, `fee_discounted` when paid in MAX, `liquidity`
/// from `maker`. `market_name` (`BTC/USDT`) is left out: the frame does not split the market
/// into base and quote, and arbline's parser does not read it.
pub fn write_rest_trade(out: &mut Vec<u8>, t: &MaxTradeFrame) {
    out.extend_from_slice(b"{\"id\":");
    push_u64(out, t.id);
    out.extend_from_slice(b",\"order_id\":");
    push_u64(out, t.order_id);
    out.extend_from_slice(b",\"wallet_type\":\"");
    out.extend_from_slice(t.wallet.wire().as_bytes());
    out.extend_from_slice(b"\",\"price\":");
    push_dec(out, t.price);
    out.extend_from_slice(b",\"volume\":");
    push_dec(out, t.volume);
    out.extend_from_slice(b",\"funds\":");
    push_dec(out, funds(t));
    out.extend_from_slice(b",\"market\":");
    push_name(out, t.market);
    out.extend_from_slice(b",\"side\":\"");
    out.extend_from_slice(t.side.ws().as_bytes());
    out.extend_from_slice(b"\",\"fee\":");
    push_dec(out, t.fee);
    out.extend_from_slice(b",\"fee_currency\":");
    push_name(out, t.fee_currency);
    out.extend_from_slice(if fee_discounted(t) {
        b",\"fee_discounted\":true"
    } else {
        b",\"fee_discounted\":false"
    });
    out.extend_from_slice(if t.maker {
        b",\"liquidity\":\"maker\",\"created_at\":"
    } else {
        b",\"liquidity\":\"taker\",\"created_at\":"
    });
    push_u64(out, t.ts_ms);
    out.push(b'}');
}

/// One REST v3 Account object (spec §2.2) appended to `out` (no clear): `currency` written
/// lower case, `balance` is the available amount; `staked` is written `null`.
pub fn write_rest_account(out: &mut Vec<u8>, currency: &str, available: Fixed, locked: Fixed) {
    out.extend_from_slice(b"{\"currency\":");
    push_name(out, currency);
    out.extend_from_slice(b",\"balance\":");
    push_dec(out, available);
    out.extend_from_slice(b",\"locked\":");
    push_dec(out, locked);
    out.extend_from_slice(b",\"staked\":null}");
}

/// The REST v3 Order body a create returns (HTTP 201), keys as in spec §2.2.
pub fn write_order_created(out: &mut Vec<u8>, o: &MaxOrderFrame) {
    out.clear();
    out.extend_from_slice(b"{\"id\":");
    push_u64(out, o.id);
    out.extend_from_slice(b",\"wallet_type\":\"");
    out.extend_from_slice(o.wallet.wire().as_bytes());
    out.extend_from_slice(b"\",\"market\":");
    push_name(out, o.market);
    out.extend_from_slice(b",\"client_oid\":");
    push_client_oid_or_null(out, o.client_oid);
    out.extend_from_slice(b",\"group_id\":null,\"side\":\"");
    out.extend_from_slice(o.side.rest().as_bytes());
    out.extend_from_slice(b"\",\"state\":");
    push_json_str(out, o.state);
    out.extend_from_slice(b",\"ord_type\":\"");
    out.extend_from_slice(o.ord_type.wire().as_bytes());
    out.extend_from_slice(b"\",\"price\":");
    push_dec(out, o.price);
    out.extend_from_slice(b",\"stop_price\":null,\"avg_price\":");
    push_dec(out, o.avg_price);
    out.extend_from_slice(b",\"volume\":");
    push_dec(out, o.volume);
    out.extend_from_slice(b",\"remaining_volume\":");
    push_dec(out, o.remaining);
    out.extend_from_slice(b",\"executed_volume\":");
    push_dec(out, o.executed);
    out.extend_from_slice(b",\"trades_count\":");
    push_u64(out, o.trades_count as u64);
    out.extend_from_slice(b",\"created_at\":");
    push_u64(out, o.created_ms);
    out.extend_from_slice(b",\"updated_at\":");
    push_u64(out, o.updated_ms);
    out.push(b'}');
}

/// `{"success":false,"error":{"code":..,"message":".."}}` (spec §2.3).
pub fn write_error(out: &mut Vec<u8>, code: u32, message: &str) {
    out.clear();
    out.extend_from_slice(b"{\"success\":false,\"error\":{\"code\":");
    push_u64(out, code as u64);
    out.extend_from_slice(b",\"message\":");
    push_json_str(out, message);
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_written_lower_case_whatever_case_they_are_kept_in() {
        let oid = ClientOid::default();
        let t = MaxTradeFrame {
            id: 1,
            order_id: 2,
            client_oid: &oid,
            market: "BTCTWD",
            wallet: WalletType::Spot,
            side: Side::Buy,
            price: Fixed::ONE,
            volume: Fixed::ONE,
            fee: Fixed::ZERO,
            fee_currency: "TWD",
            maker: true,
            ts_ms: 3,
        };
        let mut out = Vec::new();
        write_rest_trade(&mut out, &t);
        write_rest_account(&mut out, "USDT", Fixed::ONE, Fixed::ZERO);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#""market":"btctwd""#), "{text}");
        assert!(text.contains(r#""fee_currency":"twd""#), "{text}");
        assert!(text.contains(r#""currency":"usdt""#), "{text}");
    }

    #[test]
    fn written_public_trades_parse_back() {
        use crate::model::{Instruments, MdKind, Venue};
        use crate::venue::max::{MaxPublicOutcome, MaxPublicParser};
        let instruments = || {
            let mut i = Instruments::new();
            i.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
            i
        };
        let t = |p: &str, v: &str, side, ts| MaxPublicTrade {
            price: Fixed::parse(p).unwrap(),
            volume: Fixed::parse(v).unwrap(),
            taker_side: side,
            ts_ms: ts,
        };
        let trades = [
            t("95000.01", "0.012", Side::Buy, 1_000),
            t("94999.99", "0.5", Side::Sell, 1_001),
        ];
        let mut frame = Vec::new();
        for snapshot in [true, false] {
            write_public_trades(&mut frame, "btcusdt", snapshot, &trades, 1_002);
            let mut p = MaxPublicParser::new();
            let mut got = Vec::new();
            let r = p
                .parse(&frame, 3, &instruments(), |e| got.push(*e))
                .unwrap();
            assert_eq!(r, MaxPublicOutcome::Market { events: 2 });
            for (e, w) in got.iter().zip(&trades) {
                assert_eq!(e.kind, MdKind::Trade);
                assert_eq!(e.side, w.taker_side);
                assert_eq!(e.exch_ts_ms, w.ts_ms);
                assert_eq!(
                    e.bids(),
                    &[Level {
                        price: w.price,
                        qty: w.volume
                    }]
                );
            }
        }
        // An empty snapshot is valid: no events, not an error.
        write_public_trades(&mut frame, "btcusdt", true, &[], 1_002);
        let r = MaxPublicParser::new().parse(&frame, 3, &instruments(), |_| {});
        assert_eq!(r, Ok(MaxPublicOutcome::Market { events: 0 }));
    }

    #[test]
    fn book_frame_matches_doc_text() {
        let mut out = Vec::with_capacity(256);
        let l = |p: &str, q: &str| Level {
            price: Fixed::parse(p).unwrap(),
            qty: Fixed::parse(q).unwrap(),
        };
        write_book(
            &mut out,
            MaxBookFrame::Snapshot,
            "btcusdt",
            12141725,
            12141725,
            1725602999632,
            1591869939634,
            &[l("5333.3", "0.5")],
            &[l("5337.3", "0.1")],
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"c":"book","e":"snapshot","M":"btcusdt","a":[["5337.3","0.1"]],"b":[["5333.3","0.5"]],"T":1591869939634,"fi":12141725,"li":12141725,"v":1725602999632}"#
        );
        let cap = out.capacity();
        write_book(
            &mut out,
            MaxBookFrame::Update,
            "btcusdt",
            1,
            1,
            1,
            1,
            &[],
            &[],
        );
        assert_eq!(
            out.capacity(),
            cap,
            "no reallocation when capacity suffices"
        );
    }

    fn fx(s: &str) -> Fixed {
        Fixed::parse(s).unwrap()
    }

    #[test]
    fn public_trades_frame_matches_doc_text() {
        let mut out = Vec::new();
        let t = MaxPublicTrade {
            price: fx("5337.3"),
            volume: fx("0.1"),
            taker_side: Side::Buy,
            ts_ms: 123456789,
        };
        write_public_trades(&mut out, "btctwd", true, &[t], 123456789);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"c":"trade","e":"snapshot","M":"btctwd","t":[{"p":"5337.3","v":"0.1","T":123456789,"tr":"up"}],"T":123456789}"#
        );
        let down = MaxPublicTrade {
            taker_side: Side::Sell,
            ..t
        };
        write_public_trades(&mut out, "btctwd", false, &[t, down], 5);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"c":"trade","e":"update","M":"btctwd","t":[{"p":"5337.3","v":"0.1","T":123456789,"tr":"up"},{"p":"5337.3","v":"0.1","T":123456789,"tr":"down"}],"T":5}"#
        );
        write_public_trades(&mut out, "btctwd", true, &[], 5);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"c":"trade","e":"snapshot","M":"btctwd","t":[],"T":5}"#
        );
    }

    #[test]
    fn ticker_frame_matches_doc_text() {
        let mut out = Vec::new();
        let tk = MaxTickerFrame {
            open: fx("280007.1"),
            high: fx("280017.2"),
            low: fx("280005.3"),
            close: fx("280004.5"),
            volume: fx("71.01"),
            volume_in_btc: fx("71.01"),
        };
        write_ticker(&mut out, "btctwd", true, &tk, 123456789);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"c":"ticker","e":"snapshot","M":"btctwd","tk":{"M":"btctwd","O":"280007.1","H":"280017.2","L":"280005.3","C":"280004.5","v":"71.01","V":"71.01"},"T":123456789}"#
        );
    }

    #[test]
    fn error_body_escapes_message() {
        let mut out = Vec::new();
        write_error(&mut out, 2018, "cannot \"lock\" funds");
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"success":false,"error":{"code":2018,"message":"cannot \"lock\" funds"}}"#
        );
    }
}
