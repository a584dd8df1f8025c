//! What must hold for *any* input to each parser, whatever the bytes: no panic (with overflow
//! checks on), a refused frame emits nothing (never half-applied), and what is accepted obeys
//! the venue's value rules (prices above zero, sizes not negative, executed within volume, ...).
//! [`check`] panics on a violation. Shared by `tests/parser_properties.rs` (stable proptest)
//! and the cargo-fuzz targets in `fuzz/` (which include this file), so both test the same
//! properties.
//!
//! [`reference_decimal`] and [`reference_json_number`] are independent, string-based readings
//! of a decimal's exact value, to compare [`Fixed::read`] and [`Fixed::from_json_number`]
//! against ([`check_decimal`]).

#![allow(dead_code)]

#[path = "parser_seeds.rs"]
pub mod parser_seeds;

use arbline::config::Config;
use arbline::model::{
    DecimalError, DecimalRule, ExecKind, Fixed, InstrumentId, Instruments, MdEvent, MdKind, Venue,
};
use arbline::venue::binance::{BinanceMarket, BinanceOutcome, BinanceParser};
use arbline::venue::max::markets::parse_markets;
use arbline::venue::max::{
    MaxCancelReply, MaxOrder, MaxPrivateOutcome, MaxPrivateParser, MaxPublicOutcome,
    MaxPublicParser, classify_error, parse_accounts, parse_cancel_all, parse_cancel_reply,
    parse_klines, parse_order, parse_orders, parse_trades,
};
use arbline::venue::refrate::{bot_csv, taifex};
pub use parser_seeds::Target;
use std::sync::OnceLock;

/// Every symbol the fixtures use, on each venue.
pub fn instruments() -> &'static Instruments {
    static INS: OnceLock<Instruments> = OnceLock::new();
    INS.get_or_init(|| {
        let mut ins = Instruments::new();
        let binance = [
            ("NKNUSDT", "NKN", "USDT"),
            ("BLZETH", "BLZ", "ETH"),
            ("LRCBTC", "LRC", "BTC"),
            ("RUNEEUR", "RUNE", "EUR"),
            ("BNBUSDT", "BNB", "USDT"),
            ("BNBBTC", "BNB", "BTC"),
            ("BTCUSDT", "BTC", "USDT"),
            ("ETHUSDT", "ETH", "USDT"),
            ("SUSHIUSDT", "SUSHI", "USDT"),
            ("AKROUSDT", "AKRO", "USDT"),
            ("KEEPUSDT", "KEEP", "USDT"),
            ("CTKUSDT", "CTK", "USDT"),
            ("RUNEUSD_PERP", "RUNE", "USD"),
        ];
        for v in [Venue::BinanceSpot, Venue::BinanceFutures] {
            for (s, b, q) in binance {
                ins.intern(v, s, b, q).unwrap();
            }
        }
        for (s, b, q) in [
            ("btcusdt", "btc", "usdt"),
            ("btctwd", "btc", "twd"),
            ("ethtwd", "eth", "twd"),
            ("ethusdt", "eth", "usdt"),
            ("usdttwd", "usdt", "twd"),
            ("maxtwd", "max", "twd"),
        ] {
            ins.intern(Venue::Max, s, b, q).unwrap();
        }
        ins
    })
}

fn snapshot_instrument() -> InstrumentId {
    instruments()
        .lookup(Venue::BinanceSpot, b"BNBUSDT")
        .expect("interned")
}

/// Runs `target`'s parser(s) on `data` and asserts the properties in the module doc.
pub fn check(target: Target, data: &[u8]) {
    match target {
        Target::BinanceWs => binance_ws(data),
        Target::BinanceSnapshot => binance_snapshot(data),
        Target::MaxPublic => max_public(data),
        Target::MaxPrivate => max_private(data),
        Target::MaxRest => max_rest(data),
        Target::BotCsv => bot(data),
        Target::Taifex => taifex_rates(data),
        Target::Config => config(data),
    }
}

/// Chunks are numbered from 0, only the last is marked last, levels are within the chunk.
fn chunks_consistent(evs: &[MdEvent]) {
    for (i, ev) in evs.iter().enumerate() {
        assert_eq!(ev.chunk as usize, i, "chunk numbering");
        assert_eq!(ev.last_chunk, i + 1 == evs.len(), "last_chunk");
    }
}

fn book_levels(ev: &MdEvent, zero_qty: bool) {
    for l in ev.bids().iter().chain(ev.asks()) {
        assert!(l.price.raw() > 0, "level price {:?}", l.price);
        assert!(
            l.qty.raw() > 0 || (zero_qty && l.qty.raw() == 0),
            "level qty {:?}",
            l.qty
        );
    }
}

fn binance_ws(data: &[u8]) {
    for market in [BinanceMarket::Spot, BinanceMarket::Futures] {
        let mut evs = Vec::new();
        let r = BinanceParser::new(market).parse_ws(data, 0, instruments(), |e| evs.push(*e));
        // The fast path (byte scanner) and the general path agree on every input: same outcome
        // or error, same events.
        let mut general = Vec::new();
        let g = BinanceParser::general_only(market)
            .parse_ws(data, 0, instruments(), |e| general.push(*e));
        assert_eq!(r, g, "fast and general paths differ");
        assert_eq!(evs, general, "fast and general paths emit different events");
        match r {
            Err(_) => assert!(
                evs.is_empty(),
                "a refused frame emitted {} events",
                evs.len()
            ),
            Ok(BinanceOutcome::Market { events }) => {
                assert_eq!(events, evs.len());
                assert!(!evs.is_empty());
                for ev in &evs {
                    match ev.kind {
                        MdKind::BookTicker => {
                            assert_eq!((ev.n_bids, ev.n_asks), (1, 1));
                            book_levels(ev, false);
                        }
                        MdKind::BookUpdate => {
                            book_levels(ev, true);
                            assert!(ev.first_id <= ev.last_id, "U > u");
                        }
                        MdKind::Trade => book_levels(ev, false),
                        k => panic!("unexpected kind {k:?}"),
                    }
                }
                if evs[0].kind == MdKind::BookUpdate {
                    chunks_consistent(&evs);
                }
            }
            Ok(_) => assert!(evs.is_empty()),
        }
    }
}

fn binance_snapshot(data: &[u8]) {
    let mut evs = Vec::new();
    let r = BinanceParser::new(BinanceMarket::Spot).parse_depth_snapshot(
        data,
        snapshot_instrument(),
        0,
        |e| evs.push(*e),
    );
    // The snapshot scanner and the general path agree on every input.
    let mut general = Vec::new();
    let g = BinanceParser::general_only(BinanceMarket::Spot).parse_depth_snapshot(
        data,
        snapshot_instrument(),
        0,
        |e| general.push(*e),
    );
    assert_eq!(r, g, "fast and general paths differ");
    assert_eq!(evs, general, "fast and general paths emit different events");
    match r {
        Err(_) => assert!(evs.is_empty(), "a refused snapshot emitted events"),
        Ok(n) => {
            assert_eq!(n, evs.len());
            chunks_consistent(&evs);
            evs.iter().for_each(|ev| book_levels(ev, false));
        }
    }
}

fn max_public(data: &[u8]) {
    let mut evs = Vec::new();
    let r = MaxPublicParser::new().parse(data, 0, instruments(), |e| evs.push(*e));
    // The byte scanner and the general path agree on every input: same outcome or error, same
    // events.
    let mut general = Vec::new();
    let g = MaxPublicParser::general_only().parse(data, 0, instruments(), |e| general.push(*e));
    assert_eq!(r, g, "fast and general paths differ");
    assert_eq!(evs, general, "fast and general paths emit different events");
    match r {
        Err(_) => assert!(evs.is_empty(), "a refused frame emitted events"),
        Ok(MaxPublicOutcome::Market { events }) => {
            assert_eq!(events, evs.len());
            for ev in &evs {
                match ev.kind {
                    MdKind::Trade => book_levels(ev, false),
                    MdKind::BookSnapshot | MdKind::BookUpdate => {
                        book_levels(ev, true);
                        assert!(ev.first_id <= ev.last_id, "fi > li");
                    }
                    k => panic!("unexpected kind {k:?}"),
                }
            }
            if evs.first().is_some_and(|e| e.kind != MdKind::Trade) {
                chunks_consistent(&evs);
            }
        }
        Ok(_) => assert!(evs.is_empty()),
    }
}

fn max_private(data: &[u8]) {
    let (mut ex, mut bal) = (Vec::new(), Vec::new());
    let mut p = MaxPrivateParser::new();
    let r = p.parse(data, 0, instruments(), |e| ex.push(*e), |b| bal.push(*b));
    // The byte scanner and the general path agree on every input: same outcome or error, same
    // events and balances, same rows skipped for an unknown market.
    let (mut gex, mut gbal) = (Vec::new(), Vec::new());
    let mut g = MaxPrivateParser::general_only();
    let gr = g.parse(data, 0, instruments(), |e| gex.push(*e), |b| gbal.push(*b));
    assert_eq!(r, gr, "fast and general paths differ");
    assert_eq!(ex, gex, "fast and general paths emit different events");
    assert_eq!(bal, gbal, "fast and general paths emit different balances");
    assert_eq!(
        p.skipped_unknown_market(),
        g.skipped_unknown_market(),
        "fast and general paths skip different rows"
    );
    match r {
        Err(_) => assert!(
            ex.is_empty() && bal.is_empty(),
            "a refused frame was delivered"
        ),
        Ok(MaxPrivateOutcome::Exec { events }) => {
            assert_eq!((events, bal.len()), (ex.len(), 0));
            for e in &ex {
                if e.kind == ExecKind::Fill {
                    assert!(e.price.raw() > 0 && e.qty.raw() > 0, "fill {e:?}");
                    assert!(e.fee.raw() >= 0, "fee {e:?}");
                } else {
                    assert!(e.price.raw() >= 0 && e.qty.raw() >= 0, "order {e:?}");
                }
            }
        }
        Ok(MaxPrivateOutcome::Balances { count }) => {
            assert_eq!((count, ex.len()), (bal.len(), 0));
            for b in &bal {
                assert!(b.available.raw() >= 0 && b.locked.raw() >= 0, "{b:?}");
            }
        }
        Ok(_) => assert!(ex.is_empty() && bal.is_empty()),
    }
}

fn order_ok(o: &MaxOrder) {
    assert!(o.volume.raw() > 0, "{o:?}");
    assert!(
        (0..=o.volume.raw()).contains(&o.executed_volume.raw()),
        "{o:?}"
    );
    assert!(
        (0..=o.volume.raw()).contains(&o.remaining_volume.raw()),
        "{o:?}"
    );
    assert!(o.avg_price.raw() >= 0, "{o:?}");
    assert!(o.price.is_none_or(|p| p.raw() > 0), "{o:?}");
}

fn max_rest(data: &[u8]) {
    if let Ok(o) = parse_order(data) {
        order_ok(&o);
    }
    if let Ok(os) = parse_orders(data) {
        os.iter().for_each(order_ok);
    }
    if let Ok(MaxCancelReply::Order(o)) = parse_cancel_reply(data) {
        order_ok(&o);
    }
    if let Ok(es) = parse_cancel_all(data) {
        for (e, o) in &es {
            order_ok(o);
            assert!(
                e.as_deref()
                    .is_none_or(|e| !e.chars().any(char::is_control)),
                "{e:?}"
            );
        }
    }
    if let Ok(ts) = parse_trades(data) {
        for t in ts {
            assert!(t.price.raw() > 0 && t.volume.raw() > 0, "{t:?}");
            assert!(
                t.funds.raw() >= 0 && t.fee.is_none_or(|f| f.raw() >= 0),
                "{t:?}"
            );
        }
    }
    if let Ok(accs) = parse_accounts(data) {
        for a in accs {
            assert!(a.available.raw() >= 0 && a.locked.raw() >= 0, "{a:?}");
            assert!(a.staked.is_none_or(|s| s.raw() >= 0), "{a:?}");
        }
    }
    if let Ok(ms) = parse_markets(data) {
        for m in ms {
            let r = m.rules;
            assert!(r.tick.raw() > 0 && r.lot.raw() > 0, "{m:?}");
            assert!(r.min_qty.raw() >= 0 && r.min_notional.raw() >= 0, "{m:?}");
        }
    }
    if let Ok(ks) = parse_klines(data) {
        for k in ks {
            assert!(k.low.raw() >= 0 && k.volume.raw() >= 0, "{k:?}");
            assert!(
                k.low <= k.open.min(k.close) && k.high >= k.open.max(k.close),
                "{k:?}"
            );
        }
    }
    let e = classify_error(400, data);
    assert!(e.message.chars().count() <= 200);
    assert!(
        !e.message.chars().any(|c| c.is_control()),
        "{:?}",
        e.message
    );
}

fn bot(data: &[u8]) {
    if let Ok(q) = bot_csv::parse(data, None) {
        assert!(q.buy.raw() > 0 && q.sell.raw() > 0, "{q:?}");
        let d = q.date.to_string();
        assert!(
            q.date == 0 || arbline::model::calendar::yyyymmdd(&d) == Some(q.date),
            "{q:?}"
        );
        assert_eq!(q.mid, q.buy.midpoint(q.sell));
        assert!(q.mid >= q.buy.min(q.sell) && q.mid <= q.buy.max(q.sell));
    }
    let _ = bot_csv::board_time_ms(&String::from_utf8_lossy(data));
}

fn taifex_rates(data: &[u8]) {
    if let Ok(r) = taifex::parse_rates(data) {
        assert!(r.quote.mid.raw() > 0, "{r:?}");
        let d = r.quote.date.to_string();
        assert_eq!(
            arbline::model::calendar::yyyymmdd(&d),
            Some(r.quote.date),
            "{r:?}"
        );
    }
}

fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Config::from_toml(text) {
        let _ = c.instruments();
        let _ = c.ring_sizes();
        let _ = arbline::pipeline::placement::resolve(&c.pipeline.threads, 4);
    }
}

// ---------------------------------------------------------------------------------------------
// Decimals: the exact value of a text, read without `Fixed`.
// ---------------------------------------------------------------------------------------------

/// The exact value of `text` in 10⁻⁸ units under `rule`, or `None` where [`Fixed::read`] must
/// refuse it: string operations only (split, strip, compare), then one `i128`.
pub fn reference_decimal(text: &[u8], rule: DecimalRule) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) if rule.signed => (true, rest),
        Some(_) => return None,
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || int.len() + frac.len() == 0 {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 12 {
        return None;
    }
    let (kept, cut) = frac.split_at(frac.len().min(8));
    if !rule.truncate && cut.bytes().any(|b| b != b'0') {
        return None;
    }
    let kept = format!("{kept:0<8}");
    let v: i128 = format!("{int}{kept}").parse().ok()?;
    let v = i64::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// The value of a JSON number's text rounded half-up to 10⁻⁸ units, or `None` where
/// [`Fixed::from_json_number`] must refuse it: the point is moved in the text, then the text
/// is cut and rounded.
pub fn reference_json_number(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let (mant, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (mant, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !(frac.is_empty() || digits(frac)) {
        return None;
    }
    let all = format!("{int}{frac}");
    let all = all.trim_start_matches('0');
    let lead = int.len() + frac.len() - all.len();
    let exp: i128 = match exp {
        None => 0,
        Some(e) => {
            let d = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !digits(d) {
                return None;
            }
            let d = d.trim_start_matches('0');
            let mag: i128 = if d.len() > 30 {
                10i128.pow(30)
            } else {
                d.parse().unwrap_or(0)
            };
            if e.starts_with('-') { -mag } else { mag }
        }
    };
    if all.is_empty() {
        return Some(0);
    }
    // The digits `all` with the point after `point` of them (may be outside either end).
    let point = int.len() as i128 - lead as i128 + exp;
    let units_len = point + 8; // digits of `all` that count 10⁻⁸ units
    if units_len > 19 {
        return None;
    }
    if units_len < 0 {
        return Some(0);
    }
    let units_len = units_len as usize;
    let padded = format!("{all:0<width$}", width = units_len + 1);
    let units: i128 = if units_len == 0 {
        0
    } else {
        padded[..units_len].parse().ok()?
    };
    let round = padded.as_bytes()[units_len] >= b'5';
    i64::try_from(units + round as i128).ok()
}

/// [`Fixed::read`] under every rule and [`Fixed::from_json_number`] agree with the
/// references; the refusal reasons are the documented ones.
pub fn check_decimal(data: &[u8]) {
    for rule in [
        DecimalRule::UNSIGNED,
        DecimalRule::SIGNED,
        DecimalRule::UNSIGNED_TRUNCATING,
        DecimalRule {
            signed: true,
            truncate: true,
        },
    ] {
        let got = Fixed::read(data, rule);
        assert_eq!(
            got.ok().map(Fixed::raw),
            reference_decimal(data, rule),
            "{:?} under {rule:?}: {got:?}",
            String::from_utf8_lossy(data)
        );
        if data.first() == Some(&b'-') && !rule.signed {
            assert_eq!(got, Err(DecimalError::Sign));
        }
    }
    let got = Fixed::from_json_number(data);
    assert_eq!(
        got.ok().map(Fixed::raw),
        reference_json_number(data),
        "JSON number {:?}: {got:?}",
        String::from_utf8_lossy(data)
    );
}
