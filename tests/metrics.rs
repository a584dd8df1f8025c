//! `/metrics` of a running socket demo (issue 16): scraped twice over HTTP while the engine
//! trades, checked by Prometheus's own `promtool check metrics` (Debian's `prometheus` package;
//! `scripts/services` installs it), with the series an operator needs present, counters that
//! only grow, and values the engine's own summary confirms.

use arbline::config::Config;
use arbline::engine::DemoOptions;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("the metrics endpoint listens");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// `name{labels}` → value, for every sample line.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// The sum of a metric over all its label sets.
fn sum(m: &BTreeMap<String, f64>, name: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
        .map(|(_, v)| v)
        .sum()
}

fn promtool_check(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool on PATH (Debian's prometheus package: run scripts/services)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_running_demo_serves_metrics_prometheus_accepts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cfg = Config::default();
    cfg.metrics.addr = addr.clone();
    cfg.nats.file_dir = std::env::temp_dir()
        .join(format!("arbline-metrics-{}", std::process::id()))
        .to_string_lossy()
        .into_owned();
    let opts = DemoOptions {
        duration: Some(Duration::from_secs(120)),
        quiet: true,
        ..Default::default()
    };
    let mut scrapes: Vec<String> = Vec::new();
    let r = arbline::demo::run_over_sockets_until(&cfg, &opts, |c| {
        let want = if scrapes.is_empty() { 2 } else { 4 };
        if c.acks.get() >= want && c.fills.get() >= want / 2 {
            let (status, body) = get(&addr, "/metrics");
            assert_eq!(status, 200, "{body}");
            scrapes.push(body);
        }
        scrapes.len() == 2
    })
    .unwrap();
    assert_eq!(scrapes.len(), 2, "two scrapes while the engine traded");
    let (first, second) = (samples(&scrapes[0]), samples(&scrapes[1]));
    promtool_check(&scrapes[1]);
    for name in [
        "arbline_build_info",
        "arbline_md_events_total",
        "arbline_parse_errors_total",
        "arbline_signals_total",
        "arbline_orders_total",
        "arbline_acks_total",
        "arbline_fills_total",
        "arbline_trading_state",
        "arbline_position",
        "arbline_realized_pnl",
        "arbline_tick_to_trade_seconds_count",
        "arbline_tick_to_trade_seconds_bucket",
        "arbline_telemetry_dropped_total",
        "arbline_bus_delivered_total",
        "arbline_reconnects_total",
        "arbline_resyncs_total",
        "arbline_rest_weight_waits_total",
        "arbline_feed_md_events_total",
        "arbline_feed_parse_errors_total",
        "arbline_market_md_events_total",
        "arbline_telemetry_queued",
        "arbline_feed_up",
    ] {
        assert!(
            second
                .keys()
                .any(|k| k == name || k.starts_with(&format!("{name}{{"))),
            "{name} missing from:\n{}",
            scrapes[1]
        );
    }
    // Counters only grow; the engine did what the metrics say it did.
    for name in [
        "arbline_md_events_total",
        "arbline_orders_total",
        "arbline_acks_total",
        "arbline_fills_total",
        "arbline_signals_total",
    ] {
        assert!(sum(&second, name) >= sum(&first, name), "{name} went down");
    }
    assert!(sum(&second, "arbline_acks_total") >= 4.0);
    // Per venue and market: both venues' books received market data.
    for (venue, market) in [("max", "BTCUSDT"), ("binance_futures", "BTCUSDT")] {
        let k = format!(r#"arbline_market_md_events_total{{venue="{venue}",market="{market}"}}"#);
        assert!(
            second.get(&k).copied().unwrap_or(0.0) > 0.0,
            "{k} in:\n{}",
            scrapes[1]
        );
    }
    assert!(
        second[r#"arbline_feed_md_events_total{venue="max",stream="market_data"}"#] > 0.0,
        "{}",
        scrapes[1]
    );
    assert_eq!(
        second[r#"arbline_trading_state{state="active"}"#], 1.0,
        "trading is active"
    );
    let e = &r.summary.events;
    assert!(sum(&second, "arbline_md_events_total") <= e.md as f64);
    assert!(sum(&second, "arbline_orders_total") <= e.orders_sent as f64);
    assert!(sum(&second, "arbline_fills_total") <= e.fills as f64);
    assert_eq!(
        sum(&second, "arbline_tick_to_trade_seconds_count"),
        sum(&second, "arbline_orders_total"),
        "one tick_to_trade sample per order"
    );
    // Anything but /metrics is a 404 (asked of a fresh endpoint: the run's is gone).
    let registry = arbline::telemetry::metrics::Metrics::new(
        Default::default(),
        arbline::model::Instruments::new(),
        "t",
        arbline::pipeline::EngineClock::new(),
    )
    .registry();
    let server =
        arbline::telemetry::metrics_server::MetricsServer::start("127.0.0.1:0", registry).unwrap();
    let (status, _) = get(&server.addr().to_string(), "/");
    assert_eq!(status, 404);
    let (status, body) = get(&server.addr().to_string(), "/metrics");
    assert_eq!(status, 200);
    promtool_check(&body);
    server.stop();
}

#[test]
fn a_bad_metrics_address_is_refused_at_start() {
    let mut cfg = Config::default();
    cfg.metrics.addr = "localhost-9464".into();
    let e = cfg.validate().unwrap_err();
    assert!(e.to_string().contains("metrics.addr"), "{e}");
}
