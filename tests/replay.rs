//! `--capture` then `arbline replay`: a socket demo captured and replayed through the same
//! stages (signals equal to the live run's), determinism (two replays, identical bytes) and a
//! torn capture replayed up to its tear.

#[path = "support/events_tail.rs"]
mod events_tail;

use arbline::capture::CaptureReader;
use arbline::config::Config;
use arbline::engine::DemoOptions;
use arbline::replay::run::{ReplayOptions, ReplayRun, replay};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The live run's signals, as (seq, strategy, market, side, price, qty).
type SignalRow = (u64, String, String, String, String, String);

/// Positions and limits that never bind: a strategy's signals then depend on market data
/// alone, which a replay reproduces. (Where they bind, fills decide the position, and the
/// replay's simulated venue fills differently from the simulator's: its queue and latency
/// models are not the simulator's matching engine, so later signals would differ.)
fn non_binding(cfg: &mut Config) {
    for a in &mut cfg.scanner.arbitrage {
        a.max_position = "1000".into();
        a.allow_short = true;
    }
    cfg.scanner.stable_coin.max_position = "100000000".into();
    cfg.scanner.stable_coin.allow_short = true;
    for a in &mut cfg.risk.allocations {
        a.max_position = "100000000".into();
        a.allow_short = true;
    }
    cfg.risk.max_portfolio_exposure_usdt = 1e12;
    cfg.risk.max_loss_usdt = 1e12;
    cfg.risk.reduce_only_loss_usdt = 1e12;
    cfg.risk.max_open_orders = 10_000;
    // One md ring: the book stage sees every venue's frames in the order the feeds read them,
    // which is the order they were captured in (`pipeline.md_ring_per_feed`).
    cfg.pipeline.md_ring_per_feed = false;
}

struct Captured {
    cfg: Config,
    dir: PathBuf,
    live: Vec<SignalRow>,
}

/// One socket demo, captured, shared by the tests of this file.
fn captured() -> &'static Captured {
    static C: OnceLock<Captured> = OnceLock::new();
    C.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("arbline-replay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let mut cfg = Config::default();
        non_binding(&mut cfg);
        cfg.nats.file_dir = root.join("events").to_string_lossy().into_owned();
        let dir = root.join("capture");
        let opts = DemoOptions {
            duration: Some(Duration::from_secs(120)),
            quiet: true,
            capture: Some(dir.clone()),
            ..Default::default()
        };
        let r = arbline::demo::run_over_sockets_until(&cfg, &opts, |c| {
            c.signals.get() >= 12 && c.acks.get() >= 4
        })
        .unwrap();
        assert!(r.summary.events.signals >= 12, "{:?}", r.summary.events);
        assert_eq!(
            r.summary.events.telemetry_dropped, 0,
            "every live signal reached the events file"
        );
        let report = r.capture.expect("the run captured");
        assert!(report.error.is_none(), "{report}");
        assert_eq!(report.counts.dropped, 0, "{report}");
        let mut live = Vec::new();
        let mut tail = events_tail::EventsTail::new(Path::new(&cfg.nats.file_dir));
        tail.poll(|v| {
            if v["kind"] == "signal" {
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                live.push((
                    v["seq"].as_u64().unwrap(),
                    s("strategy"),
                    s("symbol"),
                    s("side"),
                    s("price"),
                    s("qty"),
                ));
            }
        });
        assert_eq!(live.len() as u64, r.summary.events.signals);
        Captured { cfg, dir, live }
    })
}

fn signals_of(run: &ReplayRun) -> Vec<SignalRow> {
    run.journal
        .signals_csv()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].parse().unwrap(),
                f[2].to_string(),
                f[3].to_string(),
                f[6].to_string(),
                f[8].to_string(),
                f[9].to_string(),
            )
        })
        .collect()
}

#[test]
fn a_captured_demo_replays_to_the_signals_the_live_run_produced() {
    let c = captured();
    let run = replay(&c.cfg, &c.dir, &ReplayOptions::default()).unwrap();
    assert!(run.tear.is_none());
    assert_eq!(run.feed.parse_errors, 0, "{:?}", run.feed);
    assert!(
        run.feed.not_replayed > 0,
        "private frames and order answers were captured"
    );
    let replayed = signals_of(&run);
    assert!(!replayed.is_empty());
    assert_eq!(replayed, c.live, "the replay's signals are the live run's");
    // The simulated venue answered every order (the venue model decides fills, not signals).
    let j = run.journal.counts();
    assert!(j.orders > 0 && j.acks + j.rejects >= j.orders, "{j:?}");
}

fn outputs(run: &ReplayRun, cfg: &Config, dir: &Path, out: &Path) -> Vec<(String, Vec<u8>)> {
    use arbline::replay::output::{ReplaySummary, write_outputs};
    let files = arbline::capture::capture_files(dir).unwrap();
    let summary = ReplaySummary::new(run, cfg, &files);
    let written = write_outputs(run, &summary, out, arbline::report::Format::Svg).unwrap();
    written
        .iter()
        .filter(|p| !p.to_string_lossy().contains("compute"))
        .map(|p| {
            let mut bytes = std::fs::read(p).unwrap();
            if p.ends_with("summary.json") {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                v["run_id"] = serde_json::Value::Null;
                bytes = serde_json::to_vec_pretty(&v).unwrap();
            }
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

#[test]
fn two_replays_of_one_capture_write_identical_bytes() {
    let c = captured();
    let out = c.dir.with_file_name("determinism");
    let a = replay(&c.cfg, &c.dir, &ReplayOptions::default()).unwrap();
    let b = replay(&c.cfg, &c.dir, &ReplayOptions::default()).unwrap();
    let (fa, fb) = (
        outputs(&a, &c.cfg, &c.dir, &out.join("a")),
        outputs(&b, &c.cfg, &c.dir, &out.join("b")),
    );
    assert!(a.journal.counts().orders > 0, "the replay traded");
    assert_eq!(
        fa.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "summary.json",
            "orders.csv",
            "signals.csv",
            "pnl.csv",
            "pnl.svg"
        ]
    );
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(x == y, "{name} differs between two replays");
    }
}

#[test]
fn a_torn_capture_replays_up_to_the_tear_and_says_where() {
    let c = captured();
    let torn = c.dir.with_file_name("torn");
    let _ = std::fs::remove_dir_all(&torn);
    std::fs::create_dir_all(&torn).unwrap();
    let files = arbline::capture::capture_files(&c.dir).unwrap();
    let last = files.last().unwrap();
    for f in &files {
        std::fs::copy(f, torn.join(f.file_name().unwrap())).unwrap();
    }
    // A crash mid-write: the last file loses its footer and the end of its last block.
    let bytes = std::fs::read(last).unwrap();
    let cut = bytes.len() * 2 / 3;
    std::fs::write(torn.join(last.file_name().unwrap()), &bytes[..cut]).unwrap();
    let whole: u64 = CaptureReader::open(&c.dir)
        .unwrap()
        .map(|f| f.map(|_| 1u64).unwrap())
        .sum();
    let mut cfg = c.cfg.clone();
    cfg.replay.latency = "3ms".into();
    let run = replay(&cfg, &torn, &ReplayOptions::default()).unwrap();
    let tear = run.tear.as_ref().expect("the tear is reported");
    assert!(
        tear.to_string()
            .contains(&*last.file_name().unwrap().to_string_lossy()),
        "{tear}"
    );
    assert!(
        run.frames > 0 && run.frames < whole,
        "{} of {whole}",
        run.frames
    );
}

#[test]
fn a_sweep_has_one_row_per_combination_each_equal_to_its_single_replay() {
    use arbline::replay::sweep::{DEFAULT_CONFIG_TOML, Setting, SweepRow, config_for, grid, sweep};
    let c = captured();
    let sets: Vec<Setting> = vec![
        "scanner.arbitrage.edge_bps=5,15".parse().unwrap(),
        "replay.latency=1ms,20ms".parse().unwrap(),
    ];
    let opts = ReplayOptions::default();
    let rows = sweep(DEFAULT_CONFIG_TOML, &c.dir, &opts, &sets, 2).unwrap();
    let combos = grid(&sets);
    assert_eq!(rows.len(), 4);
    for (row, combo) in rows.iter().zip(&combos) {
        assert_eq!(&row.combination, combo);
        let cfg = config_for(DEFAULT_CONFIG_TOML, combo).unwrap();
        let single = replay(&cfg, &c.dir, &opts).unwrap();
        assert_eq!(row, &SweepRow::of(combo.clone(), &single), "{combo:?}");
    }
    assert!(rows.iter().any(|r| r.orders > 0), "{rows:?}");
    assert!(
        rows[0].signals >= rows[2].signals,
        "a higher edge never finds more signals: {rows:?}"
    );
    let table = arbline::replay::sweep::table(&rows);
    assert_eq!(table.lines().count(), 5, "{table}");
}

#[test]
fn arbline_capture_records_market_data_only_and_the_capture_replays() {
    use arbline::capture::FrameKind;
    use arbline::model::Venue;
    let root = std::env::temp_dir().join(format!("arbline-md-capture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut cfg = Config::default();
    cfg.sim.use_free_ports();
    // The simulator wants a key for its private side; the capture never uses one.
    let servers = arbline::sim::servers::SimServers::start(&cfg, &[("k", "s")]).unwrap();
    servers.point(&mut cfg);
    cfg.refrate.cache_dir = root.join("refrate").to_string_lossy().into_owned();
    cfg.nats.file_dir = root.join("events").to_string_lossy().into_owned();
    let dir = root.join("capture");
    let opts = DemoOptions {
        duration: Some(Duration::from_secs(120)),
        quiet: true,
        capture: Some(dir.clone()),
        ..Default::default()
    };
    let r =
        arbline::engine::run_with_until(&cfg, &opts, arbline::engine::Venues::MarketData, |c| {
            c.md.get() >= 3000
        })
        .unwrap();
    let e = &r.summary.events;
    assert!(e.md >= 3000, "{e:?}");
    assert_eq!((e.signals, e.orders_sent), (0, 0), "nothing trades: {e:?}");
    let info = arbline::capture::info(&dir, 5_000_000_000).unwrap();
    let count = |v, k| info.per_venue_kind.get(&(v, k)).copied().unwrap_or(0);
    assert!(count(Venue::Max, FrameKind::WsText) > 0, "{info}");
    assert!(
        count(Venue::BinanceFutures, FrameKind::WsText) > 0,
        "{info}"
    );
    assert!(
        count(Venue::BinanceFutures, FrameKind::RestSnapshot) > 0,
        "{info}"
    );
    assert!(count(Venue::RefRate, FrameKind::RefRate) > 0, "{info}");
    assert_eq!(count(Venue::Max, FrameKind::Private), 0, "{info}");
    assert_eq!(count(Venue::Max, FrameKind::OrderAnswer), 0, "{info}");
    // No order answers to draw latencies from: the replay says so, then runs with a constant.
    let e = replay(&cfg, &dir, &ReplayOptions::default()).err().unwrap();
    assert!(e.to_string().contains("latency"), "{e}");
    cfg.replay.latency = "2ms".into();
    let run = replay(&cfg, &dir, &ReplayOptions::default()).unwrap();
    assert_eq!(run.feed.parse_errors, 0);
    assert!(run.md_events > 0 && run.book_tops > 0, "{:?}", run.feed);
}

#[test]
fn from_warms_up_without_signals_and_to_stops() {
    let c = captured();
    let whole = replay(&c.cfg, &c.dir, &ReplayOptions::default()).unwrap();
    let span = whole.last_ns - whole.first_ns;
    let from = whole.first_ns + span / 2;
    let to = whole.first_ns + span * 3 / 4;
    let part = replay(
        &c.cfg,
        &c.dir,
        &ReplayOptions {
            from_ns: Some(from),
            to_ns: Some(to),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        part.warmup_frames > 0 && part.frames < whole.frames,
        "{} of {}",
        part.frames,
        whole.frames
    );
    assert!(part.last_ns <= to && part.last_ns > from);
    let times: Vec<u64> = part
        .journal
        .signals_csv()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(times.iter().all(|t| *t >= from && *t <= to), "{times:?}");
    // Positions do not bind here, so the signals depend on market data alone: the warm-up
    // found (and held back) exactly the whole replay's signals before `from`, and the window
    // published exactly the whole replay's signals within it.
    let at = |l: &str| l.split(',').next().unwrap().parse::<u64>().unwrap();
    let whole_rows: Vec<&str> = whole.journal.signals_csv().lines().skip(1).collect();
    let before = whole_rows.iter().filter(|l| at(l) < from).count() as u64;
    let within: Vec<&str> = whole_rows
        .iter()
        .filter(|l| at(l) >= from && at(l) <= to)
        .copied()
        .collect();
    assert!(before > 0, "the capture has signals before --from");
    assert_eq!(part.warmup_signals, before);
    assert_eq!(
        part.journal
            .signals_csv()
            .lines()
            .skip(1)
            .collect::<Vec<_>>(),
        within
    );
}
