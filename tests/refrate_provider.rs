//! The reference-rate provider over real HTTP against the simulator's rate routes: the bank
//! first, TAIFEX when the bank is down, the day's cache when both are.

use arbline::model::Fixed;
use arbline::sim::max_rest::MaxRestSim;
use arbline::venue::refrate::provider::{Origin, RefRateConfig, RefRateProvider};

fn cfg(url: String, fallback: String, dir: &std::path::Path) -> RefRateConfig {
    RefRateConfig {
        url,
        fallback_url: fallback,
        cache_dir: dir.display().to_string(),
        poll_interval_s: 60,
        timeout_ms: 2000,
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("arbline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn bank_then_taifex_then_the_days_cache() {
    let sim = MaxRestSim::start("127.0.0.1:0", &[], vec![]).unwrap();
    sim.set_ref_rate(Fixed::parse("31.62").unwrap());
    let dir = temp("rate-chain");
    let bank = format!("{}/xrt/flcsv/0/day", sim.base_url());
    let taifex = format!("{}/v1/DailyForeignExchangeRates", sim.base_url());
    let p = RefRateProvider::new(&cfg(bank.clone(), taifex.clone(), &dir)).unwrap();
    let (q, o) = p.fetch(20261124).unwrap();
    assert_eq!(
        (q.mid, q.buy, q.sell, o),
        (
            Fixed::parse("31.62").unwrap(),
            Fixed::parse("31.545").unwrap(),
            Fixed::parse("31.695").unwrap(),
            Origin::BankOfTaiwan
        )
    );
    assert!(
        q.board_time_ms.is_some(),
        "board time from Content-Disposition"
    );

    // The bank unreachable: TAIFEX.
    let p2 = RefRateProvider::new(&cfg(
        "http://127.0.0.1:1/xrt/flcsv/0/day".into(),
        taifex.clone(),
        &dir,
    ))
    .unwrap();
    let (q2, o2) = p2.fetch(20261124).unwrap();
    assert_eq!(
        (q2.mid, o2),
        (Fixed::parse("31.62").unwrap(), Origin::Taifex)
    );

    // Both down (HTTP 503 HTML): the day's cache, with both failures reported.
    sim.set_ref_down(true);
    let (q3, o3) = p.fetch(20261124).unwrap();
    assert_eq!(q3.mid, Fixed::parse("31.62").unwrap());
    match o3 {
        Origin::Cache { failures } => assert!(
            failures.len() == 2 && failures.iter().all(|f| f.contains("503")),
            "{failures:?}"
        ),
        o => panic!("expected the cache, got {o:?}"),
    }
    // Another day: no cache to fall back on.
    let e = p.fetch(20261125).unwrap_err().to_string();
    assert!(
        e.contains("no USD/TWD reference rate") && e.contains("503"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_urls_are_config_errors() {
    let dir = temp("rate-cfg");
    let e = RefRateProvider::new(&cfg("ftp://x".into(), String::new(), &dir))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("refrate.url"), "{e}");
}

#[test]
fn the_refrate_feed_publishes_the_fetched_rate_on_the_md_ring_and_reports_a_dead_source() {
    use arbline::feed::refrate_feed::RefRateFeed;
    use arbline::model::{InstrumentId, MdKind, Venue};
    use arbline::pipeline::{EngineClock, Rings, Shutdown};
    let sim = MaxRestSim::start("127.0.0.1:0", &[], vec![]).unwrap();
    sim.set_ref_rate(Fixed::parse("32.08").unwrap());
    let dir = temp("rate-feed");
    let c = cfg(
        format!("{}/xrt/flcsv/0/day", sim.base_url()),
        String::new(),
        &dir,
    );
    let rings = Rings::new(arbline::config::Config::default().ring_sizes());
    let (md, mut md_poll) = rings.md;
    let (tx, rx) = arbline::telemetry::telemetry_queue("refrate", 16);
    let clock = EngineClock::new();
    let capture = arbline::capture::capture_queue(4, clock.clone());
    let mut feed = RefRateFeed {
        provider: RefRateProvider::new(&c).unwrap(),
        instrument: InstrumentId(4),
        symbol: "USDTWD".into(),
        capture: Some(capture.clone()),
        md,
        clock,
        shutdown: Shutdown::new(),
        tele: tx,
        interval: std::time::Duration::from_secs(60),
        failures: 0,
    };
    assert!(feed.fetch_once());
    assert_eq!(
        capture.counts().captured,
        1,
        "the published rate is captured"
    );
    let mut got = Vec::new();
    if let Ok(mut evs) = md_poll.take(8) {
        for ev in &mut evs {
            got.push(*ev);
        }
    }
    assert_eq!(got.len(), 1);
    let ev = got[0];
    assert_eq!(
        (ev.kind, ev.venue, ev.instrument, ev.levels[0].price),
        (
            MdKind::RefRate,
            Venue::RefRate,
            InstrumentId(4),
            Fixed::parse("32.08").unwrap()
        )
    );
    // Every source down and nothing cached for a new directory: no event, a report.
    sim.set_ref_down(true);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!feed.fetch_once());
    assert_eq!(feed.failures, 1);
    assert!(
        rx.pop().is_some(),
        "the failure is reported to the side thread"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
