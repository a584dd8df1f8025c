//! Many engines, many recorders, one NATS JetStream cluster (issue 16).
//!
//! A 3-node JetStream cluster on loopback ports (the stream kept on all three), two engines in
//! demo mode (`engine-a` trading MAX btcusdt, `engine-b` btctwd and usdttwd, each against its
//! own simulator) publishing to the cluster's node list, and two recorders sharing one durable
//! consumer into one PostgreSQL schema. Mid-run, while both engines trade:
//!
//! - one recorder crashes between a commit and its acknowledgements (`crash_after_commits`)
//!   and a new one takes its place under the same durable;
//! - the NATS node holding the most engine connections (the stream's leader on a tie) is killed,
//!   both engines' new orders must reach PostgreSQL through the other two nodes while it is
//!   down, then it is restarted on its store directory and must catch up.
//!
//! At the end each engine's orders, fills, signals and positions are in PostgreSQL exactly
//! once, as many as its summary counts, with no hole in any critical kind's sequence; every
//! message the engines' forwarders saw acknowledged is a row, the stream holds each once, and
//! there is no bad message.
//!
//! Every step waits for what it needs (a generous deadline naming it), never for a fixed time.

#[path = "support/nats_server.rs"]
mod nats_server;
#[path = "support/pg_schema.rs"]
mod pg_schema;
#[path = "support/trade_often.rs"]
mod trade_often;
#[path = "support/wait.rs"]
mod wait;

use arbline::config::{Config, NatsConfig};
use arbline::engine::{DemoOptions, RunResult};
use arbline::model::Venue;
use arbline::record::schema::TABLES;
use arbline::record::{self, Counters, RecordError, RecordOptions};
use nats_server::NatsCluster;
use pg_schema::PgSchema;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use wait::PATIENCE;

const STREAM: &str = "ARBLINE";
const DURABLE: &str = "arbline-record";
/// The first recorder's commits before it crashes (its last batch left unacknowledged).
const CRASH_AFTER: u64 = 5;
/// Kinds that are never sampled or dropped: their sequences must have no hole.
const CRITICAL: [&str; 6] = ["signal", "order", "exec", "fill", "position", "system"];

/// Every step's deadline: a loaded 2-core machine runs 2 engines, 2 simulators, 3 NATS nodes,
/// 2 recorders and PostgreSQL at once.
fn deadline() -> Duration {
    3 * PATIENCE
}

/// Waits for `cond`; fails at once if one of `engines` has ended (its own panic says why).
fn wait_for(what: &str, engines: &[&Engine], mut cond: impl FnMut() -> bool) {
    let held = wait::within_every(deadline(), Duration::from_millis(50), || {
        for e in engines {
            assert!(!e.ended(), "{} ended while waiting for {what}", e.instance);
        }
        cond()
    });
    assert!(held, "gave up after {:?} waiting for {what}", deadline());
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// ---------------------------------------------------------------- the engines

/// An engine trading often, publishing to the cluster. `engine-a` keeps BTCUSDT → MAX
/// btcusdt; `engine-b` BTCUSDT → MAX btctwd (through usdttwd) and the stable-coin strategy on
/// usdttwd against the reference rate.
fn engine_config(instance: &str, nats: &NatsConfig, dir: &std::path::Path) -> Config {
    let mut cfg = Config::default();
    let max_markets: &[&str] = match instance {
        "engine-a" => &["btcusdt"],
        _ => &["btctwd", "usdttwd"],
    };
    cfg.markets.retain(|m| match m.venue {
        Venue::Max => max_markets.contains(&m.symbol.as_str()),
        Venue::RefRate => max_markets.contains(&"usdttwd"),
        _ => true,
    });
    cfg.scanner
        .arbitrage
        .retain(|a| max_markets.contains(&a.max_symbol.as_str()));
    cfg.scanner.stable_coin.enabled = max_markets.contains(&"usdttwd");
    cfg.risk
        .allocations
        .retain(|a| max_markets.contains(&a.instrument.as_str()));
    trade_often::trade_on_every_top(&mut cfg, None);
    cfg.engine.instance_id = instance.into();
    cfg.demo.stats_interval_ms = 500;
    cfg.demo.live = false;
    cfg.sim.latency_min_ms = 5;
    cfg.sim.latency_max_ms = 20;
    cfg.order.cancel_after_ms = 300;
    cfg.risk.max_loss_usdt = 1e12;
    cfg.risk.reduce_only_loss_usdt = 1e12;
    cfg.nats = NatsConfig {
        enabled: true,
        md_interval_ms: 50,
        file_dir: dir.join(instance).to_string_lossy().into_owned(),
        ..nats.clone()
    };
    cfg.validate()
        .unwrap_or_else(|e| panic!("{instance}'s configuration: {e}"));
    cfg
}

/// `arbline demo` over loopback sockets on a thread of the test, until told to stop.
struct Engine {
    instance: &'static str,
    orders: Arc<AtomicU64>,
    fills: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<RunResult>>,
}

impl Engine {
    fn start(instance: &'static str, cfg: Config) -> Engine {
        let orders = Arc::new(AtomicU64::new(0));
        let fills = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (orders, fills, stop) = (orders.clone(), fills.clone(), stop.clone());
            std::thread::spawn(move || {
                let opts = DemoOptions {
                    // The test ends the run; this is only a backstop.
                    duration: Some(10 * PATIENCE),
                    quiet: true,
                    ..Default::default()
                };
                arbline::demo::run_over_sockets_until(&cfg, &opts, |c| {
                    orders.store(c.orders_sent.get(), Ordering::Release);
                    fills.store(c.fills.get(), Ordering::Release);
                    stop.load(Ordering::Acquire)
                })
                .unwrap_or_else(|e| panic!("{instance}: {e}"))
            })
        };
        Engine {
            instance,
            orders,
            fills,
            stop,
            handle: Some(handle),
        }
    }

    fn orders(&self) -> u64 {
        self.orders.load(Ordering::Acquire)
    }

    fn fills(&self) -> u64 {
        self.fills.load(Ordering::Acquire)
    }

    fn ended(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Ends the run (orders cancelled, the bus flushed) and returns its result.
    fn finish(mut self) -> RunResult {
        self.stop.store(true, Ordering::Release);
        self.handle.take().unwrap().join().unwrap()
    }
}

impl Drop for Engine {
    /// A failed test does not leave its engine running.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

// ---------------------------------------------------------------- the recorders

struct Recorder {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<Counters, RecordError>>>,
}

impl Recorder {
    fn start(opts: RecordOptions) -> Recorder {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        Recorder {
            stop,
            handle: Some(std::thread::spawn(move || record::run(&opts, &s))),
        }
    }

    fn ended(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Raises the stop flag (a crashed one has ended already) and returns its counters.
    fn stop(mut self) -> Counters {
        self.stop.store(true, Ordering::Release);
        self.handle.take().unwrap().join().unwrap().unwrap()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn recorder_options(nats: &NatsConfig, pg: &PgSchema) -> RecordOptions {
    let mut o = RecordOptions::new(nats.clone(), pg.target());
    o.durable = DURABLE.into();
    o.batch = 50;
    o.ack_wait = Duration::from_secs(2);
    o.stats_interval = Duration::ZERO;
    o.max_backoff = Duration::from_millis(200);
    o
}

// ---------------------------------------------------------------- the cluster's view

fn stream_info(url: &str) -> async_nats::jetstream::stream::Info {
    let servers = arbline::telemetry::nats_forwarder::servers(url);
    pg_schema::runtime().block_on(async {
        let client = async_nats::connect(servers.as_slice())
            .await
            .expect("connect");
        let js = async_nats::jetstream::new(client);
        let mut s = js.get_stream(STREAM).await.expect("the stream");
        s.info().await.expect("stream info").clone()
    })
}

/// (ack pending, not yet delivered) of the recorders' durable consumer.
fn consumer_backlog(url: &str) -> Option<(usize, u64)> {
    let servers = arbline::telemetry::nats_forwarder::servers(url);
    pg_schema::runtime().block_on(async {
        let client = async_nats::connect(servers.as_slice()).await.ok()?;
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream(STREAM).await.ok()?;
        let i = stream.consumer_info(DURABLE).await.ok()?;
        Some((i.num_ack_pending, i.num_pending))
    })
}

/// Every node but `leader` is a current replica of the stream, `leader` leads it.
fn stream_on_every_node(info: &async_nats::jetstream::stream::Info, names: &[String]) -> bool {
    let Some(c) = &info.cluster else { return false };
    let mut current: Vec<&str> = c
        .replicas
        .iter()
        .filter(|p| p.current && !p.offline)
        .map(|p| p.name.as_str())
        .collect();
    current.extend(c.leader.as_deref());
    current.sort_unstable();
    current == names.iter().map(String::as_str).collect::<Vec<_>>()
}

// ---------------------------------------------------------------- what PostgreSQL holds

/// Per table, for one instance.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Rows {
    rows: i64,
    runs: i64,
    distinct: i64,
    max_seq: i64,
}

/// (instance, table) → its rows.
fn rows(pg: &PgSchema) -> BTreeMap<(String, &'static str), Rows> {
    let mut out = BTreeMap::new();
    for t in &TABLES {
        let sql = format!(
            "SELECT instance, count(*), count(DISTINCT run), count(DISTINCT (run, seq)), \
             max(seq) FROM {} GROUP BY instance",
            t.name
        );
        for r in pg.query(&sql) {
            let rows = Rows {
                rows: r.get(1),
                runs: r.get(2),
                distinct: r.get(3),
                max_seq: r.get(4),
            };
            out.insert((r.get::<_, String>(0), t.name), rows);
        }
    }
    out
}

fn rows_of(pg: &PgSchema, instance: &str) -> i64 {
    rows(pg)
        .iter()
        .filter(|((i, _), _)| i == instance)
        .map(|(_, r)| r.rows)
        .sum()
}

/// `instance`'s new orders made at or after `since_ms` that are in PostgreSQL.
fn orders_since(pg: &PgSchema, instance: &str, since_ms: u64) -> i64 {
    pg.query(&format!(
        "SELECT count(*) FROM orders WHERE instance = '{instance}' AND event = 'new' \
         AND ts >= timestamptz 'epoch' + {since_ms} * interval '1 millisecond'"
    ))[0]
        .get(0)
}

fn table(kind: &str) -> &'static str {
    TABLES.iter().find(|t| t.kind == kind).unwrap().name
}

/// Each engine's events in PostgreSQL against its summary.
fn check_engine(pg: &PgSchema, instance: &str, r: &RunResult) {
    let bus = r.bus.expect("the bus's status");
    let e = &r.summary.events;
    let o = &r.order_stats;
    assert_eq!(
        (bus.queued, bus.dropped_critical, e.telemetry_dropped),
        (0, 0, 0),
        "{instance}: every critical event handed to JetStream: {bus:?} {e:?}"
    );
    let all = rows(pg);
    let of = |kind: &str| {
        all.get(&(instance.to_string(), table(kind)))
            .copied()
            .unwrap_or_default()
    };
    for kind in CRITICAL {
        let r = of(kind);
        assert!(r.rows > 0, "{instance}: no {kind} in PostgreSQL");
        assert_eq!(r.runs, 1, "{instance} {kind}: one run");
        assert_eq!(
            (r.rows, r.distinct),
            (r.max_seq, r.max_seq),
            "{instance} {kind}: seq 1..={} each once",
            r.max_seq
        );
    }
    let new_orders: i64 = pg.query(&format!(
        "SELECT count(*) FROM orders WHERE instance = '{instance}' AND event = 'new'"
    ))[0]
        .get(0);
    assert_eq!(new_orders as u64, o.orders_sent, "{instance}: orders {o:?}");
    assert_eq!(of("fill").rows as u64, o.fills, "{instance}: fills {o:?}");
    assert_eq!(of("fill").rows as u64, e.fills, "{instance}: fills {e:?}");
    assert_eq!(
        of("position").rows as u64,
        o.fills,
        "{instance}: one position event per fill"
    );
    assert_eq!(of("signal").rows as u64, e.signals, "{instance}: {e:?}");
    assert_eq!(
        rows_of(pg, instance) as u64,
        bus.delivered,
        "{instance}: every message JetStream acknowledged is one row"
    );
    // Each position's last event is where the engine ended.
    for p in pg.query(&format!(
        "SELECT DISTINCT ON (strategy, wallet, symbol) strategy, wallet, symbol, qty::text \
         FROM positions WHERE instance = '{instance}' ORDER BY strategy, wallet, symbol, seq DESC"
    )) {
        let key: (String, String, String) = (p.get(0), p.get(1), p.get(2));
        let end = r
            .summary
            .positions
            .iter()
            .find(|s| (&s.strategy, &s.wallet, &s.symbol) == (&key.0, &key.1, &key.2))
            .unwrap_or_else(|| panic!("{instance}: {key:?} not in the summary"));
        assert_eq!(
            p.get::<_, String>(3),
            end.qty,
            "{instance}: {key:?}'s last qty"
        );
    }
}

// ---------------------------------------------------------------- the deployment

#[test]
fn two_engines_and_two_recorders_survive_a_node_and_a_recorder_lost_mid_run() {
    let mut cluster = NatsCluster::start("arbline-cluster", 3);
    let names: Vec<String> = (0..3).map(|i| cluster.name(i)).collect();
    let url = cluster.url();
    let pg = PgSchema::create();
    let nats = NatsConfig {
        url: url.clone(),
        stream_replicas: 3,
        ..NatsConfig::default()
    };
    let dir = std::env::temp_dir().join(pg_schema::unique("arbline-cluster-events"));
    let opts = recorder_options(&nats, &pg);
    let first = Recorder::start(RecordOptions {
        crash_after_commits: Some(CRASH_AFTER),
        ..opts.clone()
    });
    let second = Recorder::start(opts.clone());
    let a = Engine::start("engine-a", engine_config("engine-a", &nats, &dir));
    let b = Engine::start("engine-b", engine_config("engine-b", &nats, &dir));
    let engines = [&a, &b];

    // 1. A recorder crashes mid-run; another takes its place under the same durable.
    wait_for(
        "the first recorder's crash after its 5th commit",
        &engines,
        || first.ended(),
    );
    let crashed = first.stop();
    let crashed_ms = now_ms();
    assert_eq!(crashed.batches, CRASH_AFTER, "{crashed}");
    let third = Recorder::start(opts.clone());

    // 2. Both engines trade and are on record, also after the crash.
    wait_for(
        "20 orders and 5 fills from each engine, its orders after the crash recorded",
        &engines,
        || {
            engines.iter().all(|e| {
                e.orders() >= 20 && e.fills() >= 5 && orders_since(&pg, e.instance, crashed_ms) > 0
            })
        },
    );
    let info = stream_info(&url);
    assert_eq!(info.config.num_replicas, 3, "{:?}", info.config);
    wait_for("the stream current on all three nodes", &engines, || {
        stream_on_every_node(&stream_info(&url), &names)
    });

    // 3. A node goes: the one with the most engine connections, the stream's leader on a tie.
    let leader = stream_info(&url).cluster.and_then(|c| c.leader);
    let victim = (0..3)
        .max_by_key(|&i| {
            (
                cluster.connections(i, "arbline"),
                leader.as_deref() == Some(names[i].as_str()),
            )
        })
        .unwrap();
    let cut_engines = cluster.connections(victim, "arbline");
    assert!(
        cut_engines >= 1,
        "an engine's connection on {}",
        names[victim]
    );
    eprintln!(
        "killing {} ({cut_engines} engine connection(s); stream leader {leader:?})",
        names[victim]
    );
    let before: Vec<u64> = engines.iter().map(|e| e.orders()).collect();
    cluster.nodes[victim].kill();
    let down_ms = now_ms();
    wait_for(
        "5 orders from each engine made after the kill, recorded while the node is down",
        &engines,
        || {
            engines
                .iter()
                .all(|e| orders_since(&pg, e.instance, down_ms) >= 5)
        },
    );
    for (e, n) in engines.iter().zip(&before) {
        assert!(e.orders() > *n, "{} traded on", e.instance);
    }
    cluster.nodes[victim].restart();
    let up_ms = now_ms();
    cluster.wait_healthy(victim);
    wait_for(
        "5 orders from each engine made after the restart, recorded",
        &engines,
        || {
            engines
                .iter()
                .all(|e| orders_since(&pg, e.instance, up_ms) >= 5)
        },
    );
    wait_for(
        "the restarted node a current replica again",
        &engines,
        || stream_on_every_node(&stream_info(&url), &names),
    );

    // 4. The engines stop; everything they published reaches PostgreSQL once.
    let ra = a.finish();
    let rb = b.finish();
    let delivered = |r: &RunResult| r.bus.map_or(0, |b| b.delivered);
    wait_for(
        "every acknowledged message of both engines in PostgreSQL",
        &[],
        || {
            rows_of(&pg, "engine-a") as u64 >= delivered(&ra)
                && rows_of(&pg, "engine-b") as u64 >= delivered(&rb)
        },
    );
    wait_for(
        "the durable consumer with nothing pending or unacknowledged",
        &[],
        || consumer_backlog(&url) == Some((0, 0)),
    );
    let c2 = second.stop();
    let c3 = third.stop();
    eprintln!("recorders: crashed {crashed}\n  second {c2}\n  third {c3}");
    eprintln!(
        "engine-a: {:?} {:?}\nengine-b: {:?} {:?}",
        ra.order_stats, ra.bus, rb.order_stats, rb.bus
    );

    assert!(
        ra.bus.unwrap().reconnects + rb.bus.unwrap().reconnects >= cut_engines as u64,
        "the engine(s) on {} moved to another node",
        names[victim]
    );
    check_engine(&pg, "engine-a", &ra);
    check_engine(&pg, "engine-b", &rb);
    assert_eq!(
        stream_info(&url).state.messages,
        delivered(&ra) + delivered(&rb),
        "the stream holds each message once (JetStream's duplicate window across the failover)"
    );
    assert!(
        c2.redelivered + c3.redelivered >= 1 && c2.duplicates + c3.duplicates >= 1,
        "the crashed recorder's unacknowledged batch came again and was a no-op: {c2} / {c3}"
    );
    assert_eq!(crashed.bad + c2.bad + c3.bad, 0);
    assert_eq!(pg.count("bad_messages"), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
