//! `arbline`: the command line.
//!
//! One file: every subcommand's arguments (clap's derive) and the dispatch to the library that
//! does the work; the arguments' help texts are most of its length.

use arbline::config::Config;
use arbline::engine::{self, DemoOptions};
use clap::{Parser, Subcommand};
use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// What a command ends with: the library's typed errors, or one of this file's, boxed. The
/// process prints it once and exits 1; nothing here decides on retries.
type CliResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// An error with what the command line was doing when it happened: `--period: …`.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
struct Context {
    what: String,
    #[source]
    source: Box<dyn Error + Send + Sync>,
}

trait WithContext<T> {
    fn context(self, what: impl Into<String>) -> Result<T, Context>;
}

impl<T, E: Into<Box<dyn Error + Send + Sync>>> WithContext<T> for Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T, Context> {
        self.map_err(|e| Context {
            what: what.into(),
            source: e.into(),
        })
    }
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "arbline",
    version,
    about = "Tick-to-trade engine for MAX / Binance arbitrage"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum CaptureCommand {
    /// What a capture directory holds: time range, frames per venue and kind, files, blocks,
    /// gaps, and where it is torn if it is.
    Info {
        /// The capture directory.
        dir: PathBuf,
        /// Report consecutive frames further apart than this (15s, 2m or seconds; default 5s).
        #[arg(long, value_parser = arbline::config::parse_duration, default_value = "5s")]
        gap: Duration,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run the exchange simulator and the whole engine in one process, connected over real
    /// loopback sockets (no services, keys or configuration needed): live activity, then final
    /// statistics and the latency percentile table.
    Demo {
        /// TOML configuration (defaults: arbline.example.toml's values).
        #[arg(long)]
        config: Option<PathBuf>,
        /// How long to run: 15s, 2m, 1h30m or a number of seconds (default: demo.duration_s, 30).
        #[arg(long, value_parser = arbline::config::parse_duration)]
        duration: Option<Duration>,
        /// Also write the final statistics as JSON here.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Record latency into this directory: run.json, intervals.hlog while running, and at
        /// exit one `.hgrm` per stage plus final.hlog (read them with `arbline report`).
        #[arg(long)]
        hist_dir: Option<PathBuf>,
        /// The run's name in run.json and report legends (default: venues and waits).
        #[arg(long)]
        label: Option<String>,
        /// Do not print each signal, order and fill (stats lines and the final table remain).
        #[arg(long)]
        quiet: bool,
        /// Use the in-process synthetic venue instead of sockets (what the benchmarks measure).
        #[arg(long)]
        in_process: bool,
        /// Publish every event to this NATS JetStream server (else: JSON lines in [nats] file_dir).
        #[arg(long)]
        nats: Option<String>,
        /// Capture every frame the feeds read (and each order answer) into this directory,
        /// for `arbline replay` (see `arbline capture info`).
        #[arg(long)]
        capture: Option<PathBuf>,
    },
    /// Run the engine against the venues in `[venues]` (real exchanges or `arbline sim`);
    /// keys from MAX_API_KEY / MAX_SECRET_KEY (environment or .env).
    Run {
        #[arg(long)]
        config: PathBuf,
        /// How long to run: 15s, 2m, 1h30m or a number of seconds; until Ctrl+C / SIGTERM when
        /// absent.
        #[arg(long, value_parser = arbline::config::parse_duration)]
        duration: Option<Duration>,
        #[arg(long)]
        summary_json: Option<PathBuf>,
        #[arg(long)]
        hist_dir: Option<PathBuf>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        quiet: bool,
        /// Publish every event to this NATS JetStream server (else: JSON lines in [nats] file_dir).
        #[arg(long)]
        nats: Option<String>,
        /// Capture every frame the feeds read (and each order answer) into this directory,
        /// for `arbline replay` (see `arbline capture info`).
        #[arg(long)]
        capture: Option<PathBuf>,
    },
    /// Run the exchange simulator alone (MAX v3 REST with signature checks and the MAX book
    /// WebSocket, plus the reference-rate sources) until Ctrl+C or SIGTERM. It accepts the key in
    /// MAX_API_KEY / MAX_SECRET_KEY (environment or .env).
    Sim {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Consume the engine's events from NATS JetStream (a durable consumer) and write them to
    /// PostgreSQL in batches, acknowledging only what is committed, until Ctrl+C or SIGTERM.
    /// NATS from [nats] in the config; PostgreSQL from --pg-url or PG_HOST, PG_PORT, PG_USER,
    /// PG_PASSWORD, PG_NAME (environment or .env). Tables are created when missing.
    Record {
        #[arg(long)]
        config: Option<PathBuf>,
        /// NATS server URL (default: nats.url).
        #[arg(long)]
        nats: Option<String>,
        /// postgresql://user:password@host:port/dbname (default: the PG_* variables).
        #[arg(long)]
        pg_url: Option<String>,
        /// Most messages per transaction.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// The durable consumer's name; recorders sharing it share the work.
        #[arg(long, default_value = "arbline-record")]
        durable: String,
    },
    /// Read `--hist-dir` run directories: print each run's description and percentile table,
    /// draw the percentile distributions, tick_to_trade over time and, for two or more runs,
    /// their comparison (PNG and/or SVG).
    Report {
        /// One or more run directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the charts go (default: DIR/report of the first DIR).
        #[arg(long)]
        out: Option<PathBuf>,
        /// png, svg or both.
        #[arg(long, default_value = "both")]
        format: arbline::report::Format,
    },
    /// Download MAX k-lines (public `GET /api/v3/k`, no key needed) for a time range as CSV:
    /// `timestamp,time_utc,open,high,low,close,volume`, paging 10 000 candles per request.
    Klines {
        /// MAX market id, e.g. usdttwd or btcusdt.
        #[arg(long)]
        market: String,
        /// Candle length in minutes: 1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 4320 or 10080.
        #[arg(long, default_value_t = 60)]
        period: u32,
        /// First candle start: YYYY-MM-DD (UTC), YYYY-MM-DDTHH:MM:SSZ or Unix seconds.
        #[arg(long)]
        from: String,
        /// End, exclusive (same formats; default: now).
        #[arg(long)]
        to: Option<String>,
        /// CSV file to write (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// TOML configuration: the REST URL comes from [venues.max] rest_url.
        #[arg(long)]
        config: Option<PathBuf>,
        /// MAX REST base URL (overrides the configuration), e.g. http://127.0.0.1:PORT for `arbline sim`.
        #[arg(long)]
        rest_url: Option<String>,
    },
    /// Capture the venues' public market data (MAX book and trades, Binance depth and tickers,
    /// REST snapshots, the reference rate) for `arbline replay`: no keys, no orders (the
    /// strategies run muted). `arbline capture info DIR` reads a capture back.
    #[command(args_conflicts_with_subcommands = true)]
    Capture {
        #[command(subcommand)]
        command: Option<CaptureCommand>,
        /// TOML configuration: the markets and [venues] to capture.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The capture directory.
        #[arg(long, default_value = "capture")]
        out: PathBuf,
        /// How long: 15s, 2m, 1h30m or seconds; until Ctrl+C / SIGTERM when absent.
        #[arg(long, value_parser = arbline::config::parse_duration)]
        duration: Option<Duration>,
    },
    /// Replay a capture (`--capture DIR` of run or demo) through the same parsers, books,
    /// scanners, order and risk stages, single-threaded on the capture's clock, against a
    /// simulated MAX execution venue ([replay] in the config): summary.json, orders.csv,
    /// signals.csv, pnl.csv and the P&L chart in --out.
    Replay {
        /// The capture directory.
        dir: PathBuf,
        /// TOML configuration (defaults: arbline.example.toml's values).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Results start here (earlier frames warm up books and averages, no signal published):
        /// YYYY-MM-DD (UTC), YYYY-MM-DDTHH:MM:SSZ or Unix seconds.
        #[arg(long)]
        from: Option<String>,
        /// Frames after this are not replayed (same formats).
        #[arg(long)]
        to: Option<String>,
        /// max (as fast as the stages go), 1x (real time) or a factor such as 10x.
        #[arg(long, default_value = "max")]
        speed: arbline::replay::run::Speed,
        /// Where the outputs go (default: DIR/replay).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The P&L chart as png, svg or both.
        #[arg(long, default_value = "both")]
        format: arbline::report::Format,
        /// Sweep: KEY=V1,V2,… (a dotted configuration key; repeat for a grid). One replay per
        /// combination, in parallel, and a table instead of the single replay's outputs.
        #[arg(long = "set", value_name = "KEY=V1,V2")]
        sets: Vec<arbline::replay::sweep::Setting>,
        /// Sweep: also write the table as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Sweep: replays at once (default: the cores this process may use).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Validate a configuration file and show the thread placement it gives on this host.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

fn load(config: Option<&PathBuf>) -> CliResult<Config> {
    match config {
        Some(p) => Ok(Config::load(p)?),
        None => {
            let c = Config::default();
            c.validate()?;
            Ok(c)
        }
    }
}

fn run_sim(cfg: &Config) -> CliResult {
    let secrets = arbline::secrets::Secrets::load()?;
    let (key, secret) = secrets
        .max_keys()
        .context("arbline sim: the key it accepts")?;
    let mut keys = vec![(key, secret)];
    keys.extend(
        secrets
            .max_read_keys()
            .context("arbline sim: the read key it accepts")?,
    );
    let servers = arbline::sim::servers::SimServers::start(cfg, &keys)?;
    println!("arbline sim: {}; Ctrl+C stops", servers.describe());
    tracing::info!("arbline sim: {}", servers.describe());
    let shutdown = arbline::pipeline::Shutdown::new();
    shutdown
        .install_signal_handlers()
        .context("signal handlers")?;
    while shutdown.phase() == arbline::pipeline::Phase::Running {
        std::thread::sleep(Duration::from_millis(50));
    }
    shutdown.advance(arbline::pipeline::Phase::Done);
    println!("arbline sim: stopped");
    tracing::info!("arbline sim: stopped");
    Ok(())
}

/// Starts operator logging (`[log]`, `RUST_LOG` from the environment or `.env`); keep the
/// guard for the command's life.
fn start_logging(log: &arbline::config::LogConfig) -> CliResult<arbline::logging::LogGuard> {
    arbline::secrets::load_dotenv()?;
    Ok(arbline::logging::init(log)?)
}

/// `--nats URL`: publish to that server.
/// `NATS_URL` from the environment or `.env`, when set and not empty.
fn nats_env() -> CliResult<Option<String>> {
    arbline::secrets::load_dotenv()?;
    Ok(std::env::var("NATS_URL").ok().filter(|u| !u.is_empty()))
}

/// `--nats URL` (else `NATS_URL`): publish to that server.
fn with_nats(mut cfg: Config, url: Option<String>) -> CliResult<Config> {
    let (url, from) = match url {
        Some(u) => (Some(u), "--nats"),
        None => (nats_env()?, "NATS_URL"),
    };
    if let Some(url) = url {
        cfg.nats.url = url;
        cfg.nats.enabled = true;
        cfg.nats.validate().map_err(|e| e.within(from))?;
    }
    Ok(cfg)
}

fn run_record(
    cfg: &Config,
    nats: Option<String>,
    pg_url: Option<String>,
    batch: usize,
    durable: String,
) -> CliResult {
    use arbline::record::{PgTarget, RecordOptions};
    arbline::secrets::load_dotenv()?;
    let pg = match pg_url {
        Some(u) => PgTarget::from_url(&u)?,
        None => PgTarget::from_env()?,
    };
    let mut nats_cfg = cfg.nats.clone();
    if let Some(u) = nats.or(nats_env()?) {
        nats_cfg.url = u;
    }
    let mut opts = RecordOptions::new(nats_cfg, pg);
    opts.batch = batch;
    opts.durable = durable;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("signal handlers")?;
    }
    arbline::record::run(&opts, &stop)?;
    Ok(())
}

struct KlinesArgs {
    market: String,
    period: u32,
    from: String,
    to: Option<String>,
    out: Option<PathBuf>,
    rest_url: String,
}

fn run_klines(a: KlinesArgs) -> CliResult {
    use arbline::model::FileError;
    use arbline::venue::max::kline::{CSV_HEADER, check_period, csv_row, fetch_range, parse_time};
    use std::io::Write;
    check_period(a.period).context("--period")?;
    let from = parse_time(&a.from).context("--from")?;
    let to = match &a.to {
        Some(t) => parse_time(t).context("--to")?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    };
    if from >= to {
        return Err(format!(
            "--from {} is not before --to {} (the end is exclusive)",
            a.from,
            a.to.as_deref().unwrap_or("now")
        )
        .into());
    }
    let client = arbline::venue::max::rest_client::MaxRestClient::new(
        &a.rest_url,
        arbline::venue::max::MaxSigner::new("", ""),
        Duration::from_secs(30),
    );
    let mut sink: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(FileError::at("create", p))
                .context("--out")?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // The header goes out with the first candle, so a refused request writes nothing.
    let mut io_err = None;
    let mut header = false;
    let n = fetch_range(&client, &a.market, a.period, from, to, 10_000, &mut |k| {
        let r = if header {
            writeln!(sink, "{}", csv_row(k))
        } else {
            header = true;
            writeln!(sink, "{CSV_HEADER}\n{}", csv_row(k))
        };
        if io_err.is_none()
            && let Err(e) = r
        {
            io_err = Some(e);
        }
    })
    .context(format!("klines {} from {}", a.market, a.rest_url))?;
    if let Some(e) = io_err {
        return Err(Context {
            what: "writing CSV".into(),
            source: e.into(),
        }
        .into());
    }
    if !header {
        writeln!(sink, "{CSV_HEADER}").context("writing CSV")?;
    }
    sink.flush().context("writing CSV")?;
    if let Some(p) = &a.out {
        eprintln!(
            "arbline klines: {n} candles of {} to {}",
            a.market,
            p.display()
        );
    }
    Ok(())
}

/// `--from` / `--to` as Unix ns.
fn replay_time(flag: &str, t: Option<String>) -> CliResult<Option<u64>> {
    t.map(|t| {
        arbline::venue::max::kline::parse_time(&t)
            .map(|s| s * 1_000_000_000)
            .context(flag)
    })
    .transpose()
    .map_err(Into::into)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: CliResult = match cli.command {
        Command::Demo {
            config,
            duration,
            summary_json,
            hist_dir,
            label,
            quiet,
            in_process,
            nats,
            capture,
        } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            let mut cfg = with_nats(cfg, nats)?;
            if cfg.metrics.addr.is_empty() {
                // The demo shows its metrics: on the usual port, or any free one if taken.
                let usual = "127.0.0.1:9464";
                cfg.metrics.addr = if std::net::TcpListener::bind(usual).is_ok() {
                    usual.into()
                } else {
                    "127.0.0.1:0".into()
                };
            }
            let opts = DemoOptions {
                duration: Some(match duration {
                    Some(d) => d,
                    None => Duration::try_from_secs_f64(cfg.demo.duration_s)
                        .context("demo.duration_s")?,
                }),
                quiet,
                summary_json,
                hist_dir,
                label,
                config_path: config.clone(),
                venues_name: None,
                capture,
            };
            arbline::demo::warn_unserved(&cfg);
            if in_process {
                engine::run_demo(&cfg, &opts)?;
            } else {
                arbline::demo::run_over_sockets(&cfg, &opts)?;
            }
            Ok(())
        }),
        Command::Run {
            config,
            duration,
            summary_json,
            hist_dir,
            label,
            quiet,
            nats,
            capture,
        } => load(Some(&config)).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            let cfg = with_nats(cfg, nats)?;
            let secrets = arbline::secrets::Secrets::load()?;
            let opts = DemoOptions {
                duration,
                quiet,
                summary_json,
                hist_dir,
                label,
                config_path: Some(config.clone()),
                venues_name: None,
                capture,
            };
            engine::run_with(&cfg, &opts, engine::Venues::Live(secrets))?;
            Ok(())
        }),
        Command::Sim { config } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            run_sim(&cfg)
        }),
        Command::Record {
            config,
            nats,
            pg_url,
            batch,
            durable,
        } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            run_record(&cfg, nats, pg_url, batch, durable)
        }),
        Command::Report { dirs, out, format } => {
            let _log = match start_logging(&arbline::config::LogConfig::default()) {
                Ok(g) => g,
                Err(e) => return fail(&*e),
            };
            let opts = arbline::report::ReportOptions { dirs, out, format };
            arbline::report::report(&opts, &mut std::io::stdout())
                .map(|_| ())
                .map_err(Into::into)
        }
        Command::Klines {
            market,
            period,
            from,
            to,
            out,
            config,
            rest_url,
        } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            run_klines(KlinesArgs {
                market,
                period,
                from,
                to,
                out,
                rest_url: rest_url.unwrap_or_else(|| cfg.venues.max.rest_url.clone()),
            })
        }),
        Command::Capture {
            command: Some(CaptureCommand::Info { dir, gap }),
            ..
        } => arbline::capture::info(&dir, gap.as_nanos() as u64)
            .map(|i| print!("{}: {i}", dir.display()))
            .map_err(Into::into),
        Command::Capture {
            command: None,
            config,
            out,
            duration,
        } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            let opts = DemoOptions {
                duration,
                quiet: true,
                config_path: config.clone(),
                venues_name: Some("market data".into()),
                capture: Some(out),
                ..Default::default()
            };
            engine::run_with(&cfg, &opts, engine::Venues::MarketData)?;
            Ok(())
        }),
        Command::Replay {
            dir,
            config,
            from,
            to,
            speed,
            out,
            format,
            sets,
            csv,
            jobs,
        } => load(config.as_ref()).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            let opts = arbline::replay::run::ReplayOptions {
                from_ns: replay_time("--from", from)?,
                to_ns: replay_time("--to", to)?,
                speed,
            };
            let mut text = std::io::stdout().lock();
            if sets.is_empty() {
                arbline::replay::command::replay_command(
                    &cfg, &dir, &opts, out, format, &mut text,
                )?;
            } else {
                let base = match &config {
                    Some(p) => std::fs::read_to_string(p)
                        .map_err(arbline::model::FileError::at("read", p))?,
                    None => arbline::replay::sweep::DEFAULT_CONFIG_TOML.to_string(),
                };
                let jobs = jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
                eprintln!(
                    "arbline replay: sweeping {} combinations on {jobs} thread(s)",
                    arbline::replay::sweep::grid(&sets).len()
                );
                arbline::replay::command::sweep_command(
                    &base,
                    &dir,
                    &opts,
                    &sets,
                    csv.as_deref(),
                    jobs,
                    &mut text,
                )?;
            }
            Ok(())
        }),
        Command::CheckConfig { config } => load(Some(&config)).and_then(|cfg| {
            let _log = start_logging(&cfg.log)?;
            let threads = cfg.threads()?;
            println!("{}: ok", config.display());
            for t in threads {
                let stages: Vec<&str> = t.stages.iter().map(|s| s.as_str()).collect();
                let core = t
                    .core
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "unpinned".into());
                println!(
                    "  thread {:<10} stages {:<24} core {:<9} wait {:?}",
                    t.name,
                    stages.join("+"),
                    core,
                    t.wait
                );
            }
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&*e),
    }
}

/// Every error's text carries its causes already (`{what}: {source}`), so only the top one is
/// printed.
fn fail(e: &dyn Error) -> ExitCode {
    eprintln!("arbline: {e}");
    ExitCode::FAILURE
}
