//! The recorded Binance depth sequences (`tests/fixtures/binance/*_depth_sequence_*`: 8 real
//! cryptofeed captures, spot and USDⓈ-M futures, 924 frames in all — depth updates, bookTickers,
//! trades, klines — each with its REST snapshot) replayed through arbline's parser, sequencer and
//! book, beside a naive implementation, in the same run:
//!
//! - `arbline`: `BinanceParser::parse_ws` / `parse_depth_snapshot` → `BinanceSync` → `L2Book`,
//!   as the feed and book stages run them;
//! - `naive`: `serde_json` into typed structs with borrowed strings (the envelope first, then its
//!   `data` by stream type), decimals to `Fixed`, Binance's documented sequencing rules written
//!   out, and one `BTreeMap` per side.
//!
//! Two groups: `parse_sequence_book` (the whole replay, every frame parsed) and `apply_only`
//! (the levels both books applied, pre-parsed, applied to an `L2Book` and to the `BTreeMap`s).
//! Before measuring, both replays must leave every book equal to the recording's top-5 oracle
//! (`expected.final_top5_*`, computed by the fixture's author from the raw capture).
//!
//! Run: `cargo bench --bench book_replay` (`-- --quick` for a shorter run).

use arbline::book::{L2Book, SyncOutcome, binance_sync::BinanceSync};
use arbline::model::{Fixed, InstrumentId, Instruments, Level, MdKind};
use arbline::venue::binance::{BinanceMarket, BinanceParser};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

#[path = "../tests/support/depth_sequences.rs"]
mod depth_sequences;
use depth_sequences::SEQUENCES;

struct Sequence {
    name: &'static str,
    market: BinanceMarket,
    instrument: InstrumentId,
    snapshot: Vec<u8>,
    frames: Vec<Vec<u8>>,
    top5_bids: Vec<Level>,
    top5_asks: Vec<Level>,
}

fn level(v: &serde_json::Value) -> Level {
    Level {
        price: Fixed::parse(v[0].as_str().unwrap()).unwrap(),
        qty: Fixed::parse(v[1].as_str().unwrap()).unwrap(),
    }
}

fn load(ins: &mut Instruments) -> Vec<Sequence> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/binance");
    SEQUENCES
        .iter()
        .map(|name| {
            let text = std::fs::read(dir.join(name)).expect("fixture");
            let v: serde_json::Value = serde_json::from_slice(&text).expect("fixture JSON");
            let market = match v["market"].as_str().unwrap() {
                "spot" => BinanceMarket::Spot,
                _ => BinanceMarket::Futures,
            };
            let symbol = v["symbol"].as_str().unwrap();
            let instrument = ins.intern(market.venue(), symbol, "base", "quote").unwrap();
            let top = |k: &str| {
                v["expected"][k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(level)
                    .collect()
            };
            Sequence {
                name,
                market,
                instrument,
                snapshot: v["snapshot"]["raw"].as_str().unwrap().as_bytes().to_vec(),
                frames: v["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["raw"].as_str().unwrap().as_bytes().to_vec())
                    .collect(),
                top5_bids: top("final_top5_bids"),
                top5_asks: top("final_top5_asks"),
            }
        })
        .collect()
}

// ---- arbline ----------------------------------------------------------------------------------

/// What one sequence's replay keeps between runs, as a feed and a book stage would.
struct ArblineState {
    parser: BinanceParser,
    sync: BinanceSync,
    book: L2Book,
}

/// Replays one sequence (snapshot first, then every frame); returns a checksum of the non-book
/// events (bookTicker and trade ids) so they are not optimised away.
fn arbline_replay(s: &Sequence, st: &mut ArblineState, ins: &Instruments) -> u64 {
    st.sync.reset(&mut st.book);
    let (sync, book) = (&mut st.sync, &mut st.book);
    st.parser
        .parse_depth_snapshot(&s.snapshot, s.instrument, 0, |e| {
            sync.on_event(e, book);
        })
        .expect("snapshot");
    let mut sum = 0u64;
    for f in &s.frames {
        st.parser
            .parse_ws(f, 0, ins, |e| match e.kind {
                MdKind::BookUpdate => {
                    sync.on_event(e, book);
                }
                _ => sum = sum.wrapping_add(e.last_id),
            })
            .expect("frame");
    }
    sum
}

// ---- naive ------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    stream: &'a str,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(Deserialize)]
struct Snapshot<'a> {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    #[serde(borrow)]
    bids: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    asks: Vec<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
struct DepthUpdate<'a> {
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    pu: Option<i64>,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
struct BookTicker<'a> {
    u: u64,
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
struct AggTrade<'a> {
    a: u64,
    #[serde(borrow)]
    p: &'a str,
    #[serde(borrow)]
    q: &'a str,
}

#[derive(Default)]
struct NaiveBook {
    bids: BTreeMap<Fixed, Fixed>,
    asks: BTreeMap<Fixed, Fixed>,
}

impl NaiveBook {
    fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for (side, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for l in levels {
                if l.qty.is_zero() {
                    side.remove(&l.price);
                } else {
                    side.insert(l.price, l.qty);
                }
            }
        }
    }
    fn apply_text(&mut self, bids: &[(&str, &str)], asks: &[(&str, &str)]) {
        for (side, levels) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            for (p, q) in levels {
                let (p, q) = (Fixed::parse(p).unwrap(), Fixed::parse(q).unwrap());
                if q.is_zero() {
                    side.remove(&p);
                } else {
                    side.insert(p, q);
                }
            }
        }
    }
    fn top5(&self) -> (Vec<Level>, Vec<Level>) {
        let l = |(p, q): (&Fixed, &Fixed)| Level { price: *p, qty: *q };
        (
            self.bids.iter().rev().take(5).map(l).collect(),
            self.asks.iter().take(5).map(l).collect(),
        )
    }
}

/// The same replay the plain way: typed structs, Binance's documented rules (spot: drop
/// `u <= L`, the first applied has `U <= L+1 <= u`, then `U == prev_u + 1`; futures: drop
/// `u < L`, the first has `U <= L <= u`, then `pu == prev_u`), a `BTreeMap` per side.
fn naive_replay(s: &Sequence, book: &mut NaiveBook) -> u64 {
    book.bids.clear();
    book.asks.clear();
    let snap: Snapshot = serde_json::from_slice(&s.snapshot).expect("snapshot");
    book.apply_text(&snap.bids, &snap.asks);
    let last_id = snap.last_update_id;
    let mut prev: Option<u64> = None;
    let mut sum = 0u64;
    for f in &s.frames {
        let env: Combined = serde_json::from_slice(f).expect("envelope");
        let stream = env.stream.split_once('@').map_or("", |(_, k)| k);
        let data = env.data.get().as_bytes();
        if stream.starts_with("depth") {
            let d: DepthUpdate = serde_json::from_slice(data).expect("depthUpdate");
            let spot = s.market == BinanceMarket::Spot;
            match prev {
                None if (spot && d.u <= last_id) || (!spot && d.u < last_id) => continue,
                None => {
                    let ok = if spot {
                        d.first <= last_id + 1 && last_id < d.u
                    } else {
                        d.first <= last_id && last_id <= d.u
                    };
                    assert!(
                        ok,
                        "{}: the first update does not straddle the snapshot",
                        s.name
                    );
                }
                Some(p) => {
                    let ok = if spot {
                        d.first == p + 1
                    } else {
                        d.pu == Some(p as i64)
                    };
                    assert!(ok, "{}: gap", s.name);
                }
            }
            book.apply_text(&d.b, &d.a);
            prev = Some(d.u);
        } else if stream == "bookTicker" {
            let t: BookTicker = serde_json::from_slice(data).expect("bookTicker");
            let px = [t.b, t.bid_qty, t.a, t.ask_qty].map(|x| Fixed::parse(x).unwrap());
            black_box(px);
            sum = sum.wrapping_add(t.u);
        } else if stream == "aggTrade" {
            let t: AggTrade = serde_json::from_slice(data).expect("aggTrade");
            black_box((Fixed::parse(t.p).unwrap(), Fixed::parse(t.q).unwrap()));
            sum = sum.wrapping_add(t.a);
        }
    }
    sum
}

// ---- apply only ---------------------------------------------------------------------------------

/// The level lists arbline's book applied for one sequence (snapshot chunks and applied
/// updates), recorded once.
fn applied_levels(s: &Sequence, ins: &Instruments) -> Vec<(Vec<Level>, Vec<Level>)> {
    let mut parser = BinanceParser::new(s.market);
    let mut sync = BinanceSync::new(s.market);
    let mut book = L2Book::default();
    let mut out = Vec::new();
    let mut keep = |e: &arbline::model::MdEvent, sync: &mut BinanceSync, book: &mut L2Book| {
        if matches!(
            sync.on_event(e, book),
            SyncOutcome::Applied | SyncOutcome::Synced | SyncOutcome::Partial
        ) {
            out.push((e.bids().to_vec(), e.asks().to_vec()));
        }
    };
    parser
        .parse_depth_snapshot(&s.snapshot, s.instrument, 0, |e| {
            keep(e, &mut sync, &mut book)
        })
        .unwrap();
    for f in &s.frames {
        parser
            .parse_ws(f, 0, ins, |e| {
                if e.kind == MdKind::BookUpdate {
                    keep(e, &mut sync, &mut book)
                }
            })
            .unwrap();
    }
    out
}

fn book_replay(c: &mut Criterion) {
    let mut ins = Instruments::new();
    let seqs = load(&mut ins);
    let frames: usize = seqs.iter().map(|s| s.frames.len()).sum();
    let mut arb: Vec<ArblineState> = seqs
        .iter()
        .map(|s| ArblineState {
            parser: BinanceParser::new(s.market),
            sync: BinanceSync::new(s.market),
            book: L2Book::default(),
        })
        .collect();
    let mut naive: Vec<NaiveBook> = seqs.iter().map(|_| NaiveBook::default()).collect();

    // Both replays rebuild every recorded book to its oracle, and see the same other events.
    for ((s, a), n) in seqs.iter().zip(&mut arb).zip(&mut naive) {
        let sa = arbline_replay(s, a, &ins);
        let sn = naive_replay(s, n);
        assert_eq!(sa, sn, "{}: the other events differ", s.name);
        assert!(a.sync.is_live(), "{}", s.name);
        assert_eq!(
            a.book.bids.top(5).collect::<Vec<_>>(),
            s.top5_bids,
            "{}",
            s.name
        );
        assert_eq!(
            a.book.asks.top(5).collect::<Vec<_>>(),
            s.top5_asks,
            "{}",
            s.name
        );
        assert_eq!(
            n.top5(),
            (s.top5_bids.clone(), s.top5_asks.clone()),
            "{}",
            s.name
        );
    }

    let mut g = c.benchmark_group("parse_sequence_book");
    g.throughput(Throughput::Elements(frames as u64));
    g.bench_function("arbline", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for (s, a) in seqs.iter().zip(&mut arb) {
                sum = sum.wrapping_add(arbline_replay(s, a, &ins));
            }
            black_box(sum)
        })
    });
    g.bench_function("naive_serde_btreemap", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for (s, n) in seqs.iter().zip(&mut naive) {
                sum = sum.wrapping_add(naive_replay(s, n));
            }
            black_box(sum)
        })
    });
    g.finish();

    let applied: Vec<Vec<(Vec<Level>, Vec<Level>)>> =
        seqs.iter().map(|s| applied_levels(s, &ins)).collect();
    let levels: usize = applied
        .iter()
        .flatten()
        .map(|(b, a)| b.len() + a.len())
        .sum();
    let mut books: Vec<L2Book> = seqs.iter().map(|_| L2Book::default()).collect();
    // Applied alone, the lists rebuild the oracles too.
    for ((list, book), (s, n)) in applied
        .iter()
        .zip(&mut books)
        .zip(seqs.iter().zip(&mut naive))
    {
        book.clear();
        n.bids.clear();
        n.asks.clear();
        for (b, a) in list {
            book.apply(b, a);
            n.apply(b, a);
        }
        assert_eq!(
            book.bids.top(5).collect::<Vec<_>>(),
            s.top5_bids,
            "{}",
            s.name
        );
        assert_eq!(
            n.top5(),
            (s.top5_bids.clone(), s.top5_asks.clone()),
            "{}",
            s.name
        );
    }
    let mut g = c.benchmark_group("apply_only");
    g.throughput(Throughput::Elements(levels as u64));
    g.bench_function("arbline_l2book", |b| {
        b.iter(|| {
            for (list, book) in applied.iter().zip(&mut books) {
                book.clear();
                for (bids, asks) in list {
                    book.apply(bids, asks);
                }
                black_box(book.best_bid());
            }
        })
    });
    g.bench_function("naive_btreemap", |b| {
        b.iter(|| {
            for (list, n) in applied.iter().zip(&mut naive) {
                n.bids.clear();
                n.asks.clear();
                for (bids, asks) in list {
                    n.apply(bids, asks);
                }
                black_box(n.bids.last_key_value());
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = book_replay
}
criterion_main!(benches);
