//! Replay throughput (issue 15): md events per second that `arbline replay --speed max` pushes
//! through the engine's own parsers, books, scanners, order stage and the simulated venue, on
//! one core, beside the in-process pipeline's cost per md event measured in the same run.
//!
//! 1. A capture is made: the socket demo (simulator + engine over loopback) with `--capture`,
//!    `REPLAY_CAPTURE_S` seconds (default 30).
//! 2. The capture is replayed `REPLAY_RUNS` times (default 5); each gives md events per second
//!    of its frames' loop (the engine built and the latency model's first pass not counted).
//! 3. Baseline, same process: the in-process pipeline stepped on this thread exactly as
//!    `bench/instructions.rs` does (synthetic venue → real parsers → book → scanners → order
//!    stage; 1 ms steps of a mocked clock), timed with the real clock: ns per md event, the
//!    synthetic market's frame writing included.
//!
//! Run: `cargo bench --bench replay` (quick mode without `--bench`: 3 s capture, 2 replays).

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine::{self, AnyStage, DemoOptions, Venues};
use arbline::pipeline::{EngineClock, Poll, Stage};
use arbline::replay::run::{ReplayOptions, replay};
use std::time::{Duration, Instant};

fn work(p: Poll) -> usize {
    match p {
        Poll::Busy(n) => n,
        Poll::Idle | Poll::Finished => 0,
    }
}

/// The in-process pipeline on this thread for `steps` 1 ms steps: (md events, seconds).
fn in_process(steps: u64) -> (u64, f64) {
    let mut cfg = Config::default();
    cfg.nats.file_dir = std::env::temp_dir()
        .join("arbline-bench-replay-events")
        .to_string_lossy()
        .into_owned();
    let (clock, mock) = EngineClock::mock(1_767_225_600_000_000_000);
    mock.increment(1_000_000u64);
    let mut built =
        engine::build_with_clock(&cfg, false, Venues::Synthetic, clock).expect("engine");
    let mut feed = match built.feeds.pop() {
        Some(AnyStage::Feed(f)) => f,
        _ => panic!("the synthetic venue has one feed"),
    };
    let (book, scanner, order) = (&mut built.book, &mut built.scanner, &mut built.order);
    let t = Instant::now();
    for _ in 0..steps {
        mock.increment(Duration::from_millis(1));
        feed.poll();
        while work(book.poll()) + work(scanner.poll()) + work(order.poll()) > 0 {}
    }
    (built.counters.md.get(), t.elapsed().as_secs_f64())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let capture_s = common::seconds(quick, "REPLAY_CAPTURE_S", 30.0).max(3.0);
    let runs: usize = if quick {
        2
    } else {
        std::env::var("REPLAY_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5)
    };
    println!(
        "replay throughput, {} ({capture_s} s capture, {runs} replays)",
        common::cpu_model()
    );
    let root = std::env::temp_dir().join(format!("arbline-bench-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("capture");
    let mut cfg = Config::default();
    cfg.demo.stats_interval_ms = 0;
    cfg.nats.file_dir = root.join("events").to_string_lossy().into_owned();
    let opts = DemoOptions {
        duration: Some(Duration::from_secs_f64(capture_s)),
        quiet: true,
        capture: Some(dir.clone()),
        ..Default::default()
    };
    let live = arbline::demo::run_over_sockets(&cfg, &opts).expect("the socket demo");
    let report = live.capture.expect("captured");
    println!(
        "capture: {} frames, {} md events live, {} not captured",
        report.written, live.summary.events.md, report.counts.dropped
    );

    let mut rates = Vec::new();
    let mut md = 0;
    for i in 0..runs {
        let run = replay(&cfg, &dir, &ReplayOptions::default()).expect("replay");
        md = run.md_events;
        let rate = run.md_events as f64 / run.loop_s;
        println!(
            "replay {}: {} frames, {} md events, {} signals, {} fills in {:.3} s: {:.0} md events/s ({:.0} ns per md event)",
            i + 1,
            run.frames,
            run.md_events,
            run.journal.counts().signals,
            run.journal.counts().fills,
            run.loop_s,
            rate,
            1e9 / rate
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];

    let steps = (capture_s * 1000.0) as u64;
    let (ip_md, ip_s) = in_process(steps);
    let ip_ns = ip_s * 1e9 / ip_md.max(1) as f64;
    println!(
        "in-process pipeline, same thread: {steps} steps, {ip_md} md events in {ip_s:.3} s: {:.0} md events/s ({ip_ns:.0} ns per md event)",
        ip_md as f64 / ip_s
    );
    println!(
        "\nreplay median {median:.0} md events/s ({:.0} ns per md event, best {:.0}/s) over {md} md events; \
         in-process pipeline {ip_ns:.0} ns per md event; goal ≥ 2 000 000 md events/s per core",
        1e9 / median,
        rates.last().copied().unwrap_or(0.0)
    );
    let _ = std::fs::remove_dir_all(&root);
}
