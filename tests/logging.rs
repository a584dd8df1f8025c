//! Operator logging: the daily file and its retention, per-module levels, the signal log of an
//! engine run, and no secret in any log line.
//!
//! tracing's global subscriber can be set once per process, so nothing here sets it: the scoped
//! tests use `tracing::dispatcher::with_default`, and the secrets test runs the `arbline` binary.

#[path = "support/wait.rs"]
mod wait;

use arbline::config::{Config, LogConfig};
use arbline::logging;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wait::{PATIENCE, run_engine_until, within};

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("arbline-logging-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn log_cfg(dir: &Path, filter: &str) -> LogConfig {
    LogConfig {
        filter: filter.into(),
        dir: dir.to_string_lossy().into_owned(),
        console: "off".into(),
        ..LogConfig::default()
    }
}

fn aged(dir: &Path, name: &str, days: u64) {
    let f = std::fs::File::create(dir.join(name)).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400 + 60))
        .unwrap();
}

/// The contents of every file of `prefix` in `dir`.
fn read_prefix(dir: &Path, prefix: &str) -> String {
    files(dir)
        .iter()
        .filter(|f| f.starts_with(&format!("{prefix}.")))
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect()
}

#[test]
fn the_daily_file_is_written_and_retention_removes_only_old_files_of_the_prefixes() {
    let dir = scratch("retention");
    aged(&dir, "arbline.2026-09-01.log", 40);
    aged(&dir, "arbline.2026-11-20.log", 10);
    aged(&dir, "signals.2026-09-01.log", 31);
    aged(&dir, "signals.2026-11-30.log", 1);
    aged(&dir, "other.2026-09-01.log", 400);
    aged(&dir, "arbline-notes.txt", 400);
    let (dispatch, guard) = logging::build(&log_cfg(&dir, "info"), None).unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(target: "arbline::feed::gateway", "written to today's file");
    });
    drop(guard); // flushes the non-blocking writer
    let today = files(&dir)
        .into_iter()
        .filter(|f| f.starts_with("arbline.") && !f.contains("2026-11-20"))
        .collect::<Vec<_>>();
    assert_eq!(today.len(), 1, "one daily file: {:?}", files(&dir));
    assert!(today[0].ends_with(".log"), "{today:?}");
    let text = std::fs::read_to_string(dir.join(&today[0])).unwrap();
    assert!(text.contains("written to today's file"), "{text}");
    assert!(text.contains("log retention: deleted"), "{text}");
    let left = files(&dir);
    for gone in ["arbline.2026-09-01.log", "signals.2026-09-01.log"] {
        assert!(!left.iter().any(|f| f == gone), "{gone} kept: {left:?}");
    }
    for kept in [
        "arbline.2026-11-20.log",
        "signals.2026-11-30.log",
        "other.2026-09-01.log",
        "arbline-notes.txt",
    ] {
        assert!(left.iter().any(|f| f == kept), "{kept} removed: {left:?}");
    }
}

#[test]
fn remove_expired_counts_days_from_now() {
    let dir = scratch("expired");
    aged(&dir, "x.a.log", 3);
    aged(&dir, "x.b.log", 1);
    std::fs::create_dir(dir.join("x.dir")).unwrap();
    let removed = logging::remove_expired(&dir, "x", 2, SystemTime::now()).unwrap();
    assert_eq!(removed, vec![dir.join("x.a.log")]);
    assert_eq!(files(&dir), vec!["x.b.log", "x.dir"]);
}

#[test]
fn per_module_levels_are_honoured() {
    let dir = scratch("levels");
    let (dispatch, guard) =
        logging::build(&log_cfg(&dir, "warn,arbline::feed=debug"), None).unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::debug!(target: "arbline::feed::gateway", "feed debug shown");
        tracing::debug!(target: "arbline::telemetry::side", "side debug hidden");
        tracing::warn!(target: "arbline::telemetry::side", "side warn shown");
    });
    drop(guard);
    let text = read_prefix(&dir, "arbline");
    assert!(text.contains("feed debug shown"), "{text}");
    assert!(text.contains("side warn shown"), "{text}");
    assert!(!text.contains("side debug hidden"), "{text}");
}

#[test]
fn rust_log_replaces_the_configured_filter_and_bad_filters_name_their_source() {
    let dir = scratch("rust-log");
    let (dispatch, guard) = logging::build(&log_cfg(&dir, "error"), Some("info")).unwrap();
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("info through RUST_LOG"));
    drop(guard);
    assert!(read_prefix(&dir, "arbline").contains("info through RUST_LOG"));
    let e = logging::build(&log_cfg(&dir, "info"), Some("x=loud"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("RUST_LOG"), "{e}");
    let e = Config::from_toml("[log]\nconsole = \"rainbow\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("log.console"), "{e}");
}

/// A signal line that carries the sampled tops of its market and of its leader.
fn with_tops(line: &serde_json::Value) -> bool {
    line["top"]["bid"].is_string() && line["leader"]["top"]["bid"].is_string()
}

#[test]
fn the_signal_log_holds_one_json_line_per_signal_of_an_engine_run() {
    let dir = scratch("signals");
    let mut cfg = Config::default();
    cfg.log.dir = dir.to_string_lossy().into_owned();
    cfg.nats.file_dir = dir.join("events").to_string_lossy().into_owned();
    cfg.demo.stats_interval_ms = 0;
    let built = arbline::engine::build(&cfg, false).unwrap();
    // Until the signal log holds a line with the sampled tops of both the market and its leader
    // (the side thread writes each line as it goes).
    let r = run_engine_until(
        built,
        &cfg.threads().unwrap(),
        "a signal logged with the tops of its market and its leader",
        PATIENCE,
        |c| {
            c.signals.get() > 0
                && read_prefix(&dir, "signals").lines().any(|l| {
                    serde_json::from_str::<serde_json::Value>(l).is_ok_and(|l| with_tops(&l))
                })
        },
    );
    let signals = r.summary.events.signals;
    assert!(signals > 0, "the run signalled: {:?}", r.summary.events);
    let text = read_prefix(&dir, "signals");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len() as u64, signals, "one line per signal");
    for l in &lines {
        for k in [
            "strategy",
            "symbol",
            "side",
            "price",
            "qty",
            "fair_value",
            "edge_bps",
            "threshold_bps",
            "center",
            "quote_to_usdt",
        ] {
            assert!(!l[k].is_null(), "{k} in {l}");
        }
        assert!(l["leader"]["symbol"].is_string(), "{l}");
    }
    let with_tops = lines.iter().filter(|l| with_tops(l)).count();
    assert!(
        with_tops > 0,
        "sampled tops of the market and its leader: {}",
        lines[0]
    );
}

#[test]
fn no_secret_reaches_any_log_of_a_run_against_the_simulator() {
    const KEY: &str = "ak_live_7Hq2xVbN9pLmK4rT8sWcYd3F";
    const SECRET: &str = "sk_live_Zr5tG8wQ2mN6vB1xC9kJ4hL7pS3dF0aE";
    let dir = scratch("secrets");
    let mut cfg = Config::default();
    cfg.sim.use_free_ports();
    let servers = arbline::sim::servers::SimServers::start(&cfg, &[(KEY, SECRET)]).unwrap();
    servers.point(&mut cfg);
    let toml = format!(
        "[venues.max]\nrest_url = {:?}\nws_url = {:?}\n\
         [venues.binance]\nws_url = {:?}\nrest_url = {:?}\n\
         [refrate]\nurl = {:?}\nfallback_url = {:?}\ncache_dir = \"cache\"\n\
         [nats]\nfile_dir = \"events\"\n\
         [log]\ndir = \"logs\"\nconsole = \"never\"\n\
         [demo]\nstats_interval_ms = 500\n",
        cfg.venues.max.rest_url,
        cfg.venues.max.ws_url,
        cfg.venues.binance.ws_url,
        cfg.venues.binance.rest_url,
        cfg.refrate.url,
        cfg.refrate.fallback_url,
    );
    std::fs::write(dir.join("arbline.toml"), toml).unwrap();
    // No `--duration`: the run lasts until it has signed and sent an order, then stops on
    // SIGTERM as an operator would stop it.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_arbline"))
        .args(["run", "--config", "arbline.toml"])
        .current_dir(&dir)
        .env("MAX_API_KEY", KEY)
        .env("MAX_SECRET_KEY", SECRET)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let collect = |pipe: Box<dyn std::io::Read + Send>| {
        let text = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = text.clone();
        let reader = std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        (text, reader)
    };
    let (stdout, stdout_reader) = collect(Box::new(child.stdout.take().unwrap()));
    let (stderr, stderr_reader) = collect(Box::new(child.stderr.take().unwrap()));
    let ordered = within(PATIENCE, || {
        String::from_utf8_lossy(&stdout.lock().unwrap()).contains("ORDER")
    });
    // SAFETY: `kill` on the child's pid, which is ours until it has been waited for.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let stopped = within(PATIENCE, || child.try_wait().unwrap().is_some());
    if !stopped {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    stdout_reader.join().unwrap();
    stderr_reader.join().unwrap();
    let stdout = String::from_utf8_lossy(&stdout.lock().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
    assert!(
        ordered,
        "gave up after {PATIENCE:?} waiting for the run to print a signed and sent ORDER: \
         {stdout}\n{stderr}"
    );
    assert!(
        stopped,
        "the run did not stop within {PATIENCE:?} of SIGTERM: {stdout}"
    );
    assert!(status.success(), "{status}: {stdout}\n{stderr}");
    assert!(!stderr.is_empty(), "the console log is on stderr");
    let logs = dir.join("logs");
    let names = files(&logs);
    assert!(names.iter().any(|f| f.starts_with("arbline.")), "{names:?}");
    assert!(names.iter().any(|f| f.starts_with("signals.")), "{names:?}");
    let mut texts = vec![("stdout".to_string(), stdout)];
    texts.push(("stderr".into(), stderr));
    for f in &names {
        texts.push((f.clone(), std::fs::read_to_string(logs.join(f)).unwrap()));
    }
    for (name, text) in &texts {
        for s in [KEY, SECRET] {
            assert!(!text.contains(s), "{s} found in {name}");
        }
    }
}
