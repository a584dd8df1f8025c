//! The side thread's forwarder against a real nats-server with JetStream: every subject of the
//! seed's convention with valid JSON, no holes in the sequences of orders, fills, positions and
//! system events, and nothing lost when the server is killed and started again mid-run.

#[path = "support/nats_server.rs"]
mod nats_server;
#[path = "support/pg_schema.rs"]
mod pg_schema;

use arbline::config::Config;
use arbline::engine::{self, RunResult, Venues};
use arbline::secrets::Secrets;
use arbline::sim::servers::SimServers;
use nats_server::{NatsServer, read_stream};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const KEY: &str = "bus-key";
const SECRET: &str = "bus-secret";

fn config(nats_url: &str) -> Config {
    let mut cfg = Config::default();
    cfg.demo.stats_interval_ms = 500;
    cfg.demo.live = false;
    cfg.sim.latency_min_ms = 5;
    cfg.sim.latency_max_ms = 20;
    for a in &mut cfg.scanner.arbitrage {
        a.min_samples = 5;
        a.cooldown_ms = 0;
        a.taker_fee_bps = 0.0;
        a.edge_bps = 0.0;
    }
    cfg.order.cancel_after_ms = 300;
    cfg.risk.max_loss_usdt = 1e12;
    cfg.risk.reduce_only_loss_usdt = 1e12;
    cfg.nats.enabled = true;
    cfg.nats.url = nats_url.into();
    cfg.nats.md_interval_ms = 50;
    cfg.sim.use_free_ports();
    cfg
}

/// The engine against the simulator over sockets for `secs`, publishing to `nats_url`.
fn run_engine(cfg: &Config, secs: f64) -> RunResult {
    let servers = SimServers::start(cfg, KEY, SECRET).unwrap();
    let mut cfg = cfg.clone();
    servers.point(&mut cfg);
    cfg.refrate.cache_dir = std::env::temp_dir()
        .join(format!("arbline-bus-rate-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let secrets = Secrets {
        max_api_key: Some(KEY.into()),
        max_secret_key: Some(SECRET.into()),
    };
    let built = engine::build_for(&cfg, false, Venues::Live(secrets)).unwrap();
    engine::run(
        built,
        &cfg.threads().unwrap(),
        Duration::from_secs_f64(secs),
    )
    .unwrap()
}

/// seq values per kind, checking the envelope of every message on the way.
fn sequences(msgs: &[(String, Value)]) -> BTreeMap<String, Vec<u64>> {
    let mut by_kind: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (subject, v) in msgs {
        for k in ["instance", "run", "kind", "seq", "ts_ms"] {
            assert!(v.get(k).is_some(), "{subject}: no {k} in {v}");
        }
        assert_eq!(v["instance"], "arbline-1");
        by_kind
            .entry(v["kind"].as_str().unwrap().to_string())
            .or_default()
            .push(v["seq"].as_u64().unwrap());
    }
    by_kind
}

fn assert_no_holes(by_kind: &BTreeMap<String, Vec<u64>>, kind: &str) {
    let seqs = by_kind.get(kind).cloned().unwrap_or_default();
    let set: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(set.len(), seqs.len(), "{kind}: a message stored twice");
    let n = seqs.len() as u64;
    assert_eq!(
        set,
        (1..=n).collect::<BTreeSet<u64>>(),
        "{kind}: holes in 1..={n}"
    );
}

#[test]
fn every_subject_appears_with_json_and_critical_sequences_have_no_holes() {
    let nats = NatsServer::start("subjects");
    let cfg = config(&nats.url());
    let r = run_engine(&cfg, 4.0);
    let bus = r.bus.expect("bus status");
    assert_eq!((bus.queued, bus.dropped_critical), (0, 0), "{bus:?}");
    let msgs = read_stream(&nats.url(), "ARBLINE");
    assert_eq!(msgs.len() as u64, bus.delivered, "{bus:?}");
    let subjects: BTreeSet<&str> = msgs.iter().map(|(s, _)| s.as_str()).collect();
    for want in [
        "exchange.binance.l1book.future.update.BTCUSDT",
        "exchange.max.l1book.spot.update.USDTTWD",
        "exchange.max.l1book.spot.update.BTCUSDT",
        "exchange.refrate.l1book.spot.update.USDTWD",
        "signal.arbitrage.BTCUSDT",
        "order.max.new.BTCUSDT",
        "order.max.ack.BTCUSDT",
        "order.max.filled.BTCUSDT",
        "position.arbitrage.BTCUSDT",
        "latency.arbline-1",
        "system.arbline-1.feed_up",
        "system.arbline-1.book_live",
    ] {
        assert!(subjects.contains(want), "{want} missing from {subjects:?}");
    }
    let by_kind = sequences(&msgs);
    for kind in ["order", "exec", "fill", "position", "system", "signal"] {
        assert_no_holes(&by_kind, kind);
    }
    // A fill names its trade, price and quantity as exact decimals.
    let fill = msgs
        .iter()
        .find(|(s, _)| s.starts_with("order.max.filled."))
        .map(|(_, v)| v)
        .unwrap();
    assert!(fill["trade_id"].as_u64().unwrap() > 0);
    assert!(fill["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    assert_eq!(
        r.order_stats.fills as usize,
        by_kind["fill"].len(),
        "every fill the engine applied, published once"
    );
}

#[test]
fn killing_nats_mid_run_loses_no_order_fill_or_system_event_and_the_engine_goes_on() {
    let mut nats = NatsServer::start("restart");
    let cfg = config(&nats.url());
    let engine = std::thread::spawn(move || run_engine(&cfg, 9.0));
    std::thread::sleep(Duration::from_millis(2000));
    nats.kill();
    let down_from = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    std::thread::sleep(Duration::from_millis(2500));
    let down_to = down_from + 2500;
    nats.restart();
    let r = engine.join().unwrap();
    let bus = r.bus.expect("bus status");
    assert!(bus.reconnects >= 1, "{bus:?}");
    assert_eq!((bus.queued, bus.dropped_critical), (0, 0), "{bus:?}");
    let msgs = read_stream(&nats.url(), "ARBLINE");
    let by_kind = sequences(&msgs);
    for kind in ["order", "exec", "fill", "position", "system", "signal"] {
        assert_no_holes(&by_kind, kind);
    }
    assert_eq!(r.order_stats.fills as usize, by_kind["fill"].len());
    assert_eq!(
        r.order_stats.orders_sent as usize,
        msgs.iter()
            .filter(|(s, _)| s.starts_with("order.max.new."))
            .count()
    );
    // The engine kept trading while NATS was down: orders made in the outage are on record.
    let during = msgs
        .iter()
        .filter(|(s, v)| {
            s.starts_with("order.max.new.")
                && (down_from..down_to).contains(&v["ts_ms"].as_u64().unwrap_or(0))
        })
        .count();
    assert!(
        during > 0,
        "orders sent while NATS was down reached the stream later"
    );
    // The outage itself is on record.
    assert!(
        msgs.iter()
            .any(|(s, v)| s == "system.arbline-1.bus_status" && v["connected"] == true),
        "the bus status after the reconnect"
    );
}

#[test]
fn without_nats_the_same_events_go_to_a_local_json_lines_file() {
    let dir = std::env::temp_dir().join(format!("arbline-events-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = config("nats://127.0.0.1:1");
    cfg.nats.enabled = false;
    cfg.nats.file_dir = dir.to_string_lossy().into_owned();
    let r = engine::build(&cfg, false)
        .and_then(|b| engine::run(b, &cfg.threads().unwrap(), Duration::from_secs(2)))
        .unwrap();
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    let msgs: Vec<(String, Value)> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON object per line");
            (v["subject"].as_str().unwrap().to_string(), v)
        })
        .collect();
    let by_kind = sequences(&msgs);
    for kind in ["order", "exec", "fill", "system"] {
        assert_no_holes(&by_kind, kind);
    }
    assert_eq!(
        r.order_stats.orders_sent as usize,
        msgs.iter()
            .filter(|(s, _)| s.starts_with("order.max.new."))
            .count()
    );
    assert_eq!(r.bus.unwrap().delivered as usize, msgs.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_engines_events_reach_postgresql_once_each_across_a_recorder_crash() {
    use arbline::record::{self, RecordOptions};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let nats = NatsServer::start("e2e");
    let cfg = config(&nats.url());
    run_engine(&cfg, 3.0);
    let msgs = read_stream(&nats.url(), "ARBLINE");
    let mut per_kind: BTreeMap<String, i64> = BTreeMap::new();
    for (_, v) in &msgs {
        *per_kind
            .entry(v["kind"].as_str().unwrap().into())
            .or_default() += 1;
    }
    let pg = pg_schema::PgSchema::create();
    let mut opts = RecordOptions::new(cfg.nats.clone(), pg.target());
    opts.batch = 200;
    opts.ack_wait = Duration::from_secs(1);
    // First run: killed after two committed batches, the second never acknowledged.
    opts.crash_after_commits = Some(2);
    let never = AtomicBool::new(false);
    let first = record::run(&opts, &never).unwrap();
    assert_eq!(first.batches, 2, "{first:?}");
    // Second run: until every message is in.
    opts.crash_after_commits = None;
    let stop = Arc::new(AtomicBool::new(false));
    let rec = {
        let (opts, stop) = (opts.clone(), stop.clone());
        std::thread::spawn(move || record::run(&opts, &stop))
    };
    let end = std::time::Instant::now() + Duration::from_secs(30);
    while pg.total() < msgs.len() as i64 && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Release);
    let second = rec.join().unwrap().unwrap();
    assert_eq!(
        second.bad, 0,
        "the engine's messages all fit the recorder: {second:?}"
    );
    let table = |kind: &str| match kind {
        "md" => "md_tops",
        "signal" => "signals",
        "order" => "orders",
        "exec" => "exec_events",
        "fill" => "fills",
        "position" => "positions",
        "latency" => "latency_snapshots",
        _ => "system_events",
    };
    for (kind, n) in &per_kind {
        assert_eq!(pg.count(table(kind)), *n, "{kind}: one row per event");
    }
    assert_eq!(pg.total(), msgs.len() as i64);
    assert_eq!(pg.count("bad_messages"), 0);
}
