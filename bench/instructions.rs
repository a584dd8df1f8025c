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
//! simulated market; quick mode without `--bench`: 500 steps).

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine::{self, AnyStage, Venues};
use arbline::pipeline::{EngineClock, Poll, Stage};
use std::hint::black_box;
use std::time::Duration;

fn config() -> Config {
    let mut cfg = Config::default();
    common::trade_on_every_top(&mut cfg);
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
    let cfg = config();
    // A fixed Unix anchor: timestamps the stages format have the same digits every run.
    let (clock, mock) = EngineClock::mock(1_767_225_600_000_000_000);
    mock.increment(1_000_000u64);
    let mut built =
        engine::build_with_clock(&cfg, false, Venues::Synthetic, clock).expect("engine");
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
        "instructions run: {steps} steps of 1 ms (seed {}), {} frames, {md} md events, {} book \
         tops, {} signals, {orders} orders, {} acks, {} fills, {} parse errors; {rounds} \
         engine rounds",
        cfg.sim.seed,
        c.frames.get(),
        c.book.get(),
        c.signals.get(),
        c.acks.get(),
        c.fills.get(),
        c.parse_errors.get(),
    );
    black_box((feed, built));
}
