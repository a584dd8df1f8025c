//! Issue 12, input by input: every value from outside that arbline used to accept and should
//! not (found by mutation fuzzing of the real fixtures) now gets a typed error naming the field,
//! or, for the combined-stream envelope, the one correct event. The decimal contract itself is
//! unit-tested in `model::fixed`; the book stage's mid in `book::stage`.

use arbline::config::Config;
use arbline::model::{DecimalError, ExecEvent, Fixed, Instruments, MdEvent, Venue};
use arbline::venue::ParseError::{self, BadDecimal, BadValue, DuplicateField};
use arbline::venue::binance::{BinanceMarket, BinanceOutcome, BinanceParser};
use arbline::venue::max::markets::parse_markets;
use arbline::venue::max::private::{Balance, MaxPrivateOutcome, MaxPrivateParser};
use arbline::venue::max::{
    classify_error, parse_accounts, parse_cancel_all, parse_order, parse_orders, parse_trades,
};
use arbline::venue::refrate::{bot_csv, taifex};

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn bad_dec(field: &'static str) -> ParseError {
    BadDecimal {
        field,
        err: DecimalError::InvalidChar,
    }
}

/// Junk after the 8th decimal, which truncating fields used to cut off and accept.
const JUNK: [&str; 4] = [
    "4.95687689e-7",
    "1.00000000e+20",
    "1.2345678912.5",
    ".29106575x",
];

// ------------------------------------------------------------------ MAX private

fn max_instruments() -> Instruments {
    let mut i = Instruments::new();
    i.intern(Venue::Max, "ethtwd", "eth", "twd").unwrap();
    i
}

/// Parses a private frame; on error asserts that nothing was delivered.
fn private(frame: &str) -> Result<(Vec<ExecEvent>, Vec<Balance>), ParseError> {
    let (mut ex, mut bal) = (Vec::new(), Vec::new());
    let r = MaxPrivateParser::new().parse(
        frame.as_bytes(),
        0,
        &max_instruments(),
        |e| ex.push(*e),
        |b| bal.push(*b),
    );
    match r {
        Ok(_) => Ok((ex, bal)),
        Err(e) => {
            assert!(ex.is_empty() && bal.is_empty(), "{frame}: half-applied");
            Err(e)
        }
    }
}

const ORDER_ROW: &str = r#"{"i":87,"sd":"bid","ot":"limit","p":"21499.0","ap":"21499.0","S":"wait","M":"ethtwd","T":1,"TU":2,"v":"0.2658","rv":"0.1658","ev":"0.1","tc":1,"ci":"c1"}"#;
const TRADE_ROW: &str = r#"{"i":68444,"M":"ethtwd","sd":"bid","p":"21499.0","v":"0.2658","f":"3.2","fc":"twd","T":1,"TU":2,"m":true,"oi":87}"#;
const BALANCE_ROW: &str = r#"{"cu":"btc","av":"123.4","l":"0.5","TU":1}"#;

fn orders(row: &str) -> String {
    format!(r#"{{"c":"user","e":"order_update","o":[{row}],"T":3}}"#)
}
fn trades(row: &str) -> String {
    format!(r#"{{"c":"user","e":"trade_update","t":[{row}],"T":3}}"#)
}
fn account(row: &str) -> String {
    format!(r#"{{"c":"user","e":"account_update","B":[{row}],"T":3}}"#)
}
fn with(row: &str, from: &str, to: &str) -> String {
    assert!(row.contains(from), "{from}");
    row.replacen(from, to, 1)
}

#[test]
fn max_private_rows_read_as_before() {
    let (ex, _) = private(&orders(ORDER_ROW)).unwrap();
    assert_eq!(
        (ex.len(), ex[0].qty, ex[0].price),
        (1, fx("0.1"), fx("21499"))
    );
    let (ex, _) = private(&trades(TRADE_ROW)).unwrap();
    assert_eq!((ex.len(), ex[0].fee), (1, fx("3.2")));
    let (_, bal) = private(&account(BALANCE_ROW)).unwrap();
    assert_eq!((bal.len(), bal[0].locked), (1, fx("0.5")));
}

#[test]
fn max_private_ap_junk_after_eight_decimals_is_refused() {
    for j in JUNK {
        let row = with(ORDER_ROW, r#""ap":"21499.0""#, &format!(r#""ap":"{j}""#));
        assert_eq!(private(&orders(&row)).unwrap_err(), bad_dec("ap"), "{j}");
    }
    // Digits beyond the 8th are still cut: `ap` is a computed quotient.
    let row = with(ORDER_ROW, r#""ap":"21499.0""#, r#""ap":"0.123456789999""#);
    assert_eq!(private(&orders(&row)).unwrap().0[0].price, fx("0.12345678"));
}

#[test]
fn max_private_negative_values_are_refused() {
    let cases = [
        (
            orders(&with(ORDER_ROW, r#""ev":"0.1""#, r#""ev":"-0.1""#)),
            "ev",
        ),
        (
            orders(&with(ORDER_ROW, r#""ap":"21499.0""#, r#""ap":"-1""#)),
            "ap",
        ),
        (
            orders(&with(ORDER_ROW, r#""v":"0.2658""#, r#""v":"-0.2658""#)),
            "v",
        ),
        (
            trades(&with(TRADE_ROW, r#""f":"3.2""#, r#""f":"-3.2""#)),
            "f",
        ),
        (
            trades(&with(TRADE_ROW, r#""p":"21499.0""#, r#""p":"-1""#)),
            "p",
        ),
        (
            account(&with(BALANCE_ROW, r#""av":"123.4""#, r#""av":"-123.4""#)),
            "av",
        ),
        (
            account(&with(BALANCE_ROW, r#""l":"0.5""#, r#""l":"-0.5""#)),
            "l",
        ),
        (
            account(&with(BALANCE_ROW, r#""l":"0.5""#, r#""l":"-0""#)),
            "l",
        ),
    ];
    for (frame, field) in cases {
        assert_eq!(private(&frame).unwrap_err(), BadValue(field), "{frame}");
    }
}

#[test]
fn max_private_order_volumes_are_consistent() {
    let row = with(ORDER_ROW, r#""ev":"0.1""#, r#""ev":"0.3""#);
    assert_eq!(private(&orders(&row)).unwrap_err(), BadValue("ev"));
    let row = with(ORDER_ROW, r#""v":"0.2658""#, r#""v":"0""#);
    assert_eq!(private(&orders(&row)).unwrap_err(), BadValue("v"));
}

#[test]
fn max_private_rows_are_bound_to_their_event() {
    // `t` rows in an order_update are not fills; `o` rows in a trade_update are not orders.
    let f = format!(r#"{{"c":"user","e":"order_update","o":[{ORDER_ROW}],"t":[{TRADE_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), BadValue("t"));
    let f = format!(r#"{{"c":"user","e":"order_update","t":[{TRADE_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), BadValue("t"));
    let f = format!(r#"{{"c":"user","t":[{TRADE_ROW}],"e":"trade_update","o":[{ORDER_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), BadValue("o"));
    let f = format!(r#"{{"c":"user","e":"account_update","B":[{BALANCE_ROW}],"t":[{TRADE_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), BadValue("t"));
    let f = format!(r#"{{"c":"user","e":"trade_update","t":[{TRADE_ROW}],"B":[{BALANCE_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), BadValue("B"));
}

#[test]
fn max_private_duplicate_keys_are_refused() {
    // A duplicated "t" used to deliver the same fill twice.
    let f = format!(r#"{{"c":"user","e":"trade_update","t":[{TRADE_ROW}],"t":[{TRADE_ROW}]}}"#);
    assert_eq!(private(&f).unwrap_err(), DuplicateField("t"));
    let f = format!(r#"{{"c":"user","e":"order_update","o":[{ORDER_ROW}],"o":[]}}"#);
    assert_eq!(private(&f).unwrap_err(), DuplicateField("o"));
    let f = r#"{"c":"user","e":"trade_update","e":"order_update","t":[]}"#;
    assert_eq!(private(f).unwrap_err(), DuplicateField("e"));
    let row = with(TRADE_ROW, r#""p":"21499.0""#, r#""p":"21499.0","p":"1""#);
    assert_eq!(private(&trades(&row)).unwrap_err(), DuplicateField("p"));
    let row = with(ORDER_ROW, r#""ev":"0.1""#, r#""ev":"0.1","ev":"0""#);
    assert_eq!(private(&orders(&row)).unwrap_err(), DuplicateField("ev"));
    let row = with(BALANCE_ROW, r#""av":"123.4""#, r#""av":"123.4","av":"1""#);
    assert_eq!(private(&account(&row)).unwrap_err(), DuplicateField("av"));
}

#[test]
fn max_private_other_events_still_pass() {
    let f = r#"{"c":"user","e":"ad_ratio_snapshot","ad":{"ratio":"1"},"T":1}"#;
    let (mut ex, mut bal) = (0, 0);
    let r = MaxPrivateParser::new().parse(
        f.as_bytes(),
        0,
        &max_instruments(),
        |_| ex += 1,
        |_| bal += 1,
    );
    assert_eq!((r, ex, bal), (Ok(MaxPrivateOutcome::Ignored), 0, 0));
}

// ------------------------------------------------------------------ MAX public

#[test]
fn max_public_duplicate_keys_and_backward_ids_are_refused() {
    use arbline::venue::max::public::MaxPublicParser;
    let mut ins = Instruments::new();
    ins.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
    let mut n = 0;
    let mut p = MaxPublicParser::new();
    let frames = [
        (
            r#"{"c":"book","e":"update","M":"btcusdt","a":[["1","1"]],"a":[["2","1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            "a",
        ),
        (
            r#"{"c":"book","e":"update","M":"btcusdt","M":"ethusdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            "M",
        ),
        (
            r#"{"c":"trade","e":"update","M":"btcusdt","t":[{"p":"1","v":"1","v":"2","T":1,"tr":"up"}],"T":1}"#,
            "v",
        ),
    ];
    for (f, key) in frames {
        assert_eq!(
            p.parse(f.as_bytes(), 0, &ins, |_| n += 1),
            Err(DuplicateField(key)),
            "{f}"
        );
    }
    // Ids run forwards: an update whose first id is past its last is no update.
    let f = r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":3,"li":2,"v":1}"#;
    assert_eq!(
        p.parse(f.as_bytes(), 0, &ins, |_| n += 1),
        Err(BadValue("fi"))
    );
    assert_eq!(n, 0);
}

// ------------------------------------------------------------------ MAX REST

const ORDER: &str = r#"{"id":1,"wallet_type":"spot","market":"btcusdt","client_oid":null,"side":"sell","state":"wait","ord_type":"limit","price":"78415.91","stop_price":null,"avg_price":"78433.19","volume":"0.000255","remaining_volume":"0.000155","executed_volume":"0.0001","trades_count":1,"created_at":1,"updated_at":2}"#;

fn order_with(from: &str, to: &str) -> Vec<u8> {
    with(ORDER, from, to).into_bytes()
}

#[test]
fn max_rest_order_values_are_checked() {
    let o = parse_order(ORDER.as_bytes()).unwrap();
    assert_eq!(
        (o.volume, o.executed_volume),
        (fx("0.000255"), fx("0.0001"))
    );
    let cases: Vec<(Vec<u8>, ParseError)> = vec![
        (
            order_with(r#""volume":"0.000255""#, r#""volume":"0""#),
            BadValue("volume"),
        ),
        (
            order_with(r#""volume":"0.000255""#, r#""volume":"-1""#),
            BadValue("volume"),
        ),
        (
            order_with(
                r#""remaining_volume":"0.000155""#,
                r#""remaining_volume":"-0.1""#,
            ),
            BadValue("remaining_volume"),
        ),
        (
            order_with(
                r#""executed_volume":"0.0001""#,
                r#""executed_volume":"-0.0001""#,
            ),
            BadValue("executed_volume"),
        ),
        (
            order_with(r#""executed_volume":"0.0001""#, r#""executed_volume":"1""#),
            BadValue("executed_volume"),
        ),
        (
            order_with(
                r#""remaining_volume":"0.000155""#,
                r#""remaining_volume":"0.001""#,
            ),
            BadValue("remaining_volume"),
        ),
        (
            order_with(r#""avg_price":"78433.19""#, r#""avg_price":"-1""#),
            BadValue("avg_price"),
        ),
        (
            order_with(r#""price":"78415.91""#, r#""price":"0""#),
            BadValue("price"),
        ),
        (
            order_with(r#""price":"78415.91""#, r#""price":"-1""#),
            BadValue("price"),
        ),
    ];
    for (body, want) in cases {
        let text = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(parse_order(&body), Err(want), "{text}");
        let list = format!("[{text}]");
        assert_eq!(parse_orders(list.as_bytes()), Err(want), "{list}");
        let all = format!(r#"[{{"error":null,"order":{text}}}]"#);
        assert_eq!(parse_cancel_all(all.as_bytes()), Err(want), "{all}");
    }
    for j in JUNK {
        let body = order_with(
            r#""avg_price":"78433.19""#,
            &format!(r#""avg_price":"{j}""#),
        );
        assert_eq!(parse_order(&body), Err(bad_dec("avg_price")), "{j}");
    }
    // A market order has no price.
    let m = order_with(
        r#""ord_type":"limit","price":"78415.91""#,
        r#""ord_type":"market","price":null"#,
    );
    assert_eq!(parse_order(&m).unwrap().price, None);
}

const TRADE: &str = r#"{"id":1,"order_id":2,"wallet_type":"spot","price":"10.5","volume":"2","funds":"21","market":"usdttwd","side":"ask","fee":"0.1","fee_currency":"twd","liquidity":"maker","created_at":3}"#;

#[test]
fn max_rest_trade_values_are_checked() {
    let t = |from: &str, to: &str| parse_trades(format!("[{}]", with(TRADE, from, to)).as_bytes());
    assert_eq!(t(r#""fee":"0.1""#, r#""fee":"-0.1""#), Err(BadValue("fee")));
    assert_eq!(
        t(r#""price":"10.5""#, r#""price":"0""#),
        Err(BadValue("price"))
    );
    assert_eq!(
        t(r#""volume":"2""#, r#""volume":"0""#),
        Err(BadValue("volume"))
    );
    assert_eq!(
        t(r#""funds":"21""#, r#""funds":"-21""#),
        Err(BadValue("funds"))
    );
    assert_eq!(t(r#""fee":"0.1""#, r#""fee":"1e-1""#), Err(bad_dec("fee")));
}

#[test]
fn max_rest_balances_refuse_junk_and_signs() {
    const ACC: &str = r#"{"currency":"btc","balance":"1.5","locked":"0.5","staked":"0"}"#;
    let a = |from: &str, to: &str| parse_accounts(format!("[{}]", with(ACC, from, to)).as_bytes());
    for j in JUNK {
        assert_eq!(
            a(r#""balance":"1.5""#, &format!(r#""balance":"{j}""#)),
            Err(bad_dec("balance"))
        );
        assert_eq!(
            a(r#""locked":"0.5""#, &format!(r#""locked":"{j}""#)),
            Err(bad_dec("locked"))
        );
        assert_eq!(
            a(r#""staked":"0""#, &format!(r#""staked":"{j}""#)),
            Err(bad_dec("staked"))
        );
    }
    assert_eq!(
        a(r#""balance":"1.5""#, r#""balance":"-1.5""#),
        Err(BadValue("balance"))
    );
    assert_eq!(
        a(r#""locked":"0.5""#, r#""locked":"-0.5""#),
        Err(BadValue("locked"))
    );
    assert_eq!(
        a(r#""staked":"0""#, r#""staked":"-1""#),
        Err(BadValue("staked"))
    );
    // Dust beyond 8 decimals is still cut toward zero.
    let dust = a(r#""balance":"1.5""#, r#""balance":"0.000000495687689""#).unwrap();
    assert_eq!(dust[0].available, Fixed(49));
}

#[test]
fn max_markets_minimums_are_exact_and_precisions_checked() {
    let m = |base_prec: &str, min_base: &str| {
        format!(
            r#"[{{"id":"btctwd","status":"active","base_unit":"btc","base_unit_precision":{base_prec},"min_base_amount":{min_base},"quote_unit":"twd","quote_unit_precision":1,"min_quote_amount":250.0,"m_wallet_supported":true}}]"#
        )
    };
    // Through f64 this was 70126511.59999999.
    let r = parse_markets(m("8", "70126511.6").as_bytes()).unwrap();
    assert_eq!(r[0].rules.min_qty, fx("70126511.6"));
    let r = parse_markets(m("8", "8.0e-05").as_bytes()).unwrap();
    assert_eq!(r[0].rules.min_qty, fx("0.00008"));
    assert_eq!(r[0].rules.min_notional, fx("250"));
    // `base_unit_precision: -2147483648` overflowed `step_from_precision`.
    for p in ["-2147483648", "2147483647", "9", "-11"] {
        assert_eq!(
            parse_markets(m(p, "1").as_bytes()),
            Err(BadValue("base_unit_precision")),
            "{p}"
        );
    }
    assert_eq!(
        parse_markets(m("8", "-1").as_bytes()),
        Err(BadValue("min_base_amount"))
    );
    assert_eq!(
        parse_markets(m("8", "\"1\"").as_bytes()),
        Err(BadValue("min_base_amount"))
    );
    assert_eq!(
        parse_markets(m("8", "1e20").as_bytes()),
        Err(BadDecimal {
            field: "min_base_amount",
            err: DecimalError::Overflow
        })
    );
}

#[test]
fn classify_error_sanitises_the_venues_message() {
    let body = br#"{"success":false,"error":{"code":2004,"message":"bad\nline\r\u001b[31mred\u001b[0m\u0007 \u202eevil\u0000"}}"#;
    let e = classify_error(400, body);
    assert_eq!(e.code, Some(2004));
    assert_eq!(e.message, "bad line red   evil ");
    assert!(!e.to_string().chars().any(|c| c.is_control()), "{e}");
    let long = format!(
        r#"{{"error":{{"code":2004,"message":"{}"}}}}"#,
        "\\u001b[1m".repeat(500) + &"x".repeat(500)
    );
    assert_eq!(classify_error(400, long.as_bytes()).message.len(), 200);
    // Cancel-all carries a venue error text per order: cleaned the same way.
    let all = format!(r#"[{{"error":"E\u001b[2J\r\nbad","order":{ORDER}}}]"#);
    let e = parse_cancel_all(all.as_bytes()).unwrap();
    assert_eq!(e[0].0.as_deref(), Some("E  bad"));
}

// ------------------------------------------------------------------ Binance

fn binance_instruments() -> Instruments {
    let mut ins = Instruments::new();
    for v in [Venue::BinanceSpot, Venue::BinanceFutures] {
        ins.intern(v, "BNBUSDT", "BNB", "USDT").unwrap();
        ins.intern(v, "BTCUSDT", "BTC", "USDT").unwrap();
    }
    ins
}

fn ws(market: BinanceMarket, frame: &str) -> Result<Vec<MdEvent>, ParseError> {
    let mut out = Vec::new();
    let r = BinanceParser::new(market).parse_ws(frame.as_bytes(), 0, &binance_instruments(), |e| {
        out.push(*e)
    });
    match r {
        Ok(_) => Ok(out),
        Err(e) => {
            assert!(out.is_empty(), "{frame}: half-applied");
            Err(e)
        }
    }
}

use BinanceMarket::{Futures, Spot};

#[test]
fn binance_zero_prices_are_not_live_levels() {
    let cases = [
        (
            Spot,
            r#"{"u":1,"s":"BNBUSDT","b":"0","B":"5","a":"0","A":"5"}"#,
            "b",
        ),
        (
            Spot,
            r#"{"u":1,"s":"BNBUSDT","b":"1","B":"5","a":"0","A":"5"}"#,
            "a",
        ),
        (
            Spot,
            r#"{"u":1,"s":"BNBUSDT","b":"1","B":"0","a":"2","A":"5"}"#,
            "B",
        ),
        (
            Spot,
            r#"{"u":1,"s":"BNBUSDT","b":"1","B":"5","a":"2","A":"0"}"#,
            "A",
        ),
        (
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"u":2,"b":[["0","5"]],"a":[]}"#,
            "b",
        ),
        (
            Futures,
            r#"{"e":"depthUpdate","E":1,"T":1,"s":"BNBUSDT","U":1,"u":2,"pu":0,"b":[],"a":[["0","0"]]}"#,
            "a",
        ),
        (
            Spot,
            r#"{"e":"aggTrade","E":1,"s":"BNBUSDT","a":1,"p":"0","q":"0","T":1,"m":true}"#,
            "p",
        ),
        (
            Spot,
            r#"{"e":"trade","E":1,"s":"BNBUSDT","t":1,"p":"1","q":"0","T":1,"m":true}"#,
            "q",
        ),
    ];
    for (m, f, field) in cases {
        assert_eq!(ws(m, f), Err(BadValue(field)), "{f}");
    }
    // Quantity 0 in a diff still removes a level.
    let ev = ws(
        Spot,
        r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"u":2,"b":[["1","0"]],"a":[]}"#,
    )
    .unwrap();
    assert_eq!(ev[0].bids()[0].qty, Fixed::ZERO);
}

#[test]
fn binance_snapshot_levels_are_live() {
    let snap = |body: &str| {
        let mut n = 0;
        let r = BinanceParser::new(Spot).parse_depth_snapshot(
            body.as_bytes(),
            binance_instruments()
                .lookup(Venue::BinanceSpot, b"BNBUSDT")
                .unwrap(),
            0,
            |_| n += 1,
        );
        (r, n)
    };
    assert_eq!(
        snap(r#"{"lastUpdateId":1,"bids":[["1","1"]],"asks":[["0","1"]]}"#),
        (Err(BadValue("asks")), 0)
    );
    assert_eq!(
        snap(r#"{"lastUpdateId":1,"bids":[["1","0"]],"asks":[]}"#),
        (Err(BadValue("bids")), 0)
    );
    assert_eq!(
        snap(r#"{"lastUpdateId":1,"bids":[["1","1"]],"asks":[["2","1"]]}"#),
        (Ok(1), 1)
    );
}

#[test]
fn binance_combined_stream_payload_is_data_alone() {
    let data = r#"{"u":5,"s":"BNBUSDT","b":"1","B":"2","a":"3","A":"4"}"#;
    let frames = [
        format!(r#"{{"stream":"x","data":{data},"s":"BTCUSDT","b":"99"}}"#),
        format!(r#"{{"s":"BTCUSDT","b":"99","u":9,"stream":"x","data":{data}}}"#),
        format!(r#"{{"b":[["99","1"]],"data":{data},"a":[["98","1"]],"e":"depthUpdate"}}"#),
        format!(r#"{{"stream":"x","data":{data},"s":"BTC","b":"NaN","e":"trade"}}"#),
    ];
    let bnb = binance_instruments()
        .lookup(Venue::BinanceSpot, b"BNBUSDT")
        .unwrap();
    for f in &frames {
        let ev = ws(Spot, f).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(ev.len(), 1, "{f}");
        assert_eq!((ev[0].instrument, ev[0].last_id), (bnb, 5), "{f}");
        assert_eq!(
            (ev[0].bids()[0].price, ev[0].asks()[0].price),
            (fx("1"), fx("3")),
            "{f}"
        );
    }
    // A diff's levels come from `data` only, whatever lies beside it.
    let diff = r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"u":2,"b":[["1","1"]],"a":[]}"#;
    let f = format!(r#"{{"a":[["7","7"]],"data":{diff},"b":[["9","9"]]}}"#);
    let ev = ws(Spot, &f).unwrap();
    assert_eq!(
        (ev[0].n_bids, ev[0].n_asks, ev[0].bids()[0].price),
        (1, 0, fx("1"))
    );
    let f = format!(r#"{{"stream":"x","data":{diff},"data":{data}}}"#);
    assert_eq!(ws(Spot, &f), Err(DuplicateField("data")));
}

#[test]
fn binance_ids_are_in_range_and_keys_unique() {
    let pu = r#"{"e":"depthUpdate","E":1,"T":1,"s":"BNBUSDT","U":1,"u":2,"pu":9223372036854775808,"b":[],"a":[]}"#;
    assert_eq!(ws(Futures, pu), Err(BadValue("pu")));
    let max = pu.replace("9223372036854775808", "9223372036854775807");
    assert_eq!(ws(Futures, &max).unwrap()[0].prev_id, i64::MAX);
    let backwards = r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":3,"u":2,"b":[],"a":[]}"#;
    assert_eq!(ws(Spot, backwards), Err(BadValue("U")));
    let dup = r#"{"u":1,"s":"BNBUSDT","b":"1","B":"5","a":"2","A":"5","b":"1.5"}"#;
    assert_eq!(ws(Spot, dup), Err(DuplicateField("b")));
    let dup =
        r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"u":2,"b":[["1","1"]],"a":[],"b":[]}"#;
    assert_eq!(ws(Spot, dup), Err(DuplicateField("b")));
    // Unknown keys may repeat: they are not read.
    let ok = r#"{"u":1,"s":"BNBUSDT","b":"1","B":"5","a":"2","A":"5","x":1,"x":2}"#;
    assert!(matches!(
        BinanceParser::new(Spot).parse_ws(ok.as_bytes(), 0, &binance_instruments(), |_| {}),
        Ok(BinanceOutcome::Market { events: 1 })
    ));
}

// ------------------------------------------------------------------ reference rates, config

#[test]
fn bot_csv_mid_of_extreme_quotes_does_not_wrap() {
    let body = "USD,本行買入,,1,,,,,,,,本行賣出,,92233720368";
    let q = bot_csv::parse(body.as_bytes(), None).unwrap();
    // Wrapped in release to ≈ −46116860184.05: now the exact midpoint.
    assert_eq!(q.mid, fx("46116860184.5"));
    assert!(q.mid.raw() > 0);
    let body = "USD,本行買入,,1e1,,,,,,,,本行賣出,,32";
    assert_eq!(
        bot_csv::parse(body.as_bytes(), None),
        Err(bot_csv::BotCsvError::NoQuote { column: 3 })
    );
    // History rows: the latest date wins, so only a real day is a date.
    let row = |d: &str| format!("{d},USD,本行買入,,31,,,,,,,,本行賣出,,32\n");
    let ok = row("20240229") + &row("20240301");
    assert_eq!(bot_csv::parse(ok.as_bytes(), None).unwrap().date, 20240301);
    for bad in ["99999999", "20240230", "04340192"] {
        let body = row("20240301") + &row(bad);
        assert_eq!(
            bot_csv::parse(body.as_bytes(), None),
            Err(bot_csv::BotCsvError::BadDate),
            "{bad}"
        );
    }
}

#[test]
fn taifex_skips_and_counts_a_bad_row_instead_of_failing() {
    let body = br#"[
        {"Date":"20240201","USD/NTD":"31.338"},
        {"Date":"20240202","USD/NTD":31.5},
        {"Date":20240203,"USD/NTD":"31.6"},
        {"Date":"20240204","USD/NTD":null},
        {"Date":"2024020","USD/NTD":"31.7"},
        {"Date":"20240205","USD/NTD":"3.1e1"},
        {"Date":"20240206","USD/NTD":"-31"},
        {"Date":"20240207","USD/NTD":"31","USD/NTD":"32"},
        {"Date":"99999999","USD/NTD":"31"},
        {"Date":"20240231","USD/NTD":"31"},
        7,
        {"Date":"20240131","USD\/NTD":"31.2"}
    ]"#;
    let r = taifex::parse_rates(body).unwrap();
    assert_eq!(
        (r.quote.date, r.quote.mid, r.skipped_rows),
        (20240201, fx("31.338"), 10)
    );
    assert_eq!(taifex::parse(body).unwrap(), r.quote);
    let e = taifex::parse(br#"[{"Date":1,"USD/NTD":2}]"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1 rows skipped"), "{e}");
    assert!(taifex::parse(br#"{"Date":"20240201"}"#).is_err());
}

#[test]
fn utc_offset_of_i32_min_is_refused_not_wrapped() {
    for v in ["-2147483648", "2147483647", "-2147483647", "841", "-841"] {
        let toml = format!("[scanner.trading_hours]\nutc_offset_minutes = {v}\n");
        let e = Config::from_toml(&toml).unwrap_err().to_string();
        assert!(e.contains("utc_offset_minutes"), "{v}: {e}");
    }
    let ok = "[scanner.trading_hours]\nutc_offset_minutes = -840\n";
    assert!(Config::from_toml(ok).is_ok());
}
