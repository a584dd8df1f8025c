//! Wiring: builds the rings, stages, threads and the side thread from a [`Config`], runs them,
//! shuts them down in order and gathers the final statistics.

use crate::book::{BookStage, BookStageParts};
use crate::config::Config;
use crate::feed::binance_ws_feed::{BinanceWsFeed, BinanceWsFeedParts};
use crate::feed::max_ws_feed::{MaxWsFeed, MaxWsFeedParts};
use crate::gateway::max_gateway::Gateway;
use crate::gateway::max_user_feed::{MaxUserFeed, MaxUserFeedParts};
use crate::model::{Instruments, PositionSnapshot, Venue};
use crate::order::OrderManager;
use crate::order::stage::{OrderStage, OrderStageParts};
use crate::pipeline::board::MidBoard;
use crate::pipeline::board::PositionBoard;
use crate::pipeline::board::ResyncRequests;
use crate::pipeline::gateway_queue::gateway_queue;
use crate::pipeline::thread::spawn_stage_thread;
use crate::pipeline::{EngineClock, Phase, Poll, Rings, Shutdown, Stage, StageName};
use crate::scanner::Scanners;
use crate::scanner::stage::{ScannerStage, ScannerStageParts};
use crate::sim::exec_venue::ExecVenue;
use crate::sim::in_process_feed::{SimFeed, SimFeedParts};
use crate::sim::market::SyntheticMarket;
use crate::telemetry::hist_dir::HistDir;
use crate::telemetry::run_info::RunInfo;
use crate::telemetry::{
    EngineCounters, EventCounts, LatencySet, SideConfig, SideThread, Summary, telemetry_queue,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One stage of any kind, so a thread can host any mix of them without dynamic dispatch.
pub enum AnyStage {
    Feed(Box<SimFeed>),
    MaxWs(Box<MaxWsFeed>),
    BinanceWs(Box<BinanceWsFeed>),
    MaxUser(Box<MaxUserFeed>),
    Book(Box<BookStage>),
    Scanner(Box<ScannerStage>),
    Order(Box<OrderStage>),
}

impl Stage for AnyStage {
    fn name(&self) -> &'static str {
        match self {
            AnyStage::Feed(s) => s.name(),
            AnyStage::MaxWs(s) => s.name(),
            AnyStage::BinanceWs(s) => s.name(),
            AnyStage::MaxUser(s) => s.name(),
            AnyStage::Book(s) => s.name(),
            AnyStage::Scanner(s) => s.name(),
            AnyStage::Order(s) => s.name(),
        }
    }
    #[inline]
    fn poll(&mut self) -> Poll {
        match self {
            AnyStage::Feed(s) => s.poll(),
            AnyStage::MaxWs(s) => s.poll(),
            AnyStage::BinanceWs(s) => s.poll(),
            AnyStage::MaxUser(s) => s.poll(),
            AnyStage::Book(s) => s.poll(),
            AnyStage::Scanner(s) => s.poll(),
            AnyStage::Order(s) => s.poll(),
        }
    }
    fn wait_fds(&self, out: &mut Vec<crate::pipeline::WaitFd>) {
        match self {
            AnyStage::MaxWs(s) => s.wait_fds(out),
            AnyStage::BinanceWs(s) => s.wait_fds(out),
            AnyStage::MaxUser(s) => s.wait_fds(out),
            AnyStage::Feed(_) | AnyStage::Book(_) | AnyStage::Scanner(_) | AnyStage::Order(_) => {}
        }
    }
}

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
}

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
}

/// The side thread's bus: NATS JetStream when `[nats] enabled`, else the events file.
fn bus(
    cfg: &Config,
    instruments: &Instruments,
    clock: &EngineClock,
) -> Result<crate::telemetry::bus::Bus, String> {
    use crate::telemetry::bus_message::Encoder;
    use crate::telemetry::event_sink::EventSink;
    let n = &cfg.nats;
    let encoder = Encoder::new(
        &cfg.engine.instance_id,
        clock.now_unix_ms(),
        &n.subject_prefix,
        instruments.clone(),
    );
    let sink: Box<dyn EventSink> = if n.enabled {
        Box::new(crate::telemetry::nats_forwarder::NatsForwarder::start(
            crate::telemetry::nats_forwarder::NatsForwarderConfig {
                url: n.url.clone(),
                stream: n.stream.clone(),
                subjects: n.stream_subjects(),
                critical_cap: n.buffer_critical,
                md_cap: n.buffer_md,
            },
        )?)
    } else {
        Box::new(crate::telemetry::jsonl_file::JsonlFileSink::open(
            std::path::Path::new(&n.file_dir),
            n.file_max_mb * 1024 * 1024,
            n.file_keep,
        )?)
    };
    Ok(crate::telemetry::bus::Bus::new(
        encoder,
        sink,
        clock.clone(),
    ))
}

/// Every stage of one engine, built but not yet placed on threads.
pub struct Built {
    /// Every feed; they share the thread that places the `feed` stage.
    pub feeds: Vec<AnyStage>,
    /// Gateway threads to start with the stages (live venues).
    pub gateways: Vec<Gateway>,
    /// The reference-rate fetcher (live venues with a reference-rate instrument).
    pub refrate: Option<crate::feed::refrate_feed::RefRateFeed>,
    pub book: BookStage,
    pub scanner: ScannerStage,
    pub order: OrderStage,
    pub instruments: Instruments,
    pub counters: Arc<EngineCounters>,
    pub side: SideThread,
    pub side_stop: Arc<AtomicBool>,
    pub shutdown: Shutdown,
}

/// Where the engine's market data and orders go.
pub enum Venues {
    /// The in-process synthetic venue (the demo, tests, benchmarks).
    Synthetic,
    /// The venues named in `[venues]` (real exchanges or `arbline sim`), with these keys.
    Live(crate::secrets::Secrets),
}

/// Builds rings and stages from `cfg`, all connected, in process with the synthetic venue.
pub fn build(cfg: &Config, live: bool) -> Result<Built, String> {
    build_for(cfg, live, Venues::Synthetic)
}

/// Builds rings and stages from `cfg` for `venues`.
pub fn build_for(cfg: &Config, live: bool, venues: Venues) -> Result<Built, String> {
    build_with_clock(cfg, live, venues, EngineClock::new())
}

/// Builds rings and stages from `cfg` for `venues`, every stage reading `clock` (a mocked one
/// makes a single-threaded run deterministic: `bench/instructions.rs`).
pub fn build_with_clock(
    cfg: &Config,
    live: bool,
    venues: Venues,
    clock: EngineClock,
) -> Result<Built, String> {
    let instruments = cfg.instruments()?;
    let shutdown = Shutdown::new();
    let counters = Arc::new(EngineCounters::default());
    let rings = Rings::new(cfg.ring_sizes());
    let resync = Arc::new(ResyncRequests::default());
    let mids = Arc::new(MidBoard::default());
    let board = Arc::new(PositionBoard::default());
    let gateway = gateway_queue(cfg.pipeline.gateway_queue);
    let halts = Arc::new(crate::pipeline::board::HaltRequests::default());
    let qcap = cfg.pipeline.telemetry_queue;
    let (feed_tx, feed_rx) = telemetry_queue("feed", qcap);
    let (book_tx, book_rx) = telemetry_queue("book", qcap);
    let (scan_tx, scan_rx) = telemetry_queue("scanner", qcap);
    let (order_tx, order_rx) = telemetry_queue("order", qcap);
    let batch = cfg.pipeline.batch;

    let (md_prod, md_poll) = rings.md;
    let (book_prod, book_poll) = rings.book;
    let (sig_prod, sig_poll) = rings.signal;
    let (exec_prod, exec_poll) = rings.exec;

    let mut gateways = Vec::new();
    let mut refrate = None;
    let feeds = match venues {
        Venues::Synthetic => vec![AnyStage::Feed(Box::new(SimFeed::new(SimFeedParts {
            market: SyntheticMarket::new(&cfg.sim)?,
            venue: ExecVenue::new(&cfg.sim)?,
            instruments: instruments.clone(),
            md: md_prod,
            exec: exec_prod,
            gateway: gateway.clone(),
            resync: resync.clone(),
            clock: clock.clone(),
            counters: counters.clone(),
            tele: feed_tx,
            shutdown: shutdown.clone(),
            pregenerate_s: cfg.sim.pregenerate_s,
        })?))],
        Venues::Live(secrets) => {
            let v = &cfg.venues;
            let (max_tls, binance_tls) = (v.max_tls()?, v.binance_tls()?);
            let (Some(key), Some(secret)) = (
                secrets.max_api_key.as_deref(),
                secrets.max_secret_key.as_deref(),
            ) else {
                return Err(
                    "MAX_API_KEY and MAX_SECRET_KEY must be set (environment or .env) to trade"
                        .into(),
                );
            };
            // One signer per key: its clones share the key's one nonce sequence (REST, the
            // reconciler and the private WebSocket's auth alike).
            let signer = crate::venue::max::MaxSigner::new(key, secret);
            // One ban per venue: a 429 on any MAX connection or REST call holds back every
            // other (they share the IP); Binance likewise for its hosts.
            let max_gate = Arc::new(crate::venue::venue_gate::VenueGate::new());
            let binance_gate = Arc::new(crate::venue::venue_gate::VenueGate::new());
            let max_liveness = Duration::from_millis(v.max.liveness_timeout_ms);
            let max_ping = Duration::from_millis(v.max.ping_interval_ms);
            let client = crate::venue::max::rest_client::MaxRestClient::new(
                &v.max.rest_url,
                signer.clone(),
                std::time::Duration::from_millis(v.max.timeout_ms),
            )
            .with_gate(max_gate.clone());
            if let Some(inst) = instruments.iter().find(|i| i.venue == Venue::RefRate) {
                refrate = Some(crate::feed::refrate_feed::RefRateFeed {
                    provider: crate::venue::refrate::provider::RefRateProvider::new(&cfg.refrate)?,
                    instrument: inst.id,
                    md: md_prod.clone(),
                    clock: clock.clone(),
                    shutdown: shutdown.clone(),
                    tele: feed_tx.clone(),
                    interval: Duration::from_secs(cfg.refrate.poll_interval_s),
                    failures: 0,
                });
            }
            let user_exec = exec_prod.clone();
            let user_tx = feed_tx.clone();
            // The first round runs at start; every private (re)authentication asks for another.
            let reconcile_now = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let mut wallets: Vec<crate::model::WalletType> = cfg
                .scanner
                .arbitrage
                .iter()
                .map(|a| a.wallet)
                .chain(
                    cfg.scanner
                        .stable_coin
                        .enabled
                        .then_some(cfg.scanner.stable_coin.wallet),
                )
                .collect();
            wallets.sort_by_key(|w| *w as u8);
            wallets.dedup();
            gateways.push(Gateway {
                client,
                queue: gateway.clone(),
                exec: exec_prod,
                instruments: instruments.clone(),
                clock: clock.clone(),
                shutdown: shutdown.clone(),
                halts: halts.clone(),
                max_clock_drift_ms: v.max.max_clock_drift_ms,
                reconciler: crate::gateway::reconciler::Reconciler::new(
                    wallets,
                    std::time::Duration::from_millis(v.max.reconcile_interval_ms),
                    reconcile_now.clone(),
                ),
            });
            let max = MaxWsFeed::new(MaxWsFeedParts {
                url: v.max.ws_url.clone(),
                tls: max_tls.clone(),
                instruments: instruments.clone(),
                md: md_prod.clone(),
                resync: resync.clone(),
                clock: clock.clone(),
                counters: counters.clone(),
                tele: feed_tx.clone(),
                shutdown: shutdown.clone(),
            })
            .with_gate(max_gate.clone())
            .with_liveness(max_liveness, max_ping);
            let binance = BinanceWsFeed::new(BinanceWsFeedParts {
                market: v.binance.market,
                ws_url: v.binance.ws_url.clone(),
                tls: binance_tls,
                rest_url: v.binance.rest_url.clone(),
                instruments: instruments.clone(),
                md: md_prod,
                resync: resync.clone(),
                clock: clock.clone(),
                counters: counters.clone(),
                tele: feed_tx,
                shutdown: shutdown.clone(),
                rotate_after: Some(std::time::Duration::from_secs(v.binance.rotate_after_s)),
            })?
            .with_gate(binance_gate)
            .with_liveness(Duration::from_millis(v.binance.liveness_timeout_ms));
            let user = MaxUserFeed::new(MaxUserFeedParts {
                url: v.max.ws_url.clone(),
                tls: max_tls,
                signer,
                instruments: instruments.clone(),
                exec: user_exec,
                clock: clock.clone(),
                counters: counters.clone(),
                tele: user_tx,
                shutdown: shutdown.clone(),
                halts: halts.clone(),
                reconcile_now,
            })
            .with_gate(max_gate)
            .with_liveness(max_liveness, max_ping);
            vec![
                AnyStage::MaxWs(Box::new(max)),
                AnyStage::BinanceWs(Box::new(binance)),
                AnyStage::MaxUser(Box::new(user)),
            ]
        }
    };
    let book = BookStage::new(BookStageParts {
        md: md_poll,
        out: book_prod,
        instruments: instruments.clone(),
        binance_ticker_tops: cfg.engine.binance_ticker_tops,
        resync,
        mids: mids.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: book_tx,
        batch,
        stale_after_ms: cfg.engine.stale_feed_ms,
    })
    .with_top_telemetry(cfg.nats.md_interval_ms);
    let scanner = ScannerStage::new(ScannerStageParts {
        input: book_poll,
        out: sig_prod,
        scanners: Scanners::new(&cfg.scanner, &instruments)?,
        board: board.clone(),
        clock: clock.clone(),
        counters: counters.clone(),
        tele: scan_tx,
        batch,
    });
    let manager = OrderManager::new(&cfg.order, &cfg.risk, &instruments, board, clock.clone())?;
    let order = OrderStage::new(OrderStageParts {
        signals: sig_poll,
        exec: exec_poll,
        manager,
        gateway,
        instruments: instruments.clone(),
        mids,
        clock: clock.clone(),
        counters: counters.clone(),
        tele: order_tx,
        shutdown: shutdown.clone(),
        cancel_on_shutdown: cfg.engine.cancel_on_shutdown,
        cancel_timeout_ms: cfg.engine.cancel_timeout_ms,
        batch,
        halts,
    });
    let side_stop = Arc::new(AtomicBool::new(false));
    let side = SideThread {
        rxs: vec![feed_rx, book_rx, scan_rx, order_rx],
        counters: counters.clone(),
        instruments: instruments.clone(),
        cfg: SideConfig {
            live,
            stats_interval: Duration::from_millis(cfg.demo.stats_interval_ms),
        },
        stop: side_stop.clone(),
        bus: Some(bus(cfg, &instruments, &clock)?),
        signal_log: if cfg.log.signal_log {
            Some(crate::logging::SignalLog::open(std::path::Path::new(
                &cfg.log.dir,
            ))?)
        } else {
            None
        },
        clock,
    };
    Ok(Built {
        feeds,
        gateways,
        refrate,
        book,
        scanner,
        order,
        instruments,
        counters,
        side,
        side_stop,
        shutdown,
    })
}

/// How long a run lasts, as the start banner says it: `30s`, `1h 30m`, `until Ctrl+C`.
pub fn run_length(duration: Option<Duration>) -> String {
    match duration {
        Some(d) => humantime::format_duration(d).to_string(),
        None => "until Ctrl+C".into(),
    }
}

/// Runs the demo for `opts.duration` (or until Ctrl+C / SIGTERM), prints the summary.
pub fn run_demo(cfg: &Config, opts: &DemoOptions) -> Result<RunResult, String> {
    run_with(cfg, opts, Venues::Synthetic)
}

/// Runs the engine against `venues` for `opts.duration` (or until Ctrl+C / SIGTERM) and
/// prints the summary.
pub fn run_with(cfg: &Config, opts: &DemoOptions, venues: Venues) -> Result<RunResult, String> {
    run_with_until(cfg, opts, venues, |_| false)
}

/// As [`run_with`], ending early once `until` holds on the engine's counters ([`run_until`]).
pub fn run_with_until(
    cfg: &Config,
    opts: &DemoOptions,
    venues: Venues,
    until: impl FnMut(&EngineCounters) -> bool,
) -> Result<RunResult, String> {
    let live = cfg.demo.live && !opts.quiet;
    let synthetic = matches!(venues, Venues::Synthetic);
    let mut built = build_for(cfg, live, venues)?;
    built
        .shutdown
        .install_signal_handlers()
        .map_err(|e| format!("signal handlers: {e}"))?;
    let threads = cfg.threads()?;
    if synthetic {
        println!(
            "arbline demo: {}, synthetic venues (seed {}), {} instruments",
            run_length(opts.duration),
            cfg.sim.seed,
            built.instruments.len()
        );
    } else {
        println!(
            "engine: {} against MAX {} / {}, Binance {}, {} instruments",
            run_length(opts.duration),
            cfg.venues.max.rest_url,
            cfg.venues.max.ws_url,
            cfg.venues.binance.ws_url,
            built.instruments.len()
        );
    }
    if let Some(bus) = built.side.bus.as_ref() {
        println!("  events → {}", bus.describe());
    }
    for t in &threads {
        let names: Vec<&str> = t.stages.iter().map(|s| s.as_str()).collect();
        println!(
            "  thread {:<8} {:<22} core {:<8} wait {:?}",
            t.name,
            names.join("+"),
            t.core
                .map(|c| c.to_string())
                .unwrap_or_else(|| "unpinned".into()),
            t.wait
        );
    }
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
    let result = run_until(
        built,
        &threads,
        opts.duration.unwrap_or(Duration::MAX),
        until,
    )?;
    let mut out = std::io::stdout();
    result.summary.print(&mut out).map_err(|e| e.to_string())?;
    if let Some(b) = result.bus {
        use std::io::Write;
        let _ = writeln!(
            out,
            "events: delivered {}, still queued {}, dropped {} market data / {} critical, reconnects {}",
            b.delivered, b.queued, b.dropped_md, b.dropped_critical, b.reconnects
        );
    }
    if let Some(p) = &opts.summary_json {
        result
            .summary
            .write_json(p)
            .map_err(|e| format!("{}: {e}", p.display()))?;
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
    Ok(result)
}

/// Starts a `--hist-dir` run directory for `built`: writes `run.json` now and has the side
/// thread append each stats interval to `intervals.hlog`. Call [`HistDir::finish`] with the
/// run's [`RunResult::latency`] afterwards for the `.hgrm` files and `final.hlog`.
pub fn record_hist_dir(
    built: &mut Built,
    dir: &std::path::Path,
    info: &RunInfo,
) -> Result<HistDir, String> {
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
) -> Result<RunResult, String> {
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
) -> Result<RunResult, String> {
    let Built {
        feeds,
        gateways,
        refrate,
        book,
        scanner,
        order,
        instruments,
        counters,
        side,
        side_stop,
        shutdown,
    } = built;
    let mut feeds = Some(feeds);
    let mut book = Some(AnyStage::Book(Box::new(book)));
    let mut scanner = Some(AnyStage::Scanner(Box::new(scanner)));
    let mut order = Some(AnyStage::Order(Box::new(order)));
    let side_handle = side.spawn().map_err(|e| format!("side thread: {e}"))?;
    let mut gateway_handles = Vec::new();
    for g in gateways {
        gateway_handles.push(g.spawn().map_err(|e| format!("gateway thread: {e}"))?);
    }
    if let Some(r) = refrate {
        gateway_handles.push(r.spawn().map_err(|e| format!("refrate thread: {e}"))?);
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
        handles.push(spawn_stage_thread(t, stages).map_err(|e| format!("thread {}: {e}", t.name))?);
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
    if !gateway_handles.is_empty() {
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
    for h in handles {
        let stages = h
            .join()
            .map_err(|_| "a stage thread panicked".to_string())?;
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
    let side_report = side_handle
        .join()
        .map_err(|_| "the side thread panicked".to_string())?;
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
    };
    let summary = Summary::new(elapsed, events, &latency, &positions, &instruments);
    Ok(RunResult {
        summary,
        latency,
        positions,
        open_orders_at_exit,
        order_stats,
        bus: side_report.bus,
        interval_log_error: side_report.interval_log_error,
    })
}
