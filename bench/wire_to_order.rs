//! Wire-to-order over loopback beside the in-process figure, in the same run.
//!
//! - `loopback`: `arbline sim`'s servers in this process; the engine reads real WebSocket
//!   frames from loopback sockets, and orders go out signed over REST to the simulator's MAX
//!   API. `tick_to_trade` runs from the moment a frame was read off the socket to the moment its
//!   order was handed to the gateway thread; `signal_to_ack` is the REST order round trip.
//! - `in-process`: the synthetic venue writes the same wire formats into memory and the same
//!   parsers read them; no sockets.
//!
//! Both use the same strategy settings (trading on nearly every top) and the same placement:
//! `park` (the default: unpinned, spin → yield → park) and, with `W2O_SPIN=1`, `spin` (feed
//! pinned to core 0, book + scanner + order pinned to the last core). On a 2-core machine the
//! simulator's own threads share those cores, so loopback figures include that contention.
//! With `W2O_COOLDOWN_MS=N` every arbitrage strategy waits N ms between signals per market, so
//! the orders stay within MAX's 1 200 requests per minute and `wire_to_wire` shows the
//! engine's own path instead of the REST client's rate-limit queue (without it the strategy
//! trades on nearly every top and the limiter binds).
//! Run: `cargo bench --bench wire_to_order` (env `W2O_SECONDS`, default 10 per run).

#[path = "common.rs"]
mod common;

use arbline::config::Config;
use arbline::engine::{self, RunResult, Venues};
use arbline::pipeline::WaitKind;
use arbline::pipeline::placement::{CoreSpec, StageName, ThreadSpec};
use arbline::secrets::Secrets;
use arbline::sim::servers::SimServers;
use arbline::telemetry::Segment;
use std::time::Duration;

fn config(spin: bool) -> Config {
    let mut cfg = Config::default();
    common::trade_on_every_top(&mut cfg);
    if spin {
        let last = core_affinity::get_core_ids()
            .map(|c| c.len())
            .unwrap_or(1)
            .saturating_sub(1);
        let t = |name: &str, stages: Vec<StageName>, core: usize| ThreadSpec {
            name: name.into(),
            stages,
            core: CoreSpec::Index(core),
            wait: WaitKind::Spin,
            park_us: 50,
        };
        cfg.pipeline.threads = vec![
            t("feed", vec![StageName::Feed], 0),
            t(
                "engine",
                vec![StageName::Book, StageName::Scanner, StageName::Order],
                last,
            ),
        ];
    }
    if let Some(ms) = std::env::var("W2O_COOLDOWN_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        for a in &mut cfg.scanner.arbitrage {
            a.cooldown_ms = ms;
        }
    }
    cfg.sim.use_free_ports();
    cfg
}

fn loopback(cfg: &Config, secs: f64) -> RunResult {
    // Two keys, as recommended live: reads never delay an order (`gateway::read_lane`).
    let (key, secret) = ("bench-key", "bench-secret");
    let (read_key, read_secret) = ("bench-read-key", "bench-read-secret");
    let servers =
        SimServers::start(cfg, &[(key, secret), (read_key, read_secret)]).expect("simulator");
    let mut cfg = cfg.clone();
    servers.point(&mut cfg);
    cfg.refrate.cache_dir = std::env::temp_dir()
        .join(format!("arbline-w2o-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let secrets = Secrets {
        max_api_key: Some(key.into()),
        max_secret_key: Some(secret.into()),
        max_read_api_key: Some(read_key.into()),
        max_read_secret_key: Some(read_secret.into()),
    };
    let threads = cfg.threads().expect("placement");
    let built = engine::build_for(&cfg, false, Venues::Live(secrets)).expect("engine");
    let r = engine::run(built, &threads, Duration::from_secs_f64(secs)).expect("run");
    let _ = std::fs::remove_dir_all(&cfg.refrate.cache_dir);
    r
}

fn in_process(cfg: &Config, secs: f64) -> RunResult {
    let threads = cfg.threads().expect("placement");
    let built = engine::build(cfg, false).expect("engine");
    engine::run(built, &threads, Duration::from_secs_f64(secs)).expect("run")
}

fn print(name: &str, r: &RunResult) {
    println!(
        "\n{name}: {} md events, {} orders, {} acks, {} fills",
        r.summary.events.md,
        r.summary.events.orders_sent,
        r.summary.events.acks,
        r.summary.events.fills
    );
    println!(
        "{:<15} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "stage (µs)", "count", "p50", "p99", "p99.9", "max"
    );
    for s in Segment::ALL {
        let p = r.latency.percentiles(s);
        let us = |v: u64| v as f64 / 1000.0;
        println!(
            "{:<15} {:>8} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            s.name(),
            p.count,
            us(p.p50),
            us(p.p99),
            us(p.p999),
            us(p.max)
        );
    }
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let secs = common::seconds(quick, "W2O_SECONDS", 10.0);
    let cpu = common::cpu_model();
    println!(
        "wire-to-order, loopback vs in-process, {secs} s per run; CPU: {cpu}; cores: {}",
        core_affinity::get_core_ids().map(|c| c.len()).unwrap_or(0)
    );
    let mut placements = vec![("park", false)];
    if std::env::var("W2O_SPIN").is_ok_and(|v| v == "1") {
        placements.push(("spin", true));
    }
    for (pname, spin) in placements {
        let cfg = config(spin);
        print(&format!("{pname} / loopback"), &loopback(&cfg, secs));
        print(&format!("{pname} / in-process"), &in_process(&cfg, secs));
    }
}
