//! Binance market data against real recordings and documentation examples
//! (`tests/fixtures/binance/`, spec `binance.md` §2–§3): the parser, the frame writers and the
//! book sequencer together.

use arbline::book::{L2Book, ResyncReason, SyncOutcome, binance_sync::BinanceSync};
use arbline::model::{
    DecimalError, Fixed, InstrumentId, Instruments, Level, MD_LEVELS, MdEvent, MdKind, Side, Venue,
};
use arbline::sim::binance_frames::{write_book_ticker, write_depth_snapshot, write_depth_update};
use arbline::venue::ParseError;
use arbline::venue::binance::{BinanceMarket, BinanceOutcome, BinanceParser};
use serde_json::Value;

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/frames.rs"]
mod frames;
use frames::{Frame, chunks_for};

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&fixtures::bytes(&format!("binance/{name}"))).unwrap()
}

fn raw(name: &str) -> String {
    fixture(name)["raw"].as_str().unwrap().to_string()
}

/// Every symbol the fixtures use, on its venue.
fn instruments() -> Instruments {
    let mut ins = Instruments::new();
    let spot = [
        ("NKNUSDT", "NKN", "USDT"),
        ("BLZETH", "BLZ", "ETH"),
        ("LRCBTC", "LRC", "BTC"),
        ("RUNEEUR", "RUNE", "EUR"),
        ("BNBUSDT", "BNB", "USDT"),
        ("BNBBTC", "BNB", "BTC"),
        ("BTCUSDT", "BTC", "USDT"),
    ];
    let futures = [
        ("SUSHIUSDT", "SUSHI", "USDT"),
        ("AKROUSDT", "AKRO", "USDT"),
        ("KEEPUSDT", "KEEP", "USDT"),
        ("CTKUSDT", "CTK", "USDT"),
        ("BNBUSDT", "BNB", "USDT"),
        ("BTCUSDT", "BTC", "USDT"),
        ("RUNEUSD_PERP", "RUNE", "USD"),
    ];
    for (s, b, q) in spot {
        ins.intern(Venue::BinanceSpot, s, b, q).unwrap();
    }
    for (s, b, q) in futures {
        ins.intern(Venue::BinanceFutures, s, b, q).unwrap();
    }
    ins
}

fn id(ins: &Instruments, venue: Venue, symbol: &str) -> InstrumentId {
    ins.lookup(venue, symbol.as_bytes()).unwrap()
}

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn level(pair: &Value) -> Level {
    Level {
        price: fx(pair[0].as_str().unwrap()),
        qty: fx(pair[1].as_str().unwrap()),
    }
}

fn lvl(p: &str, q: &str) -> Level {
    Level {
        price: fx(p),
        qty: fx(q),
    }
}

fn parse_all(
    parser: &mut BinanceParser,
    frame: &str,
    ins: &Instruments,
) -> (Result<BinanceOutcome, ParseError>, Vec<MdEvent>) {
    let mut evs = Vec::new();
    let r = parser.parse_ws(frame.as_bytes(), 7, ins, |e| evs.push(*e));
    (r, evs)
}

fn snapshot_events(
    parser: &mut BinanceParser,
    body: &str,
    instrument: InstrumentId,
) -> Vec<MdEvent> {
    let mut evs = Vec::new();
    let n = parser
        .parse_depth_snapshot(body.as_bytes(), instrument, 1, |e| evs.push(*e))
        .unwrap();
    assert_eq!(n, evs.len());
    evs
}

/// A REST snapshot as one merged frame.
fn snapshot_frame(parser: &mut BinanceParser, body: &str, instrument: InstrumentId) -> Frame {
    Frame::merge(&snapshot_events(parser, body, instrument))
}

fn market_of(file: &Value) -> BinanceMarket {
    match file["market"].as_str().unwrap() {
        "spot" => BinanceMarket::Spot,
        _ => BinanceMarket::Futures,
    }
}

/// Feeds all chunks of one frame; returns the outcome of the last chunk (and of chunk 0).
fn feed(sync: &mut BinanceSync, book: &mut L2Book, evs: &[MdEvent]) -> Vec<SyncOutcome> {
    evs.iter().map(|e| sync.on_event(e, book)).collect()
}

// ------------------------------------------------------------------------------------------------
// Recorded sequences: snapshot first, then every message in receive order.
// ------------------------------------------------------------------------------------------------

#[path = "support/depth_sequences.rs"]
mod depth_sequences;
use depth_sequences::SEQUENCES;

fn assert_top5(book: &L2Book, expected: &Value, name: &str) {
    let bids: Vec<Level> = expected["final_top5_bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(level)
        .collect();
    let asks: Vec<Level> = expected["final_top5_asks"]
        .as_array()
        .unwrap()
        .iter()
        .map(level)
        .collect();
    assert_eq!(
        book.bids.top(5).collect::<Vec<_>>(),
        bids,
        "{name}: top-5 bids"
    );
    assert_eq!(
        book.asks.top(5).collect::<Vec<_>>(),
        asks,
        "{name}: top-5 asks"
    );
}

/// Returns how many bookTicker cross-checks it made.
fn replay_snapshot_first(name: &str) -> usize {
    let file = fixture(name);
    let market = market_of(&file);
    let ins = instruments();
    let instrument = id(&ins, market.venue(), file["symbol"].as_str().unwrap());
    let expected = &file["expected"];
    let mut parser = BinanceParser::new(market);
    let mut sync = BinanceSync::new(market);
    let mut book = L2Book::default();

    let snap = snapshot_events(
        &mut parser,
        file["snapshot"]["raw"].as_str().unwrap(),
        instrument,
    );
    assert!(snap.iter().all(|e| e.kind == MdKind::BookSnapshot
        && e.last_id == expected["snapshot_lastUpdateId"].as_u64().unwrap()));
    let outcomes = feed(&mut sync, &mut book, &snap);
    assert_eq!(outcomes.last(), Some(&SyncOutcome::Synced), "{name}");
    assert!(
        outcomes[..outcomes.len() - 1]
            .iter()
            .all(|o| *o == SyncOutcome::Partial)
    );

    let checks: Vec<&Value> = expected["bookticker_crosschecks"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let mut dropped = Vec::new();
    let mut first_applied = None;
    let mut resyncs = 0;
    let mut depth_events = 0;
    let mut checked = 0;
    let mut hot_frames = 0;
    for (i, msg) in file["messages"].as_array().unwrap().iter().enumerate() {
        let frame = msg["raw"].as_str().unwrap();
        let (r, evs) = parse_all(&mut parser, frame, &ins);
        let r = r.unwrap_or_else(|e| panic!("{name} message {i}: {e}"));
        if frame.contains("@kline_") {
            assert_eq!(r, BinanceOutcome::Ignored, "{name} message {i}");
        }
        if matches!(
            evs.first().map(|e| e.kind),
            Some(MdKind::BookUpdate | MdKind::BookTicker | MdKind::Trade)
        ) {
            hot_frames += 1;
        }
        match evs.first().map(|e| e.kind) {
            Some(MdKind::BookUpdate) => {
                depth_events += 1;
                let out = feed(&mut sync, &mut book, &evs);
                match out[0] {
                    SyncOutcome::Dropped => dropped.push(i),
                    SyncOutcome::Resync(_) => resyncs += 1,
                    _ => {
                        assert_eq!(*out.last().unwrap(), SyncOutcome::Applied, "{name} {i}");
                        first_applied.get_or_insert(i);
                    }
                }
            }
            Some(MdKind::BookTicker) | Some(MdKind::Trade) => {
                assert_eq!(evs.len(), 1);
                assert_eq!(evs[0].instrument, instrument);
            }
            _ => assert_eq!(r, BinanceOutcome::Ignored, "{name} message {i}"),
        }
        // A cross-check names a bookTicker; it holds once the depth event with the same `u` is
        // applied, which may arrive just before or just after the bookTicker.
        for c in checks
            .iter()
            .filter(|c| c["message_index"].as_u64() == Some(i as u64))
        {
            assert_eq!(evs[0].kind, MdKind::BookTicker, "{name} check at {i}");
            assert_eq!(evs[0].last_id, c["u"].as_u64().unwrap());
            assert_eq!(evs[0].bids()[0], level(&c["best_bid"]), "{name} at {i}");
            assert_eq!(evs[0].asks()[0], level(&c["best_ask"]), "{name} at {i}");
        }
        if evs.first().map(|e| e.kind) == Some(MdKind::BookUpdate) {
            let u = sync.last_update_id();
            for c in checks.iter().filter(|c| c["u"].as_u64() == Some(u)) {
                if evs[0].last_id != u {
                    continue;
                }
                assert_eq!(
                    book.best_bid(),
                    level(&c["best_bid"]),
                    "{name} bid at u {u}"
                );
                assert_eq!(
                    book.best_ask(),
                    level(&c["best_ask"]),
                    "{name} ask at u {u}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, checks.len(), "{name}: every cross-check visited");
    assert_eq!(resyncs, 0, "{name}: resyncs");
    // Binance's own layout: every recorded bookTicker, depthUpdate and trade takes the byte
    // scanner, and so does the REST snapshot.
    assert!(hot_frames > 0, "{name}: hot frames");
    assert_eq!(
        parser.scanned_frames(),
        hot_frames + 1,
        "{name}: frames scanned"
    );
    assert_eq!(
        depth_events,
        expected["depth_event_count"].as_u64().unwrap(),
        "{name}"
    );
    let want_dropped: Vec<usize> = expected["dropped_depth_event_message_indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(dropped, want_dropped, "{name}: dropped");
    assert_eq!(
        first_applied,
        expected["first_applied_depth_event_message_index"]
            .as_u64()
            .map(|v| v as usize),
        "{name}: first applied"
    );
    assert!(sync.is_live());
    assert_eq!(
        sync.last_update_id(),
        expected["final_update_id"].as_u64().unwrap(),
        "{name}: final id"
    );
    assert_top5(&book, expected, name);
    checked
}

/// The realistic order: what arrived before the REST answer is buffered, then replayed.
fn replay_buffered(name: &str) {
    let file = fixture(name);
    let market = market_of(&file);
    let ins = instruments();
    let instrument = id(&ins, market.venue(), file["symbol"].as_str().unwrap());
    let mut parser = BinanceParser::new(market);
    let mut sync = BinanceSync::new(market);
    let mut book = L2Book::default();
    let snap_at = file["snapshot"]["received_at"].as_f64().unwrap();
    let mut snapshot_fed = false;
    for msg in file["messages"].as_array().unwrap() {
        if !snapshot_fed && msg["received_at"].as_f64().unwrap() > snap_at {
            let snap = snapshot_events(
                &mut parser,
                file["snapshot"]["raw"].as_str().unwrap(),
                instrument,
            );
            assert_eq!(
                feed(&mut sync, &mut book, &snap).last(),
                Some(&SyncOutcome::Synced),
                "{name}"
            );
            snapshot_fed = true;
        }
        let (_, evs) = parse_all(&mut parser, msg["raw"].as_str().unwrap(), &ins);
        if evs.first().map(|e| e.kind) == Some(MdKind::BookUpdate) {
            for o in feed(&mut sync, &mut book, &evs) {
                assert!(!matches!(o, SyncOutcome::Resync(_)), "{name}: {o:?}");
                if !snapshot_fed {
                    assert_eq!(o, SyncOutcome::Buffered);
                }
            }
        }
    }
    assert!(snapshot_fed && sync.is_live());
    assert_eq!(
        sync.last_update_id(),
        file["expected"]["final_update_id"].as_u64().unwrap()
    );
    assert_top5(&book, &file["expected"], name);
}

#[test]
fn recorded_sequences_replay_without_gaps_and_match_expected_books() {
    let checked: usize = SEQUENCES.into_iter().map(replay_snapshot_first).sum();
    assert!(
        checked > 0,
        "the book was cross-checked against bookTickers"
    );
}

#[test]
fn recorded_sequences_buffered_before_the_snapshot_give_the_same_books() {
    for name in SEQUENCES {
        replay_buffered(name);
    }
}

// ------------------------------------------------------------------------------------------------
// Gap injection and recovery.
// ------------------------------------------------------------------------------------------------

fn gap_then_recover(name: &str) {
    let file = fixture(name);
    let market = market_of(&file);
    let ins = instruments();
    let symbol = file["symbol"].as_str().unwrap();
    let instrument = id(&ins, market.venue(), symbol);
    let first_applied = file["expected"]["first_applied_depth_event_message_index"]
        .as_u64()
        .unwrap() as usize;
    let snap_raw = file["snapshot"]["raw"].as_str().unwrap();

    // The reference replays everything; the subject misses one depth frame.
    let mut parser = BinanceParser::new(market);
    let (mut ref_sync, mut ref_book) = (BinanceSync::new(market), L2Book::default());
    let (mut sync, mut book) = (BinanceSync::new(market), L2Book::default());
    let snap = snapshot_events(&mut parser, snap_raw, instrument);
    feed(&mut ref_sync, &mut ref_book, &snap);
    feed(&mut sync, &mut book, &snap);

    let mut depth_seen_after_first = 0;
    let mut skipped = false;
    let mut gap_seen = false;
    let mut resynced = false;
    let mut body = Vec::with_capacity(1 << 16);
    for (i, msg) in file["messages"].as_array().unwrap().iter().enumerate() {
        let (_, evs) = parse_all(&mut parser, msg["raw"].as_str().unwrap(), &ins);
        if evs.first().map(|e| e.kind) != Some(MdKind::BookUpdate) {
            continue;
        }
        feed(&mut ref_sync, &mut ref_book, &evs);
        if i > first_applied {
            depth_seen_after_first += 1;
        }
        if depth_seen_after_first == 2 && !skipped {
            skipped = true; // lost on the wire
            continue;
        }
        let out = feed(&mut sync, &mut book, &evs);
        if skipped && !gap_seen {
            assert_eq!(out[0], SyncOutcome::Resync(ResyncReason::Gap), "{name} {i}");
            assert!(!sync.is_live());
            assert!(book.bids.is_empty() && book.asks.is_empty());
            gap_seen = true;
            // A fresh snapshot, taken now from the reference book (the venue's state).
            let bids: Vec<Level> = ref_book.bids.iter().collect();
            let asks: Vec<Level> = ref_book.asks.iter().collect();
            write_depth_snapshot(
                &mut body,
                market,
                ref_sync.last_update_id(),
                0,
                &bids,
                &asks,
            );
            let snap =
                snapshot_events(&mut parser, std::str::from_utf8(&body).unwrap(), instrument);
            assert_eq!(
                feed(&mut sync, &mut book, &snap).last(),
                Some(&SyncOutcome::Synced),
                "{name}"
            );
            resynced = true;
        } else {
            assert!(!matches!(out[0], SyncOutcome::Resync(_)), "{name} {i}");
        }
    }
    assert!(gap_seen && resynced, "{name}");
    assert!(sync.is_live());
    assert_eq!(sync.last_update_id(), ref_sync.last_update_id());
    assert_top5(&book, &file["expected"], name);
    assert!(book.bids.iter().eq(ref_book.bids.iter()), "bids");
    assert!(book.asks.iter().eq(ref_book.asks.iter()), "asks");
}

#[test]
fn spot_skipped_depth_frame_resyncs_on_gap_and_a_fresh_snapshot_recovers() {
    gap_then_recover("spot_depth_sequence_NKNUSDT_cryptofeed.json");
}

#[test]
fn futures_skipped_depth_frame_resyncs_on_gap_and_a_fresh_snapshot_recovers() {
    gap_then_recover("futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json");
}

// ------------------------------------------------------------------------------------------------
// Single messages.
// ------------------------------------------------------------------------------------------------

/// One market frame, its chunks merged.
fn one(market: BinanceMarket, frame: &str) -> Frame {
    let ins = instruments();
    let mut p = BinanceParser::new(market);
    let (r, evs) = parse_all(&mut p, frame, &ins);
    assert_eq!(
        r,
        Ok(BinanceOutcome::Market { events: evs.len() }),
        "{frame}"
    );
    assert_eq!(evs[0].ts_frame, 7);
    assert_eq!(evs[0].ts_parsed, 0);
    let f = Frame::merge(&evs);
    assert_eq!(f.chunks, chunks_for(f.bids().len() + f.asks().len()));
    f
}

#[test]
fn spot_book_ticker_doc_and_real() {
    let ins = instruments();
    let ev = one(BinanceMarket::Spot, &raw("spot_bookticker_doc.json"));
    assert_eq!(ev.kind, MdKind::BookTicker);
    assert_eq!(ev.venue, Venue::BinanceSpot);
    assert_eq!(ev.instrument, id(&ins, Venue::BinanceSpot, "BNBUSDT"));
    assert_eq!(ev.last_id, 400900217);
    assert_eq!(ev.exch_ts_ms, 0, "spot bookTicker has no time");
    assert_eq!(ev.bids(), &[lvl("25.3519", "31.21")]);
    assert_eq!(ev.asks(), &[lvl("25.3652", "40.66")]);

    let ev = one(
        BinanceMarket::Spot,
        &raw("spot_bookticker_real_cryptofeed.json"),
    );
    assert_eq!(ev.instrument, id(&ins, Venue::BinanceSpot, "NKNUSDT"));
    assert_eq!(ev.last_id, 499869768);
    assert_eq!(ev.bids(), &[lvl("0.3521", "672")]);
    assert_eq!(ev.asks(), &[lvl("0.3526", "3199")]);
}

#[test]
fn futures_book_ticker_doc_real_and_with_st_ps() {
    let ins = instruments();
    for name in [
        "futures_usdm_bookticker_doc.json",
        "futures_usdm_bookticker_with_st_ps_nautilus.json",
    ] {
        let ev = one(BinanceMarket::Futures, &raw(name));
        assert_eq!(ev.kind, MdKind::BookTicker, "{name}");
        assert_eq!(ev.venue, Venue::BinanceFutures);
        assert_eq!(ev.instrument, id(&ins, Venue::BinanceFutures, "BNBUSDT"));
        assert_eq!(ev.last_id, 400900217);
        assert_eq!(ev.exch_ts_ms, 1568014460893);
        assert_eq!(ev.bids(), &[lvl("25.3519", "31.21")]);
        assert_eq!(ev.asks(), &[lvl("25.3652", "40.66")]);
    }
    // Real: keys in a different order than the docs (T, E last).
    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_bookticker_real_cryptofeed.json"),
    );
    assert_eq!(ev.instrument, id(&ins, Venue::BinanceFutures, "SUSHIUSDT"));
    assert_eq!(ev.last_id, 600859600576);
    assert_eq!(ev.exch_ts_ms, 1626992741017);
    assert_eq!(ev.bids(), &[lvl("7.611", "2")]);
    assert_eq!(ev.asks(), &[lvl("7.612", "297")]);
}

#[test]
fn spot_depth_update_doc_and_real() {
    let ev = one(BinanceMarket::Spot, &raw("spot_depth_update_doc.json"));
    assert_eq!(ev.kind, MdKind::BookUpdate);
    assert_eq!((ev.first_id, ev.last_id, ev.prev_id), (157, 160, -1));
    assert_eq!(ev.exch_ts_ms, 1672515782136);
    assert_eq!(ev.bids(), &[lvl("0.0024", "10")]);
    assert_eq!(ev.asks(), &[lvl("0.0026", "100")]);

    let ev = one(
        BinanceMarket::Spot,
        &raw("spot_depth_update_real_cryptofeed.json"),
    );
    assert_eq!((ev.first_id, ev.last_id), (499869750, 499869752));
    assert_eq!(
        ev.bids(),
        &[
            lvl("0.3513", "6195"),
            lvl("0.3475", "5548"),
            lvl("0.3464", "6222")
        ]
    );
    assert!(ev.asks().is_empty(), "an empty \"a\":[] is normal");
}

#[test]
fn futures_depth_update_doc_real_and_with_ps_st() {
    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_depth_update_doc.json"),
    );
    assert_eq!((ev.first_id, ev.last_id, ev.prev_id), (157, 160, 149));
    assert_eq!(ev.exch_ts_ms, 123456789);

    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_depth_update_real_cryptofeed.json"),
    );
    assert_eq!(
        (ev.first_id, ev.last_id, ev.prev_id),
        (600859599090, 600859600917, 600859598061)
    );
    assert_eq!(ev.exch_ts_ms, 1626992741037);
    assert_eq!(
        ev.bids(),
        &[lvl("7.504", "813"), lvl("7.609", "0"), lvl("7.611", "2")]
    );
    assert_eq!(ev.asks(), &[lvl("7.615", "1563"), lvl("7.622", "3284")]);

    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_depth_update_with_ps_st_nautilus.json"),
    );
    assert_eq!(
        (ev.first_id, ev.last_id, ev.prev_id),
        (390497796, 390497878, 390497794)
    );
    assert_eq!((ev.bids().len(), ev.asks().len()), (5, 5));
    assert_eq!(ev.bids()[4], lvl("7405.43", "2.562"));
    assert_eq!(ev.asks()[0], lvl("7405.96", "3.340"));
}

#[test]
fn coinm_depth5_with_pu_minus_one_parses_as_a_futures_depth_update() {
    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_coinm_depth5_pu_minus1_real_cmp.json"),
    );
    assert_eq!(ev.kind, MdKind::BookUpdate);
    assert_eq!(
        (ev.first_id, ev.last_id, ev.prev_id),
        (395028983849, 395028983849, -1)
    );
    assert!(ev.bids().is_empty());
    assert_eq!(ev.asks(), &[lvl("8.44", "2")]);
}

#[test]
fn agg_trades_and_trades_carry_the_taker_side() {
    // m = true: the buyer made the market, so the taker sold.
    let ev = one(BinanceMarket::Spot, &raw("spot_aggtrade_doc.json"));
    assert_eq!(ev.kind, MdKind::Trade);
    assert_eq!(ev.side, Side::Sell);
    assert_eq!(ev.last_id, 12345);
    assert_eq!(ev.levels[0], lvl("0.001", "100"));

    let ev = one(
        BinanceMarket::Spot,
        &raw("spot_aggtrade_real_cryptofeed.json"),
    );
    assert_eq!(ev.side, Side::Buy);
    assert_eq!(ev.last_id, 15683430);
    assert_eq!(ev.exch_ts_ms, 1633998523963);
    assert_eq!(ev.levels[0], lvl("0.3528", "58"));

    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_aggtrade_doc.json"),
    );
    assert_eq!((ev.side, ev.last_id), (Side::Sell, 5933014));
    let ev = one(
        BinanceMarket::Futures,
        &raw("futures_usdm_aggtrade_real_cryptofeed.json"),
    );
    assert_eq!((ev.side, ev.last_id), (Side::Buy, 87353230));
    assert_eq!(ev.levels[0], lvl("7.612", "297"));

    let ev = one(BinanceMarket::Spot, &raw("spot_trade_doc.json"));
    assert_eq!(
        (ev.kind, ev.side, ev.last_id),
        (MdKind::Trade, Side::Sell, 12345)
    );
}

#[test]
fn control_frames_and_ignored_streams() {
    let ins = instruments();
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    for name in [
        "ws_subscribe_response_doc.json",
        "ws_list_subscriptions_response_doc.json",
        "spot_error_doc.json",
        "futures_usdm_error_doc.json",
        "ws_error_invalid_json_doc.json",
    ] {
        let (r, evs) = parse_all(&mut p, &raw(name), &ins);
        assert_eq!(r, Ok(BinanceOutcome::Control), "{name}");
        assert!(evs.is_empty());
    }
    // The 24 h cut is announced, raw or combined, on either market; never a parse error.
    for market in [BinanceMarket::Spot, BinanceMarket::Futures] {
        let mut p = BinanceParser::new(market);
        for name in [
            "spot_server_shutdown_event_doc.json",
            "spot_server_shutdown_event_combined_doc.json",
        ] {
            let (r, evs) = parse_all(&mut p, &raw(name), &ins);
            assert_eq!(r, Ok(BinanceOutcome::ServerShutdown), "{market:?} {name}");
            assert!(evs.is_empty());
        }
    }
    for name in [
        "spot_kline_real_cryptofeed.json",
        "spot_partial_depth_doc.json",
        "spot_partial_depth20_real_cmp.json",
    ] {
        let (r, evs) = parse_all(&mut p, &raw(name), &ins);
        assert_eq!(r, Ok(BinanceOutcome::Ignored), "{name}");
        assert!(evs.is_empty());
    }
    let mut p = BinanceParser::new(BinanceMarket::Futures);
    let (r, _) = parse_all(
        &mut p,
        &raw("futures_usdm_kline_real_cryptofeed.json"),
        &ins,
    );
    assert_eq!(r, Ok(BinanceOutcome::Ignored));
}

#[test]
fn rest_snapshots_spot_and_futures() {
    let ins = instruments();
    let btc = id(&ins, Venue::BinanceSpot, "BTCUSDT");
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let evs = snapshot_events(&mut p, &raw("spot_depth_snapshot_doc.json"), btc);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].kind, MdKind::BookSnapshot);
    assert_eq!((evs[0].last_id, evs[0].exch_ts_ms), (1027024, 0));
    assert_eq!(evs[0].bids(), &[lvl("4", "431")]);
    assert_eq!(evs[0].asks(), &[lvl("4.000002", "12")]);

    let f = snapshot_frame(&mut p, &raw("spot_depth_snapshot_real_nautilus.json"), btc);
    assert_eq!(f.last_id, 14527958487);
    assert_eq!(f.bids()[0], lvl("60650", "0.00213"));
    assert_eq!(f.asks()[0], lvl("60650.01", "0.61982"));

    let mut p = BinanceParser::new(BinanceMarket::Futures);
    let btc = id(&ins, Venue::BinanceFutures, "BTCUSDT");
    let evs = snapshot_events(&mut p, &raw("futures_usdm_depth_snapshot_doc.json"), btc);
    assert_eq!(evs[0].venue, Venue::BinanceFutures);
    assert_eq!(
        (evs[0].last_id, evs[0].exch_ts_ms),
        (1027024, 1589436922972)
    );
}

// ------------------------------------------------------------------------------------------------
// Malformed input: a typed error, never a panic.
// ------------------------------------------------------------------------------------------------

#[test]
fn malformed_frames_give_typed_errors() {
    use BinanceMarket::{Futures, Spot};
    let bad = |field| move |err| ParseError::BadDecimal { field, err };
    let futures_depth = raw("futures_usdm_depth_update_real_cryptofeed.json");
    let cases: Vec<(&str, BinanceMarket, &str, ParseError)> = vec![
        ("empty frame", Spot, "", ParseError::Json),
        ("whitespace only", Spot, "  ", ParseError::Json),
        (
            "truncated",
            Spot,
            r#"{"stream":"nknusdt@bookTicker","data":{"u":1,"s":"NKNUSDT","b":"0.3"#,
            ParseError::Json,
        ),
        ("array at top", Spot, "[]", ParseError::Json),
        (
            "trailing garbage",
            Spot,
            r#"{"result":null,"id":1}x"#,
            ParseError::Json,
        ),
        ("empty object", Spot, "{}", ParseError::MissingField("e")),
        (
            "unknown event",
            Spot,
            r#"{"e":"fooBar","E":1}"#,
            ParseError::UnknownEvent,
        ),
        (
            "number where a price string is expected",
            Spot,
            r#"{"u":1,"s":"NKNUSDT","b":0.35,"B":"1","a":"0.36","A":"1"}"#,
            ParseError::Json,
        ),
        (
            "number inside a level",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[[0.35,"1"]],"a":[]}"#,
            ParseError::Json,
        ),
        (
            "string where an id is expected",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":"1","u":2,"b":[],"a":[]}"#,
            ParseError::Json,
        ),
        (
            "negative update id",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":-2,"b":[],"a":[]}"#,
            ParseError::BadValue("u"),
        ),
        (
            "NaN price",
            Spot,
            r#"{"u":1,"s":"NKNUSDT","b":"NaN","B":"1","a":"0.36","A":"1"}"#,
            bad("b")(DecimalError::InvalidChar),
        ),
        (
            "exponent price in a level",
            Futures,
            r#"{"e":"depthUpdate","E":1,"T":1,"s":"SUSHIUSDT","U":1,"u":2,"pu":0,"b":[],"a":[["1e5","1"]]}"#,
            bad("a")(DecimalError::InvalidChar),
        ),
        (
            "too many decimals",
            Spot,
            r#"{"u":1,"s":"NKNUSDT","b":"0.35","B":"0.123456789","a":"0.36","A":"1"}"#,
            bad("B")(DecimalError::TooManyDecimals),
        ),
        (
            "negative quantity",
            Spot,
            r#"{"u":1,"s":"NKNUSDT","b":"0.35","B":"1","a":"0.36","A":"-1"}"#,
            ParseError::BadValue("A"),
        ),
        (
            "negative level price",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[["-0.35","1"]],"a":[]}"#,
            ParseError::BadValue("b"),
        ),
        (
            "level with one element",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[["0.35"]],"a":[]}"#,
            ParseError::Json,
        ),
        (
            "unknown symbol",
            Spot,
            r#"{"u":1,"s":"XYZUSDT","b":"0.35","B":"1","a":"0.36","A":"1"}"#,
            ParseError::UnknownSymbol,
        ),
        (
            "futures symbol on the spot parser",
            Spot,
            &futures_depth,
            ParseError::UnknownSymbol,
        ),
        (
            "very long symbol",
            Spot,
            r#"{"u":1,"s":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","b":"0.35","B":"1","a":"0.36","A":"1"}"#,
            ParseError::UnknownSymbol,
        ),
        (
            "depth without U",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","u":2,"b":[],"a":[]}"#,
            ParseError::MissingField("U"),
        ),
        (
            "depth without asks",
            Spot,
            r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":1,"u":2,"b":[]}"#,
            ParseError::MissingField("a"),
        ),
        (
            "futures depth without pu",
            Futures,
            r#"{"e":"depthUpdate","E":1,"T":1,"s":"SUSHIUSDT","U":1,"u":2,"b":[],"a":[]}"#,
            ParseError::MissingField("pu"),
        ),
        (
            "book ticker without ask qty",
            Futures,
            r#"{"e":"bookTicker","u":1,"E":1,"T":1,"s":"SUSHIUSDT","b":"1","B":"1","a":"2"}"#,
            ParseError::MissingField("A"),
        ),
        (
            "book ticker without symbol",
            Futures,
            r#"{"e":"bookTicker","u":1,"E":1,"b":"1","B":"1","a":"2","A":"1"}"#,
            ParseError::MissingField("s"),
        ),
        (
            "agg trade without m",
            Futures,
            r#"{"e":"aggTrade","E":1,"s":"SUSHIUSDT","a":5,"p":"1","q":"1","T":1}"#,
            ParseError::MissingField("m"),
        ),
        (
            "data is not an object",
            Spot,
            r#"{"stream":"x","data":[1,2]}"#,
            ParseError::Json,
        ),
    ];
    let ins = instruments();
    for (name, market, frame, want) in cases {
        let mut p = BinanceParser::new(market);
        let (r, evs) = parse_all(&mut p, frame, &ins);
        assert_eq!(r, Err(want), "{name}");
        assert!(evs.is_empty(), "{name}: nothing emitted");
        // The parser is still usable after an error.
        let (ok, _) = parse_all(&mut p, &raw("ws_subscribe_response_doc.json"), &ins);
        assert_eq!(ok, Ok(BinanceOutcome::Control), "{name}");
    }
}

#[test]
fn malformed_snapshots_give_typed_errors() {
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let cases: [(&str, &str, ParseError); 5] = [
        (
            "rest error body",
            r#"{"code":-1121,"msg":"Invalid symbol."}"#,
            ParseError::BadValue("code"),
        ),
        (
            "no asks",
            r#"{"lastUpdateId":1,"bids":[]}"#,
            ParseError::MissingField("asks"),
        ),
        (
            "no id",
            r#"{"bids":[],"asks":[]}"#,
            ParseError::MissingField("lastUpdateId"),
        ),
        (
            "truncated",
            r#"{"lastUpdateId":1,"bids":[["1","#,
            ParseError::Json,
        ),
        (
            "bad qty",
            r#"{"lastUpdateId":1,"bids":[["1","x"]],"asks":[]}"#,
            ParseError::BadDecimal {
                field: "bids",
                err: DecimalError::InvalidChar,
            },
        ),
    ];
    for (name, body, want) in cases {
        let r = p.parse_depth_snapshot(body.as_bytes(), InstrumentId(0), 0, |_| {
            panic!("{name}: nothing may be emitted")
        });
        assert_eq!(r, Err(want), "{name}");
    }
}

// ------------------------------------------------------------------------------------------------
// Writers round-trip through the parser; chunking.
// ------------------------------------------------------------------------------------------------

fn ladder(start: &str, step: &str, n: usize, down: bool) -> Vec<Level> {
    let (mut p, s) = (fx(start), fx(step));
    (0..n)
        .map(|i| {
            let l = Level {
                price: p,
                qty: Fixed::from_int(i as i64 + 1),
            };
            p = if down {
                p.checked_sub(s).unwrap()
            } else {
                p.checked_add(s).unwrap()
            };
            l
        })
        .collect()
}

#[test]
fn writers_round_trip_through_the_parser() {
    let ins = instruments();
    let mut out = Vec::with_capacity(1 << 14);
    for (market, sym) in [
        (BinanceMarket::Spot, "nknusdt"),
        (BinanceMarket::Futures, "sushiusdt"),
    ] {
        let instrument = id(&ins, market.venue(), sym);
        let mut p = BinanceParser::new(market);
        let (bid, ask) = (lvl("7.611", "2"), lvl("7.612", "297.5"));
        write_book_ticker(&mut out, market, sym, 42, 1700000000123, bid, ask);
        let (r, evs) = parse_all(&mut p, std::str::from_utf8(&out).unwrap(), &ins);
        assert_eq!(r, Ok(BinanceOutcome::Market { events: 1 }));
        // The simulator writes Binance's layout: its frames take the byte scanner too.
        assert_eq!(
            p.scanned_frames(),
            1,
            "the simulator's bookTicker was scanned"
        );
        assert_eq!(evs[0].kind, MdKind::BookTicker);
        assert_eq!(evs[0].instrument, instrument);
        assert_eq!((evs[0].bids(), evs[0].asks()), (&[bid][..], &[ask][..]));
        assert_eq!(evs[0].last_id, 42);
        let want_ts = if market == BinanceMarket::Spot {
            0
        } else {
            1700000000123
        };
        assert_eq!(evs[0].exch_ts_ms, want_ts);

        let bids = ladder("7.611", "0.001", 3, true);
        let asks = ladder("7.612", "0.001", 2, false);
        write_depth_update(
            &mut out,
            market,
            sym,
            100,
            105,
            99,
            1700000000124,
            &bids,
            &asks,
        );
        let (_, evs) = parse_all(&mut p, std::str::from_utf8(&out).unwrap(), &ins);
        let evs = [Frame::merge(&evs)];
        assert_eq!(
            p.scanned_frames(),
            2,
            "the simulator's depthUpdate was scanned"
        );
        assert_eq!((evs[0].first_id, evs[0].last_id), (100, 105));
        let want_pu = if market == BinanceMarket::Spot {
            -1
        } else {
            99
        };
        assert_eq!(evs[0].prev_id, want_pu);
        assert_eq!(evs[0].exch_ts_ms, 1700000000124);
        assert_eq!((evs[0].bids(), evs[0].asks()), (&bids[..], &asks[..]));

        write_depth_snapshot(&mut out, market, 77, 5, &bids, &asks);
        let evs = [snapshot_frame(
            &mut p,
            std::str::from_utf8(&out).unwrap(),
            instrument,
        )];
        assert_eq!(evs[0].last_id, 77);
        assert_eq!((evs[0].bids(), evs[0].asks()), (&bids[..], &asks[..]));
    }
}

#[test]
fn a_45_level_frame_splits_into_chunks_and_rebuilds_the_same_book() {
    let ins = instruments();
    let market = BinanceMarket::Futures;
    let instrument = id(&ins, market.venue(), "SUSHIUSDT");
    let mut p = BinanceParser::new(market);
    let mut out = Vec::new();

    let snap_bids = ladder("7.500", "0.001", 30, true);
    let snap_asks = ladder("7.520", "0.001", 30, false);
    write_depth_snapshot(&mut out, market, 1000, 1, &snap_bids, &snap_asks);
    let snap = snapshot_events(&mut p, std::str::from_utf8(&out).unwrap(), instrument);
    assert_eq!(snap.len(), chunks_for(60));
    let f = Frame::merge(&snap);
    assert_eq!((f.bids(), f.asks()), (&snap_bids[..], &snap_asks[..]));

    // 25 bids (some removing levels) and 20 asks.
    let mut bids = ladder("7.510", "0.001", 25, true);
    bids[24].qty = Fixed::ZERO;
    let asks = ladder("7.511", "0.001", 20, false);
    write_depth_update(
        &mut out,
        market,
        "sushiusdt",
        990,
        1010,
        1000,
        2,
        &bids,
        &asks,
    );
    let (r, evs) = parse_all(&mut p, std::str::from_utf8(&out).unwrap(), &ins);
    let n = chunks_for(45);
    assert_eq!(r, Ok(BinanceOutcome::Market { events: n }));
    let f = Frame::merge(&evs);
    assert_eq!((f.bids(), f.asks()), (&bids[..], &asks[..]));
    for e in &evs {
        assert_eq!(
            (e.kind, e.instrument, e.first_id, e.last_id, e.prev_id),
            (MdKind::BookUpdate, instrument, 990, 1010, 1000)
        );
        assert_eq!((e.exch_ts_ms, e.ts_frame), (2, 7));
        assert!(e.n_bids as usize + e.n_asks as usize <= MD_LEVELS);
    }

    let mut sync = BinanceSync::new(market);
    let mut book = L2Book::default();
    assert_eq!(
        feed(&mut sync, &mut book, &snap).last(),
        Some(&SyncOutcome::Synced)
    );
    let mut want = vec![SyncOutcome::Partial; n - 1];
    want.push(SyncOutcome::Applied);
    assert_eq!(feed(&mut sync, &mut book, &evs), want);

    let mut whole = L2Book::default();
    whole.apply(&snap_bids, &snap_asks);
    whole.apply(&bids, &asks);
    assert!(book.bids.iter().eq(whole.bids.iter()), "bids");
    assert!(book.asks.iter().eq(whole.asks.iter()), "asks");
    assert_eq!(sync.last_update_id(), 1010);
}

#[test]
fn a_frame_with_no_levels_is_one_empty_final_chunk() {
    let ins = instruments();
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let (r, evs) = parse_all(
        &mut p,
        r#"{"e":"depthUpdate","E":1,"s":"NKNUSDT","U":5,"u":6,"b":[],"a":[]}"#,
        &ins,
    );
    assert_eq!(r, Ok(BinanceOutcome::Market { events: 1 }));
    assert_eq!(
        (
            evs[0].chunk,
            evs[0].last_chunk,
            evs[0].n_bids,
            evs[0].n_asks
        ),
        (0, true, 0, 0)
    );
}

#[test]
fn reset_clears_the_book_and_waits_for_a_snapshot() {
    let ins = instruments();
    let file = fixture("spot_depth_sequence_NKNUSDT_cryptofeed.json");
    let instrument = id(&ins, Venue::BinanceSpot, "NKNUSDT");
    let mut p = BinanceParser::new(BinanceMarket::Spot);
    let mut sync = BinanceSync::new(BinanceMarket::Spot);
    let mut book = L2Book::default();
    let snap = snapshot_events(
        &mut p,
        file["snapshot"]["raw"].as_str().unwrap(),
        instrument,
    );
    feed(&mut sync, &mut book, &snap);
    assert!(sync.is_live());
    sync.reset(&mut book);
    assert!(!sync.is_live());
    assert!(book.bids.is_empty() && book.asks.is_empty());
    let (_, evs) = parse_all(&mut p, file["messages"][1]["raw"].as_str().unwrap(), &ins);
    assert_eq!(
        feed(&mut sync, &mut book, &evs),
        vec![SyncOutcome::Buffered]
    );
}

// ------------------------------------------------------------------------------------------------
// The hot path allocates nothing after warm-up.
// ------------------------------------------------------------------------------------------------

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn parsing_and_sequencing_a_recorded_sequence_allocates_nothing() {
    for name in [
        "spot_depth_sequence_NKNUSDT_cryptofeed.json",
        "futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json",
    ] {
        let file = fixture(name);
        let market = market_of(&file);
        let ins = instruments();
        let instrument = id(&ins, market.venue(), file["symbol"].as_str().unwrap());
        let snapshot = file["snapshot"]["raw"].as_str().unwrap().to_string();
        let frames: Vec<String> = file["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["raw"].as_str().unwrap().to_string())
            .collect();
        let mut parser = BinanceParser::new(market);
        let mut sync = BinanceSync::new(market);
        let mut book = L2Book::default();
        let mut writer = Vec::with_capacity(1 << 16);

        counting_alloc::assert_counting();

        let before = counting_alloc::allocations();
        let mut applied = 0usize;
        parser
            .parse_depth_snapshot(snapshot.as_bytes(), instrument, 0, |e| {
                sync.on_event(e, &mut book);
            })
            .unwrap();
        for f in &frames {
            parser
                .parse_ws(f.as_bytes(), 0, &ins, |e| {
                    if sync.on_event(e, &mut book) == SyncOutcome::Applied {
                        applied += 1;
                    }
                })
                .unwrap();
            // The top ten levels a side, best first, copied onto the stack.
            let (mut bids, mut asks) = ([Level::default(); 10], [Level::default(); 10]);
            let nb = bids
                .iter_mut()
                .zip(book.bids.top(10))
                .map(|(d, l)| *d = l)
                .count();
            let na = asks
                .iter_mut()
                .zip(book.asks.top(10))
                .map(|(d, l)| *d = l)
                .count();
            write_depth_update(
                &mut writer,
                market,
                "sushiusdt",
                1,
                2,
                0,
                3,
                &bids[..nb],
                &asks[..na],
            );
        }
        let allocs = counting_alloc::allocations() - before;
        assert!(applied > 0 && sync.is_live(), "{name}");
        assert_eq!(allocs, 0, "{name}: allocations on the hot path");
    }
}
