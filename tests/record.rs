//! `arbline record` against a real nats-server (a child process per test, JetStream on a temp
//! directory) and a real PostgreSQL (a fresh schema per test, dropped at the end).
//!
//! PostgreSQL: `ARBLINE_TEST_PG` (a libpq URL or `key=value` string), default
//! `host=127.0.0.1 port=5432 user=root dbname=test`. nats-server: on PATH (`scripts/test`
//! installs it).

use arbline::config::NatsConfig;
use arbline::record::schema::{ColType, TABLES};
use arbline::record::{self, Counters, PgTarget, RecordError, RecordOptions};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const INSTANCE: &str = "eng-test";
const RUN: u64 = 1_760_000_000_000;
const KINDS: [&str; 8] = [
    "md", "signal", "order", "exec", "fill", "position", "latency", "system",
];

#[path = "support/nats_server.rs"]
mod nats_server;
#[path = "support/pg_schema.rs"]
mod pg_schema;

use nats_server::NatsServer;
use pg_schema::{PgSchema, runtime, unique};

// ---------------------------------------------------------------- the forwarder's contract

/// Message `seq` of `kind`, as the engine's forwarder publishes it: (subject, payload).
fn event(kind: &str, seq: u64) -> (String, Value) {
    let ts = RUN + 1000 * seq;
    let d = |base: u64| format!("{}.{:02}", base + seq, seq % 100);
    let (subject, mut v) = match kind {
        "md" => (
            "exchange.binance.l1book.future.update.BTCUSDT".to_string(),
            json!({"venue": "binance", "symbol": "BTCUSDT", "status": "live",
                   "bid_px": d(95_000), "bid_qty": "0.5", "ask_px": d(95_001),
                   "ask_qty": "1.25", "last_id": 1_000_000 + seq, "exch_ts_ms": ts - 3}),
        ),
        "signal" => (
            "signal.arbitrage.BTCUSDT".into(),
            json!({"strategy": "arbitrage", "symbol": "btcusdt", "wallet": "spot",
                   "side": if seq.is_multiple_of(2) { "buy" } else { "sell" }, "order_type": "limit",
                   "price": d(95_000), "qty": "0.001", "fair_value": 95_000.5 + seq as f64,
                   "edge_bps": 3.25}),
        ),
        "order" => (
            "order.max.new.BTCUSDT".into(),
            json!({"event": "new", "client_oid": format!("arb-{seq}"), "exchange_order_id": 0,
                   "strategy": "arbitrage", "symbol": "btcusdt", "wallet": "spot", "side": "buy",
                   "order_type": "limit", "price": d(95_000), "qty": "0.001"}),
        ),
        "exec" => (
            "order.max.ack.BTCUSDT".into(),
            json!({"event": "ack", "client_oid": format!("arb-{seq}"),
                   "exchange_order_id": 9_000_000 + seq, "symbol": "btcusdt", "side": "buy",
                   "state": "wait", "reject_code": 0, "venue_ts_ms": ts - 1}),
        ),
        "fill" => (
            "order.max.filled.BTCUSDT".into(),
            json!({"client_oid": format!("arb-{seq}"), "exchange_order_id": 9_000_000 + seq,
                   "trade_id": 77_000_000 + seq, "symbol": "btcusdt", "side": "buy",
                   "price": d(95_000), "qty": "0.001", "fee": "0.00000150",
                   "source": if seq.is_multiple_of(3) { "rest" } else { "ws" }, "venue_ts_ms": ts - 2}),
        ),
        "position" => (
            "position.arbitrage.BTCUSDT".into(),
            json!({"strategy": "arbitrage", "wallet": "spot", "symbol": "btcusdt",
                   "qty": format!("-0.{seq:03}"), "avg_price": d(95_000), "fees": "0.0015",
                   "realized_pnl": -1.5 * seq as f64, "unrealized_pnl": 0.25, "limit": "0.5"}),
        ),
        "latency" => (
            format!("latency.{INSTANCE}"),
            json!({"stages": {
                "book": {"count": seq, "p50": 800, "p99": 2_100, "p999": 9_000, "max": 20_000},
                "tick_to_trade": {"count": seq, "p50": 5_000, "p99": 9_000, "p999": 30_000,
                                  "max": 18_446_744_073_709_551_615u64}}}),
        ),
        "system" => (
            format!("system.{INSTANCE}.resync"),
            json!({"event": "resync", "venue": "max", "symbol": "btcusdt", "detail": seq,
                   "trading_state": "active"}),
        ),
        other => panic!("{other}"),
    };
    let o = v.as_object_mut().unwrap();
    for (k, x) in [
        ("instance", json!(INSTANCE)),
        ("run", json!(RUN)),
        ("kind", json!(kind)),
        ("seq", json!(seq)),
        ("ts_ms", json!(ts)),
    ] {
        o.insert(k.into(), x);
    }
    (subject, v)
}

fn msg_id(kind: &str, seq: u64) -> String {
    format!("{INSTANCE}.{RUN}.{kind}.{seq}")
}

/// Publishes to JetStream, waiting for each PubAck.
fn publish(url: &str, msgs: &[(String, String, Vec<u8>)]) {
    let rt = runtime();
    rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        for (subject, id, payload) in msgs {
            let mut h = async_nats::HeaderMap::new();
            h.insert("Nats-Msg-Id", id.as_str());
            js.publish_with_headers(subject.clone(), h, payload.clone().into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
}

/// `per_kind` messages of every kind, interleaved as an engine would publish them.
fn every_kind(per_kind: u64) -> Vec<(String, String, Vec<u8>)> {
    let mut v = Vec::new();
    for seq in 1..=per_kind {
        for kind in KINDS {
            let (subject, payload) = event(kind, seq);
            v.push((subject, msg_id(kind, seq), payload.to_string().into_bytes()));
        }
    }
    v
}

/// Creates the stream as the engine's forwarder would.
fn create_stream(url: &str, nats: &NatsConfig) {
    runtime().block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        js.get_or_create_stream(record::stream_config(nats))
            .await
            .unwrap();
    });
}

/// (acknowledged floor, ack pending, not yet delivered) of the durable consumer; `None` until
/// the recorder has created it.
fn consumer_state(url: &str, nats: &NatsConfig, durable: &str) -> Option<(u64, usize, u64)> {
    runtime().block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        let stream = js.get_stream(&nats.stream).await.ok()?;
        let i = stream.consumer_info(durable).await.ok()?;
        Some((
            i.ack_floor.stream_sequence,
            i.num_ack_pending,
            i.num_pending,
        ))
    })
}

// ---------------------------------------------------------------- the recorder, in a thread

struct Running {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<Counters, RecordError>>>,
}

fn start(opts: RecordOptions) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let handle = std::thread::spawn(move || record::run(&opts, &s));
    Running {
        stop,
        handle: Some(handle),
    }
}

impl Running {
    /// Raises the stop flag and waits for the counters.
    fn stop(self) -> Counters {
        self.stop.store(true, Ordering::Release);
        self.join()
    }

    /// Waits for the recorder to end by itself.
    fn join(mut self) -> Counters {
        self.handle.take().unwrap().join().unwrap().unwrap()
    }
}

impl Drop for Running {
    /// A failed test does not leave its recorder running.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

fn options(url: &str, nats: &NatsConfig, pg: &PgSchema) -> RecordOptions {
    let mut o = RecordOptions::new(
        NatsConfig {
            url: url.into(),
            ..nats.clone()
        },
        pg.target(),
    );
    o.stats_interval = Duration::ZERO;
    o.max_backoff = Duration::from_millis(200);
    o
}

fn wait_for(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every message of the stream acknowledged by `durable`.
fn wait_all_acked(url: &str, nats: &NatsConfig, durable: &str, stream_len: u64) {
    wait_for("every message acknowledged", 60, || {
        consumer_state(url, nats, durable) == Some((stream_len, 0, 0))
    });
}

/// Every column of every row equals the field of the message it came from.
fn check_rows_match_the_messages(pg: &PgSchema, per_kind: u64) {
    for t in &TABLES {
        let kind = t.kind;
        let mut select = vec![
            "instance".to_string(),
            "run".into(),
            "seq".into(),
            "(extract(epoch FROM ts) * 1000)::bigint".into(),
            "subject".into(),
            "(extract(epoch FROM received_at) * 1000)::bigint".into(),
        ];
        for c in t.columns {
            select.push(match c.ty {
                ColType::Text | ColType::BigInt | ColType::Float => c.name.to_string(),
                ColType::Numeric | ColType::Object => format!("{}::text", c.name),
                ColType::Millis => format!("(extract(epoch FROM {}) * 1000)::bigint", c.name),
            });
        }
        let rows = pg.query(&format!(
            "SELECT {} FROM {} ORDER BY seq",
            select.join(", "),
            t.name
        ));
        assert_eq!(rows.len() as u64, per_kind, "{}", t.name);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        for (i, row) in rows.iter().enumerate() {
            let seq = i as u64 + 1;
            let (subject, v) = event(kind, seq);
            let at = format!("{} seq {seq}", t.name);
            assert_eq!(row.get::<_, String>(0), INSTANCE, "{at}");
            assert_eq!(row.get::<_, i64>(1), RUN as i64, "{at}");
            assert_eq!(row.get::<_, i64>(2), seq as i64, "{at}");
            assert_eq!(
                row.get::<_, i64>(3),
                v["ts_ms"].as_i64().unwrap(),
                "{at} ts"
            );
            assert_eq!(row.get::<_, String>(4), subject, "{at}");
            assert!(
                (now_ms - row.get::<_, i64>(5)).abs() < 120_000,
                "{at} received_at"
            );
            for (j, c) in t.columns.iter().enumerate() {
                let want = &v[c.field.unwrap()];
                let at = format!("{at} column {}", c.name);
                let col = 6 + j;
                match c.ty {
                    ColType::Text | ColType::Numeric => {
                        assert_eq!(row.get::<_, String>(col), want.as_str().unwrap(), "{at}")
                    }
                    ColType::BigInt | ColType::Millis => {
                        assert_eq!(row.get::<_, i64>(col), want.as_i64().unwrap(), "{at}")
                    }
                    ColType::Float => {
                        assert_eq!(row.get::<_, f64>(col), want.as_f64().unwrap(), "{at}")
                    }
                    ColType::Object => {
                        let got: Value = serde_json::from_str(&row.get::<_, String>(col)).unwrap();
                        assert_eq!(&got, want, "{at}")
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- the specification

#[test]
fn every_kind_lands_once_per_event_with_every_field() {
    let nats = NatsConfig::default();
    let server = NatsServer::start("record");
    let pg = PgSchema::create();
    create_stream(&server.url(), &nats);
    let per_kind = 40;
    let mut msgs = every_kind(per_kind);
    // The same event published again under another message id (past the server's duplicate
    // window, say): JetStream keeps both, the table keeps one.
    let (s, p) = event("fill", 7);
    msgs.push((s, "republished".into(), p.to_string().into_bytes()));
    publish(&server.url(), &msgs);

    let rec = start(options(&server.url(), &nats, &pg));
    wait_all_acked(&server.url(), &nats, "arbline-record", msgs.len() as u64);
    let c = rec.stop();

    let n = 8 * per_kind;
    assert_eq!(pg.total(), n as i64);
    check_rows_match_the_messages(&pg, per_kind);
    assert_eq!(
        (c.received, c.written, c.duplicates, c.bad),
        (n + 1, n, 1, 0),
        "{c}"
    );
    assert_eq!(pg.count("bad_messages"), 0);
}

#[test]
fn a_crash_between_commit_and_ack_still_writes_each_event_once() {
    let nats = NatsConfig::default();
    let server = NatsServer::start("record");
    let pg = PgSchema::create();
    create_stream(&server.url(), &nats);
    let msgs = every_kind(40); // 320
    publish(&server.url(), &msgs);

    let mut opts = options(&server.url(), &nats, &pg);
    opts.batch = 50;
    opts.ack_wait = Duration::from_secs(1);
    opts.crash_after_commits = Some(2);
    let first = start(opts.clone()).join();
    assert_eq!((first.batches, first.written), (2, 100), "{first}");
    assert_eq!(pg.total(), 100, "both batches committed");
    let (floor, pending, _) = consumer_state(&server.url(), &nats, "arbline-record").unwrap();
    assert_eq!(
        (floor, pending),
        (50, 50),
        "the second batch was never acknowledged"
    );

    opts.crash_after_commits = None;
    let rec = start(opts);
    wait_all_acked(&server.url(), &nats, "arbline-record", 320);
    let second = rec.stop();
    assert_eq!(pg.total(), 320);
    check_rows_match_the_messages(&pg, 40);
    assert_eq!(second.written, 220, "{second}");
    assert!(
        second.duplicates >= 50 && second.redelivered >= 50,
        "the unacknowledged batch came again and was a no-op: {second}"
    );
}

#[test]
fn malformed_messages_are_kept_aside_and_do_not_block_the_stream() {
    let nats = NatsConfig::default();
    let server = NatsServer::start("record");
    let pg = PgSchema::create();
    create_stream(&server.url(), &nats);
    // The recorder creates missing tables; create them first here to add a rule the parser
    // cannot know, so the database itself refuses one row.
    for ddl in record::schema::ddl() {
        pg.exec(&ddl);
    }
    pg.exec("ALTER TABLE fills ADD CONSTRAINT positive_qty CHECK (qty > 0)");

    let mut msgs = every_kind(5);
    let (_, md) = event("md", 6);
    let bad: Vec<(&str, String, &str)> = vec![
        ("not json", "{\"kind\": \"md\", ".into(), "not JSON"),
        (
            "bad decimal",
            md.to_string().replace("\"0.5\"", "\"0,5\""),
            "`bid_qty`",
        ),
        (
            "unknown kind",
            md.to_string()
                .replace("\"kind\":\"md\"", "\"kind\":\"trade\""),
            "`kind`",
        ),
        (
            "refused by the database",
            event("fill", 6)
                .1
                .to_string()
                .replace("\"qty\":\"0.001\"", "\"qty\":\"0\""),
            "positive_qty",
        ),
    ];
    for (i, (_, payload, _)) in bad.iter().enumerate() {
        msgs.push((
            "exchange.max.l1book.spot.update.BTCTWD".into(),
            format!("bad-{i}"),
            payload.clone().into_bytes(),
        ));
    }
    msgs.extend(every_kind(8).into_iter().skip(8 * 5)); // seq 6..=8 after the bad ones
    publish(&server.url(), &msgs);

    let rec = start(options(&server.url(), &nats, &pg));
    wait_all_acked(&server.url(), &nats, "arbline-record", msgs.len() as u64);
    let c = rec.stop();

    assert_eq!(pg.total(), 8 * 8);
    assert_eq!((c.bad, c.written), (4, 64), "{c}");
    let rows = pg.query(
        "SELECT stream, stream_seq, subject, error, payload FROM bad_messages ORDER BY stream_seq",
    );
    assert_eq!(rows.len(), 4);
    for (i, (row, (name, payload, why))) in rows.iter().zip(&bad).enumerate() {
        assert_eq!(row.get::<_, String>(0), "ARBLINE");
        assert_eq!(
            row.get::<_, i64>(1),
            8 * 5 + 1 + i as i64,
            "{name}: after the 40 good ones"
        );
        assert_eq!(
            row.get::<_, String>(2),
            "exchange.max.l1book.spot.update.BTCTWD"
        );
        let error: String = row.get(3);
        assert!(error.contains(why), "{name}: {error}");
        assert_eq!(row.get::<_, Vec<u8>>(4), payload.as_bytes(), "{name}");
    }
}

#[test]
fn started_before_the_server_it_retries_then_creates_the_stream() {
    let nats = NatsConfig {
        subject_prefix: "paper.tw".into(),
        stream: "ARBLINE_PAPER".into(),
        ..NatsConfig::default()
    };
    let pg = PgSchema::create();
    // The port answers nothing NATS would: the recorder's first attempt is taken and hung up
    // on, the later ones are refused, until the server starts there.
    let early = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = early.local_addr().unwrap().port();
    let url = format!("nats://127.0.0.1:{port}");
    let rec = start(options(&url, &nats, &pg));
    early.set_nonblocking(true).unwrap();
    wait_for("the recorder's first connection attempt", 60, || {
        early.accept().is_ok()
    });
    drop(early);
    let server = NatsServer::start_on("record", port);

    let subjects = runtime().block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(server.url()).await.unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut s) = js.get_stream(&nats.stream).await {
                break s.info().await.unwrap().config.subjects.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the recorder did not create the stream"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(subjects, nats.stream_subjects());

    let msgs: Vec<_> = every_kind(3)
        .into_iter()
        .map(|(s, id, p)| (nats.subject(&s), id, p))
        .collect();
    publish(&server.url(), &msgs);
    wait_all_acked(&server.url(), &nats, "arbline-record", msgs.len() as u64);
    let c = rec.stop();
    assert_eq!(pg.total(), 24);
    assert!(c.reconnects >= 1, "{c}");
    let subject: String = pg.query("SELECT subject FROM fills WHERE seq = 1")[0].get(0);
    assert_eq!(subject, "paper.tw.order.max.filled.BTCUSDT");
}

#[test]
fn a_lost_database_connection_is_opened_again() {
    let nats = NatsConfig::default();
    let server = NatsServer::start("record");
    let pg = PgSchema::create();
    create_stream(&server.url(), &nats);
    let mut opts = options(&server.url(), &nats, &pg);
    let app = unique("arbline_record_test");
    let mut c = opts.pg.config().clone();
    c.application_name(&app);
    opts.pg = PgTarget::from_config(c);

    let msgs = every_kind(10);
    let (first, second) = msgs.split_at(40);
    publish(&server.url(), first);
    let rec = start(opts);
    wait_all_acked(&server.url(), &nats, "arbline-record", 40);
    // What a database restart or a failover does to the recorder's session.
    let killed = pg.query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
    ));
    assert_eq!(killed.len(), 1);
    publish(&server.url(), second);
    wait_all_acked(&server.url(), &nats, "arbline-record", 80);
    let c = rec.stop();
    assert_eq!(pg.total(), 80);
    check_rows_match_the_messages(&pg, 10);
    assert!(c.reconnects >= 1, "{c}");
}
