//! A configured market nothing serves is never silently dark: once `[engine] live_timeout_ms`
//! has passed, a `market_not_live` system event (and a warning) names it and its venue, the
//! live board and the summary say which books went live, and `arbline demo` names the markets
//! its simulator does not serve at start. Driven on the mocked engine clock (`SteppedEngine`).

#[path = "support/many_pairs.rs"]
mod many_pairs;
#[path = "support/stepped_engine.rs"]
mod stepped_engine;

use arbline::config::Config;
use arbline::model::{BookStatus, SystemKind, Telemetry, Venue};
use stepped_engine::SteppedEngine;

/// The example's markets plus one extra pair the simulator does not serve.
fn config_with_a_dark_pair() -> Config {
    let mut cfg = Config::from_toml(&many_pairs::with_pairs(
        &many_pairs::example_toml(),
        1,
        false,
    ))
    .unwrap();
    cfg.engine.live_timeout_ms = 2_000;
    cfg
}

#[test]
fn a_market_that_never_receives_data_is_named_with_its_venue() {
    let cfg = config_with_a_dark_pair();
    let (leader, max) = many_pairs::pair_symbols(0);
    let mut e = SteppedEngine::new(&cfg);
    let ins = e.built.instruments.clone();
    let dark: Vec<_> = ins
        .iter()
        .filter(|i| {
            i.symbol.as_str().eq_ignore_ascii_case(&leader)
                || i.symbol.as_str().eq_ignore_ascii_case(&max)
        })
        .map(|i| (i.venue, i.symbol.to_string(), i.id))
        .collect();
    assert_eq!(dark.len(), 2, "{dark:?}");
    let served: Vec<_> = ins
        .iter()
        .filter(|i| !dark.iter().any(|d| d.2 == i.id))
        .map(|i| i.id)
        .collect();
    e.run_until("every served book to go live", 5_000, true, |b| {
        served.iter().all(|&i| b.book.status(i) == BookStatus::Live)
    });
    // Drain what was said so far: nothing before the deadline.
    let mut events = Vec::new();
    let drain = |e: &SteppedEngine, out: &mut Vec<_>| {
        for rx in &e.built.side.rxs {
            while let Some(t) = rx.pop() {
                if let Telemetry::System(s) = t
                    && matches!(s.kind, SystemKind::MarketNotLive { .. })
                {
                    out.push(s);
                }
            }
        }
    };
    let before = e.now_ms;
    drain(&e, &mut events);
    if before < 2_000 {
        assert!(events.is_empty(), "named before its deadline: {events:?}");
    }
    e.run_ms(2_500, true);
    drain(&e, &mut events);
    let mut named: Vec<_> = events
        .iter()
        .map(|s| (s.venue, ins.get(s.instrument).symbol.to_string()))
        .collect();
    named.sort();
    let mut expected: Vec<_> = dark.iter().map(|d| (d.0, d.1.clone())).collect();
    expected.sort();
    assert_eq!(
        named, expected,
        "exactly the dark markets, each with its venue"
    );
    assert!(named.iter().any(|n| n.0 == Venue::BinanceFutures));
    assert!(named.iter().any(|n| n.0 == Venue::Max));
    assert!(
        events
            .iter()
            .all(|s| s.kind == SystemKind::MarketNotLive { after_ms: 2_000 })
    );
    // Once: a later check says nothing more.
    e.run_ms(1_000, true);
    let mut again = Vec::new();
    drain(&e, &mut again);
    assert!(again.is_empty(), "named once: {again:?}");
    // The live board agrees.
    let (live, configured) = e.built.books_live.count();
    assert_eq!((live, configured), (served.len(), ins.len()));
    for d in &dark {
        assert!(!e.built.books_live.ever_live(d.2));
    }
    let books = arbline::telemetry::summary::BookLiveness::from_board(&e.built.books_live, &ins);
    assert_eq!(books.went_live, served.len());
    assert_eq!(
        books.never_live,
        [
            format!("binance_futures {leader}"),
            format!("max {}", max.to_uppercase())
        ]
    );
}

#[test]
fn the_demo_names_the_markets_its_simulator_does_not_serve() {
    let cfg = config_with_a_dark_pair();
    let (leader, max) = many_pairs::pair_symbols(0);
    assert_eq!(
        arbline::demo::unserved_markets(&cfg),
        [format!("binance_futures {leader}"), format!("max {max}")]
    );
    let served = Config::from_toml(&many_pairs::with_pairs(
        &many_pairs::example_toml(),
        3,
        true,
    ))
    .unwrap();
    assert!(arbline::demo::unserved_markets(&served).is_empty());
}

/// As a user runs it: `arbline demo` with a pair its simulator does not serve names that
/// pair's markets at start, again in a warning (log file) and on the console once the deadline
/// has passed, and in the final summary; the other markets go live.
#[test]
fn the_demo_warns_of_a_dark_market_at_start_at_its_deadline_and_in_the_summary() {
    let dir = std::env::temp_dir().join(format!("arbline-dark-market-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let toml = many_pairs::with_pairs(&many_pairs::example_toml(), 1, false)
        .replace("live_timeout_ms = 15000", "live_timeout_ms = 1500")
        .replace("dir = \"logs\"", &format!("dir = {:?}", dir.join("logs")))
        .replace(
            "file_dir = \"events\"",
            &format!("file_dir = {:?}", dir.join("events")),
        )
        .replace("console = \"auto\"", "console = \"never\"");
    let cfg_path = dir.join("dark.toml");
    std::fs::write(&cfg_path, &toml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arbline"))
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .args(["demo", "--in-process", "--duration", "4s", "--config"])
        .arg(&cfg_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (leader, max) = many_pairs::pair_symbols(0);
    // At start: the simulator serves neither.
    let start = stdout
        .lines()
        .find(|l| l.contains("serves no data"))
        .unwrap_or_else(|| panic!("no start warning:\n{stdout}"));
    assert!(
        start.contains(&format!("binance_futures {leader}"))
            && start.contains(&format!("max {max}")),
        "{start}"
    );
    // At the deadline: a system event on the console for each, with its venue.
    for (venue, sym) in [
        ("binance_futures", leader.clone()),
        ("max", max.to_uppercase()),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("MARKET NOT LIVE") && l.contains(venue) && l.contains(&sym)),
            "no MARKET NOT LIVE line for {venue} {sym}:\n{stdout}"
        );
    }
    // The summary: every other book went live; these two never did.
    assert!(
        stdout.contains("books: 7 configured, 5 went live"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "NEVER LIVE: binance_futures {leader}, max {}",
            max.to_uppercase()
        )),
        "{stdout}"
    );
    // The warning in the log file names the market and its venue.
    let logs: String = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("arbline"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    let warned: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("configured market not live"))
        .collect();
    assert_eq!(warned.len(), 2, "{logs}");
    assert!(
        warned
            .iter()
            .any(|l| l.contains("venue=binance_futures") && l.contains(&format!("market={leader}"))),
        "{warned:?}"
    );
    assert!(
        warned
            .iter()
            .any(|l| l.contains("venue=max")
                && l.contains(&format!("market={}", max.to_uppercase()))),
        "{warned:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
