//! The side thread's forwarder against a real nats-server with JetStream: every subject of the
//! seed's convention with valid JSON, no holes in the sequences of orders, fills, positions and
//! system events, and nothing lost when the server is killed and started again mid-run.
//!
//! Each run lasts until what the test needs is on the stream (or in the file), looked at while
//! the engine runs, with a generous deadline, not for a fixed time.

#[path = "support/nats_server.rs"]
mod nats_server;
#[path = "support/pg_schema.rs"]
mod pg_schema;
#[path = "support/wait.rs"]
mod wait;

#[path = "support/trade_often.rs"]
mod trade_often;

use arbline::config::Config;
use arbline::engine::{self, Built, RunResult, Venues};
use arbline::secrets::Secrets;
use arbline::sim::servers::SimServers;
use arbline::telemetry::EngineCounters;
use nats_server::{NatsServer, read_stream};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wait::{PATIENCE, run_engine_until, wait_until};

const KEY: &str = "bus-key";
const SECRET: &str = "bus-secret";

fn config(nats_url: &str) -> Config {
    let mut cfg = Config::default();
    cfg.demo.stats_interval_ms = 500;
    cfg.demo.live = false;
    cfg.sim.latency_min_ms = 5;
    cfg.sim.latency_max_ms = 20;
    trade_often::trade_on_every_top(&mut cfg, None);
    cfg.order.cancel_after_ms = 300;
    cfg.risk.max_loss_usdt = 1e12;
    cfg.risk.reduce_only_loss_usdt = 1e12;
    cfg.nats.enabled = true;
    cfg.nats.url = nats_url.into();
    cfg.nats.md_interval_ms = 50;
    cfg.sim.use_free_ports();
    cfg
}

/// The simulator's servers on free ports and the engine built against them over sockets,
/// publishing to `cfg`'s NATS; the servers must outlive the run.
fn build_engine(cfg: &Config) -> (SimServers, Config, Built) {
    let servers = SimServers::start(cfg, &[(KEY, SECRET)]).unwrap();
    let mut cfg = cfg.clone();
    servers.point(&mut cfg);
    cfg.refrate.cache_dir = std::env::temp_dir()
        .join(format!("arbline-bus-rate-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let secrets = Secrets {
        max_api_key: Some(KEY.into()),
        max_secret_key: Some(SECRET.into()),
        ..Secrets::default()
    };
    let built = engine::build_for(&cfg, false, Venues::Live(secrets)).unwrap();
    (servers, cfg, built)
}

/// The engine against the simulator over sockets, publishing to `cfg`'s NATS, until `done`.
fn run_engine(
    cfg: &Config,
    what: &str,
    done: impl FnMut(&EngineCounters) -> bool + Send,
) -> RunResult {
    let (_servers, cfg, built) = build_engine(cfg);
    run_engine_until(built, &cfg.threads().unwrap(), what, PATIENCE, done)
}

/// Every message the NATS server passes on while the engine runs, seen by a plain subscription
/// to `>` beside JetStream on a thread of its own: the latest payload per subject and how many
/// of the engine's messages there were. It reconnects by itself when the server comes back
/// (what is published before it has, it misses).
struct Tap {
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Seen {
    last: HashMap<String, Value>,
    count: u64,
}

impl Tap {
    /// Subscribed when it returns.
    fn start(url: &str) -> Tap {
        use futures_util::StreamExt;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let (url, seen, stop) = (url.to_string(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                pg_schema::runtime().block_on(async {
                    let client = async_nats::connect(&url).await.expect("the tap connects");
                    let mut sub = client.subscribe(">").await.expect("the tap subscribes");
                    client
                        .flush()
                        .await
                        .expect("the tap's subscription reaches the server");
                    let _ = ready_tx.send(());
                    while !stop.load(Ordering::Acquire) {
                        let next = tokio::time::timeout(Duration::from_millis(50), sub.next());
                        let Ok(m) = next.await else { continue };
                        let Some(m) = m else { break };
                        if m.subject.starts_with('$') || m.subject.starts_with("_INBOX") {
                            continue;
                        }
                        let mut s = seen.lock().unwrap();
                        s.count += 1;
                        if let Ok(v) = serde_json::from_slice(&m.payload) {
                            s.last.insert(m.subject.to_string(), v);
                        }
                    }
                })
            })
        };
        ready_rx
            .recv_timeout(PATIENCE)
            .expect("the tap subscribed to the NATS server");
        Tap {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// The latest message seen on `subject`.
    fn last(&self, subject: &str) -> Option<Value> {
        self.seen.lock().unwrap().last.get(subject).cloned()
    }

    /// How many of the engine's messages were seen.
    fn count(&self) -> u64 {
        self.seen.lock().unwrap().count
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
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
    assert!(!seqs.is_empty(), "{kind}: no message of this kind");
    let set: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(set.len(), seqs.len(), "{kind}: a message stored twice");
    let n = seqs.len() as u64;
    assert_eq!(
        set,
        (1..=n).collect::<BTreeSet<u64>>(),
        "{kind}: holes in 1..={n}"
    );
}

/// One subject of each kind of the convention.
const EVERY_SUBJECT: [&str; 12] = [
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
];

#[test]
fn every_subject_appears_with_json_and_critical_sequences_have_no_holes() {
    let nats = NatsServer::start("subjects");
    let cfg = config(&nats.url());
    let tap = Tap::start(&nats.url());
    let r = run_engine(&cfg, "a message on every subject of the convention", |_| {
        EVERY_SUBJECT.iter().all(|s| tap.last(s).is_some())
    });
    let bus = r.bus.expect("bus status");
    assert_eq!((bus.queued, bus.dropped_critical), (0, 0), "{bus:?}");
    let msgs = read_stream(&nats.url(), "ARBLINE");
    assert_eq!(msgs.len() as u64, bus.delivered, "{bus:?}");
    let subjects: BTreeSet<&str> = msgs.iter().map(|(s, _)| s.as_str()).collect();
    for want in EVERY_SUBJECT {
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

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn killing_nats_mid_run_loses_no_order_fill_or_system_event_and_the_engine_goes_on() {
    const ORDERS: &str = "order.max.new.BTCUSDT";
    let mut nats = NatsServer::start("restart");
    let tap = Tap::start(&nats.url());
    let (_servers, cfg, built) = build_engine(&config(&nats.url()));
    let counters = built.counters.clone();
    let stop = wait::StopOnDrop(built.shutdown.clone());
    let threads = cfg.threads().unwrap();
    // The test ends the run; the engine's own limit is only a backstop.
    let engine = std::thread::spawn(move || engine::run(built, &threads, 4 * PATIENCE));
    wait_until("orders published before the outage", PATIENCE, || {
        tap.last(ORDERS).is_some()
    });
    nats.kill();
    let down_from = now_ms();
    let sent = counters.orders_sent.get();
    wait_until("ten orders sent while NATS is down", PATIENCE, || {
        counters.orders_sent.get() >= sent + 10
    });
    let down_to = now_ms();
    nats.restart();
    // The outbox is first in, first out: an order made after the outage published means the
    // orders queued during it went before.
    wait_until(
        "an order made after the outage published once NATS is back",
        PATIENCE,
        || {
            tap.last(ORDERS)
                .is_some_and(|o| o["ts_ms"].as_u64().is_some_and(|t| t >= down_to))
        },
    );
    drop(stop);
    let r = engine.join().unwrap().unwrap();
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
    let r = run_engine_until(
        engine::build(&cfg, false).unwrap(),
        &cfg.threads().unwrap(),
        "a fill",
        PATIENCE,
        |c| c.fills.get() > 0,
    );
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
    assert!(r.order_stats.orders_sent > 0, "{:?}", r.order_stats);
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
    const BATCH: usize = 200;
    let nats = NatsServer::start("e2e");
    let cfg = config(&nats.url());
    // Enough for more than the two batches the first recorder run commits, fills among them.
    let tap = Tap::start(&nats.url());
    run_engine(
        &cfg,
        "three batches of messages published, a fill among them",
        |c| c.fills.get() > 0 && tap.count() >= 3 * BATCH as u64,
    );
    let msgs = read_stream(&nats.url(), "ARBLINE");
    assert!(msgs.len() > 2 * BATCH, "{} messages", msgs.len());
    let mut per_kind: BTreeMap<String, i64> = BTreeMap::new();
    for (_, v) in &msgs {
        *per_kind
            .entry(v["kind"].as_str().unwrap().into())
            .or_default() += 1;
    }
    let pg = pg_schema::PgSchema::create();
    let mut opts = RecordOptions::new(cfg.nats.clone(), pg.target());
    opts.batch = BATCH;
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
    assert!(
        wait::within_every(PATIENCE, Duration::from_millis(100), || {
            pg.total() >= msgs.len() as i64
        }),
        "gave up after {PATIENCE:?} waiting for the stream's {} messages in PostgreSQL: {} rows",
        msgs.len(),
        pg.total()
    );
    // A moment for anything written twice to show.
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
