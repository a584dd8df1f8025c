//! MAX wire protocol as a specification: real fixtures from `tests/fixtures/max/` through the
//! parsers, signer and error classifier; malformed frames; the book sequencer's rules.

use arbline::book::max_sync::MaxSync;
use arbline::book::{L2Book, ResyncReason, SyncOutcome};
use arbline::model::{
    ClientOid, ExecEvent, ExecKind, Fixed, Instruments, Level, MdEvent, MdKind, OrderState,
    OrderType, Side, Symbol, Venue, WalletType,
};
use arbline::sim::max_frames::*;
use arbline::venue::ParseError;
use arbline::venue::max::*;

#[path = "support/frames.rs"]
mod frames;
#[path = "support/max_fixture.rs"]
mod max_fixture;
use frames::{Frame, chunks_for};
use max_fixture::fixture;

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn lv(p: &str, q: &str) -> Level {
    Level {
        price: fx(p),
        qty: fx(q),
    }
}

fn instruments() -> Instruments {
    let mut i = Instruments::new();
    i.intern(Venue::Max, "btcusdt", "btc", "usdt").unwrap();
    i.intern(Venue::Max, "btctwd", "btc", "twd").unwrap();
    i.intern(Venue::Max, "ethtwd", "eth", "twd").unwrap();
    i.intern(Venue::Max, "ethusdt", "eth", "usdt").unwrap();
    i.intern(Venue::Max, "usdttwd", "usdt", "twd").unwrap();
    i
}

fn public(frame: &[u8]) -> Result<(MaxPublicOutcome, Vec<MdEvent>), ParseError> {
    let mut p = MaxPublicParser::new();
    let mut evs = Vec::new();
    let r = p.parse(frame, 42, &instruments(), |e| evs.push(*e))?;
    Ok((r, evs))
}

type PrivOut = (MaxPrivateOutcome, Vec<ExecEvent>, Vec<Balance>);

fn private(frame: &[u8]) -> Result<PrivOut, ParseError> {
    let mut p = MaxPrivateParser::new();
    let (mut ex, mut bal) = (Vec::new(), Vec::new());
    let r = p.parse(frame, 7, &instruments(), |e| ex.push(*e), |b| bal.push(*b))?;
    Ok((r, ex, bal))
}

/// Whether the private byte scanner read `frame` (else the general path did).
fn private_scanned(frame: &[u8]) -> bool {
    let mut p = MaxPrivateParser::new();
    let _ = p.parse(frame, 7, &instruments(), |_| {}, |_| {});
    p.scanned_frames() == 1
}

// ---------------------------------------------------------------- public WS fixtures

#[test]
fn ws_book_snapshot_doc() {
    let (r, evs) = public(&fixture("ws_book_snapshot_doc.json")).unwrap();
    assert_eq!(r, MaxPublicOutcome::Market { events: 1 });
    let e = &evs[0];
    assert_eq!(e.kind, MdKind::BookSnapshot);
    assert_eq!(e.venue, Venue::Max);
    assert_eq!(
        e.instrument,
        instruments().lookup(Venue::Max, b"btcusdt").unwrap()
    );
    assert_eq!(
        (e.first_id, e.last_id, e.version),
        (12141725, 12141725, 1725602999632)
    );
    assert_eq!(e.exch_ts_ms, 1591869939634);
    assert_eq!(e.bids(), &[lv("5333.3", "0.5")]);
    assert_eq!(e.asks(), &[lv("5337.3", "0.1")]);
    assert_eq!(
        (e.chunk, e.last_chunk, e.ts_frame, e.ts_parsed),
        (0, true, 42, 0)
    );
}

#[test]
fn ws_book_update_doc() {
    let (_, evs) = public(&fixture("ws_book_update_doc.json")).unwrap();
    let e = &evs[0];
    assert_eq!(e.kind, MdKind::BookUpdate);
    assert_eq!(
        (e.first_id, e.last_id, e.version),
        (12141726, 12141726, 1725602999632)
    );
    assert!(e.bids().is_empty());
    assert_eq!(e.asks(), &[lv("5337.3", "0.01037")]);
}

#[test]
fn ws_trade_snapshot_and_update_doc() {
    for name in ["ws_trade_snapshot_doc.json", "ws_trade_update_doc.json"] {
        let (r, evs) = public(&fixture(name)).unwrap();
        assert_eq!(r, MaxPublicOutcome::Market { events: 1 }, "{name}");
        assert_eq!(evs[0].kind, MdKind::Trade);
        assert_eq!(evs[0].side, Side::Buy, "tr=up is a buying taker");
        assert_eq!(evs[0].levels[0], lv("5337.3", "0.1"));
        assert_eq!(evs[0].exch_ts_ms, 123456789);
    }
    let down = br#"{"c":"trade","e":"update","M":"btctwd","t":[{"p":"1","v":"2","T":5,"tr":"down"}],"T":6}"#;
    assert_eq!(public(down).unwrap().1[0].side, Side::Sell);
}

/// The simulator's writers produce the docs' public `trade` and `ticker` events key for key.
#[test]
fn ws_trade_and_ticker_writers_match_the_doc_fixtures() {
    let json = |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap();
    let mut out = Vec::new();
    let t = MaxPublicTrade {
        price: fx("5337.3"),
        volume: fx("0.1"),
        taker_side: Side::Buy,
        ts_ms: 123456789,
    };
    for (name, snapshot) in [
        ("ws_trade_snapshot_doc.json", true),
        ("ws_trade_update_doc.json", false),
    ] {
        write_public_trades(&mut out, "btctwd", snapshot, &[t], 123456789);
        assert_eq!(json(&out), json(&fixture(name)), "{name}");
        // MAX's compact layout: the written trade frame takes the byte scanner.
        let mut p = MaxPublicParser::new();
        let mut evs = Vec::new();
        p.parse(&out, 0, &instruments(), |e| evs.push(*e)).unwrap();
        assert_eq!((p.scanned_frames(), evs.len()), (1, 1), "{name}");
        assert_eq!((evs[0].side, evs[0].levels[0].price), (Side::Buy, t.price));
    }
    let tk = MaxTickerFrame {
        open: fx("280007.1"),
        high: fx("280017.2"),
        low: fx("280005.3"),
        close: fx("280004.5"),
        volume: fx("71.01"),
        volume_in_btc: fx("71.01"),
    };
    for (name, snapshot) in [
        ("ws_ticker_snapshot_doc.json", true),
        ("ws_ticker_update_doc.json", false),
    ] {
        write_ticker(&mut out, "btctwd", snapshot, &tk, 123456789);
        assert_eq!(json(&out), json(&fixture(name)), "{name}");
        // arbline reads no ticker: the written frame is recognised and ignored, not an error.
        assert_eq!(public(&out).unwrap().0, MaxPublicOutcome::Ignored);
    }
}

#[test]
fn ws_subscribed_unsubscribed_error_doc() {
    assert_eq!(
        public(&fixture("ws_subscribed_doc.json")).unwrap().0,
        MaxPublicOutcome::Subscribed
    );
    assert_eq!(
        public(&fixture("ws_subscribed_real_node_v2_comment.json"))
            .unwrap()
            .0,
        MaxPublicOutcome::Subscribed
    );
    assert_eq!(
        public(&fixture("ws_unsubscribed_doc.json")).unwrap().0,
        MaxPublicOutcome::Unsubscribed
    );
    assert_eq!(
        public(&fixture("ws_error_invalid_action_doc.json"))
            .unwrap()
            .0,
        MaxPublicOutcome::Error { code: 1004 }
    );
}

#[test]
fn ws_channels_not_used_are_ignored() {
    for name in [
        "ws_ticker_snapshot_doc.json",
        "ws_ticker_update_doc.json",
        "ws_kline_snapshot_doc.json",
        "ws_kline_update_doc.json",
        "ws_kline_update_bbgo_comment.json",
        "ws_market_status_snapshot_doc.json",
        "ws_market_status_update_doc.json",
        "ws_pool_quota_snapshot_doc.json",
    ] {
        let (r, evs) = public(&fixture(name)).unwrap();
        assert_eq!(r, MaxPublicOutcome::Ignored, "{name}");
        assert!(evs.is_empty());
    }
}

// ---------------------------------------------------------------- malformed public frames

#[test]
fn malformed_public_frames_are_typed_errors() {
    let cases: &[(&str, &[u8], ParseError)] = &[
        ("truncated", br#"{"c":"book","e":"snapshot","M":"btcusdt","a":[["1","#, ParseError::Json),
        ("empty", b"", ParseError::Json),
        ("not an object", b"[1,2]", ParseError::Json),
        ("trailing junk", br#"{"e":"subscribed"} x"#, ParseError::Json),
        (
            "price is a number",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[[1.5,"1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::Json,
        ),
        (
            "fi is a string",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":"1","li":1,"v":1}"#,
            ParseError::Json,
        ),
        (
            "NaN price",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[["NaN","1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadDecimal { field: "a", err: arbline::model::DecimalError::InvalidChar },
        ),
        (
            "too many decimals",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[["1.123456789","1"]],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadDecimal { field: "b", err: arbline::model::DecimalError::TooManyDecimals },
        ),
        (
            "negative volume",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[["1","-1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadValue("a"),
        ),
        (
            "short level",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[["1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadValue("a"),
        ),
        (
            "unknown market",
            br#"{"c":"book","e":"update","M":"dogeusdt","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::UnknownSymbol,
        ),
        (
            "missing fi",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"li":1,"v":1}"#,
            ParseError::MissingField("fi"),
        ),
        (
            "missing li",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"v":1}"#,
            ParseError::MissingField("li"),
        ),
        (
            "missing v",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"li":1}"#,
            ParseError::MissingField("v"),
        ),
        (
            "fi after li",
            br#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":3,"li":2,"v":1}"#,
            ParseError::BadValue("fi"),
        ),
        ("unknown channel", br#"{"c":"nope","e":"update"}"#, ParseError::UnknownEvent),
        ("unknown book event", br#"{"c":"book","e":"delta","M":"btcusdt"}"#, ParseError::UnknownEvent),
        ("no event", br#"{"T":1}"#, ParseError::MissingField("e")),
        (
            "bad trend",
            br#"{"c":"trade","e":"update","M":"btctwd","t":[{"p":"1","v":"1","T":1,"tr":"sideways"}],"T":1}"#,
            ParseError::BadValue("tr"),
        ),
        ("error without code", br#"{"e":"error","E":["oops"]}"#, ParseError::BadValue("E")),
    ];
    for (name, frame, want) in cases {
        assert_eq!(public(frame).err(), Some(*want), "{name}");
    }
}

#[test]
fn public_parser_reuses_its_buffers_and_emits_nothing_on_error() {
    let mut p = MaxPublicParser::new();
    let ins = instruments();
    let mut n = 0;
    let bad =
        br#"{"c":"book","e":"update","M":"btcusdt","a":[["1","1"]],"b":[],"T":1,"fi":1,"li":1}"#;
    assert_eq!(
        p.parse(bad, 0, &ins, |_| n += 1).err(),
        Some(ParseError::MissingField("v")),
        "an update without its version"
    );
    assert_eq!(n, 0, "a bad frame emits nothing");
    let good = fixture("ws_book_update_doc.json");
    assert!(p.parse(&good, 0, &ins, |_| n += 1).is_ok());
    assert_eq!(n, 1);
}

// ---------------------------------------------------------------- private WS fixtures

#[test]
fn ws_order_snapshot_doc() {
    let (r, ex, _) = private(&fixture("ws_order_snapshot_doc.json")).unwrap();
    assert_eq!(r, MaxPrivateOutcome::Exec { events: 1 });
    let e = &ex[0];
    assert_eq!(e.kind, ExecKind::StateUpdate);
    assert_eq!(e.state, OrderState::Filled, "S=done");
    assert_eq!(e.exchange_order_id, 87);
    assert_eq!(e.client_oid.as_str(), "client-oid-1");
    assert_eq!(e.side, Side::Buy);
    assert_eq!(e.qty, fx("0.2658"), "qty = executed volume");
    assert_eq!(e.price, fx("21499.0"), "price = average price");
    assert_eq!(e.venue_ts_ms, 1659419048406);
    assert_eq!(e.ts_recv, 7);
    assert_eq!(
        e.instrument,
        instruments().lookup(Venue::Max, b"ethtwd").unwrap()
    );
}

#[test]
fn ws_order_update_doc() {
    let (r, ex, _) = private(&fixture("ws_order_update_doc.json")).unwrap();
    assert_eq!(r, MaxPrivateOutcome::Exec { events: 1 });
    assert_eq!(
        (ex[0].kind, ex[0].state),
        (ExecKind::StateUpdate, OrderState::Filled)
    );
    assert_eq!(ex[0].exchange_order_id, 87);
}

#[test]
fn ws_mwallet_order_update_cancel_doc_with_nulls() {
    let (r, ex, _) = private(&fixture("ws_mwallet_order_update_cancel_doc.json")).unwrap();
    assert_eq!(r, MaxPrivateOutcome::Exec { events: 1 });
    let e = &ex[0];
    assert_eq!(
        (e.kind, e.state),
        (ExecKind::Cancelled, OrderState::Cancelled)
    );
    assert!(e.client_oid.is_empty(), "ci null");
    assert_eq!(e.exchange_order_id, 210233270);
    assert_eq!(e.qty, Fixed::ZERO);
    assert_eq!(
        e.wallet,
        WalletType::Margin,
        "mwallet_ events are the margin wallet's"
    );
}

#[test]
fn private_events_carry_their_wallet() {
    for (name, wallet) in [
        ("ws_order_update_doc.json", WalletType::Spot),
        ("ws_trade_update_private_doc.json", WalletType::Spot),
        ("ws_mwallet_order_snapshot_doc.json", WalletType::Margin),
        ("ws_mwallet_trade_update_doc.json", WalletType::Margin),
        ("ws_mwallet_fast_trade_update_doc.json", WalletType::Margin),
    ] {
        let (_, ex, _) = private(&fixture(name)).unwrap();
        assert!(!ex.is_empty(), "{name}");
        assert!(ex.iter().all(|e| e.wallet == wallet), "{name}: {ex:?}");
    }
}

#[test]
fn order_states_map_to_exec_kinds() {
    let row = |s: &str, ev: &str| {
        format!(
            r#"{{"c":"user","e":"order_update","o":[{{"i":1,"sd":"ask","ot":"limit","p":"1","ap":"1","v":"2","rv":"1","ev":"{ev}","S":"{s}","M":"usdttwd","tc":0,"T":1,"TU":2,"ci":"x"}}],"T":3}}"#
        )
    };
    let cases = [
        ("wait", "0", ExecKind::Ack, OrderState::New),
        (
            "wait",
            "1",
            ExecKind::StateUpdate,
            OrderState::PartiallyFilled,
        ),
        ("done", "2", ExecKind::StateUpdate, OrderState::Filled),
        ("cancel", "1", ExecKind::Cancelled, OrderState::Cancelled),
        ("failed", "0", ExecKind::Reject, OrderState::Rejected),
        ("convert", "0", ExecKind::StateUpdate, OrderState::New),
        (
            "finalizing",
            "1",
            ExecKind::StateUpdate,
            OrderState::PartiallyFilled,
        ),
    ];
    for (s, ev, kind, state) in cases {
        let (_, ex, _) = private(row(s, ev).as_bytes()).unwrap();
        assert_eq!((ex[0].kind, ex[0].state), (kind, state), "S={s} ev={ev}");
        assert_eq!(ex[0].side, Side::Sell);
    }
    assert_eq!(
        private(row("weird", "0").as_bytes()).err(),
        Some(ParseError::BadValue("S"))
    );
}

#[test]
fn ws_trade_update_private_doc() {
    let (r, ex, _) = private(&fixture("ws_trade_update_private_doc.json")).unwrap();
    assert_eq!(r, MaxPrivateOutcome::Exec { events: 1 });
    let e = &ex[0];
    assert_eq!(e.kind, ExecKind::Fill);
    assert_eq!((e.trade_id, e.exchange_order_id), (68444, 3253823664));
    assert_eq!(
        (e.price, e.qty, e.fee),
        (fx("21499.0"), fx("0.2658"), fx("3.2"))
    );
    assert_eq!(e.side, Side::Buy);
    assert_eq!(e.venue_ts_ms, 1659216053748);
}

#[test]
fn ws_fast_trade_update_doc_has_no_fee() {
    let (_, ex, _) = private(&fixture("ws_fast_trade_update_doc.json")).unwrap();
    assert_eq!(ex[0].kind, ExecKind::Fill);
    assert_eq!(
        ex[0].fee,
        Fixed::ZERO,
        "fast_trade_update carries no fee fields"
    );
    assert_eq!(ex[0].trade_id, 68444);
    let (r, ex, _) = private(&fixture("ws_mwallet_fast_trade_update_doc.json")).unwrap();
    assert!(matches!(r, MaxPrivateOutcome::Exec { .. }));
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert!(ex.iter().all(|e| e.kind == ExecKind::Fill));
}

#[test]
fn ws_trade_snapshot_private_bbgo_test() {
    let (_, ex, _) = private(&fixture("ws_trade_snapshot_private_bbgo_test.json")).unwrap();
    let e = &ex[0];
    assert_eq!((e.trade_id, e.exchange_order_id), (68444, 7423));
    assert_eq!(e.client_oid.as_str(), "client-oid-1");
    assert_eq!(e.fee, fx("3.2"));
    assert_eq!(e.venue_ts_ms, 1521726960357);
}

#[test]
fn ws_account_snapshot_doc() {
    let (r, _, b) = private(&fixture("ws_account_snapshot_doc.json")).unwrap();
    assert_eq!(r, MaxPrivateOutcome::Balances { count: 1 });
    assert_eq!(
        b[0],
        Balance {
            wallet: WalletType::Spot,
            currency: Symbol::new("btc").unwrap(),
            available: fx("123.4"),
            locked: fx("0.5"),
            updated_ms: 1659390246343,
        }
    );
    let (_, _, b) = private(&fixture("ws_mwallet_account_snapshot_doc.json")).unwrap();
    assert_eq!(b[0].wallet, WalletType::Margin);
    assert_eq!(b[0].updated_ms, 1521726960357, "no TU: the frame's T");
    let (r, _, _) = private(&fixture("ws_account_update_doc.json")).unwrap();
    assert!(matches!(r, MaxPrivateOutcome::Balances { .. }));
}

#[test]
fn ws_authenticated_and_error_doc() {
    assert_eq!(
        private(&fixture("ws_authenticated_doc.json")).unwrap().0,
        MaxPrivateOutcome::Authenticated
    );
    assert_eq!(
        private(&fixture("ws_error_invalid_action_doc.json"))
            .unwrap()
            .0,
        MaxPrivateOutcome::Error { code: 1004 }
    );
    let auth_failed = br#"{"e":"error","E":["E-1007: authentication failed"],"i":"x","T":1}"#;
    assert_eq!(
        private(auth_failed).unwrap().0,
        MaxPrivateOutcome::Error { code: 1007 }
    );
}

#[test]
fn ws_other_private_fixtures_parse() {
    for name in [
        "ws_trade_snapshot_private_doc.json",
        "ws_mwallet_order_snapshot_doc.json",
        "ws_mwallet_trade_snapshot_doc.json",
        "ws_mwallet_trade_update_doc.json",
        "ws_ad_ratio_snapshot_doc.json",
        "ws_borrowing_snapshot_doc.json",
    ] {
        assert!(private(&fixture(name)).is_ok(), "{name}");
    }
    assert_eq!(
        private(&fixture("ws_ad_ratio_snapshot_doc.json"))
            .unwrap()
            .0,
        MaxPrivateOutcome::Ignored
    );
}

#[test]
fn private_rows_on_unknown_markets_are_skipped_and_counted() {
    let frame = br#"{"c":"user","e":"trade_update","t":[{"i":1,"M":"dogetwd","sd":"bid","p":"1","v":"1","T":1,"m":true,"oi":2},{"i":2,"M":"btctwd","sd":"ask","p":"1","v":"1","T":1,"m":false,"oi":3}],"T":1}"#;
    let mut p = MaxPrivateParser::new();
    let mut ex = Vec::new();
    let r = p
        .parse(frame, 0, &instruments(), |e| ex.push(*e), |_| {})
        .unwrap();
    assert_eq!(r, MaxPrivateOutcome::Exec { events: 1 });
    assert_eq!(ex[0].trade_id, 2);
    assert_eq!(p.skipped_unknown_market(), 1);
}

#[test]
fn malformed_private_frames_are_typed_errors() {
    let cases: &[(&str, &[u8], ParseError)] = &[
        ("truncated", br#"{"c":"user","e":"order_update","o":[{"i":1"#, ParseError::Json),
        (
            "NaN fee",
            br#"{"c":"user","e":"trade_update","t":[{"i":1,"M":"btctwd","sd":"bid","p":"1","v":"1","f":"NaN","oi":2}]}"#,
            ParseError::BadDecimal { field: "f", err: arbline::model::DecimalError::InvalidChar },
        ),
        (
            "missing oi",
            br#"{"c":"user","e":"trade_update","t":[{"i":1,"M":"btctwd","sd":"bid","p":"1","v":"1"}]}"#,
            ParseError::MissingField("oi"),
        ),
        (
            "bad side",
            br#"{"c":"user","e":"order_update","o":[{"i":1,"sd":"long","S":"wait","M":"btctwd","ev":"0"}]}"#,
            ParseError::BadValue("sd"),
        ),
        (
            "client oid too long",
            br#"{"c":"user","e":"order_update","o":[{"i":1,"sd":"bid","S":"wait","M":"btctwd","ev":"0","ci":"0123456789012345678901234567890123456789"}]}"#,
            ParseError::BadValue("ci"),
        ),
        (
            "id is a string",
            br#"{"c":"user","e":"order_update","o":[{"i":"1","sd":"bid","S":"wait","M":"btctwd","ev":"0"}]}"#,
            ParseError::Json,
        ),
        ("unknown event", br#"{"e":"hello"}"#, ParseError::UnknownEvent),
    ];
    for (name, frame, want) in cases {
        assert_eq!(private(frame).err(), Some(*want), "{name}");
    }
}

// ---------------------------------------------------------------- REST

#[test]
fn rest_v3_order_create_bbgo_and_node() {
    let o = parse_order(&fixture("rest_v3_order_create_limit_sell_201_bbgo.json")).unwrap();
    assert_eq!(o.side, Side::Sell);
    assert_eq!(o.state, OrderState::New);
    assert_eq!(o.venue_state, MaxOrderState::Wait);
    assert_eq!(o.ord_type, MaxOrdType::Limit);
    assert_eq!(o.market, Symbol::new("btcusdt").unwrap());
    assert_eq!(o.wallet, WalletType::Spot);
    assert_eq!(o.executed_volume, Fixed::ZERO);
    assert_eq!(o.remaining_volume, o.volume);
    assert!(o.price.is_some());
    let b = parse_order(&fixture("rest_v3_order_create_limit_buy_201_bbgo.json")).unwrap();
    assert_eq!(b.side, Side::Buy);
    let n = parse_order(&fixture("rest_v3_order_create_node.json")).unwrap();
    assert_eq!(n.id, 1234567890);
    assert!(n.client_oid.is_empty(), "client_oid null");
    assert_eq!(n.price, Some(fx("30000.0")));
    assert_eq!(
        (n.created_at_ms, n.updated_at_ms),
        (1728011555080, 1728011555080)
    );
}

#[test]
fn rest_v3_order_get_done_bbgo() {
    let o = parse_order(&fixture("rest_v3_order_get_done_bbgo.json")).unwrap();
    assert_eq!(o.state, OrderState::Filled);
    assert_eq!(o.venue_state, MaxOrderState::Done);
    assert_eq!(o.remaining_volume, Fixed::ZERO);
    assert_eq!(o.executed_volume, o.volume);
    assert!(o.trades_count >= 1);
    assert!(o.avg_price.raw() > 0);
    assert!(parse_order(&fixture("rest_v3_order_get_by_id_bbgo.json")).is_ok());
}

#[test]
fn rest_v3_orders_lists() {
    let node = parse_orders(&fixture("rest_v3_orders_closed_node.json")).unwrap();
    assert_eq!(node.len(), 31);
    assert!(
        node.iter().all(|o| o.state.is_terminal()),
        "closed orders are done or cancel"
    );
    assert_eq!(
        node.iter()
            .filter(|o| o.state == OrderState::Cancelled)
            .count(),
        12
    );
    // avg_price "2112833.333333333333333333333333333" is truncated to 8 decimals.
    assert!(node.iter().any(|o| o.avg_price == fx("2112833.33333333")));
    for name in [
        "rest_v3_orders_closed_asc_bbgo.json",
        "rest_v3_orders_closed_desc_bbgo.json",
        "rest_v3_orders_history_bbgo.json",
    ] {
        let list = parse_orders(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!list.is_empty(), "{name}");
        assert!(
            list.iter().all(|o| o.created_at_ms > 1_000_000_000_000),
            "{name}: ms"
        );
    }
    assert!(
        parse_orders(&fixture("rest_v3_orders_open_empty_bbgo.json"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn rest_malformed_bodies_are_errors() {
    assert_eq!(parse_order(b"<html>").err(), Some(ParseError::Json));
    assert_eq!(parse_order(br#"{"id":1}"#).err(), Some(ParseError::Json));
    let bad = br#"{"id":1,"market":"btcusdt","side":"buy","state":"wait","ord_type":"limit","price":"NaN","avg_price":"0","volume":"1","remaining_volume":"1","executed_volume":"0","trades_count":0,"created_at":1,"updated_at":1}"#;
    assert!(matches!(
        parse_order(bad),
        Err(ParseError::BadDecimal { field: "price", .. })
    ));
    let bad_side = br#"{"id":1,"market":"btcusdt","side":"up","state":"wait","ord_type":"limit","price":"1","avg_price":"0","volume":"1","remaining_volume":"1","executed_volume":"0","trades_count":0,"created_at":1,"updated_at":1}"#;
    assert_eq!(
        parse_order(bad_side).err(),
        Some(ParseError::BadValue("side"))
    );
}

#[test]
fn rest_errors_are_classified_by_consequence() {
    let e = classify_error(400, &fixture("rest_v3_error_invalid_parameter_doc.json"));
    assert_eq!(
        (e.code, e.action.clone()),
        (Some(1001), ErrorAction::Reject)
    );
    assert_eq!(e.message, "market does not have a valid value");
    let e = classify_error(
        404,
        &fixture("rest_v3_error_resource_not_found_schema.json"),
    );
    assert_eq!((e.code, e.action), (Some(4000), ErrorAction::Reject));
    let e = classify_error(
        400,
        &fixture("rest_v3_error_creation_permission_schema.json"),
    );
    assert_eq!((e.code, e.action), (Some(4002), ErrorAction::Reject));
    let e = classify_error(
        401,
        &fixture("rest_v2_error_access_key_not_exist_http401_rs.json"),
    );
    assert_eq!((e.code, e.action.clone()), (Some(2008), ErrorAction::Halt));
    assert!(e.to_string().contains("2008"));

    let mut body = Vec::new();
    let table = [
        (400, 2006, ErrorAction::RetryWithNewNonce),
        (400, 2007, ErrorAction::RetryWithNewNonce),
        (401, 2005, ErrorAction::Halt),
        (403, 2011, ErrorAction::Halt),
        (403, 2063, ErrorAction::Halt),
        (403, 4009, ErrorAction::Halt),
        (403, 5004, ErrorAction::Halt),
        (400, 2018, ErrorAction::Reject),
        (400, 2016, ErrorAction::Reject),
        (400, 2002, ErrorAction::Reject),
        (400, 2021, ErrorAction::Reject),
        (500, 5999, ErrorAction::BackOff),
        (429, 1, ErrorAction::BackOff),
    ];
    for (status, code, action) in table {
        write_error(&mut body, code, "x");
        let e = classify_error(status, &body);
        assert_eq!((e.code, e.action), (Some(code), action), "{status} {code}");
    }
}

#[test]
fn rest_html_502_backs_off_without_dumping_the_page() {
    let html = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>";
    let e = classify_error(502, html);
    assert_eq!(e.action, ErrorAction::BackOff);
    assert_eq!(e.code, None);
    assert_eq!(e.message, "502 Bad Gateway");
    let e = classify_error(503, b"Service Unavailable\n");
    assert_eq!(
        (e.action, e.message.as_str()),
        (ErrorAction::BackOff, "Service Unavailable")
    );
    let e = classify_error(401, b"");
    assert_eq!(e.action, ErrorAction::Halt);
}

// ---------------------------------------------------------------- signing

fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

#[test]
fn every_rest_auth_vector_is_reproduced() {
    for file in ["auth_vectors.json", "auth_vectors_computed.json"] {
        let doc = json(file);
        let vectors = doc["rest"].as_array().unwrap();
        assert!(!vectors.is_empty(), "{file}: REST vectors");
        for v in vectors {
            let secret = v["secret"].as_str().unwrap();
            let payload_json = v["payload_json"].as_str().unwrap();
            let want_b64 = v["headers"]["X-MAX-PAYLOAD"].as_str().unwrap();
            let want_sig = v["headers"]["X-MAX-SIGNATURE"].as_str().unwrap();
            let s = MaxSigner::new(v["access_key"].as_str().unwrap_or("key"), secret);
            let (b64, sig) = s.sign_payload(payload_json);
            assert_eq!(
                (b64.as_str(), sig.as_str()),
                (want_b64, want_sig),
                "{file} {payload_json}"
            );
            assert!(verify_payload(secret, &b64, &sig));
        }
    }
}

#[test]
fn sign_rest_builds_the_exact_payload_bytes() {
    use ParamValue::{Int, Str};
    let doc = json("auth_vectors.json");
    let rest = doc["rest"].as_array().unwrap();
    let s = MaxSigner::new("key", "secret");
    assert_eq!(s.access_key(), "key");
    type Case<'a> = (&'a str, u64, Vec<(&'a str, ParamValue<'a>)>);
    let built: [Case; 5] = [
        (
            "/api/v3/order",
            123456,
            vec![("market", Str("btctwd")), ("side", Str("bid"))],
        ),
        (
            "/api/v3/wallet/spot/order",
            1700000000000,
            vec![
                ("market", Str("usdttwd")),
                ("side", Str("buy")),
                ("volume", Str("100")),
                ("price", Str("31.5")),
                ("ord_type", Str("post_only")),
                ("client_oid", Str("abc-1")),
            ],
        ),
        (
            "/api/v3/order",
            1700000000001,
            vec![("id", Int(2492665741))],
        ),
        (
            "/api/v3/wallet/spot/orders/open",
            1700000000002,
            vec![("market", Str("usdttwd"))],
        ),
        ("/api/v3/info", 1700000000000, vec![]),
    ];
    for (i, (path, nonce, params)) in built.iter().enumerate() {
        let v = &rest[i];
        let r = s.sign_rest(path, *nonce, params);
        assert_eq!(
            r.payload_json,
            v["payload_json"].as_str().unwrap(),
            "R{}",
            i + 1
        );
        assert_eq!(
            r.payload_b64,
            v["headers"]["X-MAX-PAYLOAD"].as_str().unwrap(),
            "R{}",
            i + 1
        );
        assert_eq!(
            r.signature_hex,
            v["headers"]["X-MAX-SIGNATURE"].as_str().unwrap(),
            "R{}",
            i + 1
        );
    }
    // R6: Python's spaced separators are signed as given.
    let (b64, sig) = s.sign_payload(rest[5]["payload_json"].as_str().unwrap());
    assert_eq!(
        b64,
        "eyJub25jZSI6IDE3MDAwMDAwMDAwMDAsICJwYXRoIjogIi9hcGkvdjMvaW5mbyJ9"
    );
    assert_eq!(
        sig,
        "aa809dd70180d91ef1fbaeb89ace58a134d453b55528e19a17f8c8f23e0d2eb2"
    );
}

#[test]
fn every_ws_auth_vector_is_reproduced() {
    for file in ["auth_vectors.json", "auth_vectors_computed.json"] {
        let doc = json(file);
        let vectors = doc["ws"].as_array().unwrap();
        assert!(!vectors.is_empty(), "{file}: WebSocket vectors");
        for v in vectors {
            let s = MaxSigner::new("k", v["secret"].as_str().unwrap());
            let nonce = v["nonce"].as_u64().unwrap();
            assert_eq!(
                s.sign_ws(nonce),
                v["signature"].as_str().unwrap(),
                "{file} {nonce}"
            );
        }
    }
}

#[test]
fn ws1_full_auth_frame() {
    let s = MaxSigner::new("api key", "api secret");
    let frame = s.ws_auth_frame(
        12345,
        "client_id",
        &["trade", "account", "order", "trade_update"],
    );
    assert_eq!(
        frame,
        r#"{"action":"auth","apiKey":"api key","nonce":12345,"signature":"c1a6d487006e3e9d5e0966075e7de7cd5de3681cbcc5946b3876972defc70cb2","id":"client_id","filters":["trade","account","order","trade_update"]}"#
    );
    let bare = s.ws_auth_frame(12345, "", &[]);
    assert!(!bare.contains("\"id\"") && !bare.contains("filters"));
}

#[test]
fn signer_debug_never_shows_the_secret() {
    let s = MaxSigner::new("my-access", "s3cr3t-value-123");
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("s3cr3t-value-123"), "{dbg}");
    assert!(dbg.contains("my-access"));
    assert!(!verify_payload("s3cr3t-value-123", "abc", "not hex"));
}

// ---------------------------------------------------------------- writers → parsers

#[test]
fn book_writer_round_trips_through_the_parser() {
    let mut out = Vec::with_capacity(4096);
    let bids: Vec<Level> = (0..3)
        .map(|i| lv(&format!("{}.5", 100 - i), "1.25"))
        .collect();
    let asks: Vec<Level> = (0..2)
        .map(|i| lv(&format!("{}.125", 101 + i), "0.00000001"))
        .collect();
    write_book(
        &mut out,
        MaxBookFrame::Update,
        "btcusdt",
        10,
        12,
        99,
        1234,
        &bids,
        &asks,
    );
    let (_, evs) = public(&out).unwrap();
    assert_eq!(evs.len(), chunks_for(5));
    let evs = [Frame::merge(&evs)];
    assert_eq!(evs[0].kind, MdKind::BookUpdate);
    assert_eq!(
        (
            evs[0].first_id,
            evs[0].last_id,
            evs[0].version,
            evs[0].exch_ts_ms
        ),
        (10, 12, 99, 1234)
    );
    assert_eq!(evs[0].bids(), &bids[..]);
    assert_eq!(evs[0].asks(), &asks[..]);
}

#[test]
fn order_and_trade_writers_round_trip_through_the_parsers() {
    let oid = ClientOid::from_bytes(b"arbitrage_spot_1700000000000").unwrap();
    let o = MaxOrderFrame {
        id: 555,
        client_oid: &oid,
        market: "usdttwd",
        wallet: WalletType::Margin,
        side: Side::Sell,
        ord_type: OrderType::PostOnly,
        price: fx("31.512"),
        avg_price: fx("31.512"),
        volume: fx("100"),
        remaining: fx("40"),
        executed: fx("60"),
        state: "wait",
        trades_count: 2,
        created_ms: 1,
        updated_ms: 2,
    };
    let mut out = Vec::new();
    write_order_update(&mut out, &o, 3);
    assert!(out.starts_with(br#"{"c":"user","e":"mwallet_order_update""#));
    // MAX's compact layout: the written order frame takes the byte scanner.
    assert!(private_scanned(&out));
    let (_, ex, _) = private(&out).unwrap();
    assert_eq!(
        (ex[0].kind, ex[0].state),
        (ExecKind::StateUpdate, OrderState::PartiallyFilled)
    );
    assert_eq!(
        (ex[0].exchange_order_id, ex[0].qty, ex[0].price),
        (555, fx("60"), fx("31.512"))
    );
    assert_eq!(ex[0].client_oid, oid);
    assert_eq!(ex[0].side, Side::Sell);

    write_order_created(&mut out, &o);
    let rest = parse_order(&out).unwrap();
    assert_eq!(
        (rest.id, rest.client_oid, rest.wallet),
        (555, oid, WalletType::Margin)
    );
    assert_eq!(
        (rest.ord_type, rest.price, rest.remaining_volume),
        (MaxOrdType::PostOnly, Some(fx("31.512")), fx("40"))
    );

    let t = MaxTradeFrame {
        id: 9,
        order_id: 555,
        client_oid: &oid,
        market: "usdttwd",
        wallet: WalletType::Spot,
        side: Side::Sell,
        price: fx("31.512"),
        volume: fx("60"),
        fee: fx("0.0378144"),
        fee_currency: "twd",
        maker: true,
        ts_ms: 77,
    };
    write_trade_update(&mut out, &t, 78);
    let text = std::str::from_utf8(&out).unwrap();
    assert!(text.contains(r#""fn":"1890.72""#), "{text}");
    assert!(private_scanned(&out));
    let (_, ex, _) = private(&out).unwrap();
    assert_eq!(ex[0].kind, ExecKind::Fill);
    assert_eq!((ex[0].trade_id, ex[0].exchange_order_id), (9, 555));
    assert_eq!(
        (ex[0].price, ex[0].qty, ex[0].fee),
        (fx("31.512"), fx("60"), fx("0.0378144"))
    );
    assert_eq!((ex[0].client_oid, ex[0].venue_ts_ms), (oid, 77));
    write_trade_snapshot(&mut out, &[t, t], 79);
    assert!(private_scanned(&out));
    write_order_snapshot(&mut out, &[o, o], 79);
    assert!(private_scanned(&out));

    write_error(&mut out, 2018, "cannot lock funds");
    let e = classify_error(400, &out);
    assert_eq!(
        (e.code, e.action, e.message.as_str()),
        (Some(2018), ErrorAction::Reject, "cannot lock funds")
    );
}

// ---------------------------------------------------------------- book sequencer

struct Feed {
    parser: MaxPublicParser,
    ins: Instruments,
    sync: MaxSync,
    book: L2Book,
    out: Vec<u8>,
}

impl Feed {
    fn new() -> Self {
        Feed {
            parser: MaxPublicParser::new(),
            ins: instruments(),
            sync: MaxSync::new(),
            book: L2Book::default(),
            out: Vec::new(),
        }
    }
    /// Writes a frame, parses it and feeds every chunk; returns the outcomes.
    fn frame(
        &mut self,
        kind: MaxBookFrame,
        fi: u64,
        li: u64,
        v: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> Vec<SyncOutcome> {
        write_book(&mut self.out, kind, "btcusdt", fi, li, v, 1, bids, asks);
        let mut evs = Vec::new();
        let scanned = self.parser.scanned_frames();
        self.parser
            .parse(&self.out, 0, &self.ins, |e| evs.push(*e))
            .unwrap();
        // The simulator writes MAX's compact layout: its book frames take the byte scanner.
        assert_eq!(self.parser.scanned_frames(), scanned + 1, "scanned");
        evs.iter()
            .map(|e| self.sync.on_event(e, &mut self.book))
            .collect()
    }
    fn last(
        &mut self,
        kind: MaxBookFrame,
        fi: u64,
        li: u64,
        v: u64,
        bids: &[Level],
        asks: &[Level],
    ) -> SyncOutcome {
        *self.frame(kind, fi, li, v, bids, asks).last().unwrap()
    }
}

use MaxBookFrame::{Snapshot, Update};

#[test]
fn sync_updates_before_the_snapshot_are_buffered_then_replayed() {
    let mut f = Feed::new();
    // Steps 1–2: updates before any snapshot are buffered.
    assert_eq!(
        f.last(Update, 9, 10, 5, &[lv("99", "1")], &[]),
        SyncOutcome::Buffered
    );
    assert_eq!(
        f.last(Update, 11, 12, 5, &[lv("98", "2")], &[]),
        SyncOutcome::Buffered
    );
    assert!(!f.sync.is_live());
    // Step 3: snapshot at li=10; step 6 drops 9..10, step 7 accepts 11..12.
    assert_eq!(
        f.last(Snapshot, 10, 10, 5, &[lv("99", "3")], &[lv("101", "1")]),
        SyncOutcome::Synced
    );
    assert!(f.sync.is_live());
    assert_eq!((f.sync.last_id(), f.sync.version()), (12, 5));
    assert_eq!(
        f.book.bids.top(2).collect::<Vec<_>>(),
        [lv("99", "3"), lv("98", "2")]
    );
    assert_eq!(
        f.last(Update, 13, 13, 5, &[lv("99", "0")], &[]),
        SyncOutcome::Applied
    );
    assert_eq!(f.book.best_bid(), lv("98", "2"));
}

#[test]
fn sync_first_update_may_straddle_the_snapshot() {
    let mut f = Feed::new();
    f.last(Snapshot, 10, 10, 5, &[lv("99", "1")], &[lv("101", "1")]);
    // Step 6: an event entirely at or before the local li is dropped.
    assert_eq!(
        f.last(Update, 8, 10, 5, &[lv("99", "7")], &[]),
        SyncOutcome::Dropped
    );
    assert_eq!(f.book.best_bid(), lv("99", "1"));
    // Step 7: fi <= li+1 <= li.
    assert_eq!(
        f.last(Update, 9, 12, 5, &[lv("99", "2")], &[]),
        SyncOutcome::Applied
    );
    assert_eq!(f.sync.last_id(), 12);
    // After the first: strictly fi == li + 1.
    assert_eq!(
        f.last(Update, 12, 14, 5, &[], &[]),
        SyncOutcome::Resync(ResyncReason::Gap)
    );
}

#[test]
fn sync_gap_resyncs_then_a_new_snapshot_rebuilds() {
    let mut f = Feed::new();
    f.last(Snapshot, 100, 100, 5, &[lv("99", "1")], &[lv("101", "1")]);
    assert_eq!(
        f.last(Update, 101, 101, 5, &[lv("98", "1")], &[]),
        SyncOutcome::Applied
    );
    // li 102 is skipped.
    assert_eq!(
        f.last(Update, 103, 103, 5, &[], &[]),
        SyncOutcome::Resync(ResyncReason::Gap)
    );
    assert!(!f.sync.is_live());
    assert!(
        f.book.bids.is_empty() && f.book.asks.is_empty(),
        "a resync clears the book"
    );
    assert_eq!(f.last(Update, 104, 104, 5, &[], &[]), SyncOutcome::Buffered);
    assert_eq!(
        f.last(Snapshot, 105, 105, 5, &[lv("97", "1")], &[lv("102", "1")]),
        SyncOutcome::Synced
    );
    assert_eq!(f.book.best_bid(), lv("97", "1"));
    assert_eq!(
        f.last(Update, 106, 106, 5, &[], &[lv("102", "0")]),
        SyncOutcome::Applied
    );
}

#[test]
fn sync_version_change_resyncs() {
    let mut f = Feed::new();
    f.last(Snapshot, 10, 10, 5, &[lv("99", "1")], &[lv("101", "1")]);
    assert_eq!(
        f.last(Update, 11, 11, 6, &[], &[]),
        SyncOutcome::Resync(ResyncReason::VersionChanged)
    );
    assert!(!f.sync.is_live());
}

#[test]
fn sync_empty_snapshot_clears_and_waits() {
    let mut f = Feed::new();
    f.last(Snapshot, 10, 10, 5, &[lv("99", "1")], &[lv("101", "1")]);
    assert_eq!(
        f.last(Snapshot, 20, 20, 5, &[], &[]),
        SyncOutcome::Resync(ResyncReason::EmptySnapshot)
    );
    assert!(f.book.bids.is_empty() && f.book.asks.is_empty());
    assert!(!f.sync.is_live());
    assert_eq!(f.last(Update, 21, 21, 5, &[], &[]), SyncOutcome::Buffered);
}

#[test]
fn sync_snapshot_during_subscription_replaces_the_book() {
    let mut f = Feed::new();
    f.last(
        Snapshot,
        10,
        10,
        5,
        &[lv("99", "1"), lv("98", "1")],
        &[lv("101", "1")],
    );
    assert_eq!(
        f.last(Snapshot, 50, 50, 7, &[lv("90", "1")], &[lv("95", "1")]),
        SyncOutcome::Synced
    );
    assert_eq!(f.book.bids.len(), 1);
    assert_eq!((f.sync.last_id(), f.sync.version()), (50, 7));
}

#[test]
fn sync_crossed_book_resyncs() {
    let mut f = Feed::new();
    f.last(Snapshot, 10, 10, 5, &[lv("99", "1")], &[lv("101", "1")]);
    assert_eq!(
        f.last(Update, 11, 11, 5, &[lv("102", "1")], &[]),
        SyncOutcome::Resync(ResyncReason::Crossed)
    );
    assert_eq!(
        f.last(Snapshot, 12, 12, 5, &[lv("101", "1")], &[lv("100", "1")]),
        SyncOutcome::Resync(ResyncReason::Crossed)
    );
}

#[test]
fn sync_buffer_overflow_resyncs() {
    let mut f = Feed::new();
    let mut last = SyncOutcome::Buffered;
    for i in 0..=arbline::book::max_sync::MAX_PRE_SNAPSHOT_CHUNKS as u64 {
        last = f.last(Update, i + 1, i + 1, 5, &[], &[]);
    }
    assert_eq!(last, SyncOutcome::Resync(ResyncReason::BufferOverflow));
}

#[test]
fn sync_45_level_snapshot_in_chunks_equals_the_book_applied_at_once() {
    let bids: Vec<Level> = (0..25)
        .map(|i| lv(&format!("{}", 1000 - i), &format!("{}.5", i + 1)))
        .collect();
    let asks: Vec<Level> = (0..20)
        .map(|i| lv(&format!("{}", 1001 + i), &format!("0.{}", i + 1)))
        .collect();
    let mut f = Feed::new();
    let outcomes = f.frame(Snapshot, 1, 1, 5, &bids, &asks);
    let mut want = vec![SyncOutcome::Partial; chunks_for(45) - 1];
    want.push(SyncOutcome::Synced);
    assert_eq!(outcomes, want);
    let mut once = L2Book::default();
    once.apply(&bids, &asks);
    assert!(f.book.bids.top(100).eq(once.bids.top(100)));
    assert!(f.book.asks.top(100).eq(once.asks.top(100)));
    assert_eq!(f.book.bids.len(), 25);
    // A multi-chunk update is applied atomically: Partial until the last chunk.
    let upd: Vec<Level> = (0..30).map(|i| lv(&format!("{}", 1000 - i), "0")).collect();
    let mut want = vec![SyncOutcome::Partial; chunks_for(30) - 1];
    want.push(SyncOutcome::Applied);
    assert_eq!(f.frame(Update, 2, 2, 5, &upd, &[]), want);
    assert!(f.book.bids.is_empty());
}

#[test]
fn sync_reset_forgets_the_book() {
    let mut f = Feed::new();
    f.last(Snapshot, 10, 10, 5, &[lv("99", "1")], &[lv("101", "1")]);
    f.sync.reset(&mut f.book);
    assert!(!f.sync.is_live());
    assert!(f.book.bids.is_empty());
    assert_eq!(f.last(Update, 11, 11, 5, &[], &[]), SyncOutcome::Buffered);
}

// ---------------------------------------------------------------- cancel replies

#[test]
fn rest_v3_cancel_replies_in_both_shapes() {
    assert_eq!(
        parse_cancel_reply(&fixture("rest_v3_cancel_order_success_schema.json")).unwrap(),
        MaxCancelReply::Accepted
    );
    let order = fixture("rest_v3_order_create_limit_sell_201_bbgo.json");
    assert!(
        matches!(parse_cancel_reply(&order), Ok(MaxCancelReply::Order(o)) if o.id == 2492665741)
    );
    assert_eq!(
        parse_cancel_reply(br#"{"success":false}"#).err(),
        Some(ParseError::BadValue("success"))
    );
    let all = parse_cancel_all(&fixture("rest_v3_cancel_all_by_market_bbgo.json")).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, None);
    assert_eq!(
        all[0].1.state,
        OrderState::New,
        "cancel is queued: the reply still says wait"
    );
    assert!(
        parse_cancel_all(&fixture("rest_v3_cancel_all_empty_bbgo.json"))
            .unwrap()
            .is_empty()
    );
    assert!(
        !parse_cancel_all(&fixture("rest_v3_cancel_all_node.json"))
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------- no allocation per message

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn hot_paths_allocate_nothing_after_warm_up() {
    let ins = instruments();
    let public_frames: Vec<Vec<u8>> = [
        "ws_book_snapshot_doc.json",
        "ws_book_update_doc.json",
        "ws_trade_update_doc.json",
        "ws_ticker_update_doc.json",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect();
    let private_frames: Vec<Vec<u8>> = [
        "ws_order_update_doc.json",
        "ws_mwallet_order_update_cancel_doc.json",
        "ws_trade_update_private_doc.json",
        "ws_fast_trade_update_doc.json",
        "ws_account_snapshot_doc.json",
    ]
    .iter()
    .map(|n| fixture(n))
    .collect();
    let mut pubp = MaxPublicParser::new();
    let mut privp = MaxPrivateParser::new();
    let mut sync = MaxSync::new();
    let mut book = L2Book::default();
    let mut out = Vec::with_capacity(4096);
    let levels: Vec<Level> = (0..40).map(|i| lv(&format!("{}", 100 + i), "1")).collect();
    let oid = ClientOid::from_bytes(b"arbitrage_spot_1").unwrap();
    let order = MaxOrderFrame {
        id: 1,
        client_oid: &oid,
        market: "btcusdt",
        wallet: WalletType::Spot,
        side: Side::Buy,
        ord_type: OrderType::Limit,
        price: fx("1"),
        avg_price: fx("1"),
        volume: fx("1"),
        remaining: fx("1"),
        executed: fx("0"),
        state: "wait",
        trades_count: 0,
        created_ms: 1,
        updated_ms: 1,
    };
    let trade = MaxTradeFrame {
        id: 2,
        order_id: 1,
        client_oid: &oid,
        market: "btcusdt",
        wallet: WalletType::Spot,
        side: Side::Buy,
        price: fx("1"),
        volume: fx("1"),
        fee: fx("0.001"),
        fee_currency: "usdt",
        maker: true,
        ts_ms: 1,
    };
    let mut run = |count: &mut u64| {
        for f in &public_frames {
            pubp.parse(f, 0, &ins, |e| {
                *count += 1;
                sync.on_event(e, &mut book);
            })
            .unwrap();
        }
        for f in &private_frames {
            privp.parse(f, 0, &ins, |_| *count += 1, |_| {}).unwrap();
        }
        write_book(
            &mut out,
            MaxBookFrame::Snapshot,
            "btcusdt",
            1,
            1,
            1,
            1,
            &levels,
            &[],
        );
        pubp.parse(&out, 0, &ins, |_| *count += 1).unwrap();
        // The simulator writes MAX's compact layout: its order and trade frames take the
        // private byte scanner.
        write_order_update(&mut out, &order, 1);
        privp.parse(&out, 0, &ins, |_| *count += 1, |_| {}).unwrap();
        write_trade_update(&mut out, &trade, 2);
        privp.parse(&out, 0, &ins, |_| *count += 1, |_| {}).unwrap();
        write_order_created(&mut out, &order);
        write_error(&mut out, 2018, "cannot lock funds");
    };
    counting_alloc::assert_counting();
    let mut events = 0;
    run(&mut events); // warm-up
    let before = counting_alloc::allocations();
    run(&mut events);
    run(&mut events);
    assert_eq!(
        counting_alloc::allocations() - before,
        0,
        "no allocation per message after warm-up"
    );
    assert!(events > 10);
    assert_eq!(
        privp.scanned_frames(),
        3 * 2,
        "the simulator's frames took the scanner"
    );
}

#[test]
fn every_prefix_and_byte_flip_of_every_ws_fixture_is_handled_without_panic() {
    let ins = instruments();
    let mut pubp = MaxPublicParser::new();
    let mut privp = MaxPrivateParser::new();
    let dir = std::fs::read_dir(max_fixture::dir()).expect("tests/fixtures/max");
    let mut checked = 0;
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("ws_") {
            continue;
        }
        let full = std::fs::read(entry.path()).unwrap();
        for cut in 0..full.len() {
            let frame = &full[..cut];
            let _ = pubp.parse(frame, 0, &ins, |_| {});
            let _ = privp.parse(frame, 0, &ins, |_| {}, |_| {});
        }
        let mut flipped = full.clone();
        for i in 0..flipped.len() {
            let orig = flipped[i];
            flipped[i] = b'"';
            let _ = pubp.parse(&flipped, 0, &ins, |_| {});
            let _ = privp.parse(&flipped, 0, &ins, |_| {}, |_| {});
            flipped[i] = orig;
        }
        checked += 1;
    }
    assert!(checked >= 30, "checked {checked} ws fixtures");
}
