//! `arbline replay` as the command line runs it: one replay with its files and summary, or a
//! sweep with its table. The files are written before anything is printed, so a closed stdout
//! (`| head`) loses the text, never the results.

use super::output::{ReplaySummary, print_summary, write_outputs};
use super::replay_error::ReplayError;
use super::run::{ReplayOptions, replay};
use super::sweep::{self, Setting};
use crate::config::Config;
use crate::model::FileError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One replay of `dir`: its outputs into `out` (default `DIR/replay`), its summary to `text`.
pub fn replay_command(
    cfg: &Config,
    dir: &Path,
    opts: &ReplayOptions,
    out: Option<PathBuf>,
    format: crate::report::Format,
    text: &mut impl Write,
) -> Result<(), ReplayError> {
    let files = crate::capture::capture_files(dir)?;
    let run = replay(cfg, dir, opts)?;
    let summary = ReplaySummary::new(&run, cfg, &files);
    let out = out.unwrap_or_else(|| dir.join("replay"));
    let written = write_outputs(&run, &summary, &out, format)?;
    print_summary(&summary, &run, text).map_err(ReplayError::Print)?;
    writeln!(text, "written to {}:", out.display()).map_err(ReplayError::Print)?;
    for f in written {
        writeln!(text, "  {}", f.display()).map_err(ReplayError::Print)?;
    }
    Ok(())
}

/// A sweep of `dir` over the grid of `sets` on `jobs` threads (`base`: the configuration's
/// TOML); the table to `text` and, with `csv`, to that file.
pub fn sweep_command(
    base: &str,
    dir: &Path,
    opts: &ReplayOptions,
    sets: &[Setting],
    csv: Option<&Path>,
    jobs: usize,
    text: &mut impl Write,
) -> Result<(), ReplayError> {
    let rows = sweep::sweep(base, dir, opts, sets, jobs)?;
    if let Some(p) = csv {
        std::fs::write(p, sweep::csv(&rows)).map_err(FileError::at("write", p))?;
    }
    write!(text, "{}", sweep::table(&rows)).map_err(ReplayError::Print)?;
    if let Some(p) = csv {
        writeln!(text, "table written to {}", p.display()).map_err(ReplayError::Print)?;
    }
    Ok(())
}
