//! What each hot-path step costs on one core, without ring hops or waiting: parsing real-shaped
//! frames (Binance bookTicker, a 40-level Binance depth update, a MAX book update), applying a
//! depth update to a book, and a scanner evaluation. Each figure is the median over 21 blocks of
//! the mean ns/op in a block, beside `clock_raw`, the cost of one TSC read (the harness floor).
//!
//! Run: `cargo bench --bench stage_costs`.

use arbline::book::L2Book;
use arbline::model::{
    BookStatus, BookTop, Fixed, InstrumentId, Instruments, Level, MarketRules, Venue,
};
use arbline::pipeline::EngineClock;
use arbline::pipeline::board::PositionBoard;
use arbline::scanner::{ScannerConfig, Scanners};
use arbline::sim::binance_frames as bframes;
use arbline::sim::max_frames::{self as mframes, MaxBookFrame};
use arbline::venue::binance::{BinanceMarket, BinanceParser};
use arbline::venue::max::MaxPublicParser;
use std::hint::black_box;

fn median_ns(blocks: usize, per_block: u64, mut f: impl FnMut()) -> u64 {
    let clock = quanta::Clock::new();
    let mut v: Vec<u64> = (0..blocks)
        .map(|_| {
            let t0 = clock.raw();
            for _ in 0..per_block {
                f();
            }
            clock.delta_as_nanos(t0, clock.raw()) / per_block
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (blocks, n) = if quick { (3, 1_000) } else { (21, 20_000) };
    let mut t = Instruments::new();
    t.intern(Venue::BinanceFutures, "BTCUSDT", "btc", "usdt")
        .unwrap();
    let r = MarketRules {
        tick: Fixed::parse("0.01").unwrap(),
        lot: Fixed::parse("0.000001").unwrap(),
        min_qty: Fixed::parse("0.0001").unwrap(),
        min_notional: Fixed::from_int(8),
    };
    t.intern_with_rules(Venue::Max, "btcusdt", "btc", "usdt", r)
        .unwrap();
    let lv = |base: i64, sign: i64| -> Vec<Level> {
        (0..20)
            .map(|i| Level {
                price: Fixed::from_int(base + sign * i),
                qty: Fixed::parse("0.123").unwrap(),
            })
            .collect()
    };
    let (bids, asks) = (lv(94_999, -1), lv(95_001, 1));
    let mut ticker = Vec::new();
    bframes::write_book_ticker(
        &mut ticker,
        BinanceMarket::Futures,
        "btcusdt",
        7,
        1,
        bids[0],
        asks[0],
    );
    let mut depth = Vec::new();
    bframes::write_depth_update(
        &mut depth,
        BinanceMarket::Futures,
        "btcusdt",
        1,
        5,
        0,
        1,
        &bids,
        &asks,
    );
    let mut max_upd = Vec::new();
    mframes::write_book(
        &mut max_upd,
        MaxBookFrame::Update,
        "btcusdt",
        11,
        14,
        7,
        1,
        &bids[..2],
        &asks[..2],
    );
    let mut bp = BinanceParser::new(BinanceMarket::Futures);
    let mut mp = MaxPublicParser::new();
    let mut sink = 0u64;
    let clock = EngineClock::new();
    let floor = median_ns(blocks, n, || sink ^= black_box(clock.raw()));
    let ticker_ns = median_ns(blocks, n, || {
        bp.parse_ws(black_box(&ticker), 1, &t, |e| sink ^= e.last_id)
            .unwrap();
    });
    let depth_ns = median_ns(blocks, n / 4, || {
        bp.parse_ws(black_box(&depth), 1, &t, |e| sink ^= e.last_id)
            .unwrap();
    });
    let max_ns = median_ns(blocks, n, || {
        mp.parse(black_box(&max_upd), 1, &t, |e| sink ^= e.last_id)
            .unwrap();
    });
    let mut book = L2Book::default();
    book.apply(&bids, &asks);
    let mut k = 0i64;
    let apply_ns = median_ns(blocks, n, || {
        k += 1;
        let q = Fixed(1_000 + (k & 1023));
        book.apply(
            &[Level {
                price: Fixed::from_int(94_999 - (k & 3)),
                qty: q,
            }],
            &[Level {
                price: Fixed::from_int(95_001 + (k & 3)),
                qty: q,
            }],
        );
        sink ^= book.best_bid().qty.raw() as u64;
    });
    let mut cfg = ScannerConfig::default();
    cfg.arbitrage.truncate(1);
    cfg.arbitrage[0].min_samples = 1;
    cfg.stable_coin.enabled = false;
    let mut sc = Scanners::new(&cfg, &t).unwrap();
    let board = PositionBoard::default();
    let top = |i: u16, venue, bid: &str, ask: &str| BookTop {
        venue,
        instrument: InstrumentId(i),
        status: BookStatus::Live,
        bid: Level {
            price: Fixed::parse(bid).unwrap(),
            qty: Fixed::ONE,
        },
        ask: Level {
            price: Fixed::parse(ask).unwrap(),
            qty: Fixed::ONE,
        },
        ..Default::default()
    };
    let (lead, max) = (
        top(0, Venue::BinanceFutures, "94999.9", "95000.1"),
        top(1, Venue::Max, "94995", "95005"),
    );
    let scan_ns = median_ns(blocks, n, || {
        let now = clock.raw();
        let mut l = lead;
        l.ts_frame = now;
        let mut m = max;
        m.ts_frame = now;
        sc.on_top(&l, now, &clock, &board, |s| sink ^= s.seq);
        sc.on_top(&m, now, &clock, &board, |s| sink ^= s.seq);
    }) / 2;
    println!("step                               ns/op");
    println!("clock_raw (harness floor)     {floor:>10}");
    println!(
        "parse binance bookTicker      {ticker_ns:>10}   ({} B)",
        ticker.len()
    );
    println!(
        "parse binance depth, 40 lvls  {depth_ns:>10}   ({} B)",
        depth.len()
    );
    println!(
        "parse max book update, 4 lvls {max_ns:>10}   ({} B)",
        max_upd.len()
    );
    println!("book apply, 2 levels          {apply_ns:>10}");
    println!("scanner on_top (arbitrage)    {scan_ns:>10}");
    black_box(sink);
}
