//! `--hist-dir` run directories and `arbline report`: what our writers put down reads back
//! unchanged, the table says what the histograms say, the charts are drawn, bad input is a
//! clear error, and a real engine run reports end to end.

#[path = "support/wait.rs"]
mod wait;

#[path = "support/trade_often.rs"]
mod trade_often;

use arbline::config::Config;
use arbline::engine;
use arbline::report::hgrm::parse_hgrm;
use arbline::report::hlog::{parse_hlog, read_hlog};
use arbline::report::run_data::TABLE_QUANTILES;
use arbline::report::{Format, ReportOptions, RunData, report};
use arbline::telemetry::hist_dir::{FINAL_HLOG, HistDir, INTERVALS_HLOG};
use arbline::telemetry::interval_log::IntervalLog;
use arbline::telemetry::run_info::RunInfo;
use arbline::telemetry::summary::write_hgrm;
use arbline::telemetry::{LatencySet, Segment};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wait::{PATIENCE, run_engine_until};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arbline-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A latency set with a spread in every hot stage: 1..=n µs-ish values, a few slow ones.
fn sample_latency(scale: u64) -> LatencySet {
    let mut l = LatencySet::default();
    for (k, s) in Segment::ALL.iter().enumerate() {
        for v in 1..=2_000u64 {
            l.record(*s, scale * (k as u64 + 1) * (500 + v * 7 % 3_000));
        }
        l.record(*s, scale * 900_000);
    }
    l
}

/// A run directory as the engine leaves it: run.json, intervals.hlog, .hgrm files, final.hlog.
fn write_run(dir: &Path, label: &str, scale: u64) -> LatencySet {
    let mut info = RunInfo::collect(&[], "in-process", 1000);
    info.label = label.into();
    let hd = HistDir::create(dir, &info).unwrap();
    let mut log = hd.interval_log().unwrap();
    let start = SystemTime::UNIX_EPOCH + Duration::from_millis(info.start_unix_ms);
    for i in 0..5u64 {
        let mut one = LatencySet::default();
        for v in 1..=100 {
            one.record(Segment::TickToTrade, scale * (20_000 + v * 100 * (i + 1)));
        }
        let at = start + Duration::from_secs(i);
        log.append(
            "tick_to_trade",
            one.histogram(Segment::TickToTrade),
            at,
            Duration::from_secs(1),
        )
        .unwrap();
        log.append(
            "frame_to_signal",
            one.histogram(Segment::Scan),
            at,
            Duration::from_secs(1),
        )
        .unwrap();
    }
    let latency = sample_latency(scale);
    hd.finish(&latency).unwrap();
    latency
}

#[test]
fn interval_log_round_trips_every_histogram_with_its_tag_and_time() {
    let dir = temp_dir("hlog");
    let path = dir.join("x.hlog");
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let latency = sample_latency(1);
    let mut log = IntervalLog::create(&path, base, "test").unwrap();
    log.append(
        "book",
        latency.histogram(Segment::Book),
        base + Duration::from_millis(1500),
        Duration::from_secs(2),
    )
    .unwrap();
    log.append(
        "order",
        latency.histogram(Segment::Order),
        base + Duration::from_secs(4),
        Duration::from_secs(1),
    )
    .unwrap();
    drop(log);
    let back = read_hlog(&path).unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].tag.as_deref(), Some("book"));
    assert_eq!(back[1].tag.as_deref(), Some("order"));
    assert!((back[0].start_s - 1.5).abs() < 1e-3 && (back[0].duration_s - 2.0).abs() < 1e-3);
    assert!((back[1].start_s - 4.0).abs() < 1e-3);
    assert_eq!(&back[0].histogram, latency.histogram(Segment::Book));
    assert_eq!(&back[1].histogram, latency.histogram(Segment::Order));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hgrm_round_trips_to_the_histograms_percentiles() {
    let latency = sample_latency(1);
    let h = latency.histogram(Segment::Parse);
    let mut text = Vec::new();
    write_hgrm(&mut text, h, 1000.0).unwrap();
    let d = parse_hgrm(std::str::from_utf8(&text).unwrap()).unwrap();
    assert_eq!(d.total_count, h.len());
    assert!((d.max - h.max() as f64 / 1000.0).abs() < 0.001);
    for q in TABLE_QUANTILES {
        let want = h.value_at_quantile(q) as f64 / 1000.0;
        let got = d.value_at(q);
        // The rows step through percentiles; the value at q is that of the next row up, which
        // lies in the same or the next histogram bucket (3 significant digits).
        assert!(
            (got - want).abs() <= want * 0.002 + 0.001,
            "q {q}: {got} vs {want}"
        );
    }
}

#[test]
fn the_table_shows_exactly_the_histograms_percentiles() {
    let dir = temp_dir("table");
    let latency = write_run(&dir, "exact", 1);
    let run = RunData::load(&dir).unwrap();
    assert!(run.described);
    assert_eq!(run.info.label, "exact");
    assert_eq!(run.stages.len(), Segment::ALL.len());
    for s in Segment::ALL {
        let h = latency.histogram(s);
        let row = run.stage(s.name()).unwrap();
        assert_eq!(row.count, h.len(), "{}", s.name());
        assert_eq!(row.max, h.max() as f64);
        for (v, q) in row.at.iter().zip(TABLE_QUANTILES) {
            assert_eq!(*v, h.value_at_quantile(q) as f64, "{} at {q}", s.name());
        }
    }
    assert_eq!(run.tick_to_trade.len(), 5);
    assert!(run.tick_to_trade.windows(2).all(|w| w[0].t_s < w[1].t_s));
    // Without final.hlog the .hgrm files stand in, to their printed resolution.
    std::fs::remove_file(dir.join(FINAL_HLOG)).unwrap();
    let from_text = RunData::load(&dir).unwrap();
    let p = from_text.stage("tick_to_trade").unwrap();
    let h = latency.histogram(Segment::TickToTrade);
    assert_eq!(p.count, h.len());
    assert!(
        (p.at[0] - h.value_at_quantile(0.5) as f64).abs()
            <= h.value_at_quantile(0.5) as f64 * 0.002 + 1.0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn report_draws_png_and_svg_for_one_run_and_compares_two() {
    let a = temp_dir("draw-a");
    let b = temp_dir("draw-b");
    write_run(&a, "park", 1);
    write_run(&b, "spin", 3);
    let mut text = Vec::new();
    let r = report(
        &ReportOptions {
            dirs: vec![a.clone()],
            out: None,
            format: Format::Both,
        },
        &mut text,
    )
    .unwrap();
    assert_eq!(r.out, a.join("report"));
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("=== park") && text.contains("tick_to_trade") && text.contains("p99.99"),
        "{text}"
    );
    for f in [
        "percentiles.png",
        "percentiles.svg",
        "timeline.png",
        "timeline.svg",
    ] {
        let p = r.out.join(f);
        assert!(size(&p) > 5_000, "{} is {} bytes", p.display(), size(&p));
    }
    let svg = std::fs::read_to_string(r.out.join("percentiles.svg")).unwrap();
    for s in Segment::ALL {
        assert!(svg.contains(s.name()), "the legend names {}", s.name());
    }

    let out = temp_dir("draw-out");
    let r = report(
        &ReportOptions {
            dirs: vec![a.clone(), b.clone()],
            out: Some(out.clone()),
            format: Format::Png,
        },
        &mut Vec::new(),
    )
    .unwrap();
    assert!(size(&out.join("comparison.png")) > 20_000);
    assert!(
        !out.join("comparison.svg").exists(),
        "--format png draws no SVG"
    );
    assert!(
        r.files
            .iter()
            .any(|f| f.ends_with("percentiles-2-spin.png"))
    );
    let svg_only = temp_dir("draw-svg");
    report(
        &ReportOptions {
            dirs: vec![a.clone(), b.clone()],
            out: Some(svg_only.clone()),
            format: Format::Svg,
        },
        &mut Vec::new(),
    )
    .unwrap();
    let cmp = std::fs::read_to_string(svg_only.join("comparison.svg")).unwrap();
    assert!(cmp.contains("park") && cmp.contains("spin") && cmp.contains("signal_to_fill"));
    for d in [a, b, out, svg_only] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let opts = |d: &Path| ReportOptions {
        dirs: vec![d.to_path_buf()],
        out: Some(d.join("out")),
        format: Format::Png,
    };
    let missing = std::env::temp_dir().join("arbline-report-no-such-dir");
    let e = report(&opts(&missing), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no such run directory"), "{e}");

    let empty = temp_dir("empty");
    let e = report(&opts(&empty), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no latency data"), "{e}");

    let corrupt = temp_dir("corrupt");
    write_run(&corrupt, "c", 1);
    let log = corrupt.join(FINAL_HLOG);
    let text = std::fs::read_to_string(&log).unwrap();
    // A histogram whose payload is cut short.
    let cut: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Tag=book") {
                &l[..l.len() - 12]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&log, cut).unwrap();
    let e = report(&opts(&corrupt), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains(FINAL_HLOG), "{e}");
    // Not a log at all.
    std::fs::write(corrupt.join(INTERVALS_HLOG), "garbage, not, a log\n").unwrap();
    let e = parse_hlog(b"Tag=x,1.0,1.0,1.0,@@@notbase64@@@\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not base64"), "{e}");
    std::fs::remove_file(&log).unwrap();
    let e = report(&opts(&corrupt), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains(INTERVALS_HLOG), "{e}");

    let bad_json = temp_dir("badjson");
    write_run(&bad_json, "j", 1);
    std::fs::write(bad_json.join("run.json"), "{ not json").unwrap();
    let e = report(&opts(&bad_json), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("run.json"), "{e}");

    let bad_hgrm = temp_dir("badhgrm");
    std::fs::write(
        bad_hgrm.join("parse.hgrm"),
        "1.0 0.5 3 2.0\nnot numbers here\n",
    )
    .unwrap();
    let e = report(&opts(&bad_hgrm), &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("parse.hgrm"), "{e}");
    for d in [empty, corrupt, bad_json, bad_hgrm] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn an_engine_run_with_a_hist_dir_reports_every_stage_and_its_intervals() {
    let dir = temp_dir("engine");
    let mut cfg = Config::default();
    cfg.demo.stats_interval_ms = 250;
    trade_often::trade_on_every_top(&mut cfg, None);
    let threads = cfg.threads().unwrap();
    let mut built = engine::build(&cfg, false).unwrap();
    let info = RunInfo::collect(&threads, "in-process", cfg.demo.stats_interval_ms);
    let hd = engine::record_hist_dir(&mut built, &dir, &info).unwrap();
    // Until orders went out and the side thread has logged two intervals with tick-to-trade
    // samples (each interval is flushed as it is written).
    let intervals = dir.join(INTERVALS_HLOG);
    let r = run_engine_until(
        built,
        &threads,
        "an order sent and two intervals with tick_to_trade samples in intervals.hlog",
        PATIENCE,
        |c| {
            c.orders_sent.get() > 0
                && read_hlog(&intervals).is_ok_and(|log| {
                    log.iter()
                        .filter(|h| {
                            h.tag.as_deref() == Some("tick_to_trade") && !h.histogram.is_empty()
                        })
                        .count()
                        >= 2
                })
        },
    );
    assert!(r.interval_log_error.is_none(), "{:?}", r.interval_log_error);
    hd.finish(&r.latency).unwrap();
    assert!(r.order_stats.orders_sent > 0, "{:?}", r.order_stats);

    let mut text = Vec::new();
    let rep = report(
        &ReportOptions {
            dirs: vec![dir.clone()],
            out: None,
            format: Format::Both,
        },
        &mut text,
    )
    .unwrap();
    let run = &rep.runs[0];
    assert_eq!(run.info.threads.len(), threads.len());
    for s in [
        Segment::Parse,
        Segment::Book,
        Segment::Scan,
        Segment::TickToTrade,
    ] {
        let row = run
            .stage(s.name())
            .unwrap_or_else(|| panic!("{} recorded", s.name()));
        assert_eq!(row.count, r.latency.histogram(s).len());
    }
    assert!(
        run.tick_to_trade.len() >= 2,
        "intervals: {:?}",
        run.tick_to_trade
    );
    let logged: u64 = read_hlog(&intervals)
        .unwrap()
        .iter()
        .filter(|h| h.tag.as_deref() == Some("tick_to_trade"))
        .map(|h| h.histogram.len())
        .sum();
    assert!(logged > 0, "the side thread logged tick_to_trade samples");
    assert!(size(&rep.out.join("percentiles.png")) > 5_000);
    assert!(size(&rep.out.join("timeline.svg")) > 2_000);
    std::fs::remove_dir_all(&dir).unwrap();
}
