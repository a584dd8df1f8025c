//! In-process tick-to-trade: the synthetic venue's frames go through the real parsers, the book
//! stage, the scanners and the order stage; every stage records into its HdrHistogram. Two
//! placements are measured in the same run, so they can be compared on this noisy machine:
//!
//! - `spin`: feed pinned to core 0, book + scanner + order pinned to core 1, both busy-spinning
//!   (the 2-core layout of a tuned host; the side thread and the OS share the cores);
//! - `single`: every stage on one pinned, spinning thread (no hand-off between cores);
//! - `replay`: as `spin`, but the frames are generated before the run and only replayed, so the
//!   feed thread parses and publishes like a socket feed, without the synthetic market's work;
//! - `park`: the default placement (unpinned, spin → yield → 50 µs park).
//!
//! The venue answers within 1–3 ms and the strategies trade on nearly every top, so a run
//! produces thousands of orders. Run: `cargo bench --bench tick_to_trade`
//! (env `T2T_SECONDS`, default 10 per placement).
//!
//! With `T2T_NATS=nats://127.0.0.1:4222`, two more `spin` runs publish every event, every book
//! top included, from the side thread: `spin+nats` to that JetStream server and
//! `spin+file` to the local events file (NATS disabled) — the hot path's cost of the bus.

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine;
use arbline::pipeline::WaitKind;
use arbline::pipeline::placement::{CoreSpec, StageName, ThreadSpec};
use arbline::telemetry::Segment;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq)]
enum Placement {
    /// Every stage on one pinned, spinning thread: no hand-off between cores at all.
    Single,
    /// Feed on core 0, book + scanner + order on the last core, both spinning.
    Spin,
    /// As `Spin`, with the synthetic frames generated before the run and only replayed, so
    /// the feed thread parses and publishes like a socket feed.
    Replay,
    /// The default placement.
    Park,
}

fn config(placement: Placement) -> Config {
    let mut cfg = Config::default();
    common::trade_on_every_top(&mut cfg);
    if let Some(ms) = std::env::var("T2T_LEADER_TICK_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        // Denser market data: shorter idle gaps between frames.
        cfg.sim.leader_tick_ms = ms;
        cfg.sim.max_tick_ms = ms * 5;
    }
    let t = |name: &str, stages: Vec<StageName>, core: usize| ThreadSpec {
        name: name.into(),
        stages,
        core: CoreSpec::Index(core),
        wait: WaitKind::Spin,
        park_us: 50,
    };
    let last = core_affinity::get_core_ids()
        .map(|c| c.len())
        .unwrap_or(1)
        .saturating_sub(1);
    if placement == Placement::Single {
        cfg.pipeline.threads = vec![t(
            "all",
            vec![
                StageName::Feed,
                StageName::Book,
                StageName::Scanner,
                StageName::Order,
            ],
            last,
        )];
    }
    if placement == Placement::Replay {
        cfg.sim.pregenerate_s = 60.0;
    }
    if placement == Placement::Spin || placement == Placement::Replay {
        cfg.pipeline.threads = vec![
            t("feed", vec![StageName::Feed], 0),
            t(
                "engine",
                vec![StageName::Book, StageName::Scanner, StageName::Order],
                last.max(1).min(last),
            ),
        ];
    }
    cfg
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs = common::seconds(quick, "T2T_SECONDS", 10.0);
    let cpu = common::cpu_model();
    println!(
        "in-process tick-to-trade, {secs} s per placement; CPU: {cpu}; cores: {}",
        core_affinity::get_core_ids().map(|c| c.len()).unwrap_or(0)
    );
    let nats = std::env::var("T2T_NATS").ok();
    let mut runs: Vec<(&str, Placement, Option<Option<String>>)> = vec![
        ("single", Placement::Single, None),
        ("spin", Placement::Spin, None),
        ("replay", Placement::Replay, None),
        ("park", Placement::Park, None),
    ];
    if let Some(url) = &nats {
        runs = vec![
            ("spin+nats", Placement::Spin, Some(Some(url.clone()))),
            ("spin+file", Placement::Spin, Some(None)),
        ];
    }
    for (name, placement, bus) in runs {
        let mut cfg = config(placement);
        if let Some(url) = bus {
            cfg.nats.md_interval_ms = 0;
            cfg.nats.file_dir = std::env::temp_dir()
                .join("arbline-t2t-events")
                .to_string_lossy()
                .into_owned();
            if let Some(url) = url {
                cfg.nats.enabled = true;
                cfg.nats.url = url;
                // Its own stream and subjects: never mixed into (or refused by) a real one.
                cfg.nats.stream = "ARBLINE_BENCH".into();
                cfg.nats.subject_prefix = "bench".into();
            }
        }
        let threads = cfg.threads().expect("placement");
        let built = engine::build(&cfg, false).expect("engine");
        let r = engine::run(built, &threads, Duration::from_secs_f64(secs)).expect("run");
        println!(
            "\nplacement {name}: {} md events, {} orders, {} fills; bus {:?}",
            r.summary.events.md, r.summary.events.orders_sent, r.summary.events.fills, r.bus
        );
        println!(
            "{:<15} {:>8} {:>10} {:>10} {:>10} {:>10}",
            "stage (ns)", "count", "p50", "p99", "p99.9", "max"
        );
        for s in Segment::ALL {
            let p = r.latency.percentiles(s);
            println!(
                "{:<15} {:>8} {:>10} {:>10} {:>10} {:>10}",
                s.name(),
                p.count,
                p.p50,
                p.p99,
                p.p999,
                p.max
            );
        }
    }
}
