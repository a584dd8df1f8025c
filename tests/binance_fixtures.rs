//! Binance parsers and book sequencing against real recorded exchange traffic
//! (`../shared/fixtures/binance/`).

use arbline::book::binance_sync::BinanceSync;
use arbline::book::{L2Book, ResyncReason, SyncOutcome};
use arbline::model::{Fixed, Instruments, Level, MD_LEVELS, MdEvent, MdKind, Side, Venue};
use arbline::venue::ParseError;
use arbline::venue::binance::frames;
use arbline::venue::binance::{BinanceMarket, BinanceOutcome, BinanceParser};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let p = format!(
        "{}/../shared/fixtures/binance/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn instruments(venue: Venue, symbols: &[&str]) -> Instruments {
    let mut t = Instruments::new();
    for s in symbols {
        t.intern(venue, s, "base", "quote").unwrap();
    }
    t
}

fn collect(
    p: &mut BinanceParser,
    frame: &str,
    t: &Instruments,
) -> Result<(BinanceOutcome, Vec<MdEvent>), ParseError> {
    let mut v = Vec::new();
    let o = p.parse_ws(frame.as_bytes(), 7, t, |e| v.push(*e))?;
    Ok((o, v))
}

/// At a bookTicker checkpoint (its `u` equals an applied depth event's `u`), the local top must
/// equal the ticker's.
fn check_crosscheck(file: &str, exp: &Value, u: u64, book: &L2Book, checked: &mut usize) {
    for c in exp["bookticker_crosschecks"].as_array().unwrap() {
        if c["u"].as_u64() == Some(u) {
            let (bb, ba) = (book.best_bid(), book.best_ask());
            let lv = |v: &Value| Level {
                price: fx(v[0].as_str().unwrap()),
                qty: fx(v[1].as_str().unwrap()),
            };
            assert_eq!(bb, lv(&c["best_bid"]), "{file}: best bid at u={u}");
            assert_eq!(ba, lv(&c["best_ask"]), "{file}: best ask at u={u}");
            *checked += 1;
        }
    }
}

/// Replays one recorded snapshot + message sequence and checks every expectation.
fn replay(file: &str) {
    let d = fixture(file);
    let market = if d["market"] == "spot" {
        BinanceMarket::Spot
    } else {
        BinanceMarket::Futures
    };
    let symbol = d["symbol"].as_str().unwrap();
    let t = instruments(market.venue(), &[symbol]);
    let id = t.lookup(market.venue(), symbol.as_bytes()).unwrap();
    let mut parser = BinanceParser::new(market);
    let mut sync = BinanceSync::new(market);
    let mut book = L2Book::default();
    let exp = &d["expected"];

    // The recording's messages arrive before the snapshot is fetched in part; replay them in
    // receive order, inserting the snapshot at its receive time.
    let snap_at = d["snapshot"]["received_at"].as_f64().unwrap();
    let mut snapshot_done = false;
    let mut dropped = Vec::new();
    let mut first_applied = None;
    let mut resyncs = 0;
    let mut checked = 0;
    let apply_snapshot = |sync: &mut BinanceSync, book: &mut L2Book, parser: &mut BinanceParser| {
        let mut out = Vec::new();
        parser
            .parse_depth_snapshot(
                d["snapshot"]["raw"].as_str().unwrap().as_bytes(),
                id,
                1,
                |e| out.push(*e),
            )
            .unwrap();
        let mut last = SyncOutcome::Dropped;
        for e in &out {
            last = sync.on_event(e, book);
        }
        last
    };
    let msgs = d["messages"].as_array().unwrap();
    // Buffered events are reported when the snapshot replays them, so remember indices.
    let mut buffered: Vec<usize> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if !snapshot_done && m["received_at"].as_f64().unwrap() > snap_at {
            let o = apply_snapshot(&mut sync, &mut book, &mut parser);
            assert_eq!(o, SyncOutcome::Synced, "{file}: snapshot");
            snapshot_done = true;
            // Which buffered ones were dropped vs applied: replay decided; recompute from ids.
            let last_id = exp["snapshot_lastUpdateId"].as_u64().unwrap();
            for &bi in &buffered {
                let (_, evs) = collect(&mut parser, msgs[bi]["raw"].as_str().unwrap(), &t).unwrap();
                let u = evs[0].last_id;
                let dropped_here = match market {
                    BinanceMarket::Spot => u <= last_id,
                    BinanceMarket::Futures => u < last_id,
                };
                if dropped_here {
                    dropped.push(bi);
                } else if first_applied.is_none() {
                    first_applied = Some(bi);
                }
            }
        }
        let (outcome, evs) = collect(&mut parser, m["raw"].as_str().unwrap(), &t).unwrap();
        if evs.is_empty() {
            assert!(matches!(
                outcome,
                BinanceOutcome::Ignored | BinanceOutcome::Control | BinanceOutcome::Market { .. }
            ));
            continue;
        }
        match evs[0].kind {
            MdKind::BookUpdate => {
                let mut last = SyncOutcome::Dropped;
                for e in &evs {
                    last = sync.on_event(e, &mut book);
                }
                match last {
                    SyncOutcome::Buffered => buffered.push(i),
                    SyncOutcome::Dropped => dropped.push(i),
                    SyncOutcome::Applied => {
                        if first_applied.is_none() {
                            first_applied = Some(i);
                        }
                        check_crosscheck(file, exp, evs[0].last_id, &book, &mut checked);
                    }
                    SyncOutcome::Resync(_) => resyncs += 1,
                    o => panic!("{file}: message {i}: unexpected {o:?}"),
                }
            }
            MdKind::BookTicker => {}
            MdKind::Trade => {}
            k => panic!("unexpected kind {k:?}"),
        }
    }
    assert!(snapshot_done, "{file}: snapshot never applied");
    assert_eq!(
        checked,
        exp["bookticker_crosschecks"].as_array().unwrap().len(),
        "{file}: every bookTicker checkpoint met"
    );
    assert_eq!(resyncs, 0, "{file}: no gaps in the recording");
    dropped.sort();
    let exp_dropped: Vec<usize> = exp["dropped_depth_event_message_indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(dropped, exp_dropped, "{file}: dropped events");
    assert_eq!(
        first_applied,
        exp["first_applied_depth_event_message_index"]
            .as_u64()
            .map(|v| v as usize),
        "{file}: first applied"
    );
    assert_eq!(
        sync.last_update_id(),
        exp["final_update_id"].as_u64().unwrap(),
        "{file}: final id"
    );
    let top = |levels: &[Level]| levels.iter().map(|l| (l.price, l.qty)).collect::<Vec<_>>();
    let want = |k: &str| {
        exp[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (fx(l[0].as_str().unwrap()), fx(l[1].as_str().unwrap())))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        top(book.bids.top(5)),
        want("final_top5_bids"),
        "{file}: final bids"
    );
    assert_eq!(
        top(book.asks.top(5)),
        want("final_top5_asks"),
        "{file}: final asks"
    );
}

#[test]
fn spot_nknusdt_recording_rebuilds_exactly() {
    replay("spot_depth_sequence_NKNUSDT_cryptofeed.json");
}
#[test]
fn spot_blzeth_recording_rebuilds_exactly() {
    replay("spot_depth_sequence_BLZETH_cryptofeed.json");
}
#[test]
fn spot_lrcbtc_recording_rebuilds_exactly() {
    replay("spot_depth_sequence_LRCBTC_cryptofeed.json");
}
#[test]
fn spot_runeeur_recording_rebuilds_exactly() {
    replay("spot_depth_sequence_RUNEEUR_cryptofeed.json");
}
#[test]
fn futures_sushiusdt_first_event_u_equals_last_update_id() {
    replay("futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json");
}
#[test]
fn futures_akrousdt_first_event_ending_at_last_update_id_is_applied() {
    replay("futures_usdm_depth_sequence_AKROUSDT_cryptofeed.json");
}
#[test]
fn futures_keepusdt_recording_rebuilds_exactly() {
    replay("futures_usdm_depth_sequence_KEEPUSDT_cryptofeed.json");
}
#[test]
fn futures_ctkusdt_recording_rebuilds_exactly() {
    replay("futures_usdm_depth_sequence_CTKUSDT_cryptofeed.json");
}

#[test]
fn a_missing_depth_message_forces_a_resync_and_a_new_snapshot_recovers() {
    let d = fixture("futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json");
    let t = instruments(Venue::BinanceFutures, &["SUSHIUSDT"]);
    let id = t.lookup(Venue::BinanceFutures, b"SUSHIUSDT").unwrap();
    let mut p = BinanceParser::new(BinanceMarket::Futures);
    let mut sync = BinanceSync::new(BinanceMarket::Futures);
    let mut book = L2Book::default();
    let mut snap = Vec::new();
    p.parse_depth_snapshot(
        d["snapshot"]["raw"].as_str().unwrap().as_bytes(),
        id,
        1,
        |e| snap.push(*e),
    )
    .unwrap();
    let depth: Vec<Vec<MdEvent>> = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| {
            let (_, evs) = collect(&mut p, m["raw"].as_str().unwrap(), &t).unwrap();
            (evs.first().map(|e| e.kind) == Some(MdKind::BookUpdate)).then_some(evs)
        })
        .collect();
    let feed = |sync: &mut BinanceSync, book: &mut L2Book, evs: &[MdEvent]| {
        let mut o = SyncOutcome::Dropped;
        for e in evs {
            o = sync.on_event(e, book);
        }
        o
    };
    // Updates after the snapshot's id (the first three are covered by it).
    let live: Vec<&Vec<MdEvent>> = depth
        .iter()
        .filter(|e| e[0].last_id >= snap[0].last_id)
        .collect();
    assert_eq!(feed(&mut sync, &mut book, &snap), SyncOutcome::Synced);
    assert_eq!(feed(&mut sync, &mut book, live[0]), SyncOutcome::Applied);
    // Skip live[1]: live[2].pu no longer chains.
    assert_eq!(
        feed(&mut sync, &mut book, live[2]),
        SyncOutcome::Resync(ResyncReason::Gap)
    );
    assert!(!sync.is_live() && book.bids.is_empty());
    // Later updates are buffered until a new snapshot; a snapshot at live[2].u brings it back.
    assert_eq!(feed(&mut sync, &mut book, live[3]), SyncOutcome::Buffered);
    // A fresh snapshot whose lastUpdateId falls inside live[3] ([U; u], rule F5).
    let mut resnap = snap.clone();
    for e in &mut resnap {
        e.last_id = live[3][0].first_id;
    }
    assert_eq!(feed(&mut sync, &mut book, &resnap), SyncOutcome::Synced);
    assert_eq!(sync.last_update_id(), live[3][0].last_id);
}

#[test]
fn bookticker_spot_and_futures_parse_to_exact_values() {
    let t = {
        let mut t = Instruments::new();
        t.intern(Venue::BinanceSpot, "BNBUSDT", "bnb", "usdt")
            .unwrap();
        t.intern(Venue::BinanceFutures, "BNBUSDT", "bnb", "usdt")
            .unwrap();
        t.intern(Venue::BinanceFutures, "ETHUSDT", "eth", "usdt")
            .unwrap();
        t
    };
    let (o, e) = collect(
        &mut BinanceParser::new(BinanceMarket::Spot),
        fixture("spot_bookticker_doc.json")["raw"].as_str().unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!(o, BinanceOutcome::Market { events: 1 });
    assert_eq!(e[0].kind, MdKind::BookTicker);
    assert_eq!(e[0].last_id, 400900217);
    assert_eq!(
        e[0].bids()[0],
        Level {
            price: fx("25.3519"),
            qty: fx("31.21")
        }
    );
    assert_eq!(
        e[0].asks()[0],
        Level {
            price: fx("25.3652"),
            qty: fx("40.66")
        }
    );
    let mut fp = BinanceParser::new(BinanceMarket::Futures);
    let (_, e) = collect(
        &mut fp,
        fixture("futures_usdm_bookticker_real_cmp.json")["raw"]
            .as_str()
            .unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!(
        (e[0].venue, e[0].last_id, e[0].exch_ts_ms),
        (Venue::BinanceFutures, 1553413152520, 1653817855289)
    );
    assert_eq!(e[0].bids()[0].price, fx("1778.54"));
    let (_, e) = collect(
        &mut fp,
        fixture("futures_usdm_bookticker_with_st_ps_nautilus.json")["raw"]
            .as_str()
            .unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!(e.len(), 1, "unknown fields st/ps are ignored");
}

#[test]
fn depth_updates_carry_sequence_ids() {
    let mut t = Instruments::new();
    t.intern(Venue::BinanceSpot, "BNBBTC", "bnb", "btc")
        .unwrap();
    t.intern(Venue::BinanceFutures, "BTCUSDT", "btc", "usdt")
        .unwrap();
    let (_, e) = collect(
        &mut BinanceParser::new(BinanceMarket::Spot),
        fixture("spot_depth_update_doc.json")["raw"]
            .as_str()
            .unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!((e[0].first_id, e[0].last_id, e[0].prev_id), (157, 160, -1));
    assert_eq!(
        e[0].bids()[0],
        Level {
            price: fx("0.0024"),
            qty: fx("10")
        }
    );
    let (_, e) = collect(
        &mut BinanceParser::new(BinanceMarket::Futures),
        fixture("futures_usdm_depth_update_doc.json")["raw"]
            .as_str()
            .unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!((e[0].first_id, e[0].last_id, e[0].prev_id), (157, 160, 149));
    let (_, e) = collect(
        &mut BinanceParser::new(BinanceMarket::Futures),
        fixture("futures_usdm_depth_update_with_ps_st_nautilus.json")["raw"]
            .as_str()
            .unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!(e[0].kind, MdKind::BookUpdate);
}

#[test]
fn trades_and_control_messages() {
    let mut t = Instruments::new();
    t.intern(Venue::BinanceSpot, "BNBBTC", "bnb", "btc")
        .unwrap();
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let (_, e) = collect(
        &mut p,
        fixture("spot_aggtrade_doc.json")["raw"].as_str().unwrap(),
        &t,
    )
    .unwrap();
    assert_eq!(
        (e[0].kind, e[0].side),
        (MdKind::Trade, Side::Sell),
        "buyer is maker: the taker sold"
    );
    assert_eq!(
        e[0].levels[0],
        Level {
            price: fx("0.001"),
            qty: fx("100")
        }
    );
    assert_eq!(
        collect(
            &mut p,
            fixture("ws_subscribe_response_doc.json")["raw"]
                .as_str()
                .unwrap(),
            &t
        )
        .unwrap()
        .0,
        BinanceOutcome::Control
    );
    assert_eq!(
        collect(
            &mut p,
            fixture("ws_error_invalid_json_doc.json")["raw"]
                .as_str()
                .unwrap(),
            &t
        )
        .unwrap()
        .0,
        BinanceOutcome::Control
    );
    assert_eq!(
        collect(
            &mut p,
            fixture("spot_kline_real_cryptofeed.json")["raw"]
                .as_str()
                .unwrap(),
            &t
        )
        .unwrap()
        .0,
        BinanceOutcome::Ignored
    );
}

#[test]
fn malformed_frames_are_typed_errors_never_panics() {
    let mut t = Instruments::new();
    t.intern(Venue::BinanceSpot, "BNBUSDT", "bnb", "usdt")
        .unwrap();
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let ok = r#"{"u":1,"s":"BNBUSDT","b":"25.35","B":"31.21","a":"25.36","A":"40.66"}"#;
    assert!(collect(&mut p, ok, &t).is_ok());
    let cases: &[(&str, &str, ParseError)] = &[
        ("empty", "", ParseError::Json),
        ("truncated", &ok[..30], ParseError::Json),
        ("not an object", "[1,2]", ParseError::Json),
        (
            "number for a price",
            r#"{"u":1,"s":"BNBUSDT","b":25.35,"B":"1","a":"2","A":"1"}"#,
            ParseError::Json,
        ),
        (
            "NaN price",
            r#"{"u":1,"s":"BNBUSDT","b":"NaN","B":"1","a":"2","A":"1"}"#,
            ParseError::BadDecimal {
                field: "b",
                err: arbline::model::DecimalError::InvalidChar,
            },
        ),
        (
            "exponent price",
            r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"u":2,"b":[["1e5","1"]],"a":[]}"#,
            ParseError::BadDecimal {
                field: "b",
                err: arbline::model::DecimalError::InvalidChar,
            },
        ),
        (
            "nine decimals",
            r#"{"u":1,"s":"BNBUSDT","b":"1.000000001","B":"1","a":"2","A":"1"}"#,
            ParseError::BadDecimal {
                field: "b",
                err: arbline::model::DecimalError::TooManyDecimals,
            },
        ),
        (
            "negative size",
            r#"{"u":1,"s":"BNBUSDT","b":"1","B":"-1","a":"2","A":"1"}"#,
            ParseError::BadValue("B"),
        ),
        (
            "unknown symbol",
            r#"{"u":1,"s":"DOGEUSDT","b":"1","B":"1","a":"2","A":"1"}"#,
            ParseError::UnknownSymbol,
        ),
        (
            "missing u",
            r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":1,"b":[],"a":[]}"#,
            ParseError::MissingField("u"),
        ),
        (
            "string id",
            r#"{"e":"depthUpdate","E":1,"s":"BNBUSDT","U":"1","u":2,"b":[],"a":[]}"#,
            ParseError::Json,
        ),
    ];
    for (name, frame, want) in cases {
        assert_eq!(collect(&mut p, frame, &t).err(), Some(*want), "{name}");
    }
}

#[test]
fn a_45_level_frame_in_three_chunks_builds_the_same_book() {
    let t = instruments(Venue::BinanceFutures, &["BTCUSDT"]);
    let id = t.lookup(Venue::BinanceFutures, b"BTCUSDT").unwrap();
    let bids: Vec<Level> = (0..25)
        .map(|i| Level {
            price: Fixed::from_int(100 - i),
            qty: Fixed::from_int(i + 1),
        })
        .collect();
    let asks: Vec<Level> = (0..20)
        .map(|i| Level {
            price: Fixed::from_int(101 + i),
            qty: Fixed::from_int(i + 1),
        })
        .collect();
    let mut body = Vec::new();
    frames::write_depth_snapshot(&mut body, BinanceMarket::Futures, 10, 1, &bids, &asks);
    let mut evs = Vec::new();
    BinanceParser::new(BinanceMarket::Futures)
        .parse_depth_snapshot(&body, id, 1, |e| evs.push(*e))
        .unwrap();
    assert_eq!(evs.len(), 45usize.div_ceil(MD_LEVELS));
    let mut sync = BinanceSync::new(BinanceMarket::Futures);
    let mut book = L2Book::default();
    let outcomes: Vec<SyncOutcome> = evs.iter().map(|e| sync.on_event(e, &mut book)).collect();
    assert_eq!(
        outcomes,
        vec![
            SyncOutcome::Partial,
            SyncOutcome::Partial,
            SyncOutcome::Synced
        ]
    );
    let mut direct = L2Book::default();
    direct.apply(&bids, &asks);
    assert_eq!(book.bids.top(100), direct.bids.top(100));
    assert_eq!(book.asks.top(100), direct.asks.top(100));
}

#[test]
fn writers_round_trip_through_the_parser() {
    let mut t = Instruments::new();
    t.intern(Venue::BinanceSpot, "BTCUSDT", "btc", "usdt")
        .unwrap();
    t.intern(Venue::BinanceFutures, "BTCUSDT", "btc", "usdt")
        .unwrap();
    let bid = Level {
        price: fx("95000.1"),
        qty: fx("0.5"),
    };
    let ask = Level {
        price: fx("95000.2"),
        qty: fx("1.25"),
    };
    for market in [BinanceMarket::Spot, BinanceMarket::Futures] {
        let mut p = BinanceParser::new(market);
        let mut buf = Vec::new();
        frames::write_book_ticker(&mut buf, market, "btcusdt", 42, 1_700_000_000_000, bid, ask);
        let (_, e) = collect(&mut p, std::str::from_utf8(&buf).unwrap(), &t).unwrap();
        assert_eq!(
            (e[0].last_id, e[0].bids()[0], e[0].asks()[0]),
            (42, bid, ask),
            "{market:?}"
        );
        frames::write_depth_update(
            &mut buf,
            market,
            "btcusdt",
            43,
            45,
            42,
            1_700_000_000_000,
            &[bid],
            &[
                ask,
                Level {
                    price: fx("95001"),
                    qty: Fixed::ZERO,
                },
            ],
        );
        let (_, e) = collect(&mut p, std::str::from_utf8(&buf).unwrap(), &t).unwrap();
        assert_eq!(
            (e[0].first_id, e[0].last_id, e[0].n_bids, e[0].n_asks),
            (43, 45, 1, 2)
        );
        if market == BinanceMarket::Futures {
            assert_eq!(e[0].prev_id, 42);
        }
    }
}
