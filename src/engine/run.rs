//! Running a built engine: the stages placed on threads, the run until its duration, a signal
//! or a condition, the ordered shutdown and the results; [`run_with`] wraps it with the start
//! banner, the summary and the `--hist-dir` run directory.

use super::console::{print_start, print_summary};
use super::error::EngineError;
use super::{AnyStage, Built, Venues};
use crate::config::Config;
use crate::model::{FileError, PositionSnapshot};
use crate::pipeline::thread::spawn_stage_thread;
use crate::pipeline::{Phase, StageName, WaitKind};
use crate::telemetry::hist_dir::HistDir;
use crate::telemetry::run_info::RunInfo;
use crate::telemetry::{EngineCounters, EventCounts, LatencySet, Summary};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// How long to run; `None`: until Ctrl+C or SIGTERM.
    pub duration: Option<Duration>,
    pub quiet: bool,
    pub summary_json: Option<PathBuf>,
    pub hist_dir: Option<PathBuf>,
    /// The run's name in `run.json` and `arbline report` legends (default: venues + waits).
    pub label: Option<String>,
    /// The configuration file, for `run.json`.
    pub config_path: Option<PathBuf>,
    /// How `run.json` names the venues (default: "in-process" or "live").
    pub venues_name: Option<String>,
    /// Capture every frame the live feeds read into this directory (`--capture`).
    pub capture: Option<PathBuf>,
}

/// Frames that can wait for the capture thread at once; a frame that finds the queue full
/// is counted as not captured. 8 192 frames is several seconds of a busy feed.
pub const CAPTURE_QUEUE: usize = 8192;

/// The outcome of a run, beyond the printed summary.
pub struct RunResult {
    pub summary: Summary,
    pub latency: LatencySet,
    pub positions: Vec<PositionSnapshot>,
    /// Orders still open after shutdown (should be 0 with `cancel_on_shutdown`).
    pub open_orders_at_exit: usize,
    pub order_stats: crate::order::OrderStats,
    /// The bus (NATS or the events file) after its final flush.
    pub bus: Option<crate::telemetry::event_sink::SinkStatus>,
    /// Why `intervals.hlog` stopped early, if it did.
    pub interval_log_error: Option<String>,
    /// What `--capture` wrote.
    pub capture: Option<crate::capture::CaptureReport>,
}

/// Runs the demo for `opts.duration` (or until Ctrl+C / SIGTERM), prints the summary.
pub fn run_demo(cfg: &Config, opts: &DemoOptions) -> Result<RunResult, EngineError> {
    run_with(cfg, opts, Venues::Synthetic)
}

/// Runs the engine against `venues` for `opts.duration` (or until Ctrl+C / SIGTERM) and
/// prints the summary.
pub fn run_with(
    cfg: &Config,
    opts: &DemoOptions,
    venues: Venues,
) -> Result<RunResult, EngineError> {
    run_with_until(cfg, opts, venues, |_| false)
}

/// As [`run_with`], ending early once `until` holds on the engine's counters ([`run_until`]).
pub fn run_with_until(
    cfg: &Config,
    opts: &DemoOptions,
    venues: Venues,
    until: impl FnMut(&EngineCounters) -> bool,
) -> Result<RunResult, EngineError> {
    let live = cfg.demo.live && !opts.quiet;
    let synthetic = matches!(venues, Venues::Synthetic);
    let market_data = matches!(venues, Venues::MarketData);
    let clock = crate::pipeline::EngineClock::new();
    let capture = match &opts.capture {
        Some(dir) if synthetic => {
            return Err(EngineError::CaptureInProcess(dir.clone()));
        }
        Some(dir) => {
            let tx = crate::capture::capture_queue(CAPTURE_QUEUE, clock.clone());
            let opts = crate::capture::CaptureOptions {
                instruments: cfg
                    .instruments()?
                    .iter()
                    .map(|i| format!("{:?}:{}", i.venue, i.symbol))
                    .collect(),
                config_hash: cfg.hash(),
                ..crate::capture::CaptureOptions::new(dir)
            };
            let thread = crate::capture::CaptureThread::start(opts, &tx)?;
            Some((tx, thread))
        }
        None => None,
    };
    let mut built = super::build::build_capturing(
        cfg,
        live,
        venues,
        clock,
        capture.as_ref().map(|(tx, _)| tx.clone()),
    )?;
    // Market data only: the strategies watch, but nothing may trade.
    built.scanner.set_muted(market_data);
    built
        .shutdown
        .install_signal_handlers()
        .map_err(EngineError::Signals)?;
    let threads = cfg.threads()?;
    print_start(cfg, opts, synthetic, &built, &threads);
    // `/metrics` from the side thread's registry, for the run's life.
    let metrics = match built.side.metrics.as_ref() {
        Some(m) => {
            let server = crate::telemetry::metrics_server::MetricsServer::start(
                &cfg.metrics.addr,
                m.registry(),
            )?;
            println!("  metrics → http://{}/metrics", server.addr());
            Some(server)
        }
        None => None,
    };
    let hist_dir = match &opts.hist_dir {
        Some(d) => {
            let venues = opts
                .venues_name
                .clone()
                .unwrap_or_else(|| if synthetic { "in-process" } else { "live" }.into());
            let mut info = RunInfo::collect(&threads, &venues, cfg.demo.stats_interval_ms);
            if let Some(l) = &opts.label {
                info.label.clone_from(l);
            }
            info.config_path = opts.config_path.as_ref().map(|p| p.display().to_string());
            Some(record_hist_dir(&mut built, d, &info)?)
        }
        None => None,
    };
    let mut result = run_until(
        built,
        &threads,
        opts.duration.unwrap_or(Duration::MAX),
        until,
    )?;
    print_summary(&result)?;
    if let Some((tx, thread)) = capture {
        drop(tx);
        let report = thread.finish();
        println!("\n{report}");
        result.capture = Some(report);
    }
    if let Some(p) = &opts.summary_json {
        result
            .summary
            .write_json(p)
            .map_err(FileError::at("write", p))?;
        println!("\nsummary written to {}", p.display());
    }
    if let Some(d) = &hist_dir {
        if let Some(e) = &result.interval_log_error {
            tracing::warn!("interval log stopped early: {e}");
        }
        d.finish(&result.latency)?;
        println!(
            "histograms written to {} (arbline report {0})",
            d.path().display()
        );
    }
    if let Some(m) = metrics {
        // The final values, for one last scrape.
        std::thread::sleep(Duration::from_millis(cfg.metrics.linger_ms));
        m.stop();
    }
    Ok(result)
}

/// Starts a `--hist-dir` run directory for `built`: writes `run.json` now and has the side
/// thread append each stats interval to `intervals.hlog`. Call [`HistDir::finish`] with the
/// run's [`RunResult::latency`] afterwards for the `.hgrm` files and `final.hlog`.
pub fn record_hist_dir(
    built: &mut Built,
    dir: &std::path::Path,
    info: &RunInfo,
) -> Result<HistDir, EngineError> {
    let hist_dir = HistDir::create(dir, info)?;
    if let Some(bus) = built.side.bus.as_mut() {
        bus.set_interval_log(hist_dir.interval_log()?);
    }
    Ok(hist_dir)
}

/// Places the stages on threads, runs until `duration` or a signal, then shuts down in order.
pub fn run(
    built: Built,
    threads: &[crate::pipeline::ResolvedThread],
    duration: Duration,
) -> Result<RunResult, EngineError> {
    run_until(built, threads, duration, |_| false)
}

/// As [`run`], ending early once `until` holds on the engine's counters (looked at every
/// 10 ms): how a test runs the engine until what it checks has happened, however slow the
/// machine.
pub fn run_until(
    built: Built,
    threads: &[crate::pipeline::ResolvedThread],
    duration: Duration,
    mut until: impl FnMut(&EngineCounters) -> bool,
) -> Result<RunResult, EngineError> {
    let Built {
        feeds,
        gateways,
        refrate,
        book,
        scanner,
        order,
        instruments,
        books_live,
        counters,
        side,
        side_stop,
        shutdown,
        ends: _,
    } = built;
    let mut feeds = Some(feeds);
    let mut book = Some(AnyStage::Book(Box::new(book)));
    let mut scanner = Some(AnyStage::Scanner(Box::new(scanner)));
    let mut order = Some(AnyStage::Order(Box::new(order)));
    let side_handle = side.spawn().map_err(EngineError::spawn("side"))?;
    // Only a gateway ends with a reconcile round to wait for (not `arbline capture`'s feeds).
    let reconciles = !gateways.is_empty();
    let mut gateway_handles = Vec::new();
    // The gateway waits the way the thread that runs the order stage does: it is that
    // stage's egress.
    let gateway_wait = threads
        .iter()
        .find(|t| t.stages.contains(&StageName::Order))
        .map_or(WaitKind::Park, |t| t.wait);
    for g in gateways {
        gateway_handles.extend(
            g.spawn(gateway_wait)
                .map_err(EngineError::spawn("gateway"))?,
        );
    }
    if let Some(r) = refrate {
        gateway_handles.push(r.spawn().map_err(EngineError::spawn("refrate"))?);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in threads {
        let mut stages: Vec<AnyStage> = Vec::new();
        for s in &t.stages {
            match s {
                StageName::Feed => stages.extend(feeds.take().unwrap_or_default()),
                StageName::Book => stages.extend(book.take()),
                StageName::Scanner => stages.extend(scanner.take()),
                StageName::Order => stages.extend(order.take()),
            }
        }
        let handle = spawn_stage_thread(t, stages).map_err(EngineError::spawn(&t.name))?;
        handles.push((t.name.as_str(), handle));
    }

    // Phase 0: run.
    while start.elapsed() < duration && shutdown.phase() == Phase::Running && !until(&counters) {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Phase 1: stop feeds; the drain cascades; the order stage cancels and waits for confirms.
    shutdown.advance(Phase::StopFeeds);
    let settle_limit = Instant::now() + Duration::from_secs(30);
    while !shutdown.orders_settled() && Instant::now() < settle_limit {
        std::thread::sleep(Duration::from_millis(5));
    }
    // With live venues, the gateway's last reconcile round (fills not delivered yet).
    if reconciles {
        while !shutdown.reconciled() && Instant::now() < settle_limit {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // Phase 2: everything exits.
    shutdown.advance(Phase::Done);
    let elapsed = start.elapsed().as_secs_f64();
    let mut latency = LatencySet::default();
    let mut positions = Vec::new();
    let mut open_orders_at_exit = 0;
    let mut order_stats = crate::order::OrderStats::default();
    for h in gateway_handles {
        let _ = h.join();
    }
    for (name, h) in handles {
        let stages = h.join().map_err(|_| EngineError::Panicked {
            thread: name.to_string(),
        })?;
        for s in stages {
            match s {
                AnyStage::Feed(f) => latency.merge(f.latency()),
                AnyStage::MaxWs(f) => latency.merge(f.latency()),
                AnyStage::BinanceWs(f) => latency.merge(f.latency()),
                AnyStage::MaxUser(_) => {}
                AnyStage::Book(b) => latency.merge(b.latency()),
                AnyStage::Scanner(s) => latency.merge(s.latency()),
                AnyStage::Order(o) => {
                    latency.merge(o.manager().latency());
                    positions = o.manager().positions();
                    open_orders_at_exit = o.manager().open_order_count();
                    order_stats = o.manager().stats();
                }
            }
        }
    }
    side_stop.store(true, Ordering::Release);
    let side_report = side_handle.join().map_err(|_| EngineError::Panicked {
        thread: "side".into(),
    })?;
    let c = &counters;
    let events = EventCounts {
        md: c.md.get(),
        book: c.book.get(),
        signals: c.signals.get(),
        orders_sent: c.orders_sent.get(),
        acks: c.acks.get(),
        rejects: c.rejects.get(),
        fills: c.fills.get(),
        cancels: c.cancels.get(),
        parse_errors: c.parse_errors.get(),
        telemetry_dropped: side_report.dropped,
        dead_connections: c.dead_connections.get(),
        reconnects: c.reconnects.get(),
        venue_refusals: c.venue_refusals.get(),
        budget_deferred: c.budget_deferred.get(),
        budget_wait_ms: c.budget_wait_ms.get(),
        weight_waits: c.weight_waits.get(),
    };
    let mut summary = Summary::new(elapsed, events, &latency, &positions, &instruments);
    summary.books = crate::telemetry::summary::BookLiveness::from_board(&books_live, &instruments);
    Ok(RunResult {
        summary,
        latency,
        positions,
        open_orders_at_exit,
        order_stats,
        bus: side_report.bus,
        interval_log_error: side_report.interval_log_error,
        capture: None,
    })
}
