//! One side of a 1 000-level book, changed at its top: arbline's ladder (best-last vector)
//! beside the best-first vector it replaced and a `BTreeMap`, in the same run.
//!
//! Workloads, each on bids of 1 000 levels one tick apart (asks are the mirror image):
//! - `new_best_and_back`: a price better than the best arrives, then is removed (2 sets);
//! - `best_empties_and_returns`: the best level is removed, then comes back (2 sets);
//! - `top_qty_change`: the best level's quantity changes (1 set);
//! - `within_top_10`: a set or removal at a depth drawn from 0..10 (1 set; the levels removed
//!   come back on a later draw), the pattern of a live diff stream.
//!
//! Before measuring, each workload runs on all three and their books must be equal.
//!
//! Run: `cargo bench --bench ladder` (`-- --quick` for a shorter run).

use arbline::book::{Ladder, LadderSide};
use arbline::model::{Fixed, Level, Price, Qty};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

const LEVELS: i64 = 1_000;
/// The best bid of the starting book, in ticks.
const BEST: i64 = 100_000;

/// The three books behind one interface.
trait Side {
    fn set(&mut self, price: Price, qty: Qty);
    fn best(&self) -> Option<Level>;
    fn levels(&self) -> Vec<Level>;
}

impl Side for Ladder {
    #[inline]
    fn set(&mut self, price: Price, qty: Qty) {
        Ladder::set(self, price, qty)
    }
    #[inline]
    fn best(&self) -> Option<Level> {
        Ladder::best(self)
    }
    fn levels(&self) -> Vec<Level> {
        self.iter().collect()
    }
}

/// The layout arbline used before: sorted best-first, binary search, `insert`/`remove` shift
/// every level behind the one changed (bids: highest first).
struct BestFirst(Vec<Level>);

impl Side for BestFirst {
    #[inline]
    fn set(&mut self, price: Price, qty: Qty) {
        match self.0.binary_search_by(|l| price.cmp(&l.price)) {
            Ok(i) if qty.is_zero() => {
                self.0.remove(i);
            }
            Ok(i) => self.0[i].qty = qty,
            Err(_) if qty.is_zero() => {}
            Err(i) => self.0.insert(i, Level { price, qty }),
        }
    }
    #[inline]
    fn best(&self) -> Option<Level> {
        self.0.first().copied()
    }
    fn levels(&self) -> Vec<Level> {
        self.0.clone()
    }
}

/// The naive ordered map (bids: highest key best).
struct Tree(BTreeMap<Price, Qty>);

impl Side for Tree {
    #[inline]
    fn set(&mut self, price: Price, qty: Qty) {
        if qty.is_zero() {
            self.0.remove(&price);
        } else {
            self.0.insert(price, qty);
        }
    }
    #[inline]
    fn best(&self) -> Option<Level> {
        self.0
            .last_key_value()
            .map(|(p, q)| Level { price: *p, qty: *q })
    }
    fn levels(&self) -> Vec<Level> {
        self.0
            .iter()
            .rev()
            .map(|(p, q)| Level { price: *p, qty: *q })
            .collect()
    }
}

/// A price of `ticks` ticks of 0.01.
fn px(ticks: i64) -> Price {
    Fixed(ticks * 1_000_000)
}

fn start<S: Side>(mut s: S) -> S {
    for k in 0..LEVELS {
        s.set(px(BEST - k), Fixed::from_int(1 + k % 7));
    }
    s
}

fn books() -> (Ladder, BestFirst, Tree) {
    (
        start(Ladder::with_capacity(LadderSide::Bid, 2 * LEVELS as usize)),
        start(BestFirst(Vec::with_capacity(2 * LEVELS as usize))),
        start(Tree(BTreeMap::new())),
    )
}

/// One step of a workload; `i` counts the steps.
type Step = fn(&mut dyn FnMut(Price, Qty), i: u64);

fn new_best_and_back(set: &mut dyn FnMut(Price, Qty), _i: u64) {
    set(px(BEST + 1), Fixed::ONE);
    set(px(BEST + 1), Fixed::ZERO);
}

fn best_empties_and_returns(set: &mut dyn FnMut(Price, Qty), _i: u64) {
    set(px(BEST), Fixed::ZERO);
    set(px(BEST), Fixed::ONE);
}

fn top_qty_change(set: &mut dyn FnMut(Price, Qty), i: u64) {
    set(px(BEST), Fixed::from_int(1 + (i % 5) as i64));
}

fn within_top_10(set: &mut dyn FnMut(Price, Qty), i: u64) {
    // A cheap deterministic mix: depth 0..10, every third draw a removal.
    let h = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    let depth = (h % 10) as i64;
    let qty = if h.is_multiple_of(3) {
        Fixed::ZERO
    } else {
        Fixed::from_int(1 + (h % 4) as i64)
    };
    set(px(BEST - depth), qty);
}

fn run<S: Side>(s: &mut S, step: Step, i: u64) {
    step(&mut |p, q| s.set(p, q), i);
}

fn ladder(c: &mut Criterion) {
    let workloads: [(&str, Step); 4] = [
        ("new_best_and_back", new_best_and_back),
        ("best_empties_and_returns", best_empties_and_returns),
        ("top_qty_change", top_qty_change),
        ("within_top_10", within_top_10),
    ];
    for (name, step) in workloads {
        // The three books agree after the same steps.
        let (mut l, mut f, mut t) = books();
        for i in 0..10_000 {
            run(&mut l, step, i);
            run(&mut f, step, i);
            run(&mut t, step, i);
        }
        assert_eq!(l.levels(), f.levels(), "{name}: ladder vs best-first");
        assert_eq!(l.levels(), t.levels(), "{name}: ladder vs BTreeMap");

        let mut g = c.benchmark_group(format!("ladder_1000/{name}"));
        let (mut l, mut f, mut t) = books();
        let mut i = 0u64;
        g.bench_function(BenchmarkId::new("arbline_best_last", LEVELS), |b| {
            b.iter(|| {
                i += 1;
                run(&mut l, step, i);
                black_box(l.best())
            })
        });
        g.bench_function(BenchmarkId::new("vec_best_first", LEVELS), |b| {
            b.iter(|| {
                i += 1;
                run(&mut f, step, i);
                black_box(f.best())
            })
        });
        g.bench_function(BenchmarkId::new("btreemap", LEVELS), |b| {
            b.iter(|| {
                i += 1;
                run(&mut t, step, i);
                black_box(t.best())
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = ladder
}
criterion_main!(benches);
