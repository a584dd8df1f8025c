//! Writers of Binance's exact wire text (combined-stream bookTicker and diff depth, REST depth
//! snapshot), for the synthetic venue and the simulator. Spot prices and sizes are written with
//! 8 decimals as spot sends them; futures with their canonical text. Each writer clears `out`.

use super::parse::BinanceMarket;
use crate::model::{Fixed, Level};
use crate::venue::write::{dec, dec_fixed, int, levels};

fn num(out: &mut Vec<u8>, market: BinanceMarket, v: Fixed) {
    match market {
        BinanceMarket::Spot => dec_fixed(out, v, 8),
        BinanceMarket::Futures => dec(out, v),
    }
}

fn level_style(market: BinanceMarket) -> Option<u32> {
    match market {
        BinanceMarket::Spot => Some(8),
        BinanceMarket::Futures => None,
    }
}

fn upper(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    out.extend(s.bytes().map(|c| c.to_ascii_uppercase()));
    out.push(b'"');
}

/// `{"stream":"<sym>@bookTicker","data":{…}}`.
#[allow(clippy::too_many_arguments)]
pub fn write_book_ticker(
    out: &mut Vec<u8>,
    market: BinanceMarket,
    symbol_lower: &str,
    update_id: u64,
    event_ms: u64,
    bid: Level,
    ask: Level,
) {
    out.clear();
    out.extend_from_slice(b"{\"stream\":\"");
    out.extend_from_slice(symbol_lower.as_bytes());
    out.extend_from_slice(b"@bookTicker\",\"data\":{");
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b"\"e\":\"bookTicker\",");
    }
    out.extend_from_slice(b"\"u\":");
    int(out, update_id);
    out.extend_from_slice(b",\"s\":");
    upper(out, symbol_lower);
    out.extend_from_slice(b",\"b\":");
    num(out, market, bid.price);
    out.extend_from_slice(b",\"B\":");
    num(out, market, bid.qty);
    out.extend_from_slice(b",\"a\":");
    num(out, market, ask.price);
    out.extend_from_slice(b",\"A\":");
    num(out, market, ask.qty);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"T\":");
        int(out, event_ms);
        out.extend_from_slice(b",\"E\":");
        int(out, event_ms);
    }
    out.extend_from_slice(b"}}");
}

/// `{"stream":"<sym>@depth@100ms","data":{"e":"depthUpdate",…}}`; spot has no `T`/`pu`.
#[allow(clippy::too_many_arguments)]
pub fn write_depth_update(
    out: &mut Vec<u8>,
    market: BinanceMarket,
    symbol_lower: &str,
    first_id: u64,
    last_id: u64,
    prev_id: i64,
    event_ms: u64,
    bids: &[Level],
    asks: &[Level],
) {
    out.clear();
    out.extend_from_slice(b"{\"stream\":\"");
    out.extend_from_slice(symbol_lower.as_bytes());
    out.extend_from_slice(b"@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":");
    int(out, event_ms);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"T\":");
        int(out, event_ms);
    }
    out.extend_from_slice(b",\"s\":");
    upper(out, symbol_lower);
    out.extend_from_slice(b",\"U\":");
    int(out, first_id);
    out.extend_from_slice(b",\"u\":");
    int(out, last_id);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"pu\":");
        int(out, prev_id);
    }
    out.extend_from_slice(b",\"b\":");
    levels(out, bids, level_style(market));
    out.extend_from_slice(b",\"a\":");
    levels(out, asks, level_style(market));
    out.extend_from_slice(b"}}");
}

/// REST depth body (`GET /api/v3/depth`; futures `/fapi/v1/depth` adds `E`, `T`).
pub fn write_depth_snapshot(
    out: &mut Vec<u8>,
    market: BinanceMarket,
    last_update_id: u64,
    event_ms: u64,
    bids: &[Level],
    asks: &[Level],
) {
    out.clear();
    out.extend_from_slice(b"{\"lastUpdateId\":");
    int(out, last_update_id);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"E\":");
        int(out, event_ms);
        out.extend_from_slice(b",\"T\":");
        int(out, event_ms);
    }
    out.extend_from_slice(b",\"bids\":");
    levels(out, bids, level_style(market));
    out.extend_from_slice(b",\"asks\":");
    levels(out, asks, level_style(market));
    out.push(b'}');
}
