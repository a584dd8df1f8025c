//! MAX k-lines: the parser on real fixtures and malformed input, the client's checks, paging a
//! range against the simulator (`MaxRestSim`), and the `arbline klines` binary end to end.

use arbline::model::Fixed;
use arbline::sim::klines::KLINE_EPOCH_S;
use arbline::sim::max_rest::{MaxRestSim, SimMarket};
use arbline::venue::ParseError;
use arbline::venue::max::kline::{CSV_HEADER, csv_row, fetch_range, parse_klines};
use arbline::venue::max::rest_client::{MaxRestClient, RestError};
use arbline::venue::max::{Kline, MaxSigner};
use std::time::Duration;

#[path = "support/max_fixture.rs"]
mod max_fixture;
use max_fixture::fixture;

fn fx(s: &str) -> Fixed {
    Fixed::parse(s).unwrap()
}

fn contiguous(ks: &[Kline], step: u64) {
    for w in ks.windows(2) {
        assert_eq!(
            w[1].ts_s,
            w[0].ts_s + step,
            "gap or duplicate after {}",
            w[0].ts_s
        );
    }
}

#[test]
fn parses_bbgo_v3_period60() {
    let ks = parse_klines(&fixture("rest_v3_k_btcusdt_period60_bbgo.json")).unwrap();
    assert_eq!(ks.len(), 56);
    assert_eq!(
        ks[0],
        Kline {
            ts_s: 1_769_904_000,
            open: fx("81055.54"),
            high: fx("81055.54"),
            low: fx("78527.92"),
            close: fx("78540.65"),
            volume: fx("0.0085"),
        }
    );
    assert_eq!(ks[1].volume, Fixed::ZERO);
    assert_eq!(ks[55].ts_s, 1_770_102_000);
    assert_eq!(ks[55].close, fx("78033.11"));
    contiguous(&ks, 3600);
}

#[test]
fn parses_node_v3_pretty_printed() {
    let ks = parse_klines(&fixture("rest_v3_k_node.json")).unwrap();
    assert_eq!(ks.len(), 10);
    assert_eq!(ks[0].ts_s, 1_728_010_920);
    assert_eq!(ks[9].ts_s, 1_728_011_460);
    assert!(
        ks.iter()
            .all(|k| k.open == fx("1944444.4") && k.volume.is_zero())
    );
    contiguous(&ks, 60);
}

#[test]
fn parses_rs_v2() {
    let ks = parse_klines(&fixture("rest_v2_k_btctwd_rs.json")).unwrap();
    assert_eq!(ks.len(), 10);
    assert_eq!(ks[2].ts_s, 1_636_257_720);
    assert_eq!(ks[2].open, fx("1735077.9"));
    assert_eq!(ks[2].high, fx("1738000"));
    assert_eq!(ks[2].low, fx("1735077.9"));
    assert_eq!(ks[2].close, fx("1738000.0"));
    assert_eq!(ks[2].volume, fx("0.2874"));
    assert_eq!(ks[9].volume, fx("0.0097"));
    contiguous(&ks, 60);
}

#[test]
fn strings_and_empty_are_accepted() {
    let ks = parse_klines(br#"[["1700000000","1.5","2","1","1.25","0.00000001"]]"#).unwrap();
    assert_eq!(ks[0].ts_s, 1_700_000_000);
    assert_eq!(ks[0].volume, Fixed(1));
    assert_eq!(parse_klines(b" [ ] ").unwrap(), vec![]);
}

#[test]
fn malformed_input_is_a_typed_error() {
    let bad_dec = |body: &[u8], want: &str| match parse_klines(body) {
        Err(ParseError::BadDecimal { field, .. }) => assert_eq!(field, want),
        other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
    };
    bad_dec(b"[[1,1.2e-5,1,1,1,1]]", "open");
    bad_dec(b"[[1,1,1,1,1,0.000000001]]", "volume");
    bad_dec(br#"[[1,1,"NaN",1,1,1]]"#, "high");
    assert_eq!(parse_klines(b"[[1,1,NaN,1,1,1]]"), Err(ParseError::Json));
    bad_dec(b"[[1,1,1,1,99999999999999999999,1]]", "close");
    for body in [
        &b""[..],
        b"{}",
        b"[[1,1,1,1,1]]",
        b"[[1,1,1,1,1,1,1]]",
        b"[[1,1,1,1,1,1]",
        b"[[1,1,1,1,1,1]] x",
        b"[[1,1,1,1,1,1],]",
        b"[1,1,1,1,1,1]",
        b"[[1,\"1,1,1,1,1]]",
    ] {
        assert_eq!(
            parse_klines(body),
            Err(ParseError::Json),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!(
        parse_klines(b"[[-1,1,1,1,1,1]]"),
        Err(ParseError::BadValue("timestamp"))
    );
    assert_eq!(
        parse_klines(b"[[1,1,1,1,1,-1]]"),
        Err(ParseError::BadValue("volume"))
    );
    // high below the close
    assert_eq!(
        parse_klines(b"[[1,1,1.5,1,2,1]]"),
        Err(ParseError::BadValue("high/low"))
    );
}

fn sim() -> MaxRestSim {
    MaxRestSim::start("127.0.0.1:0", &[], vec![SimMarket::usdttwd()]).unwrap()
}

fn client(sim: &MaxRestSim) -> MaxRestClient {
    MaxRestClient::new(
        &sim.base_url(),
        MaxSigner::new("", ""),
        Duration::from_secs(5),
    )
}

#[test]
fn client_refuses_bad_period_and_limit_unsent() {
    let c = MaxRestClient::new(
        "http://127.0.0.1:9",
        MaxSigner::new("", ""),
        Duration::from_millis(200),
    );
    for (p, l, want) in [
        (7, 10, "period 7"),
        (0, 10, "period 0"),
        (60, 0, "limit 0 "),
        (60, 10_001, "limit 10001 "),
    ] {
        match c.klines("usdttwd", p, Some(0), l) {
            Err(RestError::Invalid(m)) => assert!(m.contains(want), "{p} {l}: {m}"),
            other => panic!("{p} {l}: {other:?}"),
        }
    }
}

#[test]
fn sim_serves_candles_from_timestamp() {
    let sim = sim();
    let c = client(&sim);
    let from = KLINE_EPOCH_S + 3600 * 5 + 1; // not on a boundary: the next one is first
    let ks = c.klines("usdttwd", 60, Some(from), 50).unwrap();
    assert_eq!(ks.len(), 50);
    assert_eq!(ks[0].ts_s, KLINE_EPOCH_S + 3600 * 6);
    contiguous(&ks, 3600);
    for w in ks.windows(2) {
        assert_eq!(w[1].open, w[0].close);
    }
    for k in &ks {
        assert!(k.high >= k.open.max(k.close) && k.low <= k.open.min(k.close));
        assert!(k.volume.raw() > 0);
        assert_eq!(k.ts_s % 3600, 0);
    }
    // Default limit 30, latest candles up to now.
    let latest = c.klines("usdttwd", 1, None, 30).unwrap();
    assert_eq!(latest.len(), 30);
    // Unknown market and bad parameters: MAX's error JSON, HTTP 400, code 1001.
    match c.klines("nosuch", 60, Some(from), 10) {
        Err(RestError::Api(e)) => {
            assert_eq!((e.http_status, e.code), (400, Some(1001)));
            assert!(e.message.contains("market"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    let raw = |q: &str| {
        let mut r = ureq::get(format!("{}/api/v3/k?{q}", sim.base_url()))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    for q in [
        "market=usdttwd&period=7",
        "market=usdttwd&limit=0",
        "market=usdttwd&limit=10001",
        "market=usdttwd&timestamp=x",
    ] {
        let (status, body) = raw(q);
        assert_eq!(status, 400, "{q}");
        assert!(body.contains("\"code\":1001"), "{q}: {body}");
    }
}

#[test]
fn fetch_range_pages_without_gaps_or_duplicates() {
    let sim = sim();
    let c = client(&sim);
    // 2026-01-01 .. 2026-01-04 hourly: 72 candles through pages of 10 (the last one short).
    let (from, to) = (KLINE_EPOCH_S, KLINE_EPOCH_S + 72 * 3600);
    let mut got = Vec::new();
    let n = fetch_range(&c, "usdttwd", 60, from, to, 10, &mut |k| got.push(*k)).unwrap();
    assert_eq!(n, 72);
    assert_eq!(got.len(), 72);
    assert_eq!(got[0].ts_s, from);
    assert_eq!(got[71].ts_s, to - 3600);
    contiguous(&got, 3600);
    // The same range in one request gives the same candles.
    let once = c.klines("usdttwd", 60, Some(from), 72).unwrap();
    assert_eq!(once, got);
    // Pages that end exactly at `to` (a full last page) and a range starting mid-period.
    let mut exact = Vec::new();
    fetch_range(&c, "usdttwd", 60, from, from + 20 * 3600, 10, &mut |k| {
        exact.push(*k)
    })
    .unwrap();
    assert_eq!(exact[..], got[..20]);
    let mut mid = Vec::new();
    fetch_range(
        &c,
        "usdttwd",
        60,
        from + 1800,
        from + 5 * 3600,
        2,
        &mut |k| mid.push(*k),
    )
    .unwrap();
    assert_eq!(mid[..], got[1..5]);

    // CSV rows: header plus one line per candle.
    let mut csv = format!("{CSV_HEADER}\n");
    for k in &got {
        csv.push_str(&csv_row(k));
        csv.push('\n');
    }
    assert_eq!(csv.lines().count(), 73);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("1767225600,2026-01-01T00:00:00Z,"),
        "{csv}"
    );

    // Clear errors: unknown market, empty range, bad period.
    let err = fetch_range(&c, "nosuch", 60, from, to, 10, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("market"), "{err}");
    match fetch_range(&c, "usdttwd", 60, to, from, 10, &mut |_| {}) {
        Err(RestError::Invalid(m)) => assert!(m.contains("empty range"), "{m}"),
        other => panic!("a reversed range: {other:?}"),
    }
    match fetch_range(&c, "usdttwd", 7, from, to, 10, &mut |_| {}) {
        Err(RestError::Invalid(m)) => assert!(m.contains("period 7"), "{m}"),
        other => panic!("a bad period: {other:?}"),
    }
}

fn arbline(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_arbline"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_writes_csv_and_reports_errors() {
    let sim = sim();
    let url = sim.base_url();
    let dir = std::env::temp_dir().join(format!("arbline-klines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("k.csv");
    let o = arbline(&[
        "klines",
        "--market",
        "usdttwd",
        "--period",
        "15",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-03T00:00:00Z",
        "--out",
        out.to_str().unwrap(),
        "--rest-url",
        &url,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), 1 + 2 * 96);
    assert!(lines[1].starts_with("1767225600,2026-01-01T00:00:00Z,"));
    assert!(
        lines[192].starts_with("1767397500,2026-01-02T23:45:00Z,"),
        "{}",
        lines[192]
    );

    // stdout, Unix seconds
    let o = arbline(&[
        "klines",
        "--market",
        "usdttwd",
        "--period",
        "60",
        "--from",
        "1767225600",
        "--to",
        "1767240000",
        "--rest-url",
        &url,
    ]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1 + 4);

    for (args, want) in [
        (vec!["--market", "nosuch", "--from", "2026-01-01"], "market"),
        (
            vec![
                "--market",
                "usdttwd",
                "--from",
                "2026-01-02",
                "--to",
                "2026-01-01",
            ],
            "not before",
        ),
        (
            vec!["--market", "usdttwd", "--from", "2026-02-30"],
            "--from",
        ),
        (
            vec![
                "--market",
                "usdttwd",
                "--from",
                "2026-01-01",
                "--period",
                "7",
            ],
            "--period",
        ),
    ] {
        let mut a = vec!["klines", "--rest-url", &url];
        a.extend(args);
        let o = arbline(&a);
        assert_eq!(o.status.code(), Some(1), "{a:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{a:?}: {err}");
        assert!(o.stdout.is_empty(), "{a:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
