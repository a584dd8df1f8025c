//! A real Prometheus server (Debian's `prometheus` package, installed by `scripts/services`)
//! scrapes a running socket demo's `/metrics` every half second; after the run, its HTTP API
//! holds the market data, orders, fills and tick_to_trade series with the values the engine's
//! own summary printed at the end (issue 16). The dashboard in `monitoring/grafana/` is checked
//! to ask only for series the engine exports.

use arbline::config::Config;
use arbline::engine::DemoOptions;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Prometheus server on a free port, scraping `target` every 500 ms; killed on drop.
struct Prometheus {
    child: Child,
    api: String,
    dir: PathBuf,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("arbline-prometheus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: arbline\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus on PATH (Debian's prometheus package: run scripts/services)");
        let p = Prometheus {
            child,
            api: format!("http://127.0.0.1:{port}"),
            dir,
        };
        // Ready when its API answers.
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/-/ready", p.api)).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "prometheus did not start within 60 s: see {}",
                p.dir.join("prometheus.log").display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        p
    }

    /// The value of an instant `query` (summed over its series); None without a result.
    fn query(&self, query: &str) -> Option<f64> {
        let mut resp = ureq::get(&format!("{}/api/v1/query", self.api))
            .query("query", query)
            .call()
            .ok()?;
        let text = resp.body_mut().read_to_string().ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let results = v["data"]["result"].as_array()?;
        if results.is_empty() {
            return None;
        }
        results
            .iter()
            .map(|r| r["value"][1].as_str().and_then(|s| s.parse::<f64>().ok()))
            .sum()
    }
}

impl Prometheus {
    /// The API's view of its targets (health, last error), for a failure's message.
    fn targets(&self) -> String {
        ureq::get(&format!("{}/api/v1/targets", self.api))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn prometheus_scrapes_the_demo_and_holds_the_values_of_its_summary() {
    let addr = format!("127.0.0.1:{}", free_port());
    let prometheus = Prometheus::start(&addr);
    // Prometheus takes its targets up a few seconds after it starts: the engine (whose run here
    // lasts seconds) starts once the target has been tried (it is down until then).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !prometheus.targets().contains("\"health\":\"down\"") {
        assert!(
            Instant::now() < deadline,
            "prometheus never tried its target: {}",
            prometheus.targets()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut cfg = Config::default();
    cfg.metrics.addr = addr;
    // Long enough after the run for two scrapes of the final values.
    cfg.metrics.linger_ms = 1500;
    cfg.nats.file_dir = std::env::temp_dir()
        .join(format!("arbline-prometheus-events-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let opts = DemoOptions {
        duration: Some(Duration::from_secs(120)),
        quiet: true,
        ..Default::default()
    };
    let r = arbline::demo::run_over_sockets_until(&cfg, &opts, |c| {
        c.md.get() > 5_000 && c.acks.get() >= 3 && c.fills.get() >= 1
    })
    .unwrap();
    let e = &r.summary.events;
    assert!(e.orders_sent >= 3 && e.fills >= 1, "{e:?}");
    // Counters only grow: the largest value stored is the final one. (The target is gone now,
    // so an instant query of the metric itself is stale; a range over the run is not.)
    let expect = [
        ("sum(max_over_time(arbline_md_events_total[10m]))", e.md),
        // The same count kept per venue by the feeds' running totals.
        (
            "sum(max_over_time(arbline_feed_md_events_total[10m]))",
            e.md,
        ),
        (
            "sum(max_over_time(arbline_orders_total[10m]))",
            e.orders_sent,
        ),
        ("sum(max_over_time(arbline_acks_total[10m]))", e.acks),
        ("sum(max_over_time(arbline_fills_total[10m]))", e.fills),
        ("sum(max_over_time(arbline_signals_total[10m]))", e.signals),
        (
            "sum(max_over_time(arbline_tick_to_trade_seconds_count[10m]))",
            e.orders_sent,
        ),
    ];
    // Each stage's own histogram: as many samples as the summary's latency table counts.
    let stage_queries: Vec<(String, u64)> = [
        ("parse", arbline::telemetry::Segment::Parse),
        ("book", arbline::telemetry::Segment::Book),
        ("scan", arbline::telemetry::Segment::Scan),
        ("order", arbline::telemetry::Segment::Order),
        ("tick_to_trade", arbline::telemetry::Segment::TickToTrade),
    ]
    .into_iter()
    .map(|(stage, seg)| {
        (
            format!(
                "sum(max_over_time(arbline_stage_latency_samples_total{{stage=\"{stage}\"}}[10m]))"
            ),
            r.latency.percentiles(seg).count,
        )
    })
    .collect();
    let expect: Vec<(&str, u64)> = expect
        .iter()
        .copied()
        .chain(stage_queries.iter().map(|(q, n)| (q.as_str(), *n)))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: Vec<Option<f64>> = expect.iter().map(|(q, _)| prometheus.query(q)).collect();
        let equal = got
            .iter()
            .zip(&expect)
            .all(|(g, (_, want))| *g == Some(*want as f64));
        if equal {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus's series vs the summary after 60 s: {:?}\ntargets: {}",
            expect
                .iter()
                .zip(&got)
                .map(|((q, want), g)| format!("{q}: {g:?} (summary {want})"))
                .collect::<Vec<_>>(),
            prometheus.targets()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // The book stage's p99 as the stage itself computed it: within the run's range.
    let book_p99 = prometheus
        .query(r#"max(max_over_time(arbline_stage_latency_p99_seconds{stage="book"}[10m]))"#)
        .expect("the book stage's p99");
    assert!(book_p99 > 0.0 && book_p99 < 10.0, "{book_p99}");
    // tick_to_trade's p50 as Prometheus computes it from the buckets: within the run's range.
    let p50 = prometheus
        .query("histogram_quantile(0.5, sum by (le) (max_over_time(arbline_tick_to_trade_seconds_bucket[10m])))")
        .expect("a tick_to_trade p50");
    assert!(p50 > 0.0 && p50 < 10.0, "{p50}");
}

/// Every metric name a Grafana expression asks for.
fn dashboard_metric_names() -> BTreeSet<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/monitoring/grafana/arbline.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k == "expr"
                        && let Some(s) = v.as_str()
                    {
                        out.push(s.to_string());
                    }
                    walk(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&json, &mut exprs);
    assert!(exprs.len() >= 8, "the dashboard has its panels: {exprs:?}");
    exprs
        .iter()
        .flat_map(|e| {
            e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("arbline_"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_dashboard_asks_only_for_series_the_engine_exports() {
    // What a registry with every family touched once encodes: the names a scrape can have.
    let mut m = arbline::telemetry::metrics::Metrics::new(
        Default::default(),
        arbline::model::Instruments::new(),
        "t",
        arbline::pipeline::EngineClock::new(),
    );
    m.touch_every_family();
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &m.registry()).unwrap();
    let exported: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect();
    let asked = dashboard_metric_names();
    let unknown: Vec<&String> = asked.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard asks for series the engine does not export: {unknown:?}\nexported: {exported:?}"
    );
    for must in [
        "arbline_feed_md_events_total",
        "arbline_tick_to_trade_seconds_bucket",
        "arbline_trading_state",
        "arbline_fills_total",
        "arbline_position",
    ] {
        assert!(asked.contains(must), "the dashboard shows {must}");
    }
}
