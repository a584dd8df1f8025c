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
