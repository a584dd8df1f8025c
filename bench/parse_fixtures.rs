//! Parsing real recorded venue messages, several ways in the same run, one criterion group per
//! message type so they print side by side:
//!
//! - `arbline`: the engine's own parser as the feeds call it (Binance `bookTicker` and
//!   `depthUpdate`, MAX book frames and private order and trade updates through a byte scanner,
//!   everything else serde_json with borrowed strings, levels decoded straight into reused
//!   buffers, events emitted through a callback);
//! - `arbline_general` (Binance WebSocket frames, MAX book frames and MAX private order and
//!   trade frames, which have a byte scanner): the same parser held to its general serde path
//!   (`general_only`), the fallback the byte scanner is checked against;
//! - `serde_json_typed` (the same frames): `serde_json::from_slice` into typed structs with
//!   borrowed strings, then the same decimal reads — the plain way to write it;
//! - `simd_json_borrowed`: `simd_json::to_borrowed_value_with_buffers` with reused
//!   `simd_json::Buffers` and a reused input copy (simd-json parses in place), then the same
//!   fields read off the DOM and decoded the same way (instrument lookup, decimals to `Fixed`,
//!   levels into a reused `Vec<Level>`);
//! - `serde_json_value`: `serde_json::from_slice::<serde_json::Value>`, then the same reads —
//!   the naive baseline.
//!
//! Before measuring, each way's checksum (ids, prices and quantities it produced) is checked
//! against the others, so every way reads the same fields.
//!
//! Messages (`tests/fixtures/`): Binance USD-M futures and spot `bookTicker` and a futures
//! `depthUpdate` (real cryptofeed captures, combined-stream envelope, byte-exact), the futures
//! REST depth snapshot (real, limit=1000, 1 998 levels, from the SUSHIUSDT recorded sequence);
//! MAX WebSocket book snapshot/update and private `order_update`/`trade_update`/
//! `fast_trade_update` (documentation
//! examples: no real MAX WebSocket recording exists among the fixtures; pretty-printed there,
//! whitespace removed here as on the wire), and a real MAX v3 REST order (bbgo's recording of a
//! create-order reply).
//!
//! Run: `cargo bench --bench parse_fixtures` (`-- --quick` for a shorter run). `cargo test
//! --benches` runs each benchmark once (criterion's test mode when `--bench` is absent).

use arbline::model::{
    ClientOid, Fixed, InstrumentId, Instruments, Level, MarketRules, MdEvent, Side, Venue,
};
use arbline::venue::binance::{BinanceMarket, BinanceParser};
use arbline::venue::max::{MaxOrderState, MaxPrivateParser, MaxPublicParser, parse_order};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use simd_json::prelude::*;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_json(rel: &str) -> serde_json::Value {
    let p = fixtures().join(rel);
    let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&b).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A Binance fixture's `raw` (the exact wire text).
fn binance_raw(rel: &str) -> Vec<u8> {
    read_json(rel)["raw"]
        .as_str()
        .expect("raw")
        .as_bytes()
        .to_vec()
}

/// A MAX fixture (the bare document), whitespace outside strings removed: the wire is compact.
fn max_compact(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    arbline::venue::compact_json(&b)
}

/// The SUSHIUSDT futures recording: (REST snapshot body, the median-sized depthUpdate frame).
fn sushi_sequence() -> (Vec<u8>, Vec<u8>) {
    let d = read_json("binance/futures_usdm_depth_sequence_SUSHIUSDT_cryptofeed.json");
    let snap = d["snapshot"]["raw"].as_str().expect("snapshot.raw");
    let mut depth: Vec<&str> = d["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["raw"].as_str())
        .filter(|r| r.contains("\"depthUpdate\""))
        .collect();
    depth.sort_by_key(|r| r.len());
    let median = depth[depth.len() / 2];
    (snap.as_bytes().to_vec(), median.as_bytes().to_vec())
}

// ---- the same field reads over either DOM -------------------------------------------------

/// The few accessors the extraction needs, for `serde_json::Value` and simd-json's
/// `BorrowedValue` alike.
trait Dom: Sized {
    fn key(&self, k: &str) -> Option<&Self>;
    fn s(&self) -> Option<&str>;
    fn u(&self) -> Option<u64>;
    fn arr(&self) -> Option<&[Self]>;
}

impl Dom for serde_json::Value {
    fn key(&self, k: &str) -> Option<&Self> {
        self.get(k)
    }
    fn s(&self) -> Option<&str> {
        self.as_str()
    }
    fn u(&self) -> Option<u64> {
        self.as_u64()
    }
    fn arr(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
}

impl Dom for simd_json::BorrowedValue<'_> {
    fn key(&self, k: &str) -> Option<&Self> {
        self.get(k)
    }
    fn s(&self) -> Option<&str> {
        self.as_str()
    }
    fn u(&self) -> Option<u64> {
        self.as_u64()
    }
    fn arr(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
}

fn fx<D: Dom>(v: Option<&D>) -> Option<Fixed> {
    Fixed::parse(v?.s()?).ok()
}

/// `s` cut after 8 fractional digits, as arbline does with MAX's computed averages.
fn cut8(s: &str) -> &str {
    match s.find('.') {
        Some(dot) if s.len() > dot + 9 => &s[..dot + 9],
        _ => s,
    }
}

fn lv_sum(l: &[Level]) -> u64 {
    l.iter().fold(0u64, |a, l| {
        a.wrapping_add(l.price.raw() as u64)
            .wrapping_add(l.qty.raw() as u64)
    })
}

/// `[[price, qty], ..]` into `out`.
fn levels<D: Dom>(a: Option<&D>, out: &mut Vec<Level>) -> Option<()> {
    for l in a?.arr()? {
        let pq = l.arr()?;
        out.push(Level {
            price: fx(pq.first())?,
            qty: fx(pq.get(1))?,
        });
    }
    Some(())
}

/// Which fields to read off the DOM.
#[derive(Clone, Copy)]
enum Kind {
    BookTicker,
    DepthUpdate,
    DepthSnapshot,
    MaxBook,
    MaxPrivate,
    MaxRestOrder,
}

/// The DOM side of one message type: reads what arbline's parser reads and returns the same
/// checksum as the one taken over arbline's output.
fn extract<D: Dom>(kind: Kind, v: &D, ctx: &Ctx, lv: &mut Vec<Level>) -> Option<u64> {
    match kind {
        Kind::BookTicker => binance_book_ticker(v, ctx, lv),
        Kind::DepthUpdate => binance_depth_update(v, ctx, lv),
        Kind::DepthSnapshot => binance_depth_snapshot(v, lv),
        Kind::MaxBook => max_book(v, ctx, lv),
        Kind::MaxPrivate => max_private(v, ctx),
        Kind::MaxRestOrder => max_rest_order(v),
    }
}

struct Ctx {
    t: Instruments,
    binance_venue: Venue,
}

fn lookup(ctx: &Ctx, venue: Venue, sym: Option<&str>) -> Option<InstrumentId> {
    ctx.t.lookup(venue, sym?.as_bytes())
}

fn binance_book_ticker<D: Dom>(v: &D, ctx: &Ctx, lv: &mut Vec<Level>) -> Option<u64> {
    let d = v.key("data").unwrap_or(v);
    let inst = lookup(ctx, ctx.binance_venue, d.key("s").and_then(Dom::s))?;
    let last_id = d.key("u")?.u()?;
    let ts = d.key("E").and_then(Dom::u).unwrap_or(0);
    lv.clear();
    lv.push(Level {
        price: fx(d.key("b"))?,
        qty: fx(d.key("B"))?,
    });
    lv.push(Level {
        price: fx(d.key("a"))?,
        qty: fx(d.key("A"))?,
    });
    black_box((inst, ts));
    Some(last_id.wrapping_add(lv_sum(lv)))
}

fn binance_depth_update<D: Dom>(v: &D, ctx: &Ctx, lv: &mut Vec<Level>) -> Option<u64> {
    let d = v.key("data").unwrap_or(v);
    let inst = lookup(ctx, ctx.binance_venue, d.key("s").and_then(Dom::s))?;
    let first_id = d.key("U")?.u()?;
    let last_id = d.key("u")?.u()?;
    let prev_id = d.key("pu").and_then(Dom::u);
    let ts = d.key("E")?.u()?;
    lv.clear();
    levels(d.key("b"), lv)?;
    let n_bids = lv.len();
    levels(d.key("a"), lv)?;
    black_box((inst, first_id, prev_id, ts, n_bids));
    Some(last_id.wrapping_add(lv_sum(lv)))
}

fn binance_depth_snapshot<D: Dom>(v: &D, lv: &mut Vec<Level>) -> Option<u64> {
    let last_id = v.key("lastUpdateId")?.u()?;
    let ts = v.key("E").and_then(Dom::u).unwrap_or(0);
    lv.clear();
    levels(v.key("bids"), lv)?;
    let n_bids = lv.len();
    levels(v.key("asks"), lv)?;
    black_box((ts, n_bids));
    Some(last_id.wrapping_add(lv_sum(lv)))
}

fn max_book<D: Dom>(v: &D, ctx: &Ctx, lv: &mut Vec<Level>) -> Option<u64> {
    let (c, e) = (v.key("c")?.s()?, v.key("e")?.s()?);
    let inst = lookup(ctx, Venue::Max, v.key("M").and_then(Dom::s))?;
    let (first_id, last_id) = (v.key("fi")?.u()?, v.key("li")?.u()?);
    let (version, ts) = (v.key("v")?.u()?, v.key("T")?.u()?);
    lv.clear();
    levels(v.key("b"), lv)?;
    let n_bids = lv.len();
    levels(v.key("a"), lv)?;
    black_box((c, e, inst, first_id, version, ts, n_bids));
    Some(last_id.wrapping_add(lv_sum(lv)))
}

fn max_private<D: Dom>(v: &D, ctx: &Ctx) -> Option<u64> {
    let (c, e) = (v.key("c")?.s()?, v.key("e")?.s()?);
    let orders = e.starts_with("order");
    let rows = v.key(if orders { "o" } else { "t" })?.arr()?;
    let mut sum = 0u64;
    for r in rows {
        let inst = lookup(ctx, Venue::Max, r.key("M").and_then(Dom::s))?;
        let side = Side::from_wire(r.key("sd")?.s()?.as_bytes())?;
        let id = r.key("i")?.u()?;
        let (t, tu) = (r.key("T").and_then(Dom::u), r.key("TU").and_then(Dom::u));
        let (oid, price, qty) = if orders {
            let state = MaxOrderState::from_wire(r.key("S")?.s()?.as_bytes())?;
            let ci = match r.key("ci").and_then(Dom::s) {
                None | Some("") => ClientOid::default(),
                Some(s) => ClientOid::from_bytes(s.as_bytes())?,
            };
            let ap = Fixed::parse(cut8(r.key("ap")?.s()?)).ok()?;
            black_box((state, ci, fx(r.key("p"))));
            (id, ap, fx(r.key("ev"))?)
        } else {
            let fee = fx(r.key("f"));
            black_box((id, fee));
            (r.key("oi")?.u()?, fx(r.key("p"))?, fx(r.key("v"))?)
        };
        black_box((inst, side, t, tu));
        sum = sum
            .wrapping_add(oid)
            .wrapping_add(price.raw() as u64)
            .wrapping_add(qty.raw() as u64);
    }
    black_box(c);
    Some(sum)
}

fn max_rest_order<D: Dom>(v: &D) -> Option<u64> {
    let id = v.key("id")?.u()?;
    let wallet = v.key("wallet_type").and_then(Dom::s);
    let market = v.key("market")?.s()?;
    let ci = v.key("client_oid").and_then(Dom::s);
    let side = v.key("side")?.s()?;
    let state = MaxOrderState::from_wire(v.key("state")?.s()?.as_bytes())?;
    let ord_type = v.key("ord_type")?.s()?;
    let price = fx(v.key("price"));
    let avg = v
        .key("avg_price")
        .and_then(Dom::s)
        .and_then(|s| Fixed::parse(cut8(s)).ok());
    let volume = fx(v.key("volume"))?;
    let remaining = fx(v.key("remaining_volume"))?;
    let executed = fx(v.key("executed_volume"))?;
    let tc = v.key("trades_count").and_then(Dom::u);
    let (ca, ua) = (v.key("created_at")?.u()?, v.key("updated_at")?.u()?);
    black_box((wallet, market, ci, side, state, ord_type, avg, tc, ca, ua));
    Some(
        id.wrapping_add(price.map_or(0, |p| p.raw() as u64))
            .wrapping_add(volume.raw() as u64)
            .wrapping_add(remaining.raw() as u64)
            .wrapping_add(executed.raw() as u64),
    )
}

// ---- the typed serde_json baseline (Binance WebSocket frames) ------------------------------

/// The combined-stream envelope; `stream` is read (as a feed would check it), then ignored.
#[derive(Deserialize)]
struct Combined<'a, T> {
    #[serde(borrow)]
    stream: &'a str,
    data: T,
}

#[derive(Deserialize)]
struct BookTickerMsg<'a> {
    u: u64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "E", default)]
    event_ms: Option<u64>,
    #[serde(borrow)]
    b: &'a str,
    #[serde(rename = "B", borrow)]
    bid_qty: &'a str,
    #[serde(borrow)]
    a: &'a str,
    #[serde(rename = "A", borrow)]
    ask_qty: &'a str,
}

#[derive(Deserialize)]
struct DepthUpdateMsg<'a> {
    #[serde(rename = "E")]
    event_ms: u64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "U")]
    first_id: u64,
    u: u64,
    pu: Option<i64>,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
struct MaxBookMsg<'a> {
    #[serde(borrow)]
    c: &'a str,
    #[serde(borrow)]
    e: &'a str,
    #[serde(rename = "M", borrow)]
    market: &'a str,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(rename = "T")]
    ts: u64,
    fi: u64,
    li: u64,
    v: u64,
}

fn typed_levels(l: &[(&str, &str)], out: &mut Vec<Level>) -> Option<()> {
    for (p, q) in l {
        out.push(Level {
            price: Fixed::parse(p).ok()?,
            qty: Fixed::parse(q).ok()?,
        });
    }
    Some(())
}

/// `frame` read into typed structs; the same checksum as [`extract`].
fn typed(kind: Kind, frame: &[u8], ctx: &Ctx, lv: &mut Vec<Level>) -> Option<u64> {
    match kind {
        Kind::BookTicker => {
            let m: Combined<BookTickerMsg> = serde_json::from_slice(frame).ok()?;
            let d = m.data;
            let inst = lookup(ctx, ctx.binance_venue, Some(d.s))?;
            lv.clear();
            lv.push(Level {
                price: Fixed::parse(d.b).ok()?,
                qty: Fixed::parse(d.bid_qty).ok()?,
            });
            lv.push(Level {
                price: Fixed::parse(d.a).ok()?,
                qty: Fixed::parse(d.ask_qty).ok()?,
            });
            black_box((m.stream, inst, d.event_ms.unwrap_or(0)));
            Some(d.u.wrapping_add(lv_sum(lv)))
        }
        Kind::DepthUpdate => {
            let m: Combined<DepthUpdateMsg> = serde_json::from_slice(frame).ok()?;
            let d = m.data;
            let inst = lookup(ctx, ctx.binance_venue, Some(d.s))?;
            lv.clear();
            typed_levels(&d.b, lv)?;
            let n_bids = lv.len();
            typed_levels(&d.a, lv)?;
            black_box((m.stream, inst, d.first_id, d.pu, d.event_ms, n_bids));
            Some(d.u.wrapping_add(lv_sum(lv)))
        }
        Kind::MaxBook => {
            let m: MaxBookMsg = serde_json::from_slice(frame).ok()?;
            let inst = lookup(ctx, Venue::Max, Some(m.market))?;
            lv.clear();
            typed_levels(&m.b, lv)?;
            let n_bids = lv.len();
            typed_levels(&m.a, lv)?;
            black_box((m.c, m.e, inst, m.fi, m.v, m.ts, n_bids));
            Some(m.li.wrapping_add(lv_sum(lv)))
        }
        _ => None,
    }
}

// ---- checksums over arbline's output ---------------------------------------------------------

#[derive(Default)]
struct MdAcc {
    last_id: u64,
    levels: u64,
}

impl MdAcc {
    fn add(&mut self, e: &MdEvent) {
        self.last_id = e.last_id;
        self.levels = self
            .levels
            .wrapping_add(lv_sum(e.bids()))
            .wrapping_add(lv_sum(e.asks()));
    }
    fn sum(&self) -> u64 {
        self.last_id.wrapping_add(self.levels)
    }
}

// ---- the benchmark -------------------------------------------------------------------------

/// arbline's own parser for one message, returning the checksum.
type Own<'a> = Box<dyn FnMut(&[u8]) -> u64 + 'a>;

struct Case<'a> {
    name: &'static str,
    frame: Vec<u8>,
    own: Own<'a>,
    /// arbline's general path where the message has a fast one.
    general: Option<Own<'a>>,
    kind: Kind,
}

fn instruments() -> Instruments {
    let mut t = Instruments::new();
    t.intern(Venue::BinanceFutures, "SUSHIUSDT", "sushi", "usdt")
        .unwrap();
    t.intern(Venue::BinanceSpot, "NKNUSDT", "nkn", "usdt")
        .unwrap();
    let r = MarketRules {
        tick: Fixed::parse("0.01").unwrap(),
        lot: Fixed::parse("0.000001").unwrap(),
        min_qty: Fixed::parse("0.0001").unwrap(),
        min_notional: Fixed::from_int(8),
    };
    t.intern_with_rules(Venue::Max, "btcusdt", "btc", "usdt", r)
        .unwrap();
    t.intern_with_rules(Venue::Max, "ethtwd", "eth", "twd", r)
        .unwrap();
    t
}

fn parse_fixtures(c: &mut Criterion) {
    let t = instruments();
    let fut_ctx = Ctx {
        t: t.clone(),
        binance_venue: Venue::BinanceFutures,
    };
    let spot_ctx = Ctx {
        t: t.clone(),
        binance_venue: Venue::BinanceSpot,
    };
    let sushi = t.lookup(Venue::BinanceFutures, b"SUSHIUSDT").unwrap();
    let (snapshot, depth) = sushi_sequence();

    let t = &t;
    let binance_ws = |mut p: BinanceParser| -> Own<'_> {
        Box::new(move |f: &[u8]| {
            let mut acc = MdAcc::default();
            p.parse_ws(f, 1, t, |e| acc.add(e)).unwrap();
            acc.sum()
        })
    };
    let max_public = |mut p: MaxPublicParser| -> Own<'_> {
        Box::new(move |f: &[u8]| {
            let mut acc = MdAcc::default();
            p.parse(f, 1, t, |e| acc.add(e)).unwrap();
            acc.sum()
        })
    };
    let max_private = |mut p: MaxPrivateParser| -> Own<'_> {
        Box::new(move |f: &[u8]| {
            let mut sum = 0u64;
            p.parse(
                f,
                1,
                t,
                |e| {
                    sum = sum
                        .wrapping_add(e.exchange_order_id)
                        .wrapping_add(e.price.raw() as u64)
                        .wrapping_add(e.qty.raw() as u64)
                },
                |b| {
                    black_box(b);
                },
            )
            .unwrap();
            sum
        })
    };
    let mut snap_parser = BinanceParser::new(BinanceMarket::Futures);
    // The private frames below are measured on the byte scanner: they must take it.
    for name in [
        "ws_order_update_doc.json",
        "ws_trade_update_private_doc.json",
        "ws_fast_trade_update_doc.json",
    ] {
        let mut p = MaxPrivateParser::new();
        p.parse(&max_compact(&format!("max/{name}")), 1, t, |_| {}, |_| {})
            .unwrap();
        assert_eq!(p.scanned_frames(), 1, "{name}: not scanned");
    }

    let cases: Vec<(Case, &Ctx)> = vec![
        (
            Case {
                name: "binance_futures_bookTicker",
                frame: binance_raw("binance/futures_usdm_bookticker_real_cryptofeed.json"),
                own: binance_ws(BinanceParser::new(BinanceMarket::Futures)),
                general: Some(binance_ws(BinanceParser::general_only(
                    BinanceMarket::Futures,
                ))),
                kind: Kind::BookTicker,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "binance_spot_bookTicker",
                frame: binance_raw("binance/spot_bookticker_real_cryptofeed.json"),
                own: binance_ws(BinanceParser::new(BinanceMarket::Spot)),
                general: Some(binance_ws(BinanceParser::general_only(BinanceMarket::Spot))),
                kind: Kind::BookTicker,
            },
            &spot_ctx,
        ),
        (
            Case {
                name: "binance_futures_depthUpdate",
                frame: depth,
                own: binance_ws(BinanceParser::new(BinanceMarket::Futures)),
                general: Some(binance_ws(BinanceParser::general_only(
                    BinanceMarket::Futures,
                ))),
                kind: Kind::DepthUpdate,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "binance_futures_rest_depth_1000",
                frame: snapshot,
                own: Box::new(move |f: &[u8]| {
                    let mut acc = MdAcc::default();
                    snap_parser
                        .parse_depth_snapshot(f, sushi, 1, |e| acc.add(e))
                        .unwrap();
                    acc.sum()
                }),
                general: None,
                kind: Kind::DepthSnapshot,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_book_snapshot",
                frame: max_compact("max/ws_book_snapshot_doc.json"),
                own: max_public(MaxPublicParser::new()),
                general: Some(max_public(MaxPublicParser::general_only())),
                kind: Kind::MaxBook,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_book_update",
                frame: max_compact("max/ws_book_update_doc.json"),
                own: max_public(MaxPublicParser::new()),
                general: Some(max_public(MaxPublicParser::general_only())),
                kind: Kind::MaxBook,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_order_update",
                frame: max_compact("max/ws_order_update_doc.json"),
                own: max_private(MaxPrivateParser::new()),
                general: Some(max_private(MaxPrivateParser::general_only())),
                kind: Kind::MaxPrivate,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_trade_update",
                frame: max_compact("max/ws_trade_update_private_doc.json"),
                own: max_private(MaxPrivateParser::new()),
                general: Some(max_private(MaxPrivateParser::general_only())),
                kind: Kind::MaxPrivate,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_fast_trade_update",
                frame: max_compact("max/ws_fast_trade_update_doc.json"),
                own: max_private(MaxPrivateParser::new()),
                general: Some(max_private(MaxPrivateParser::general_only())),
                kind: Kind::MaxPrivate,
            },
            &fut_ctx,
        ),
        (
            Case {
                name: "max_rest_order",
                frame: max_compact("max/rest_v3_order_create_limit_buy_201_bbgo.json"),
                own: Box::new(|f: &[u8]| {
                    let o = parse_order(f).unwrap();
                    o.id.wrapping_add(o.price.map_or(0, |p| p.raw() as u64))
                        .wrapping_add(o.volume.raw() as u64)
                        .wrapping_add(o.remaining_volume.raw() as u64)
                        .wrapping_add(o.executed_volume.raw() as u64)
                }),
                general: None,
                kind: Kind::MaxRestOrder,
            },
            &fut_ctx,
        ),
    ];

    // Reused across every case, as a feed would keep them.
    let mut input: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut buffers = simd_json::Buffers::new(64 * 1024);
    let mut lv: Vec<Level> = Vec::with_capacity(4096);

    for (mut case, ctx) in cases {
        let frame = case.frame.as_slice();
        let kind = case.kind;
        let mut simd_way = |f: &[u8], lv: &mut Vec<Level>| -> u64 {
            input.clear();
            input.extend_from_slice(f);
            let v = simd_json::to_borrowed_value_with_buffers(&mut input, &mut buffers)
                .expect("simd-json");
            extract(kind, &v, ctx, lv).expect("simd-json fields")
        };
        let serde_way = |f: &[u8], lv: &mut Vec<Level>| -> u64 {
            let v: serde_json::Value = serde_json::from_slice(f).expect("serde_json");
            extract(kind, &v, ctx, lv).expect("serde_json fields")
        };

        // Every way must have read the same things.
        let own = (case.own)(frame);
        let s = simd_way(frame, &mut lv);
        let j = serde_way(frame, &mut lv);
        assert_eq!((own, own), (s, j), "{}: checksums differ", case.name);
        if let Some(general) = case.general.as_mut() {
            assert_eq!(general(frame), own, "{}: general path differs", case.name);
        }
        let typed_way = matches!(kind, Kind::BookTicker | Kind::DepthUpdate | Kind::MaxBook);
        if typed_way {
            let t = typed(kind, frame, ctx, &mut lv);
            assert_eq!(t, Some(own), "{}: typed serde_json differs", case.name);
        }

        let mut g = c.benchmark_group(case.name);
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_function(BenchmarkId::new("arbline", frame.len()), |b| {
            b.iter(|| (case.own)(black_box(frame)))
        });
        if let Some(general) = case.general.as_mut() {
            g.bench_function(BenchmarkId::new("arbline_general", frame.len()), |b| {
                b.iter(|| general(black_box(frame)))
            });
        }
        if typed_way {
            g.bench_function(BenchmarkId::new("serde_json_typed", frame.len()), |b| {
                b.iter(|| typed(kind, black_box(frame), ctx, &mut lv))
            });
        }
        g.bench_function(BenchmarkId::new("simd_json_borrowed", frame.len()), |b| {
            b.iter(|| simd_way(black_box(frame), &mut lv))
        });
        g.bench_function(BenchmarkId::new("serde_json_value", frame.len()), |b| {
            b.iter(|| serde_way(black_box(frame), &mut lv))
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = parse_fixtures
}
criterion_main!(benches);
