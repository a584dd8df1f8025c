//! A deterministic in-process run of the whole pipeline, for counting instructions with
//! callgrind (`scripts/instructions`): the regression figure that this noisy VM's clocks cannot
//! give.
//!
//! Same engine as `tick_to_trade` (synthetic venue → real parsers → book → scanners → order
//! stage → synthetic execution venue), but with no threads at all: the stages are polled in
//! turn on the main thread, and the engine clock is mocked and advanced 1 ms per step, so the
//! seeded synthetic market produces the same frames, the strategies the same signals and the
//! venue the same answers on every run, however slowly valgrind executes them.
//!
//! One step: advance the clock 1 ms; poll the feed once (the synthetic market writes the frames
//! due, the feed parses and publishes them, the execution venue answers due orders); then poll
//! book, scanner and order until a whole round does no work. The hot-path work is in four
//! never-inlined functions that `scripts/instructions` counts (`--toggle-collect`):
//! `FeedIo::ingest` (parse + publish one frame) and the three `hot_*` wrappers below.
//!
//! Run: `cargo bench --bench instructions` (env `INSTR_STEPS`, default 20 000 steps = 20 s of
//! simulated market; quick mode without `--bench`: 500 steps). `INSTR_PAIRS=N` runs N
//! arbitrage pairs from `tests/support/many_pairs.rs`, all alike and served by the synthetic
//! market at the same message rates, in place of the example's BTC pairs
//! (`scripts/instructions --pairs 1,8,32,64` compares them); unset, the example itself. The run also prints its resident
//! memory (VmRSS after the engine is built, VmHWM at the end), natively: under valgrind it
//! means nothing.

#[path = "common.rs"]
mod common;

/// The arbline binary's allocator, so that the resident memory printed is what the product
/// holds (glibc's malloc maps large reservations lazily; mimalloc commits them).
#[cfg(feature = "full")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[path = "../tests/support/many_pairs.rs"]
mod many_pairs;

use arbline::config::Config;
use arbline::engine::{self, AnyStage, Venues};
use arbline::pipeline::{EngineClock, Poll, Stage};
use std::hint::black_box;
use std::time::Duration;

/// `pairs` generated pairs, all alike, so that the message mix per pair is the same at every
/// count; the example's BTC pairs are left out, its USDT/TWD market, reference rate and
/// stable-coin strategy kept (the same in every run). `INSTR_PAIRS` unset: the example.
fn config(pairs: Option<usize>) -> Config {
    let Some(pairs) = pairs else {
        let mut cfg = Config::default();
        common::trade_on_every_top(&mut cfg);
        return finish(cfg);
    };
    let toml = many_pairs::with_pairs(&many_pairs::example_toml(), pairs, true);
    let mut cfg = Config::from_toml(&toml).expect("the many-pairs configuration");
    let btc = |s: &str| s.to_ascii_lowercase().starts_with("btc");
    cfg.markets.retain(|m| !btc(&m.symbol));
    cfg.scanner.arbitrage.retain(|a| !btc(&a.max_symbol));
    cfg.risk.allocations.retain(|a| !btc(&a.instrument));
    cfg.sim.pairs.retain(|p| !btc(&p.max_symbol));
    common::trade_on_every_top(&mut cfg);
    finish(cfg)
}

fn finish(mut cfg: Config) -> Config {
    // The side thread is never started; its events file goes to the temp dir.
    cfg.nats.file_dir = std::env::temp_dir()
        .join("arbline-instructions-events")
        .to_string_lossy()
        .into_owned();
    cfg
}

fn work(p: Poll) -> usize {
    match p {
        Poll::Busy(n) => n,
        Poll::Idle | Poll::Finished => 0,
    }
}

// One wrapper per stage, never inlined, so callgrind sees each stage's work under its own name.
#[inline(never)]
fn hot_book(s: &mut arbline::book::BookStage) -> Poll {
    s.poll()
}
#[inline(never)]
fn hot_scanner(s: &mut arbline::scanner::stage::ScannerStage) -> Poll {
    s.poll()
}
#[inline(never)]
fn hot_order(s: &mut arbline::order::stage::OrderStage) -> Poll {
    s.poll()
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let steps: u64 = if quick {
        500
    } else {
        std::env::var("INSTR_STEPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    };
    let pairs: Option<usize> = std::env::var("INSTR_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok());
    let cfg = config(pairs);
    // A fixed Unix anchor: timestamps the stages format have the same digits every run.
    let (clock, mock) = EngineClock::mock(1_767_225_600_000_000_000);
    mock.increment(1_000_000u64);
    let mut built =
        engine::build_with_clock(&cfg, false, Venues::Synthetic, clock).expect("engine");
    let rss_built = proc_status_kb("VmRSS");
    let mut feed = match built.feeds.pop() {
        Some(AnyStage::Feed(f)) => f,
        _ => panic!("the synthetic venue has one feed"),
    };
    let (book, scanner, order) = (&mut built.book, &mut built.scanner, &mut built.order);
    let mut rounds = 0u64;
    for _ in 0..steps {
        mock.increment(Duration::from_millis(1));
        feed.poll();
        loop {
            rounds += 1;
            let n = work(hot_book(book)) + work(hot_scanner(scanner)) + work(hot_order(order));
            if n == 0 {
                break;
            }
        }
    }
    let c = &built.counters;
    let (md, orders) = (c.md.get(), c.orders_sent.get());
    println!(
        "instructions run: {} pairs, {} instruments, {steps} steps of 1 ms (seed {}), {} \
         frames, {md} md events, {} book tops, {} signals, {orders} orders, {} acks, {} fills, \
         {} parse errors; {rounds} engine rounds",
        cfg.scanner.arbitrage.len(),
        built.instruments.len(),
        cfg.sim.seed,
        c.frames.get(),
        c.book.get(),
        c.signals.get(),
        c.acks.get(),
        c.fills.get(),
        c.parse_errors.get(),
    );
    // Resident memory is not part of the deterministic output (the four callgrind runs are
    // compared line by line): stderr.
    eprintln!(
        "resident memory: {} kB after the engine was built, {} kB peak",
        rss_built,
        proc_status_kb("VmHWM")
    );
    black_box((feed, built));
}

/// A `kB` field of `/proc/self/status` (0 where there is none).
fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
