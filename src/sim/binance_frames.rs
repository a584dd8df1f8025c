//! Writers of Binance market-data frames, byte-exact in the venue's layout (spec `binance.md`
//! §2.1, §2.2, §3.1): used by the synthetic venue and the simulator, and to round-trip the
//! parser in tests.
//!
//! Each writer clears the caller-owned `out` and appends the frame; nothing allocates when
//! `out` already has the capacity. Stream names use the lower-case symbol, the payload's `s` is
//! upper-case. Spot writes prices and quantities with exactly 8 decimals, as Binance spot does
//! (`"25.35190000"`); futures writes the canonical decimal text (`"7.611"`), which a parser reads
//! the same as Binance's per-symbol precision.

use crate::model::{Fixed, Level, SCALE};
use crate::venue::binance::BinanceMarket;

/// `<sym>@bookTicker` in the combined wrapper. Spot: `{u,s,b,B,a,A}`; futures:
/// `{e:"bookTicker",u,E,T,s,b,B,a,A}` with `T = E = event_ms`.
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
    open_wrapper(out, symbol_lower, b"@bookTicker");
    match market {
        BinanceMarket::Spot => {
            out.extend_from_slice(b"{\"u\":");
            write_u64(out, update_id);
        }
        BinanceMarket::Futures => {
            out.extend_from_slice(b"{\"e\":\"bookTicker\",\"u\":");
            write_u64(out, update_id);
            out.extend_from_slice(b",\"E\":");
            write_u64(out, event_ms);
            out.extend_from_slice(b",\"T\":");
            write_u64(out, event_ms);
        }
    }
    out.extend_from_slice(b",\"s\":\"");
    write_upper(out, symbol_lower);
    out.extend_from_slice(b"\",\"b\":");
    write_decimal(out, market, bid.price);
    out.extend_from_slice(b",\"B\":");
    write_decimal(out, market, bid.qty);
    out.extend_from_slice(b",\"a\":");
    write_decimal(out, market, ask.price);
    out.extend_from_slice(b",\"A\":");
    write_decimal(out, market, ask.qty);
    out.extend_from_slice(b"}}");
}

/// `<sym>@depth@100ms` in the combined wrapper. Spot: `{e,E,s,U,u,b,a}`; futures adds `T`
/// (= `E`) and `pu`.
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
    open_wrapper(out, symbol_lower, b"@depth@100ms");
    out.extend_from_slice(b"{\"e\":\"depthUpdate\",\"E\":");
    write_u64(out, event_ms);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"T\":");
        write_u64(out, event_ms);
    }
    out.extend_from_slice(b",\"s\":\"");
    write_upper(out, symbol_lower);
    out.extend_from_slice(b"\",\"U\":");
    write_u64(out, first_id);
    out.extend_from_slice(b",\"u\":");
    write_u64(out, last_id);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"pu\":");
        write_i64(out, prev_id);
    }
    out.extend_from_slice(b",\"b\":");
    write_levels(out, market, bids);
    out.extend_from_slice(b",\"a\":");
    write_levels(out, market, asks);
    out.extend_from_slice(b"}}");
}

/// A REST depth snapshot body: spot `{lastUpdateId,bids,asks}`; futures adds `E` and `T`
/// (= `E`).
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
    write_u64(out, last_update_id);
    if market == BinanceMarket::Futures {
        out.extend_from_slice(b",\"E\":");
        write_u64(out, event_ms);
        out.extend_from_slice(b",\"T\":");
        write_u64(out, event_ms);
    }
    out.extend_from_slice(b",\"bids\":");
    write_levels(out, market, bids);
    out.extend_from_slice(b",\"asks\":");
    write_levels(out, market, asks);
    out.push(b'}');
}

/// `serverShutdown` in the combined wrapper, as both markets send it before the 24 h cut
/// (spec §1.1): `{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":..}}`.
pub fn write_server_shutdown(out: &mut Vec<u8>, event_ms: u64) {
    out.clear();
    out.extend_from_slice(
        b"{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\",\"E\":",
    );
    write_u64(out, event_ms);
    out.extend_from_slice(b"}}");
}

/// `{"stream":"<sym><suffix>","data":` (the caller closes with `}}`).
fn open_wrapper(out: &mut Vec<u8>, symbol_lower: &str, suffix: &[u8]) {
    out.extend_from_slice(b"{\"stream\":\"");
    for &c in symbol_lower.as_bytes() {
        out.push(c.to_ascii_lowercase());
    }
    out.extend_from_slice(suffix);
    out.extend_from_slice(b"\",\"data\":");
}

fn write_upper(out: &mut Vec<u8>, symbol: &str) {
    for &c in symbol.as_bytes() {
        out.push(c.to_ascii_uppercase());
    }
}

/// `[["p","q"],...]`
fn write_levels(out: &mut Vec<u8>, market: BinanceMarket, levels: &[Level]) {
    out.push(b'[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        write_decimal(out, market, l.price);
        out.push(b',');
        write_decimal(out, market, l.qty);
        out.push(b']');
    }
    out.push(b']');
}

/// A quoted decimal: 8 fixed decimals on spot, canonical text on futures.
fn write_decimal(out: &mut Vec<u8>, market: BinanceMarket, v: Fixed) {
    out.push(b'"');
    match market {
        BinanceMarket::Spot => write_fixed8(out, v),
        BinanceMarket::Futures => {
            let mut buf = [0u8; 24];
            out.extend_from_slice(v.write_to(&mut buf).as_bytes());
        }
    }
    out.push(b'"');
}

/// `int.ffffffff`, always 8 fractional digits (`"0.35210000"`).
fn write_fixed8(out: &mut Vec<u8>, v: Fixed) {
    let raw = v.raw();
    if raw < 0 {
        out.push(b'-');
    }
    let abs = raw.unsigned_abs();
    write_u64(out, abs / SCALE as u64);
    out.push(b'.');
    let mut frac = abs % SCALE as u64;
    let mut digits = [b'0'; 8];
    for d in digits.iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&digits);
}

fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvl(p: &str, q: &str) -> Level {
        Level {
            price: Fixed::parse(p).unwrap(),
            qty: Fixed::parse(q).unwrap(),
        }
    }

    #[test]
    fn server_shutdown_matches_the_documented_combined_form() {
        let mut out = Vec::new();
        write_server_shutdown(&mut out, 1770123456789);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#
        );
    }

    #[test]
    fn spot_book_ticker_matches_the_real_capture() {
        let mut out = Vec::with_capacity(256);
        write_book_ticker(
            &mut out,
            BinanceMarket::Spot,
            "nknusdt",
            499869768,
            0,
            lvl("0.3521", "672"),
            lvl("0.3526", "3199"),
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"stream":"nknusdt@bookTicker","data":{"u":499869768,"s":"NKNUSDT","b":"0.35210000","B":"672.00000000","a":"0.35260000","A":"3199.00000000"}}"#
        );
    }

    #[test]
    fn spot_depth_update_matches_the_real_capture() {
        let mut out = Vec::new();
        write_depth_update(
            &mut out,
            BinanceMarket::Spot,
            "nknusdt",
            499869750,
            499869752,
            -1,
            1633998512068,
            &[
                lvl("0.3513", "6195"),
                lvl("0.3475", "5548"),
                lvl("0.3464", "6222"),
            ],
            &[],
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1633998512068,"s":"NKNUSDT","U":499869750,"u":499869752,"b":[["0.35130000","6195.00000000"],["0.34750000","5548.00000000"],["0.34640000","6222.00000000"]],"a":[]}}"#
        );
    }

    #[test]
    fn futures_snapshot_matches_the_doc_layout() {
        let mut out = Vec::new();
        write_depth_snapshot(
            &mut out,
            BinanceMarket::Futures,
            1027024,
            1589436922972,
            &[lvl("4", "431")],
            &[lvl("4.000002", "12")],
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922972,"bids":[["4","431"]],"asks":[["4.000002","12"]]}"#
        );
    }

    #[test]
    fn writing_does_not_grow_a_buffer_with_capacity() {
        let mut out = Vec::with_capacity(4096);
        let cap = out.capacity();
        for i in 0..100 {
            write_depth_update(
                &mut out,
                BinanceMarket::Futures,
                "btcusdt",
                i,
                i + 1,
                i as i64 - 1,
                1,
                &[lvl("60000.1", "1.5"); 10],
                &[lvl("60000.2", "0.001"); 10],
            );
        }
        assert_eq!(out.capacity(), cap);
    }
}
