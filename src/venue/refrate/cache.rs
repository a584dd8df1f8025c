//! The day's reference rate cached on disk, so a restart (or a source that is down) does not
//! leave the stable-coin strategy without its reference: `usdtwd-YYYYMMDD.json` in a folder.

use super::RefQuote;
use crate::model::Fixed;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct Stored {
    mid: String,
    buy: String,
    sell: String,
    date: u32,
    board_time_ms: Option<u64>,
    source: String,
}

pub struct RateCache {
    dir: PathBuf,
}

impl RateCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RateCache { dir: dir.into() }
    }

    fn path(&self, date: u32) -> PathBuf {
        self.dir.join(format!("usdtwd-{date:08}.json"))
    }

    /// Writes atomically (temporary file, then rename).
    pub fn store(&self, q: &RefQuote, day: u32, source: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let s = Stored {
            mid: q.mid.to_string(),
            buy: q.buy.to_string(),
            sell: q.sell.to_string(),
            date: q.date,
            board_time_ms: q.board_time_ms,
            source: source.to_string(),
        };
        let tmp = self.dir.join(format!(".usdtwd-{day:08}.tmp"));
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&s).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, self.path(day))
    }

    /// The cached quote of `day`, if any and readable; a damaged file reads as absent.
    pub fn load(&self, day: u32) -> Option<(RefQuote, String)> {
        let bytes = std::fs::read(self.path(day)).ok()?;
        let s: Stored = serde_json::from_slice(&bytes).ok()?;
        let q = RefQuote {
            mid: Fixed::parse(&s.mid).ok()?,
            buy: Fixed::parse(&s.buy).ok()?,
            sell: Fixed::parse(&s.sell).ok()?,
            date: s.date,
            board_time_ms: s.board_time_ms,
        };
        Some((q, s.source))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
