//! `arbline`: the command line.

use arbline::config::Config;
use arbline::engine::{self, DemoOptions};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

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
enum Command {
    /// Run the synthetic venues and the whole engine in one process (no services needed):
    /// live activity, then final statistics and the latency percentile table.
    Demo {
        /// TOML configuration (defaults: arbline.example.toml's values).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seconds to run (default: demo.duration_s, 30).
        #[arg(long)]
        duration: Option<f64>,
        /// Also write the final statistics as JSON here.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Write one HdrHistogram `.hgrm` percentile file per stage into this directory.
        #[arg(long)]
        hist_dir: Option<PathBuf>,
        /// Do not print each signal, order and fill (stats lines and the final table remain).
        #[arg(long)]
        quiet: bool,
    },
    /// Run the engine against the venues in `[venues]` (real exchanges or `arbline sim`);
    /// keys from MAX_API_KEY / MAX_SECRET_KEY (environment or .env).
    Run {
        #[arg(long)]
        config: PathBuf,
        /// Seconds to run; runs until Ctrl+C / SIGTERM when absent.
        #[arg(long)]
        duration: Option<f64>,
        #[arg(long)]
        summary_json: Option<PathBuf>,
        #[arg(long)]
        hist_dir: Option<PathBuf>,
        #[arg(long)]
        quiet: bool,
    },
    /// Run the exchange simulator alone (MAX v3 REST with signature checks and the MAX book
    /// WebSocket, plus the reference-rate sources) until Ctrl+C or SIGTERM. It accepts the key in
    /// MAX_API_KEY / MAX_SECRET_KEY (environment or .env).
    Sim {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration file and show the thread placement it gives on this host.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
}

fn load(config: Option<&PathBuf>) -> Result<Config, String> {
    match config {
        Some(p) => Config::load(p),
        None => {
            let c = Config::default();
            c.validate()?;
            Ok(c)
        }
    }
}

/// MAX's tick and step as the market list states them: decimals of a step (negative above 1).
fn precision(step: arbline::model::Fixed) -> i32 {
    let mut p = 8;
    let mut v = step.raw();
    while v >= 10 && v % 10 == 0 {
        v /= 10;
        p -= 1;
    }
    p
}

fn run_sim(cfg: &Config) -> Result<(), String> {
    use arbline::sim::max_rest::{MaxRestSim, SimMarket};
    use arbline::sim::max_ws::MaxWsSim;
    let secrets = arbline::secrets::Secrets::load()?;
    let (key, secret) = match (secrets.max_api_key, secrets.max_secret_key) {
        (Some(k), Some(s)) => (k, s),
        _ => return Err("arbline sim: set MAX_API_KEY and MAX_SECRET_KEY (environment or .env): the simulator accepts that key".into()),
    };
    let instruments = cfg.instruments()?;
    let markets: Vec<SimMarket> = instruments
        .iter()
        .filter(|i| i.venue == arbline::model::Venue::Max)
        .map(|i| SimMarket {
            id: i.symbol.to_lowercase(),
            base: i.base.to_lowercase(),
            quote: i.quote.to_lowercase(),
            base_precision: precision(i.lot),
            quote_precision: precision(i.tick),
            min_volume: i.min_qty,
            min_quote: i.min_notional,
        })
        .collect();
    let account = arbline::sim::max_account::MaxAccount::new(&cfg.sim)?;
    let rest = MaxRestSim::start_with_account(
        &cfg.sim.max_rest_addr,
        &[(key.as_str(), secret.as_str())],
        markets,
        account.clone(),
    )?;
    let ws = MaxWsSim::start_with_account(
        &cfg.sim.max_ws_addr,
        &cfg.sim,
        &[(key.as_str(), secret.as_str())],
        account,
    )?;
    let binance = arbline::sim::binance_ws::BinanceSim::start(
        &cfg.sim.binance_ws_addr,
        &cfg.sim.binance_rest_addr,
        &cfg.sim,
    )?;
    println!(
        "arbline sim: MAX REST {} (reference rate at /xrt/flcsv/0/day), MAX WS {}, Binance WS {} and REST {}; Ctrl+C stops",
        rest.base_url(),
        ws.url(),
        binance.ws_base(),
        binance.rest_base()
    );
    let shutdown = arbline::pipeline::Shutdown::new();
    shutdown
        .install_signal_handlers()
        .map_err(|e| format!("signal handlers: {e}"))?;
    while shutdown.phase() == arbline::pipeline::Phase::Running {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    shutdown.advance(arbline::pipeline::Phase::Done);
    println!("arbline sim: stopped");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo {
            config,
            duration,
            summary_json,
            hist_dir,
            quiet,
        } => load(config.as_ref()).and_then(|cfg| {
            if let Some(d) = duration {
                if !(d.is_finite() && d > 0.0) {
                    return Err(format!(
                        "--duration: must be a positive number of seconds, got {d}"
                    ));
                }
            }
            let opts = DemoOptions {
                duration_s: duration.unwrap_or(cfg.demo.duration_s),
                quiet,
                summary_json,
                hist_dir,
            };
            engine::run_demo(&cfg, &opts).map(|_| ())
        }),
        Command::Run {
            config,
            duration,
            summary_json,
            hist_dir,
            quiet,
        } => load(Some(&config)).and_then(|cfg| {
            if let Some(d) = duration {
                if !(d.is_finite() && d > 0.0) {
                    return Err(format!(
                        "--duration: must be a positive number of seconds, got {d}"
                    ));
                }
            }
            let secrets = arbline::secrets::Secrets::load()?;
            let opts = DemoOptions {
                duration_s: duration.unwrap_or(f64::from(u32::MAX)),
                quiet,
                summary_json,
                hist_dir,
            };
            engine::run_with(&cfg, &opts, engine::Venues::Live(secrets)).map(|_| ())
        }),
        Command::Sim { config } => load(config.as_ref()).and_then(|cfg| run_sim(&cfg)),
        Command::CheckConfig { config } => load(Some(&config)).and_then(|cfg| {
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
        Err(e) => {
            eprintln!("arbline: {e}");
            ExitCode::FAILURE
        }
    }
}
