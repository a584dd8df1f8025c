//! Real data through `arbline replay` (issue 15): the 8 recorded Binance depth sequences of
//! `tests/fixtures/binance/` (`tests/support/depth_sequences.rs`) converted into captures and
//! replayed with [`replay`], the engine's own parsers and book stage on the capture's clock.
//!
//! Each sequence becomes two captures, written through [`CaptureWriter`] in small blocks
//! (4 KiB, so most captures span several compressed blocks):
//! - snapshot first: the REST snapshot, then every recorded frame (as
//!   `replay_snapshot_first` in `tests/binance_fixtures.rs` feeds them);
//! - buffered: the snapshot where it was received, after the frames that arrived before it,
//!   as the live feed experiences it (as `replay_buffered` there): the book stage buffers those
//!   updates and replays them over the snapshot.
//!
//! Each replay must read every record, parse every frame (no parse error, no unknown market,
//! no frame skipped) and leave the fixture's book `Live` with its top 5 levels a side equal
//! to the recording's oracle (`expected.final_top5_bids/asks`). [`info`] must count each
//! capture's frames per venue and kind, its records, bytes, time range and gaps as written.

use arbline::capture::payload::snapshot_record;
use arbline::capture::{CaptureOptions, CaptureWriter, CapturedFrame, FrameKind, info};
use arbline::config::{Config, MarketSpec};
use arbline::model::{BookStatus, Fixed, Level, Venue};
use arbline::replay::run::{FinalBook, ReplayOptions, replay};
use serde_json::Value;
use std::path::{Path, PathBuf};

#[path = "support/depth_sequences.rs"]
mod depth_sequences;
#[path = "support/fixtures.rs"]
mod fixtures;
use depth_sequences::SEQUENCES;

/// Uncompressed bytes per block: small, so a capture of a few hundred frames spans several.
const BLOCK_BYTES: usize = 4096;
/// Every frame of a sequence comes from one WebSocket connection.
const CONN: u32 = 1;
/// `info`'s gap threshold in the checks: 1 s.
const GAP_NS: u64 = 1_000_000_000;

/// One recorded sequence, as the capture needs it.
struct Sequence {
    name: &'static str,
    venue: Venue,
    symbol: String,
    /// The REST body, byte for byte, and its receive time (Unix ns).
    snapshot: Vec<u8>,
    snapshot_ns: u64,
    /// Every WebSocket frame in receive order: receive time (Unix ns) and its exact bytes.
    frames: Vec<(u64, Vec<u8>)>,
    expected: Value,
}

/// A fixture's receive time (Unix seconds, a float) in ns, rounded to the microsecond: an
/// f64 holds these 2021 times to about 0.2 µs, so finer digits are not the recording's.
fn receive_ns(v: &Value) -> u64 {
    (v.as_f64().expect("received_at is a number") * 1e6).round() as u64 * 1000
}

fn load(name: &'static str) -> Sequence {
    let file: Value = serde_json::from_slice(&fixtures::bytes(&format!("binance/{name}"))).unwrap();
    // As `market_of` in tests/binance_fixtures.rs: "spot" or "futures_usdm".
    let venue = match file["market"].as_str().unwrap() {
        "spot" => Venue::BinanceSpot,
        _ => Venue::BinanceFutures,
    };
    // The fixtures keep every body and frame as a raw string (`raw`), byte for byte as
    // received; the capture holds those bytes, as tests/binance_fixtures.rs parses them.
    let raw = |v: &Value| v["raw"].as_str().unwrap().as_bytes().to_vec();
    let frames = file["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (receive_ns(&m["received_at"]), raw(m)))
        .collect();
    Sequence {
        name,
        venue,
        symbol: file["symbol"].as_str().unwrap().to_string(),
        snapshot: raw(&file["snapshot"]),
        snapshot_ns: receive_ns(&file["snapshot"]["received_at"]),
        frames,
        expected: file["expected"].clone(),
    }
}

/// Where the REST snapshot goes in the capture.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// Before every frame, as `replay_snapshot_first`.
    SnapshotFirst,
    /// Where it was received: after the frames received before it, as `replay_buffered`.
    Buffered,
}

/// A record to write: time (Unix ns), kind and bytes (venue and connection are the
/// sequence's).
type Record = (u64, FrameKind, Vec<u8>);

/// The capture's records. Times are the fixture's receive times; snapshot first, the snapshot
/// (received after the first frames) is stamped 1 ms before the first frame instead.
fn records(seq: &Sequence, order: Order) -> Vec<Record> {
    let mut snap = Vec::new();
    snapshot_record(&mut snap, &seq.symbol, &seq.snapshot);
    let (at, snap_ns) = match order {
        Order::SnapshotFirst => (0, seq.frames[0].0 - 1_000_000),
        // `replay_buffered`: the snapshot is fed before the first message received after it.
        Order::Buffered => (
            seq.frames
                .iter()
                .position(|(t, _)| *t > seq.snapshot_ns)
                .unwrap_or(seq.frames.len()),
            seq.snapshot_ns,
        ),
    };
    let ws = |(t, b): &(u64, Vec<u8>)| (*t, FrameKind::WsText, b.clone());
    let mut out: Vec<Record> = seq.frames[..at].iter().map(ws).collect();
    out.push((snap_ns, FrameKind::RestSnapshot, snap));
    out.extend(seq.frames[at..].iter().map(ws));
    assert!(
        out.windows(2).all(|w| w[0].0 < w[1].0),
        "{}: record times strictly increase",
        seq.name
    );
    out
}

/// How many depth updates come before the snapshot in `recs` (buffered by the book stage).
fn depth_updates_before_snapshot(recs: &[Record]) -> usize {
    recs.iter()
        .take_while(|r| r.1 != FrameKind::RestSnapshot)
        .filter(|r| {
            let v: Value = serde_json::from_slice(&r.2).unwrap();
            v["data"]["e"] == "depthUpdate" || v["e"] == "depthUpdate"
        })
        .count()
}

/// A fresh directory for one capture.
fn capture_dir(seq: &Sequence, order: Order) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "arbline-fixture-capture-{}-{}-{order:?}",
        std::process::id(),
        seq.name.trim_end_matches(".json")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Writes `recs` as a capture of `seq`'s venue in `dir`, in blocks of [`BLOCK_BYTES`].
fn write_capture(dir: &Path, seq: &Sequence, recs: &[Record]) {
    let mut opts = CaptureOptions::new(dir);
    opts.instruments = vec![seq.symbol.clone()];
    opts.block_bytes = BLOCK_BYTES;
    let mut w = CaptureWriter::new(opts).unwrap();
    let t0 = recs[0].0;
    for (ts, kind, bytes) in recs {
        w.write(&CapturedFrame {
            ts_utc_ns: *ts,
            ts_engine: ts - t0,
            venue: seq.venue,
            conn: CONN,
            kind: *kind,
            bytes,
        })
        .unwrap();
    }
    let files = w.close().unwrap();
    assert_eq!(files.len(), 1, "{}: half a minute, one file", seq.name);
}

/// The base and quote of each fixture symbol (as `instruments()` in tests/binance_fixtures.rs).
fn base_quote(symbol: &str) -> (&'static str, &'static str) {
    match symbol {
        "NKNUSDT" => ("NKN", "USDT"),
        "BLZETH" => ("BLZ", "ETH"),
        "LRCBTC" => ("LRC", "BTC"),
        "RUNEEUR" => ("RUNE", "EUR"),
        "SUSHIUSDT" => ("SUSHI", "USDT"),
        "AKROUSDT" => ("AKRO", "USDT"),
        "KEEPUSDT" => ("KEEP", "USDT"),
        "CTKUSDT" => ("CTK", "USDT"),
        s => panic!("no base/quote for {s}"),
    }
}

/// A configuration with the sequence's market and nothing to trade.
///
/// `Config::validate` demands a MAX market ("at least one MAX market is needed to trade"),
/// so the default's MAX `btcusdt` stays as a placeholder: the capture has no frame of it, no
/// strategy or allocation names it, and its book stays `Resyncing`.
fn config(seq: &Sequence) -> Config {
    let mut cfg = Config::default();
    let placeholder = cfg
        .markets
        .iter()
        .find(|m| m.venue == Venue::Max && m.symbol == "btcusdt")
        .expect("the default config has MAX btcusdt")
        .clone();
    let (base, quote) = base_quote(&seq.symbol);
    cfg.markets = vec![
        MarketSpec {
            venue: seq.venue,
            symbol: seq.symbol.clone(),
            base: base.into(),
            quote: quote.into(),
            // The recordings' prices and quantities have 8 decimals at most.
            tick: "0.00000001".into(),
            lot: "0.00000001".into(),
            min_qty: "0".into(),
            min_notional: "0".into(),
        },
        placeholder,
    ];
    cfg.scanner.arbitrage.clear();
    cfg.scanner.stable_coin.enabled = false;
    cfg.risk.allocations.clear();
    // The captures hold no order answers to draw latencies from.
    cfg.replay.latency = "1ms".into();
    cfg.validate()
        .unwrap_or_else(|e| panic!("{}: {e}", seq.name));
    cfg
}

/// The oracle's levels of one side: `[["price", "qty"], …]`, best first.
fn oracle_side(expected: &Value, key: &str) -> Vec<Level> {
    expected[key]
        .as_array()
        .unwrap_or_else(|| panic!("expected.{key}"))
        .iter()
        .map(|pair| Level {
            price: Fixed::parse(pair[0].as_str().unwrap()).unwrap(),
            qty: Fixed::parse(pair[1].as_str().unwrap()).unwrap(),
        })
        .collect()
}

/// As `assert_top5` in tests/binance_fixtures.rs, on the replay's [`FinalBook`]; returns the
/// number of levels compared.
fn assert_top5(book: &FinalBook, expected: &Value, what: &str) -> usize {
    let bids = oracle_side(expected, "final_top5_bids");
    let asks = oracle_side(expected, "final_top5_asks");
    assert!(
        !bids.is_empty() && !asks.is_empty(),
        "{what}: an oracle to compare with"
    );
    let top = |side: &[Level]| side.iter().take(5).copied().collect::<Vec<_>>();
    assert_eq!(top(&book.bids), bids, "{what}: top-5 bids");
    assert_eq!(top(&book.asks), asks, "{what}: top-5 asks");
    bids.len() + asks.len()
}

/// Writes, inspects and replays one capture of `seq`; returns the levels compared.
fn check(seq: &Sequence, order: Order) -> usize {
    let what = format!("{} ({order:?})", seq.name);
    let recs = records(seq, order);
    let dir = capture_dir(seq, order);
    write_capture(&dir, seq, &recs);
    if let Order::Buffered = order {
        assert!(
            depth_updates_before_snapshot(&recs) > 0,
            "{what}: depth updates before the snapshot, for the book stage to buffer"
        );
    }

    // What was written, as `arbline capture info` reads it.
    let n = recs.len() as u64;
    let inf = info(&dir, GAP_NS).unwrap();
    assert!(inf.tear.is_none(), "{what}: {:?}", inf.tear);
    assert_eq!((inf.files, inf.records), (1, n), "{what}");
    let per_kind: Vec<_> = inf.per_venue_kind.into_iter().collect();
    assert_eq!(
        per_kind,
        [
            ((seq.venue, FrameKind::WsText), n - 1),
            ((seq.venue, FrameKind::RestSnapshot), 1),
        ],
        "{what}: frames per venue and kind"
    );
    let bytes: usize = recs.iter().map(|r| r.2.len()).sum();
    assert_eq!(inf.frame_bytes, bytes as u64, "{what}: frame bytes");
    let (first, last) = (recs[0].0, recs[recs.len() - 1].0);
    assert_eq!(
        (inf.first_ts, inf.last_ts),
        (Some(first), Some(last)),
        "{what}"
    );
    let gaps: Vec<(u64, u64)> = recs
        .windows(2)
        .filter(|w| w[1].0 - w[0].0 > GAP_NS)
        .map(|w| (w[0].0, w[1].0))
        .collect();
    let got: Vec<(u64, u64)> = inf.gaps.iter().map(|g| (g.from_ts, g.to_ts)).collect();
    assert_eq!(got, gaps, "{what}: gaps over 1 s");
    // A block is written once 4 KiB of records wait, the rest when the writer closes.
    let record_bytes = bytes + recs.len() * (4 + 22);
    assert!(
        inf.blocks >= 1 && inf.blocks as usize <= record_bytes / BLOCK_BYTES + 1,
        "{what}: {} blocks for {record_bytes} record bytes",
        inf.blocks
    );
    if record_bytes > 2 * BLOCK_BYTES {
        assert!(inf.blocks > 1, "{what}: several blocks");
    }

    // The replay.
    let cfg = config(seq);
    let run = replay(&cfg, &dir, &ReplayOptions::default()).unwrap();
    assert!(run.tear.is_none(), "{what}: {:?}", run.tear);
    assert_eq!(run.frames, n, "{what}: every record read");
    assert_eq!(
        run.feed.frames, n,
        "{what}: every frame parsed: {:?}",
        run.feed
    );
    assert_eq!(run.feed.parse_errors, 0, "{what}: {:?}", run.feed);
    assert_eq!(run.feed.unknown_market, 0, "{what}: {:?}", run.feed);
    assert_eq!(run.feed.skipped_old_connection, 0, "{what}: {:?}", run.feed);
    assert!(run.md_events > 0, "{what}: events published");
    assert_eq!(
        (run.first_ns, run.last_ns),
        (first, last),
        "{what}: capture time"
    );
    assert_eq!(run.journal.counts().orders, 0, "{what}: nothing traded");

    let id = cfg
        .instruments()
        .unwrap()
        .lookup(seq.venue, seq.symbol.as_bytes())
        .unwrap();
    let book = run.books.iter().find(|b| b.instrument == id).unwrap();
    assert_eq!(book.status, BookStatus::Live, "{what}: book status");
    let compared = assert_top5(book, &seq.expected, &what);
    std::fs::remove_dir_all(&dir).unwrap();
    compared
}

#[test]
fn recorded_sequences_captured_snapshot_first_replay_to_their_oracles() {
    let compared: usize = SEQUENCES
        .into_iter()
        .map(|name| check(&load(name), Order::SnapshotFirst))
        .sum();
    assert!(
        compared >= SEQUENCES.len() * 2,
        "levels compared: {compared}"
    );
}

#[test]
fn recorded_sequences_captured_as_received_replay_to_their_oracles() {
    let compared: usize = SEQUENCES
        .into_iter()
        .map(|name| check(&load(name), Order::Buffered))
        .sum();
    assert!(
        compared >= SEQUENCES.len() * 2,
        "levels compared: {compared}"
    );
}
