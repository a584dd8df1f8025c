//! MAX parsers, signing and book sequencing on the recorded and documented messages in
//! `../shared/fixtures/max/`.

use arbline::book::max_sync::MaxSync;
use arbline::book::{L2Book, ResyncReason, SyncOutcome};
use arbline::model::{
    DecimalError, ExecEvent, ExecKind, Fixed, Instruments, Level, MdEvent, MdKind, OrderState,
    OrderType, Side, Venue, WalletType,
};
use arbline::venue::ParseError;
use arbline::venue::max::frames::{self, MaxBookFrame};
use arbline::venue::max::{
    Balance, ErrorAction, MaxPrivateOutcome, MaxPrivateParser, MaxPublicOutcome, MaxPublicParser,
    MaxSigner, ParamValue, classify_error, parse_order, verify_payload,
};
use serde_json::Value;

fn raw(name: &str) -> String {
    let p = format!(
        "{}/../shared/fixtures/max/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn instruments() -> Instruments {
    let mut t = Instruments::new();
    for m in ["btcusdt", "btctwd", "ethtwd", "ethusdt", "usdttwd"] {
        t.intern(Venue::Max, m, &m[..3], &m[3..]).unwrap();
    }
    t
}

fn public(frame: &str) -> Result<(MaxPublicOutcome, Vec<MdEvent>), ParseError> {
    let mut v = Vec::new();
    let o = MaxPublicParser::new().parse(frame.as_bytes(), 5, &instruments(), |e| v.push(*e))?;
    Ok((o, v))
}

fn private(frame: &str) -> Result<(MaxPrivateOutcome, Vec<ExecEvent>, Vec<Balance>), ParseError> {
    let (mut e, mut b) = (Vec::new(), Vec::new());
    let o = MaxPrivateParser::new().parse(
        frame.as_bytes(),
        5,
        &instruments(),
        |x| e.push(*x),
        |x| b.push(*x),
    )?;
    Ok((o, e, b))
}

#[test]
fn book_snapshot_and_update_from_the_docs() {
    let (o, e) = public(&raw("ws_book_snapshot_doc.json")).unwrap();
    assert_eq!(o, MaxPublicOutcome::Market { events: 1 });
    let s = e[0];
    assert_eq!(
        (s.kind, s.first_id, s.last_id, s.version, s.exch_ts_ms),
        (
            MdKind::BookSnapshot,
            12141725,
            12141725,
            1725602999632,
            1591869939634
        )
    );
    assert_eq!(
        s.bids(),
        &[Level {
            price: fx("5333.3"),
            qty: fx("0.5")
        }]
    );
    assert_eq!(
        s.asks(),
        &[Level {
            price: fx("5337.3"),
            qty: fx("0.1")
        }]
    );
    let (_, e) = public(&raw("ws_book_update_doc.json")).unwrap();
    assert_eq!(
        (e[0].kind, e[0].first_id, e[0].n_bids, e[0].n_asks),
        (MdKind::BookUpdate, 12141726, 0, 1)
    );
}

#[test]
fn trades_subscriptions_and_errors() {
    let (_, e) = public(&raw("ws_trade_update_doc.json")).unwrap();
    assert_eq!(
        (e[0].kind, e[0].side, e[0].levels[0].price),
        (MdKind::Trade, Side::Buy, fx("5337.3"))
    );
    assert_eq!(
        public(&raw("ws_subscribed_doc.json")).unwrap().0,
        MaxPublicOutcome::Subscribed
    );
    assert_eq!(
        public(&raw("ws_error_invalid_action_doc.json")).unwrap().0,
        MaxPublicOutcome::Error { code: 1004 }
    );
    assert_eq!(
        public(&raw("ws_ticker_update_doc.json")).unwrap().0,
        MaxPublicOutcome::Ignored
    );
}

#[test]
fn private_orders_map_to_the_order_stage_states() {
    let (_, e, _) = private(&raw("ws_order_update_doc.json")).unwrap();
    assert_eq!(
        (e[0].kind, e[0].state, e[0].exchange_order_id, e[0].side),
        (ExecKind::StateUpdate, OrderState::Filled, 87, Side::Buy)
    );
    assert_eq!(
        (e[0].client_oid.as_str(), e[0].qty, e[0].price),
        ("client-oid-1", fx("0.2658"), fx("21499.0"))
    );
    let (_, e, _) = private(&raw("ws_mwallet_order_update_cancel_doc.json")).unwrap();
    assert_eq!(
        (e[0].kind, e[0].state),
        (ExecKind::Cancelled, OrderState::Cancelled)
    );
    assert!(e[0].client_oid.is_empty(), "ci null");
    let (o, e, _) = private(&raw("ws_order_snapshot_doc.json")).unwrap();
    assert_eq!(o, MaxPrivateOutcome::Exec { events: e.len() });
}

#[test]
fn private_trades_are_fills_with_trade_ids_and_fees() {
    let (_, e, _) = private(&raw("ws_trade_update_private_doc.json")).unwrap();
    let f = e[0];
    assert_eq!(
        (f.kind, f.trade_id, f.exchange_order_id, f.side),
        (ExecKind::Fill, 68444, 3253823664, Side::Buy)
    );
    assert_eq!(
        (f.price, f.qty, f.fee),
        (fx("21499.0"), fx("0.2658"), fx("3.2"))
    );
    let (_, e, _) = private(&raw("ws_fast_trade_update_doc.json")).unwrap();
    assert_eq!(
        (e[0].kind, e[0].fee),
        (ExecKind::Fill, Fixed::ZERO),
        "fast updates carry no fee"
    );
    let (_, e, _) = private(&raw("ws_trade_snapshot_private_bbgo_test.json")).unwrap();
    assert_eq!(e[0].client_oid.as_str(), "client-oid-1");
}

#[test]
fn accounts_auth_and_errors() {
    let (o, _, b) = private(&raw("ws_account_snapshot_doc.json")).unwrap();
    assert_eq!(o, MaxPrivateOutcome::Balances { count: 1 });
    assert_eq!(
        (
            b[0].currency.as_str(),
            b[0].available,
            b[0].locked,
            b[0].wallet
        ),
        ("BTC", fx("123.4"), fx("0.5"), WalletType::Spot)
    );
    let (_, _, b) = private(&raw("ws_mwallet_account_snapshot_doc.json")).unwrap();
    assert_eq!(b[0].wallet, WalletType::Margin);
    assert_eq!(
        private(&raw("ws_authenticated_doc.json")).unwrap().0,
        MaxPrivateOutcome::Authenticated
    );
    let err = r#"{"e":"error","E":["E-1007: authentication failed"],"i":"x","T":1}"#;
    assert_eq!(
        private(err).unwrap().0,
        MaxPrivateOutcome::Error { code: 1007 }
    );
}

#[test]
fn malformed_frames_are_typed_errors() {
    let cases: &[(&str, &str, ParseError)] = &[
        ("empty", "", ParseError::Json),
        (
            "truncated",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[["1","#,
            ParseError::Json,
        ),
        (
            "NaN",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[["NaN","1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadDecimal {
                field: "a",
                err: DecimalError::InvalidChar,
            },
        ),
        (
            "nine decimals",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[["1.000000001","1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::BadDecimal {
                field: "a",
                err: DecimalError::TooManyDecimals,
            },
        ),
        (
            "number price",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[[1.5,"1"]],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::Json,
        ),
        (
            "unknown market",
            r#"{"c":"book","e":"update","M":"dogetwd","a":[],"b":[],"T":1,"fi":1,"li":1,"v":1}"#,
            ParseError::UnknownSymbol,
        ),
        (
            "missing fi",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"li":1,"v":1}"#,
            ParseError::MissingField("fi"),
        ),
        (
            "missing v",
            r#"{"c":"book","e":"update","M":"btcusdt","a":[],"b":[],"T":1,"fi":1,"li":1}"#,
            ParseError::MissingField("v"),
        ),
        (
            "unknown book event",
            r#"{"c":"book","e":"delta","M":"btcusdt","a":[],"b":[],"fi":1,"li":1,"v":1}"#,
            ParseError::UnknownEvent,
        ),
    ];
    for (name, frame, want) in cases {
        assert_eq!(public(frame).err(), Some(*want), "{name}");
    }
    let bad_state = r#"{"c":"user","e":"order_update","o":[{"i":1,"sd":"bid","S":"weird","M":"btcusdt","ev":"0"}],"T":1}"#;
    assert_eq!(private(bad_state).err(), Some(ParseError::BadValue("S")));
    let bad_side = r#"{"c":"user","e":"trade_update","t":[{"i":1,"M":"btcusdt","sd":"up","p":"1","v":"1","oi":2}],"T":1}"#;
    assert_eq!(private(bad_side).err(), Some(ParseError::BadValue("sd")));
}

fn book_events(
    kind: MaxBookFrame,
    fi: u64,
    li: u64,
    v: u64,
    bids: &[Level],
    asks: &[Level],
) -> Vec<MdEvent> {
    let mut buf = Vec::new();
    frames::write_book(&mut buf, kind, "btcusdt", fi, li, v, 1, bids, asks);
    public(std::str::from_utf8(&buf).unwrap()).unwrap().1
}

fn feed(s: &mut MaxSync, b: &mut L2Book, evs: &[MdEvent]) -> SyncOutcome {
    evs.iter().map(|e| s.on_event(e, b)).last().unwrap()
}

fn lv(p: i64, q: i64) -> Level {
    Level {
        price: Fixed::from_int(p),
        qty: Fixed::from_int(q),
    }
}

#[test]
fn updates_before_the_snapshot_are_buffered_then_replayed() {
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 10, 10, 7, &[lv(99, 1)], &[])
        ),
        SyncOutcome::Buffered
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 11, 12, 7, &[lv(98, 3)], &[])
        ),
        SyncOutcome::Buffered
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(
                MaxBookFrame::Snapshot,
                10,
                10,
                7,
                &[lv(99, 2)],
                &[lv(101, 1)]
            )
        ),
        SyncOutcome::Synced
    );
    assert_eq!(
        (s.last_id(), b.bids.len()),
        (12, 2),
        "fi 10 dropped (step 6), 11-12 applied (step 7)"
    );
    assert_eq!(b.best_bid(), lv(99, 2));
}

#[test]
fn a_gap_forces_a_resync_and_a_new_snapshot_recovers() {
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    feed(
        &mut s,
        &mut b,
        &book_events(
            MaxBookFrame::Snapshot,
            10,
            10,
            7,
            &[lv(99, 2)],
            &[lv(101, 1)],
        ),
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 11, 11, 7, &[lv(98, 1)], &[])
        ),
        SyncOutcome::Applied
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 13, 13, 7, &[lv(97, 1)], &[])
        ),
        SyncOutcome::Resync(ResyncReason::Gap)
    );
    assert!(!s.is_live() && b.bids.is_empty());
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(
                MaxBookFrame::Snapshot,
                20,
                20,
                7,
                &[lv(99, 2)],
                &[lv(101, 1)]
            )
        ),
        SyncOutcome::Synced
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 21, 21, 7, &[], &[lv(101, 0)])
        ),
        SyncOutcome::Applied
    );
}

#[test]
fn a_version_change_forces_a_resync() {
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    feed(
        &mut s,
        &mut b,
        &book_events(
            MaxBookFrame::Snapshot,
            10,
            10,
            7,
            &[lv(99, 2)],
            &[lv(101, 1)],
        ),
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 11, 11, 8, &[lv(98, 1)], &[])
        ),
        SyncOutcome::Resync(ResyncReason::VersionChanged)
    );
}

#[test]
fn an_empty_snapshot_clears_the_book() {
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    feed(
        &mut s,
        &mut b,
        &book_events(
            MaxBookFrame::Snapshot,
            10,
            10,
            7,
            &[lv(99, 2)],
            &[lv(101, 1)],
        ),
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Snapshot, 11, 11, 7, &[], &[])
        ),
        SyncOutcome::Resync(ResyncReason::EmptySnapshot)
    );
    assert!(b.bids.is_empty() && b.asks.is_empty());
}

#[test]
fn a_crossed_book_is_not_trusted() {
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    feed(
        &mut s,
        &mut b,
        &book_events(
            MaxBookFrame::Snapshot,
            10,
            10,
            7,
            &[lv(99, 2)],
            &[lv(101, 1)],
        ),
    );
    assert_eq!(
        feed(
            &mut s,
            &mut b,
            &book_events(MaxBookFrame::Update, 11, 11, 7, &[lv(102, 1)], &[])
        ),
        SyncOutcome::Resync(ResyncReason::Crossed)
    );
}

#[test]
fn a_45_level_snapshot_in_three_chunks_equals_the_book_applied_at_once() {
    let bids: Vec<Level> = (0..23).map(|i| lv(100 - i, i + 1)).collect();
    let asks: Vec<Level> = (0..22).map(|i| lv(101 + i, i + 1)).collect();
    let evs = book_events(MaxBookFrame::Snapshot, 5, 5, 7, &bids, &asks);
    assert_eq!(evs.len(), 3);
    let (mut s, mut b) = (MaxSync::new(), L2Book::default());
    let outs: Vec<SyncOutcome> = evs.iter().map(|e| s.on_event(e, &mut b)).collect();
    assert_eq!(
        outs,
        vec![
            SyncOutcome::Partial,
            SyncOutcome::Partial,
            SyncOutcome::Synced
        ]
    );
    let mut d = L2Book::default();
    d.apply(&bids, &asks);
    assert_eq!(
        (b.bids.top(50), b.asks.top(50)),
        (d.bids.top(50), d.asks.top(50))
    );
}

#[test]
fn rest_orders_from_real_recordings() {
    let o = parse_order(raw("rest_v3_order_create_limit_sell_201_bbgo.json").as_bytes()).unwrap();
    assert_eq!(
        (o.id, o.side, o.state, o.ord_type, o.wallet),
        (
            2492665741,
            Side::Sell,
            OrderState::New,
            OrderType::Limit,
            WalletType::Spot
        )
    );
    assert_eq!((o.price, o.volume), (Some(fx("78415.91")), fx("0.000255")));
    let o = parse_order(raw("rest_v3_order_get_done_bbgo.json").as_bytes()).unwrap();
    assert_eq!(
        (o.state, o.executed_volume, o.avg_price),
        (OrderState::Filled, fx("0.000255"), fx("78433.19"))
    );
    assert!(parse_order(b"<html>502</html>").is_err());
}

#[test]
fn error_replies_are_classified_by_what_to_do() {
    let e = classify_error(
        401,
        raw("rest_v2_error_access_key_not_exist_http401_rs.json").as_bytes(),
    );
    assert_eq!((e.code, e.action), (Some(2008), ErrorAction::Halt));
    let e = classify_error(
        400,
        raw("rest_v3_error_invalid_parameter_doc.json").as_bytes(),
    );
    assert_eq!(e.action, ErrorAction::Reject);
    let e = classify_error(400, br#"{"success":false,"error":{"code":2006,"message":"The nonce has already been used by access key."}}"#);
    assert_eq!(e.action, ErrorAction::RetryWithNewNonce);
    let e = classify_error(502, b"<html><body>Bad Gateway</body></html>");
    assert_eq!((e.code, e.action), (None, ErrorAction::BackOff));
    assert!(e.to_string().contains("502"));
}

#[test]
fn signing_reproduces_every_published_and_computed_vector() {
    let mut n = 0;
    for file in ["auth_vectors.json", "auth_vectors_computed.json"] {
        let d: Value = serde_json::from_str(&raw(file)).unwrap();
        for v in d["rest"].as_array().unwrap() {
            let s = MaxSigner::new(
                v["access_key"].as_str().unwrap_or("key"),
                v["secret"].as_str().unwrap(),
            );
            let (b64, sig) = s.sign_payload(v["payload_json"].as_str().unwrap());
            assert_eq!(
                b64,
                v["headers"]["X-MAX-PAYLOAD"].as_str().unwrap(),
                "{file}"
            );
            assert_eq!(
                sig,
                v["headers"]["X-MAX-SIGNATURE"].as_str().unwrap(),
                "{file}"
            );
            assert!(verify_payload(v["secret"].as_str().unwrap(), &b64, &sig));
            n += 1;
        }
        for v in d["ws"].as_array().unwrap() {
            let s = MaxSigner::new("k", v["secret"].as_str().unwrap());
            assert_eq!(
                v["signed_string"].as_str().unwrap(),
                v["nonce"].as_u64().unwrap().to_string()
            );
            assert_eq!(
                s.sign_ws(v["nonce"].as_u64().unwrap()),
                v["signature"].as_str().unwrap(),
                "{file}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 16, "every vector of both files");
    // R1 built from its parts, in the upstream's key order.
    let s = MaxSigner::new("key", "secret");
    let r = s.sign_rest(
        "/api/v3/order",
        123456,
        &[
            ("market", ParamValue::Str("btctwd")),
            ("side", ParamValue::Str("bid")),
        ],
    );
    assert_eq!(
        r.signature_hex,
        "a9bf57e0ad199f4ca4325cd0a9af0a82193cb103b1ba5eaaa55b58f79d408ab6"
    );
    // The full WS1 auth frame.
    let s = MaxSigner::new("api key", "api secret");
    let f = s.ws_auth_frame(
        12345,
        "client_id",
        &["trade", "account", "order", "trade_update"],
    );
    assert_eq!(
        f,
        r#"{"action":"auth","apiKey":"api key","nonce":12345,"signature":"c1a6d487006e3e9d5e0966075e7de7cd5de3681cbcc5946b3876972defc70cb2","id":"client_id","filters":["trade","account","order","trade_update"]}"#
    );
    assert!(!verify_payload("secret", "eyJ9", "00"));
}

#[test]
fn a_signer_never_prints_its_secret() {
    let s = MaxSigner::new("AKIDEXAMPLE1234", "topsecret-SHOULD-NOT-LEAK");
    let d = format!("{s:?}");
    assert!(
        !d.contains("topsecret") && !d.contains("AKIDEXAMPLE1234"),
        "{d}"
    );
}

#[test]
fn writers_round_trip_through_the_private_parser() {
    let oid = arbline::model::ClientOid::from_bytes(b"arbitrage_spot_1767225600000").unwrap();
    let o = frames::MaxOrderFrame {
        id: 9,
        client_oid: &oid,
        market_lower: "btcusdt",
        wallet: WalletType::Margin,
        side: Side::Sell,
        ord_type: OrderType::IocLimit,
        price: fx("95000.5"),
        avg_price: fx("95000.5"),
        volume: fx("0.002"),
        remaining: fx("0.001"),
        executed: fx("0.001"),
        state: "wait",
        trades_count: 1,
        created_ms: 1,
        updated_ms: 2,
    };
    let mut buf = Vec::new();
    frames::write_order_update(&mut buf, &o, 3);
    let (_, e, _) = private(std::str::from_utf8(&buf).unwrap()).unwrap();
    assert_eq!(
        (e[0].state, e[0].client_oid, e[0].qty),
        (OrderState::PartiallyFilled, oid, fx("0.001"))
    );
    frames::write_order_created(&mut buf, &o);
    let r = parse_order(&buf).unwrap();
    assert_eq!(
        (r.id, r.client_oid, r.wallet, r.ord_type),
        (9, oid, WalletType::Margin, OrderType::IocLimit)
    );
    frames::write_error(&mut buf, 2018, "cannot lock funds \"x\"");
    assert_eq!(classify_error(400, &buf).code, Some(2018));
}
