//! What Prometheus's scrapes cost the live hot path (issue 16): tick_to_trade p50 and p99 of
//! the socket demo (simulator + engine over loopback, default placement) with `/metrics`
//! served and scraped once a second, and with no endpoint at all, alternating in one process:
//! `METRICS_PAIRS` pairs (default 3) of `METRICS_SECONDS` each (default 10). The strategies
//! trade on nearly every top, so every run has hundreds of orders. Goal: p99 with scrapes ≤
//! 1.05× without.
//!
//! Run: `cargo bench --bench metrics_overhead` (quick mode without `--bench`: one 1 s pair).

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine::DemoOptions;
use arbline::telemetry::Segment;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Scrapes `addr` once a second until `stop`; counts the scrapes answered.
fn scraper(addr: String, stop: Arc<AtomicBool>, ok: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Acquire) {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = write!(
                    s,
                    "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                );
                let mut body = Vec::new();
                if s.read_to_end(&mut body).is_ok() && body.starts_with(b"HTTP/1.1 200") {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs = common::seconds(quick, "METRICS_SECONDS", 10.0);
    let pairs: usize = if quick {
        1
    } else {
        std::env::var("METRICS_PAIRS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
    };
    println!(
        "metrics scrape overhead, {} ({pairs} pairs of {secs} s)",
        common::cpu_model()
    );
    let root = std::env::temp_dir().join(format!("arbline-bench-metrics-{}", std::process::id()));
    let mut rows = Vec::new();
    for pair in 0..pairs {
        for on in [false, true] {
            let mut cfg = Config::default();
            common::trade_on_every_top(&mut cfg);
            cfg.nats.file_dir = root.join("events").to_string_lossy().into_owned();
            cfg.metrics.linger_ms = 0;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let addr = format!("127.0.0.1:{port}");
            if on {
                cfg.metrics.addr = addr.clone();
            }
            let (stop, ok) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicU64::new(0)),
            );
            let scraping = on.then(|| scraper(addr, stop.clone(), ok.clone()));
            let opts = DemoOptions {
                duration: Some(Duration::from_secs_f64(secs)),
                quiet: true,
                ..Default::default()
            };
            let r = arbline::demo::run_over_sockets(&cfg, &opts).expect("the socket demo");
            stop.store(true, Ordering::Release);
            if let Some(h) = scraping {
                let _ = h.join();
            }
            let p = r.latency.percentiles(Segment::TickToTrade);
            println!(
                "pair {} metrics {:>3}: orders {:>5}  tick_to_trade p50 {:>9.1} µs  p99 {:>9.1} µs  scrapes answered {}",
                pair + 1,
                if on { "on" } else { "off" },
                r.summary.events.orders_sent,
                p.p50 as f64 / 1e3,
                p.p99 as f64 / 1e3,
                ok.load(Ordering::Relaxed)
            );
            rows.push(common::PairRun {
                on,
                p50: p.p50 as f64,
                p99: p.p99 as f64,
            });
        }
    }
    common::print_pair_medians(&rows, "goal p99 ≤ 1.05×");
    let _ = std::fs::remove_dir_all(&root);
}
