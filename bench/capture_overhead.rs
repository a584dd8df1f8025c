//! What `--capture` costs the live hot path (issue 15): tick_to_trade p50 and p99 of the socket
//! demo (simulator + engine over loopback, default placement) with the capture on and off,
//! alternating in one process so both see the same machine: `CAPTURE_PAIRS` pairs (default 3)
//! of `CAPTURE_SECONDS` each (default 10). The strategies trade on nearly every top, so every
//! run has hundreds of orders. Goal: p50 with capture ≤ 1.05× without.
//!
//! Run: `cargo bench --bench capture_overhead` (quick mode without `--bench`: one 1 s pair).

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine::DemoOptions;
use arbline::telemetry::Segment;
use std::time::Duration;

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs = common::seconds(quick, "CAPTURE_SECONDS", 10.0);
    let pairs: usize = if quick {
        1
    } else {
        std::env::var("CAPTURE_PAIRS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
    };
    println!(
        "capture overhead, {} ({pairs} pairs of {secs} s)",
        common::cpu_model()
    );
    let root = std::env::temp_dir().join(format!("arbline-bench-capture-{}", std::process::id()));
    let mut cfg = Config::default();
    common::trade_on_every_top(&mut cfg);
    cfg.nats.file_dir = root.join("events").to_string_lossy().into_owned();
    let mut rows: Vec<common::PairRun> = Vec::new();
    for pair in 0..pairs {
        for on in [false, true] {
            let dir = root.join(format!("capture-{pair}"));
            let _ = std::fs::remove_dir_all(&dir);
            let opts = DemoOptions {
                duration: Some(Duration::from_secs_f64(secs)),
                quiet: true,
                capture: on.then(|| dir.clone()),
                ..Default::default()
            };
            let r = arbline::demo::run_over_sockets(&cfg, &opts).expect("the socket demo");
            let p = r.latency.percentiles(Segment::TickToTrade);
            let (written, dropped) = r
                .capture
                .as_ref()
                .map_or((0, 0), |c| (c.written, c.counts.dropped));
            println!(
                "pair {} capture {:>3}: orders {:>5}  tick_to_trade p50 {:>9.1} µs  p99 {:>9.1} µs  frames captured {written} (not captured {dropped})",
                pair + 1,
                if on { "on" } else { "off" },
                r.summary.events.orders_sent,
                p.p50 as f64 / 1e3,
                p.p99 as f64 / 1e3,
            );
            rows.push(common::PairRun {
                on,
                p50: p.p50 as f64,
                p99: p.p99 as f64,
            });
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    common::print_pair_medians(&rows, "goal p50 ≤ 1.05×");
    let _ = std::fs::remove_dir_all(&root);
}
