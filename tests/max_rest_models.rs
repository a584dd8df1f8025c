//! MAX REST v3 Trades, Accounts and cancel-all as a specification: the real fixtures from
//! `tests/fixtures/max/` through the parsers, malformed bodies refused with typed errors, and
//! the simulator's writers read back by the same parsers.

use arbline::model::{
    ClientOid, ExecEvent, ExecKind, Fixed, Instruments, OrderState, OrderType, Side, Symbol, Venue,
    WalletType,
};
use arbline::sim::max_frames::*;
use arbline::venue::ParseError;
use arbline::venue::max::*;

#[path = "support/max_fixture.rs"]
mod max_fixture;
use max_fixture::fixture;

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

// ---------------------------------------------------------------- Trades

#[test]
fn rest_v3_wallet_spot_trades_bbgo() {
    let t = parse_trades(&fixture("rest_v3_wallet_spot_trades_bbgo.json")).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(
        t[0],
        MaxTrade {
            id: 12328549,
            order_id: 2492647274,
            wallet: WalletType::Spot,
            market: sym("btcusdt"),
            side: Side::Buy,
            self_trade: false,
            price: fx("78845.32"),
            volume: fx("0.001"),
            funds: fx("78.84532"),
            fee: Some(fx("0.0000016")),
            fee_currency: Some(sym("btc")),
            maker: false,
            created_at_ms: 1770089830214,
        }
    );
    assert_eq!((t[1].id, t[1].order_id), (12328658, 2492665741));
    assert_eq!((t[1].side, t[1].maker), (Side::Sell, false));
    assert_eq!(
        (t[1].fee, t[1].fee_currency),
        (Some(fx("0.03200075")), Some(sym("usdt")))
    );
}

#[test]
fn rest_v3_order_trades_bbgo_is_the_ask_fill_of_the_created_order() {
    let t = parse_trades(&fixture("rest_v3_order_trades_bbgo.json")).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].id, t[0].order_id), (12328658, 2492665741));
    assert_eq!(
        (t[0].price, t[0].volume, t[0].funds),
        (fx("78433.19"), fx("0.000255"), fx("20.00046345"))
    );
    assert_eq!(t[0].created_at_ms, 1770095257229);
    // The same fill the order get reports: avg 78433.19, executed 0.000255.
    let o = parse_order(&fixture("rest_v3_order_get_done_bbgo.json")).unwrap();
    assert_eq!(
        (o.id, o.avg_price, o.executed_volume),
        (t[0].order_id, t[0].price, t[0].volume)
    );
}

#[test]
fn rest_v3_self_trades_node_are_ask_side_with_max_fees() {
    let t = parse_trades(&fixture("rest_v3_wallet_spot_trades_self_trade_node.json")).unwrap();
    assert_eq!(t.len(), 2);
    assert!(t.iter().all(|t| t.self_trade && t.side == Side::Sell));
    assert!(t.iter().all(|t| t.fee_currency == Some(sym("max"))));
    assert_eq!((t[0].id, t[0].order_id), (12345621, 123456789));
    assert_eq!(
        (t[0].fee, t[0].maker, t[0].market),
        (Some(fx("0.04098786")), true, sym("btctwd"))
    );
    assert_eq!(
        (t[1].id, t[1].fee, t[1].maker),
        (12345620, Some(fx("0.13557048")), false)
    );
    assert_eq!(t[1].created_at_ms, 1724131174827);
}

#[test]
fn rest_v2_trades_my_rs_uses_ms_and_info_maker() {
    let t = parse_trades(&fixture("rest_v2_trades_my_rs.json")).unwrap();
    assert_eq!(t.len(), 1);
    let t = t[0];
    assert_eq!((t.id, t.order_id), (29009013, 1545763894));
    assert_eq!(
        (t.wallet, t.market, t.side),
        (WalletType::Spot, sym("dotusdt"), Side::Buy)
    );
    assert_eq!(
        (t.price, t.volume, t.funds),
        (fx("52.0"), fx("3.14"), fx("163.28"))
    );
    assert_eq!(
        (t.fee, t.fee_currency),
        (Some(fx("0.08908907")), Some(sym("max")))
    );
    assert!(t.maker, "info.maker is our side, bid");
    assert_eq!(
        t.created_at_ms, 1635853634052,
        "created_at_in_ms, not seconds"
    );
}

const TRADE: &str = r#"{"id":1,"order_id":2,"wallet_type":"m","price":"10.5","volume":"2","funds":"21","market":"usdttwd","side":"ask","fee":null,"fee_currency":null,"liquidity":"maker","created_at":3}"#;

fn trade_with(from: &str, to: &str) -> Vec<u8> {
    assert!(TRADE.contains(from), "{from}");
    format!("[{}]", TRADE.replacen(from, to, 1)).into_bytes()
}

#[test]
fn a_null_fee_is_still_processing_and_m_is_the_margin_wallet() {
    let t = parse_trades(format!("[{TRADE}]").as_bytes()).unwrap()[0];
    assert_eq!((t.fee, t.fee_currency), (None, None));
    assert_eq!(
        (t.wallet, t.maker, t.side),
        (WalletType::Margin, true, Side::Sell)
    );
    assert_eq!(parse_trades(b"[]").unwrap(), vec![]);
    assert_eq!(parse_trades(b" [ ] \n").unwrap(), vec![]);
}

#[test]
fn malformed_trades_are_typed_errors() {
    use ParseError::*;
    let nan = |field| BadDecimal {
        field,
        err: arbline::model::DecimalError::InvalidChar,
    };
    let cases: Vec<(&str, Vec<u8>, ParseError)> = vec![
        ("html", b"<html>".to_vec(), Json),
        ("object, not array", TRADE.as_bytes().to_vec(), Json),
        ("truncated", format!("[{}", &TRADE[..60]).into_bytes(), Json),
        ("trailing junk", format!("[{TRADE}]x").into_bytes(), Json),
        (
            "price NaN",
            trade_with(r#""10.5""#, r#""NaN""#),
            nan("price"),
        ),
        (
            "volume exponent",
            trade_with(r#""volume":"2""#, r#""volume":"2e3""#),
            nan("volume"),
        ),
        (
            "fee inf",
            trade_with(r#""fee":null"#, r#""fee":"inf""#),
            nan("fee"),
        ),
        (
            "nine decimals",
            trade_with(r#""10.5""#, r#""10.123456789""#),
            BadDecimal {
                field: "price",
                err: arbline::model::DecimalError::TooManyDecimals,
            },
        ),
        ("price as number", trade_with(r#""10.5""#, "10.5"), Json),
        ("id as string", trade_with(r#""id":1"#, r#""id":"1""#), Json),
        ("negative id", trade_with(r#""id":1"#, r#""id":-1"#), Json),
        ("no id", trade_with(r#""id":1,"#, ""), MissingField("id")),
        (
            "no order_id",
            trade_with(r#""order_id":2,"#, ""),
            MissingField("order_id"),
        ),
        (
            "no market",
            trade_with(r#""market":"usdttwd","#, ""),
            MissingField("market"),
        ),
        (
            "no side",
            trade_with(r#""side":"ask","#, ""),
            MissingField("side"),
        ),
        (
            "no funds",
            trade_with(r#""funds":"21","#, ""),
            MissingField("funds"),
        ),
        (
            "no liquidity",
            trade_with(r#","liquidity":"maker""#, ""),
            MissingField("liquidity"),
        ),
        (
            "no created_at",
            trade_with(r#","created_at":3"#, ""),
            MissingField("created_at"),
        ),
        (
            "side buy",
            trade_with(r#""ask""#, r#""sell""#),
            BadValue("side"),
        ),
        (
            "liquidity",
            trade_with(r#""maker""#, r#""both""#),
            BadValue("liquidity"),
        ),
        (
            "wallet",
            trade_with(r#""m""#, r#""x""#),
            BadValue("wallet_type"),
        ),
        (
            "zero price",
            trade_with(r#""10.5""#, r#""0""#),
            BadValue("price"),
        ),
        (
            "negative volume",
            trade_with(r#""volume":"2""#, r#""volume":"-2""#),
            BadValue("volume"),
        ),
        (
            "bad market",
            trade_with(r#""usdttwd""#, r#""usdt/twd""#),
            BadValue("market"),
        ),
        (
            "empty fee currency",
            trade_with(r#""fee_currency":null"#, r#""fee_currency":"""#),
            BadValue("fee_currency"),
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(parse_trades(&body), Err(want), "{name}");
    }
    // The first bad row fails the whole list: nothing half-read is returned.
    let two = format!("[{TRADE},{}]", TRADE.replace("10.5", "x"));
    assert_eq!(parse_trades(two.as_bytes()), Err(nan("price")));
}

// ---------------------------------------------------------------- Accounts

#[test]
fn rest_v3_wallet_spot_accounts_bbgo() {
    let a = parse_accounts(&fixture("rest_v3_wallet_spot_accounts_bbgo.json")).unwrap();
    assert_eq!(a.len(), 50);
    assert_eq!(
        a[0],
        MaxAccountBalance {
            currency: sym("twd"),
            available: fx("99997978.4796"),
            locked: Fixed::ZERO,
            staked: None,
        }
    );
    let eth = a.iter().find(|b| b.currency == sym("eth")).unwrap();
    assert_eq!(
        (eth.available, eth.staked),
        (fx("1005.47880316"), Some(Fixed::ZERO))
    );
    assert_eq!(a.iter().filter(|b| b.staked.is_some()).count(), 7);
}

#[test]
fn rest_v3_wallet_spot_accounts_node_with_locked_staked_and_dust() {
    let a = parse_accounts(&fixture("rest_v3_wallet_spot_accounts_node.json")).unwrap();
    assert_eq!(a.len(), 51);
    let get = |c| *a.iter().find(|b| b.currency == sym(c)).unwrap();
    assert_eq!(
        get("max"),
        MaxAccountBalance {
            currency: sym("MAX"),
            available: fx("725778.09524333"),
            locked: fx("49035.84255228"),
            staked: Some(fx("20342.15710518")),
        }
    );
    assert_eq!(
        (get("btc").locked, get("btc").staked),
        (fx("0.01003"), None)
    );
    assert_eq!(get("trx").available, fx("90000015633.4282"));
    // "0.000000495687689": finer than 10⁻⁸, truncated toward zero.
    assert_eq!(get("omg").available, fx("0.00000049"));
    assert_eq!(a.iter().filter(|b| b.staked.is_some()).count(), 6);
}

#[test]
fn malformed_accounts_are_typed_errors() {
    use ParseError::*;
    let ok = r#"{"currency":"btc","balance":"1.5","locked":"0.5","staked":null}"#;
    assert_eq!(
        parse_accounts(format!("[{ok}]").as_bytes()).unwrap()[0].locked,
        fx("0.5")
    );
    let m = r#"[{"currency":"usdt","balance":"1","locked":"0","staked":null,"principal":"5","interest":"0.01"}]"#;
    assert_eq!(parse_accounts(m.as_bytes()).unwrap()[0].available, fx("1"));
    let with = |from: &str, to: &str| format!("[{}]", ok.replacen(from, to, 1)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, ParseError)> = vec![
        ("truncated", ok.as_bytes()[..30].to_vec(), Json),
        ("not an array", ok.as_bytes().to_vec(), Json),
        ("balance as number", with(r#""1.5""#, "1.5"), Json),
        ("currency as number", with(r#""btc""#, "7"), Json),
        (
            "no currency",
            with(r#""currency":"btc","#, ""),
            MissingField("currency"),
        ),
        (
            "no balance",
            with(r#""balance":"1.5","#, ""),
            MissingField("balance"),
        ),
        (
            "no locked",
            with(r#""locked":"0.5","#, ""),
            MissingField("locked"),
        ),
        (
            "balance NaN",
            with(r#""1.5""#, r#""NaN""#),
            BadDecimal {
                field: "balance",
                err: arbline::model::DecimalError::InvalidChar,
            },
        ),
        (
            "staked exponent",
            with("null", r#""1e2""#),
            BadDecimal {
                field: "staked",
                err: arbline::model::DecimalError::InvalidChar,
            },
        ),
        (
            "locked out of range",
            with(r#""0.5""#, r#""99999999999999""#),
            BadDecimal {
                field: "locked",
                err: arbline::model::DecimalError::Overflow,
            },
        ),
        (
            "bad currency",
            with(r#""btc""#, r#""b tc""#),
            BadValue("currency"),
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(parse_accounts(&body), Err(want), "{name}");
    }
}

// ---------------------------------------------------------------- cancel-all

#[test]
fn rest_v3_cancel_all_bbgo_and_node() {
    let r = parse_cancel_all(&fixture("rest_v3_cancel_all_by_market_bbgo.json")).unwrap();
    assert_eq!(r.len(), 1);
    let (err, o) = &r[0];
    assert_eq!(*err, None);
    assert_eq!(
        (o.id, o.market, o.side),
        (2492709208, sym("btcusdt"), Side::Buy)
    );
    assert_eq!(
        (o.venue_state, o.state),
        (MaxOrderState::Wait, OrderState::New),
        "the cancel is only queued"
    );
    assert_eq!(o.client_oid.as_str(), "<uuid-1>");
    assert!(
        parse_cancel_all(&fixture("rest_v3_cancel_all_empty_bbgo.json"))
            .unwrap()
            .is_empty()
    );
    let n = parse_cancel_all(&fixture("rest_v3_cancel_all_node.json")).unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].0.as_deref(), n[0].1.id), (None, 1234567890));
    assert!(n[0].1.client_oid.is_empty());
    assert_eq!(n[0].1.price, Some(fx("30000.0")));
}

#[test]
fn cancel_all_entries_carry_their_error_and_bad_bodies_fail() {
    let body = String::from_utf8(fixture("rest_v3_cancel_all_by_market_bbgo.json")).unwrap();
    let failed = body.replacen(r#""error":null"#, r#""error":"order is finalizing""#, 1);
    let r = parse_cancel_all(failed.as_bytes()).unwrap();
    assert_eq!(r[0].0.as_deref(), Some("order is finalizing"));
    assert_eq!(
        parse_cancel_all(br#"{"success":true}"#),
        Err(ParseError::Json)
    );
    assert_eq!(
        parse_cancel_all(&body.as_bytes()[..40]),
        Err(ParseError::Json)
    );
    let nan = body.replacen(r#""1000.0""#, r#""NaN""#, 1);
    assert!(matches!(
        parse_cancel_all(nan.as_bytes()),
        Err(ParseError::BadDecimal { field: "price", .. })
    ));
}

// ---------------------------------------------------------------- writers → parsers

fn trade_frame<'a>(
    oid: &'a ClientOid,
    wallet: WalletType,
    id: u64,
    maker: bool,
) -> MaxTradeFrame<'a> {
    MaxTradeFrame {
        id,
        order_id: 555,
        client_oid: oid,
        market: "usdttwd",
        wallet,
        side: Side::Sell,
        price: fx("31.512"),
        volume: fx("60"),
        fee: fx("0.0378144"),
        fee_currency: "twd",
        maker,
        ts_ms: 1770095257229,
    }
}

fn order_frame<'a>(
    oid: &'a ClientOid,
    wallet: WalletType,
    id: u64,
    state: &'a str,
) -> MaxOrderFrame<'a> {
    MaxOrderFrame {
        id,
        client_oid: oid,
        market: "btcusdt",
        wallet,
        side: Side::Buy,
        ord_type: OrderType::PostOnly,
        price: fx("78000.5"),
        avg_price: Fixed::ZERO,
        volume: fx("0.01"),
        remaining: fx("0.01"),
        executed: Fixed::ZERO,
        state,
        trades_count: 0,
        created_ms: 1,
        updated_ms: 2,
    }
}

fn instruments() -> Instruments {
    let mut i = Instruments::new();
    i.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
    i.intern(Venue::Max, "usdttwd", "usdt", "twd").unwrap();
    i
}

type PrivOut = (MaxPrivateOutcome, Vec<ExecEvent>, Vec<Balance>);

fn private(frame: &[u8]) -> Result<PrivOut, ParseError> {
    let mut p = MaxPrivateParser::new();
    let (mut ex, mut bal) = (Vec::new(), Vec::new());
    let r = p.parse(frame, 7, &instruments(), |e| ex.push(*e), |b| bal.push(*b))?;
    Ok((r, ex, bal))
}

#[test]
fn rest_trades_written_for_the_simulator_parse_back() {
    let oid = ClientOid::from_bytes(b"arb-1").unwrap();
    let mut out = b"[".to_vec();
    write_rest_trade(&mut out, &trade_frame(&oid, WalletType::Margin, 9, true));
    out.push(b',');
    let mut max_fee = trade_frame(&oid, WalletType::Spot, 10, false);
    (max_fee.side, max_fee.fee_currency) = (Side::Buy, "max");
    write_rest_trade(&mut out, &max_fee);
    out.push(b']');
    let text = std::str::from_utf8(&out).unwrap();
    assert!(
        text.starts_with(r#"[{"id":9,"order_id":555,"wallet_type":"m","#),
        "{text}"
    );
    assert!(text.contains(r#""fee_discounted":true"#), "{text}");
    let t = parse_trades(&out).unwrap();
    assert_eq!(
        t[0],
        MaxTrade {
            id: 9,
            order_id: 555,
            wallet: WalletType::Margin,
            market: sym("usdttwd"),
            side: Side::Sell,
            self_trade: false,
            price: fx("31.512"),
            volume: fx("60"),
            funds: fx("1890.72"),
            fee: Some(fx("0.0378144")),
            fee_currency: Some(sym("twd")),
            maker: true,
            created_at_ms: 1770095257229,
        }
    );
    assert_eq!(
        (
            t[1].id,
            t[1].wallet,
            t[1].side,
            t[1].maker,
            t[1].fee_currency
        ),
        (10, WalletType::Spot, Side::Buy, false, Some(sym("MAX")))
    );
}

#[test]
fn rest_accounts_written_for_the_simulator_parse_back() {
    let mut out = b"[".to_vec();
    write_rest_account(&mut out, "twd", fx("1000000.5"), fx("3150"));
    out.push(b',');
    write_rest_account(&mut out, "usdt", fx("0.00000001"), Fixed::ZERO);
    out.push(b']');
    assert_eq!(
        parse_accounts(&out).unwrap(),
        vec![
            MaxAccountBalance {
                currency: sym("twd"),
                available: fx("1000000.5"),
                locked: fx("3150"),
                staked: None,
            },
            MaxAccountBalance {
                currency: sym("usdt"),
                available: fx("0.00000001"),
                locked: Fixed::ZERO,
                staked: None,
            },
        ]
    );
}

#[test]
fn account_events_parse_back_per_wallet_and_kind() {
    let mut out = Vec::new();
    let balances = [
        ("btc", fx("1.5"), fx("0.25")),
        ("twd", fx("31000"), Fixed::ZERO),
    ];
    for (wallet, snapshot, event) in [
        (WalletType::Spot, true, "account_snapshot"),
        (WalletType::Spot, false, "account_update"),
        (WalletType::Margin, true, "mwallet_account_snapshot"),
        (WalletType::Margin, false, "mwallet_account_update"),
    ] {
        write_account_event(&mut out, wallet, snapshot, &balances, 99);
        let head = format!(r#"{{"c":"user","e":"{event}","B":["#);
        assert!(out.starts_with(head.as_bytes()), "{event}");
        let (r, _, b) = private(&out).unwrap();
        assert_eq!(r, MaxPrivateOutcome::Balances { count: 2 }, "{event}");
        assert_eq!(
            b[0],
            Balance {
                wallet,
                currency: sym("BTC"),
                available: fx("1.5"),
                locked: fx("0.25"),
                updated_ms: 99,
            }
        );
        assert_eq!((b[1].currency, b[1].available), (sym("twd"), fx("31000")));
    }
    write_account_event(&mut out, WalletType::Spot, false, &[], 5);
    assert_eq!(out, br#"{"c":"user","e":"account_update","B":[],"T":5}"#);
    assert_eq!(
        private(&out).unwrap().0,
        MaxPrivateOutcome::Balances { count: 0 }
    );
}

#[test]
fn order_snapshots_parse_back_spot_mwallet_and_empty() {
    let (a, b) = (ClientOid::from_bytes(b"a").unwrap(), ClientOid::default());
    let mut out = Vec::new();
    for wallet in [WalletType::Spot, WalletType::Margin] {
        let orders = [
            order_frame(&a, wallet, 1, "wait"),
            order_frame(&b, wallet, 2, "cancel"),
        ];
        write_order_snapshot(&mut out, &orders, 3);
        let event = match wallet {
            WalletType::Spot => r#"{"c":"user","e":"order_snapshot","o":[{"i":1,"#,
            WalletType::Margin => r#"{"c":"user","e":"mwallet_order_snapshot","o":[{"i":1,"#,
        };
        assert!(out.starts_with(event.as_bytes()), "{wallet:?}");
        let (r, ex, _) = private(&out).unwrap();
        assert_eq!(r, MaxPrivateOutcome::Exec { events: 2 });
        assert_eq!(
            (
                ex[0].exchange_order_id,
                ex[0].kind,
                ex[0].state,
                ex[0].client_oid
            ),
            (1, ExecKind::Ack, OrderState::New, a)
        );
        assert_eq!(
            (ex[1].exchange_order_id, ex[1].kind, ex[1].client_oid),
            (2, ExecKind::Cancelled, b)
        );
    }
    write_order_snapshot(&mut out, &[], 4);
    assert_eq!(out, br#"{"c":"user","e":"order_snapshot","o":[],"T":4}"#);
    assert_eq!(
        private(&out).unwrap().0,
        MaxPrivateOutcome::Exec { events: 0 }
    );
    write_order_snapshot_in(&mut out, WalletType::Margin, &[], 4);
    assert_eq!(
        out,
        br#"{"c":"user","e":"mwallet_order_snapshot","o":[],"T":4}"#
    );
    assert_eq!(
        private(&out).unwrap().0,
        MaxPrivateOutcome::Exec { events: 0 }
    );
}

#[test]
fn trade_snapshots_parse_back_spot_mwallet_and_empty() {
    let (oid, none) = (
        ClientOid::from_bytes(b"arb-2").unwrap(),
        ClientOid::default(),
    );
    let mut out = Vec::new();
    for (wallet, event) in [
        (WalletType::Spot, "trade_snapshot"),
        (WalletType::Margin, "mwallet_trade_snapshot"),
    ] {
        let trades = [
            trade_frame(&oid, wallet, 11, true),
            trade_frame(&none, wallet, 12, false),
        ];
        write_trade_snapshot(&mut out, &trades, 3);
        let head = format!(r#"{{"c":"user","e":"{event}","t":[{{"i":11,"#);
        assert!(out.starts_with(head.as_bytes()), "{event}");
        let (r, ex, _) = private(&out).unwrap();
        assert_eq!(r, MaxPrivateOutcome::Exec { events: 2 });
        assert!(
            ex.iter()
                .all(|e| e.kind == ExecKind::Fill && e.exchange_order_id == 555)
        );
        assert_eq!(
            (
                ex[0].trade_id,
                ex[0].price,
                ex[0].qty,
                ex[0].fee,
                ex[0].client_oid
            ),
            (11, fx("31.512"), fx("60"), fx("0.0378144"), oid)
        );
        assert_eq!((ex[1].trade_id, ex[1].client_oid), (12, none));
    }
    write_trade_snapshot(&mut out, &[], 4);
    assert_eq!(out, br#"{"c":"user","e":"trade_snapshot","t":[],"T":4}"#);
    assert_eq!(
        private(&out).unwrap().0,
        MaxPrivateOutcome::Exec { events: 0 }
    );
    write_trade_snapshot_in(&mut out, WalletType::Margin, &[], 4);
    assert_eq!(
        out,
        br#"{"c":"user","e":"mwallet_trade_snapshot","t":[],"T":4}"#
    );
}

#[test]
fn single_updates_are_unchanged_by_the_snapshot_writers() {
    // `write_*_update` and a one-element snapshot differ only in the event name.
    let oid = ClientOid::from_bytes(b"x").unwrap();
    let (mut one, mut snap) = (Vec::new(), Vec::new());
    let o = order_frame(&oid, WalletType::Margin, 7, "wait");
    write_order_update(&mut one, &o, 9);
    write_order_snapshot(&mut snap, &[o], 9);
    assert_eq!(
        String::from_utf8(one.clone()).unwrap(),
        String::from_utf8(snap.clone())
            .unwrap()
            .replace("order_snapshot", "order_update")
    );
    let t = trade_frame(&oid, WalletType::Spot, 8, true);
    write_trade_update(&mut one, &t, 9);
    write_trade_snapshot(&mut snap, &[t], 9);
    assert_eq!(
        String::from_utf8(one).unwrap(),
        String::from_utf8(snap)
            .unwrap()
            .replace("trade_snapshot", "trade_update")
    );
}
